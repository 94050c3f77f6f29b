"""A brief connection drop (a USB hiccup) is survived (issue #11, point 8), as attacks.

The virtual device drops its adb connection right before a chosen command of the run reaches
the adb server (a relay between bgtest and the server decides when): that command meets
"device offline", is sent again once the device is back, and the journal resumes with
``-T`` — the scenario passes and every record it logged is there once. Only a device gone
longer than the timeout fails, naming it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_util import ROOT, SignalAtCommand, start

from harness.devices.adb_server import AdbServer
from harness.devices.adbwire import AdbWire
from harness.devices.android import AndroidDevice
from harness.errors import DeviceError
from harness.sim.android.launcher import VirtualAndroidFarm

LINES = 12


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(
        adb_server=adb_server, app_models=[ROOT / "fixtures" / "apps" / "nwm_demo.yaml"]
    ) as f:
        yield f


def _drop(farm: VirtualAndroidFarm) -> None:
    """Close the device's adb transport now (as a cable pulled for a moment would)."""
    daemon = farm.daemons[0]

    async def drop() -> None:
        daemon.drop_connections()

    assert daemon._loop is not None
    asyncio.run_coroutine_threadsafe(drop(), daemon._loop).result(timeout=10)


def test_a_command_after_a_drop_waits_for_the_device_and_runs_once(
    farm: VirtualAndroidFarm, adb_server: AdbServer
) -> None:
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    for n in range(3):
        _drop(farm)
        assert dev.sh(["echo", f"after drop {n}"]).out.strip() == f"after drop {n}"


def test_a_device_gone_longer_than_the_timeout_fails_naming_it(adb_server: AdbServer) -> None:
    wire = AdbWire("127.0.0.1:9", adb_server.host, adb_server.port)  # never attached
    wire.reconnect_timeout = 0.2
    dev = AndroidDevice("127.0.0.1:9", adb_server.host, adb_server.port)
    dev.wire = wire
    with pytest.raises(DeviceError) as info:
        dev.sh(["echo", "hi"])
    assert "<127.0.0.1:9>" in str(info.value) and "gone for more than" in str(info.value)
    with pytest.raises(DeviceError, match="still gone"):
        dev.sh(["echo", "again"])  # the restore's commands do not wait all over again


def test_drops_during_a_scenario_lose_no_command_and_no_record(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenarios" / "drops.yaml"
    scenario.parent.mkdir()
    steps = "".join(f"  - shell: [log, -t, HICCUP, line-{i}]\n" for i in range(LINES))
    scenario.write_text(
        "name: numbered lines through connection drops\n"
        "steps:\n"
        "  - doze: deep\n"
        f"{steps}"
        # the window opens at the last shell step (its marker): only that step's line is in it;
        # the journal check below sees every line exactly once
        f"  - expect: {{tag: HICCUP, message: '^line-', count: 1}}\n"
    )
    drops = {6, 11, 17, 23}
    relay = SignalAtCommand(adb_server, before=lambda n: _drop(farm) if n in drops else None)
    report = tmp_path / "report"
    try:
        proc = start(
            "run",
            str(scenario),
            "--device",
            farm.serials[0],
            "--adb-server",
            f"127.0.0.1:{relay.port}",
            "--report",
            str(report),
        )
        out, err = proc.communicate(timeout=180)
    finally:
        relay.close()
    assert proc.returncode == 0, out + err
    assert len(relay.commands) > max(drops)  # every drop happened during the run
    (result,) = json.loads((report / "results.json").read_text())
    journal = (Path(result["artifacts"]) / "journal.txt").read_text()
    for i in range(LINES):
        assert journal.count(f"HICCUP  : line-{i}\n") + journal.count(f"HICCUP: line-{i}\n") == 1, i
    now = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port).snapshot()
    assert not now.doze_forced
