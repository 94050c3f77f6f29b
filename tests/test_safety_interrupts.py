"""Interrupts stop the run (issue #11, points 1 and 2), as attacks with real signals.

SIGINT or SIGTERM while a scenario holds the device forced: the scenario runs ``finally`` and
is restored, no further scenario starts, the exit is 130/143, and JUnit, results.json and the
HTML report are written for what ran, marked interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_util import ROOT, env, keep_talking, start, sync_tag, wait_for_log

from harness.devices.adb_server import AdbServer, adb_binary
from harness.devices.android import AndroidDevice
from harness.sim.android.launcher import VirtualAndroidFarm


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(
        adb_server=adb_server, app_models=[ROOT / "fixtures" / "apps" / "nwm_demo.yaml"]
    ) as f:
        yield f


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_restores_and_writes_the_reports(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path, sig: int, code: int
) -> None:
    tag, never = sync_tag(), sync_tag()
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a_first.yaml").write_text(
        "name: first, interrupted in forced Doze\n"
        "steps:\n"
        "  - battery: unplugged\n"
        "  - doze: deep\n"
        "  - network: airplane\n"
        f"  - shell: [log, -t, {tag}, reached]\n"
        "  - shell: [logcat]\n"
        "finally:\n"
        "  - shell: [echo, finally ran]\n"
    )
    (folder / "b_second.yaml").write_text(
        f"name: second, must not start\nsteps:\n  - shell: [log, -t, {never}, started]\n"
    )
    junit, report = tmp_path / "junit.xml", tmp_path / "report"
    proc = start(
        "run",
        str(folder),
        "--device",
        farm.serials[0],
        "--adb-server",
        f"127.0.0.1:{adb_server.port}",
        "--junit",
        str(junit),
        "--report",
        str(report),
    )
    wait_for_log(adb_server, farm.serials[0], tag)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err

    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    now = dev.snapshot()
    assert not now.doze_forced and now.airplane == "0" and not now.battery_frozen
    assert dev.sh(["logcat", "-d", "-s", f"{never}:*"]).out.count(never) == 0  # the second never ran

    (result,) = json.loads((report / "results.json").read_text())
    name = signal.Signals(sig).name
    assert result["exit_code"] == code and f"interrupted ({name})" in result["failure"]
    assert "doze unforced" in result["restored"] and "airplane mode off" in result["restored"]
    assert any(s["summary"].startswith("[finally]") or s["phase"] == "finally" for s in result["steps"])
    assert (report / "index.html").exists()
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 1 and "interrupted" in ET.tostring(cases[0], encoding="unicode")


def test_sigterm_to_an_xdist_run_reaches_every_worker_and_starts_nothing_more(
    adb_server: AdbServer, tmp_path: Path
) -> None:
    """`bgtest run -n 2` on a farm of two: the controller holds no device, so it passes the
    signal to its workers, which restore theirs; the third scenario never starts.

    Two devices, because a device is leased to one scenario at a time: on one device the second
    worker would wait for the lease, not hold a forced device when the signal comes.
    """
    tag, never = sync_tag(), sync_tag()
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name, state in (("a", "doze: deep"), ("b", "network: airplane")):
        (folder / f"{name}.yaml").write_text(
            f"name: {name} hangs\nsteps:\n  - {state}\n"
            f"  - shell: [log, -t, {tag}, reached]\n  - shell: [logcat]\n"
        )
    (folder / "c.yaml").write_text(
        f"name: c must not start\nsteps:\n  - shell: [log, -t, {never}, started]\n"
    )
    report = tmp_path / "report"
    with VirtualAndroidFarm(count=2, adb_server=adb_server) as farm:
        devices = [arg for serial in farm.serials for arg in ("--device", serial)]
        proc = start(
            "run", str(folder), "-n", "2", *devices,
            "--adb-server", f"127.0.0.1:{adb_server.port}", "--report", str(report),
        )
        with contextlib.ExitStack() as talking:
            for serial in farm.serials:
                talking.enter_context(keep_talking(adb_server, serial))
            for serial in farm.serials:  # each worker holds one device, forced, when the signal comes
                wait_for_log(adb_server, serial, tag)
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 143, out + err
        for serial in farm.serials:
            dev = AndroidDevice(serial, adb_server.host, adb_server.port)
            now = dev.snapshot()
            assert not now.doze_forced and now.airplane == "0", serial
            assert dev.sh(["logcat", "-d", "-s", f"{never}:*"]).out.count(never) == 0, serial
    results = json.loads((report / "results.json").read_text())
    assert sorted(r["name"] for r in results) == ["a hangs", "b hangs"]
    assert all(r["exit_code"] == 143 for r in results), results


def test_sigterm_during_the_embedded_start_up_leaks_no_adb_server(tmp_path: Path) -> None:
    """bgtest is stopped while its private adb server starts (the adb binary is a stand-in that
    reports in and waits for the test): the server process does not outlive bgtest."""
    real_adb = adb_binary()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        stand_in = tmp_path / "adb"
        stand_in.write_text(
            f"#!{sys.executable}\n"
            "import os, socket, sys\n"
            f"s = socket.create_connection(('127.0.0.1', {listener.getsockname()[1]}))\n"
            "s.sendall(str(os.getpid()).encode() + b'\\n')\n"
            "s.recv(1)\n"
            f"os.execv({real_adb!r}, [{real_adb!r}] + sys.argv[1:])\n"
        )
        stand_in.chmod(0o755)
        scenario = tmp_path / "scenarios" / "s.yaml"
        scenario.parent.mkdir()
        scenario.write_text("name: s\nsteps:\n  - shell: [echo, hi]\n")
        proc = start("run", str(scenario), environ=env(BGTEST_ADB=str(stand_in)))
        conn, _ = listener.accept()  # the private server's process exists, not yet listening
        pid = int(conn.makefile().readline())
        proc.send_signal(signal.SIGTERM)
        conn.sendall(b"x")  # let it become adb, racing bgtest's own clean-up
        out, err = proc.communicate(timeout=60)
        conn.close()
    assert proc.returncode == 143, out + err
    assert "Traceback" not in out + err
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
