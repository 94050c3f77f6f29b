"""Interrupts stop the run (issue #11, points 1 and 2), as attacks with real signals.

SIGINT or SIGTERM while a scenario holds the device forced: the scenario runs ``finally`` and
is restored, no further scenario starts, the exit is 130/143, and JUnit, results.json and the
HTML report are written for what ran, marked interrupted.
"""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_util import ROOT, start, sync_tag, wait_for_log

from harness.devices.adb_server import AdbServer
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
