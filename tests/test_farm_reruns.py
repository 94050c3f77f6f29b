"""--reruns and device filters, end to end: `bgtest run` in a subprocess against a farm of
virtual devices on a private adb server.

Which device a scenario meets first is set, not left to chance: leases go to the least
recently used device, so the test dates the lease files. A scenario fails on a device
without a marker file and passes on one with it: deterministic, no timing.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_util import SignalAtCommand
from test_farm import bgtest

from harness.devices.adb_server import AdbServer, free_port
from harness.devices.adbwire import AdbWire
from harness.devices.android import AndroidDevice
from harness.devices.filters import FilterError, parse_filters
from harness.devices.lease import DeviceLeases
from harness.devices.pool import Candidate
from harness.sim.android.launcher import VirtualAndroidFarm

MARK = "/data/local/tmp/bgtest-ok"


@pytest.fixture()
def farm() -> Iterator[tuple[AdbServer, VirtualAndroidFarm]]:
    server = AdbServer.start_private()
    try:
        with VirtualAndroidFarm(count=2, adb_server=server) as farm:
            yield server, farm
    finally:
        server.stop()


def _scenario(tmp: Path) -> Path:
    path = tmp / "needs_mark.yaml"
    path.write_text(f"name: needs the mark\nplatforms: [android]\nsteps:\n  - shell: [ls, {MARK}]\n")
    return path


def _first(tmp: Path, port: int, serials: list[str]) -> None:
    """Leases go to ``serials`` (on the adb server bgtest is given: ``port``) in this order:
    older lease files first."""
    leases = DeviceLeases(Path(tmp) / f"bgtest-leases-{os.getuid()}")
    leases.root.mkdir(parents=True, exist_ok=True)
    for age, serial in enumerate(serials):
        path = leases._path(Candidate(serial, "127.0.0.1", port))
        path.touch()
        os.utime(path, (1000 + age, 1000 + age))


Farm = tuple[AdbServer, VirtualAndroidFarm]


def test_a_pass_on_the_rerun_is_flaky_everywhere(tmp_path: Path, farm: Farm) -> None:
    server, virtual = farm
    bare, marked = virtual.serials
    AndroidDevice(marked, server.host, server.port).sh(["touch", MARK])
    _first(tmp_path, server.port, [bare, marked])
    report, junit = tmp_path / "report", tmp_path / "junit.xml"
    proc = bgtest("run", str(_scenario(tmp_path)), "--adb-server", f"127.0.0.1:{server.port}",
                  "--reruns", "2", "--report", str(report), "--junit", str(junit), tmp=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out  # flaky passes the run, loudly
    assert "FLAKY" in out and "1 flaky" in out and "rerun 1 of 2" in out
    [result] = json.loads((report / "results.json").read_text())
    assert result["status"] == "flaky"
    assert [(a["attempt"], a["status"], a["device"]) for a in result["attempts"]] == [
        (1, "failed", bare), (2, "passed", marked)]
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None and case.find("failure") is None
    [flaky] = case.findall("flakyFailure")
    assert flaky.get("message", "").startswith(f"attempt 1 on {bare}: ")
    assert MARK in (flaky.findtext("stackTrace") or "")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["flaky"] == "true" and props["attempts"] == "2"


def test_a_scenario_failing_every_rerun_fails_with_each_attempt_listed(tmp_path: Path, farm: Farm) -> None:
    server, _ = farm
    report, junit = tmp_path / "report", tmp_path / "junit.xml"
    proc = bgtest("run", str(_scenario(tmp_path)), "--adb-server", f"127.0.0.1:{server.port}",
                  "--reruns", "2", "--report", str(report), "--junit", str(junit), tmp=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [result] = json.loads((report / "results.json").read_text())
    assert result["status"] == "failed" and [a["status"] for a in result["attempts"]] == ["failed"] * 3
    devices = [a["device"] for a in result["attempts"]]
    assert devices[0] != devices[1]  # the rerun went to the other device, which was free
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None and case.find("failure") is not None
    assert len(case.findall("rerunFailure")) == 2


def test_device_filters_choose_the_devices(tmp_path: Path, farm: Farm) -> None:
    server, virtual = farm
    scenario = tmp_path / "echo.yaml"
    scenario.write_text("name: echo\nplatforms: [android]\nsteps:\n  - shell: [echo, hi]\n")
    base = ["run", str(scenario), "--adb-server", f"127.0.0.1:{server.port}"]
    proc = bgtest(*base, "--device-filter", "sdk>=31", "--device-filter", "virtual=yes,model=pixel*",
                  "--report", str(tmp_path / "a"), tmp=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = bgtest(*base, "--device-filter", "virtual=no", "--report", str(tmp_path / "b"), tmp=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "<device-filter 'virtual=no'> matches no online device" in out
    assert f"{virtual.serials[0]}: model=" in out and "virtual=yes" in out
    proc = bgtest(*base, "--device-filter", "sdk>=S", "--report", str(tmp_path / "c"), tmp=tmp_path)
    assert proc.returncode == 2 and "--device-filter 'sdk>=S': sdk compares API levels" in proc.stderr


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("ram>=2", "unknown field 'ram'"),
        ("sdk>=", "no value"),
        ("model>Pixel", "model takes = or !="),
        ("virtual=maybe", "virtual is yes or no"),
        ("pixel", "is not FIELD OP VALUE"),
        (" , ", "is empty"),
    ],
)
def test_a_bad_filter_names_itself(text: str, why: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filters([text])
    assert f"--device-filter {text!r}" in info.value.render() and why in info.value.render()


def test_filters_match_fields() -> None:
    facts = {"serial": "127.0.0.1:4000", "model": "Pixel 8", "sdk": "34", "profile": "android-flagship",
             "virtual": "yes"}
    yes = ["sdk>=31", "sdk=34", "sdk<35", "sdk!=29", "model=pixel*", "model!=Nexus*",
           "profile=android-f*", "virtual=yes", "virtual=1", "serial=127.0.0.1:*", "model == 'Pixel 8'"]
    no = ["sdk>34", "sdk<=33", "model=Nexus*", "virtual=no", "profile=android-go", "serial=emulator-*"]
    assert all(c.matches(facts) for c in parse_filters(yes))
    assert not any(c.matches(facts) for c in parse_filters(no))


def test_a_device_that_dies_mid_run_is_quarantined_and_the_scenario_reruns_on_another(
    tmp_path: Path, farm: Farm
) -> None:
    """The relay between bgtest and the adb server holds the scenario's second command, kills
    the device it was sent to and waits until the server has seen it go: then the command
    meets a dead device. No timing: each point is reached by bgtest's own requests."""
    server, virtual = farm
    doomed, spare = virtual.serials
    killed: list[str] = []

    def before(n: int) -> None:
        if relay.commands[n - 1] == "echo two" and not killed:
            virtual.unplug(0)
            AdbWire(doomed, server.host, server.port).wait_for("disconnect", 60)
            killed.append(doomed)

    relay = SignalAtCommand(server, before=before)
    _first(tmp_path, relay.port, [doomed, spare])
    scenario = tmp_path / "three.yaml"
    scenario.write_text("name: three echoes\nplatforms: [android]\nsteps:\n"
                        "  - shell: [echo, one]\n  - shell: [echo, two]\n  - shell: [echo, three]\n")
    report, junit = tmp_path / "report", tmp_path / "junit.xml"
    try:
        proc = bgtest("run", str(scenario), "--adb-server", f"127.0.0.1:{relay.port}", "--report",
                      str(report), "--junit", str(junit), tmp=tmp_path,
                      extra_env={"BGTEST_RECONNECT_TIMEOUT": "1"})
    finally:
        relay.close()
    out = proc.stdout + proc.stderr
    assert killed == [doomed]
    assert proc.returncode == 0, out
    assert f"<{doomed}> dropped out during 'three echoes': quarantined for this run" in out
    [result] = json.loads((report / "results.json").read_text())
    assert result["status"] == "passed"  # the farm's fault, not the scenario's: not flaky
    assert result["device"]["serial"] == spare
    assert result["retried_from"] == f"{doomed} dropped out during attempt 1; rerun on {spare}"
    assert [(a["device"], a["status"], a["dropped_out"]) for a in result["attempts"]] == [
        (doomed, "error", True), (spare, "passed", False)]


def test_no_rerun_when_no_rerun_can_help(tmp_path: Path) -> None:
    port = free_port()  # nothing answers there: every attempt would fail the same way
    proc = bgtest("run", str(_scenario(tmp_path)), "--adb-server", f"127.0.0.1:{port}", "--reruns", "3",
                  "--report", str(tmp_path / "r"), tmp=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "no adb server answers there" in out and "rerun 1 of" not in out
    [result] = json.loads((tmp_path / "r" / "results.json").read_text())
    assert result["attempts"] == []
