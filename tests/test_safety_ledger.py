"""The state ledger (issue #11, point 3): a SIGKILLed run's device is restored by the next run.

The attack: a run forces Doze, unplugs the battery, turns on airplane mode and battery saver,
then is killed with SIGKILL (no handler runs). The device stays forced; the next run — from
the same host, or from another host that only has the device's own ledger — restores it
first and says so.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_util import ROOT, env, run, start, sync_tag, wait_for_log

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.devices.base import KeepsNotes
from harness.devices.ios import IosDevice
from harness.run.ledger import NOTE, DeviceLedger
from harness.sim.android.launcher import VirtualAndroidFarm


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(
        adb_server=adb_server, app_models=[ROOT / "fixtures" / "apps" / "nwm_demo.yaml"]
    ) as f:
        yield f


def _forced_then_hang(folder: Path, tag: str) -> Path:
    scenario = folder / "scenarios" / "forced.yaml"
    scenario.parent.mkdir(parents=True, exist_ok=True)
    scenario.write_text(
        "name: forced and then killed\n"
        "steps:\n"
        "  - battery: unplugged\n"
        "  - doze: deep\n"
        "  - network: airplane\n"
        "  - battery_saver: on\n"
        f"  - shell: [log, -t, {tag}, reached]\n"
        "  - shell: [logcat]\n"  # never ends by itself: the run is killed here
    )
    return scenario


def _harmless(folder: Path) -> Path:
    scenario = folder / "scenarios" / "next.yaml"
    scenario.parent.mkdir(parents=True, exist_ok=True)
    scenario.write_text("name: the next run\nsteps:\n  - shell: [echo, hello]\n")
    return scenario


def _kill_mid_scenario(
    farm: VirtualAndroidFarm, server: AdbServer, tmp_path: Path, state: Path
) -> AndroidDevice:
    tag = sync_tag()
    serial = farm.serials[0]
    proc = start(
        "run",
        str(_forced_then_hang(tmp_path, tag)),
        "--device",
        serial,
        "--adb-server",
        f"127.0.0.1:{server.port}",
        "--report",
        str(tmp_path / "r1"),
        environ=env(BGTEST_STATE_DIR=str(state)),
    )
    try:
        wait_for_log(server, serial, tag)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    dev = AndroidDevice(serial, server.host, server.port)
    left = dev.snapshot()
    assert left.doze_forced and left.airplane == "1" and left.low_power == "1" and left.battery_frozen
    return dev


def _restored(dev: AndroidDevice) -> None:
    now = dev.snapshot()
    assert not now.doze_forced and now.airplane == "0" and now.low_power in ("0", "null", "")
    assert not now.battery_frozen


def test_sigkill_mid_scenario_then_the_next_run_restores_and_says_so(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    dev = _kill_mid_scenario(farm, adb_server, tmp_path, state)
    (entry,) = (state / "ledger").glob("*.json")
    recorded = json.loads(entry.read_text())
    assert set(recorded["kinds"]) == {"battery", "doze", "network", "power saver"}  # Facet values
    assert dev.read_note(NOTE) is not None  # the device's own copy

    proc = run(
        "run",
        str(_harmless(tmp_path)),
        "--device",
        farm.serials[0],
        "--adb-server",
        f"127.0.0.1:{adb_server.port}",
        "--report",
        str(tmp_path / "r2"),
        environ=env(BGTEST_STATE_DIR=str(state)),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = " ".join(proc.stdout.split())  # the console wraps long lines
    assert "was left changed by an earlier run that did not finish" in said
    assert "doze unforced" in said and "airplane mode off" in said
    _restored(dev)
    assert not entry.exists()
    assert dev.read_note(NOTE) is None


def test_a_run_from_another_host_finds_the_devices_own_ledger(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    dev = _kill_mid_scenario(farm, adb_server, tmp_path, tmp_path / "host-a")
    proc = run(
        "run",
        str(_harmless(tmp_path)),
        "--device",
        farm.serials[0],
        "--adb-server",
        f"127.0.0.1:{adb_server.port}",
        "--report",
        str(tmp_path / "r2"),
        environ=env(BGTEST_STATE_DIR=str(tmp_path / "host-b")),  # nothing on this host
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "was left changed by an earlier run" in " ".join(proc.stdout.split())
    _restored(dev)


def test_the_device_copy_goes_where_the_driver_keeps_notes(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    """The ledger names no platform: a driver that keeps notes gets the copy, one that does not
    (the iOS simulator, whose state is on the host) has the host file only."""
    assert not isinstance(IosDevice("0F00-UDID"), KeepsNotes)
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    assert isinstance(dev, KeepsNotes)
    text = json.dumps({"quote": "it's $HOME; `x` \\n"})
    dev.write_note("probe.json", text)
    assert dev.read_note("probe.json") == text  # one argument, never interpreted by the shell
    dev.remove_note("probe.json")
    assert dev.read_note("probe.json") is None


def test_a_ledger_of_a_live_run_is_left_to_it(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    ledger = DeviceLedger(dev, root=tmp_path)
    ledger.begin(dev.snapshot(), [], "this very process")
    ledger.changing("doze")
    notes: list[str] = []
    other = DeviceLedger(dev, root=tmp_path)
    assert other.recover(notes.append) is None  # our own pid is alive: nothing restored
    ledger.finish([])
    assert not ledger.path.exists()


def test_a_power_cut_leaves_the_old_entry_or_the_new_one(
    tmp_path: Path, farm: VirtualAndroidFarm, adb_server: AdbServer
) -> None:
    """The host file is replaced by rename after fsync: no half-written entry is ever read."""
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    ledger = DeviceLedger(dev, root=tmp_path)
    ledger.begin(dev.snapshot(), [], "x")
    for kind in ("doze", "battery", "network"):
        ledger.changing(kind)
        assert json.loads(ledger.path.read_text())["kinds"][-1] == kind
        assert [p.name for p in ledger.path.parent.iterdir()] == [ledger.path.name]
    ledger.finish([])
