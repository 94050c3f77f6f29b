"""Signals at exact points of a failing run, restore included (issue #11, point 1), on Android.

A relay between bgtest and the adb server sends SIGINT or SIGTERM to the real ``bgtest run``
process just before it forwards its N-th shell command. Whatever N — in a step, right after
the failing step, in the middle of the restore, while the artifacts are saved — the device
ends with nothing forced, the exit is 130/143, and what the report calls restored is true.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_util import SignalAtCommand, start

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.sim.android.launcher import VirtualAndroidFarm

SCENARIO = (
    "name: forced, then a failing step\n"
    "steps:\n"
    "  - battery: unplugged\n"
    "  - doze: deep\n"
    "  - network: airplane\n"
    "  - battery_saver: on\n"
    "  - expect: {tag: NeverLogged, message: never}\n"
    "finally:\n"
    "  - shell: [echo, finally]\n"
)


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(adb_server=adb_server) as f:
        yield f


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("points") / "scenarios" / "forced.yaml"
    path.parent.mkdir()
    path.write_text(SCENARIO)
    return path


def _run(farm: VirtualAndroidFarm, server: AdbServer, scenario: Path, at: int, sig: int) -> tuple[int, dict]:
    relay = SignalAtCommand(server, at=at, sig=sig)
    report = scenario.parent.parent / f"report-{at}-{sig}"
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
        relay.pid = proc.pid
        out, err = proc.communicate(timeout=120)
    finally:
        relay.close()
    assert "Traceback" not in out + err, out + err
    results = json.loads((report / "results.json").read_text()) if (report / "results.json").exists() else []
    _run.commands = relay.commands  # type: ignore[attr-defined]
    return proc.returncode, (results[0] if results else {})


def _nothing_forced(farm: VirtualAndroidFarm, server: AdbServer, result: dict) -> None:
    now = AndroidDevice(farm.serials[0], server.host, server.port).snapshot()
    assert not now.doze_forced and now.airplane == "0" and now.low_power in ("0", "null", "")
    assert not now.battery_frozen
    for item in result.get("restored", []):
        assert "FAILED" not in item  # every restore command went through


@pytest.fixture(scope="module")
def commands(farm: VirtualAndroidFarm, adb_server: AdbServer, scenario: Path) -> list[str]:
    code, result = _run(farm, adb_server, scenario, 0, 0)
    assert code == 1 and result["status"] == "failed"
    _nothing_forced(farm, adb_server, result)
    return list(_run.commands)  # type: ignore[attr-defined]


def test_signals_all_through_the_restore(
    farm: VirtualAndroidFarm, adb_server: AdbServer, scenario: Path, commands: list[str]
) -> None:
    unforce = next(i for i, c in enumerate(commands, 1) if "deviceidle unforce" in c)
    for at in range(unforce - 4, unforce + 5):
        sig = signal.SIGTERM if at % 2 else signal.SIGINT
        code, result = _run(farm, adb_server, scenario, at, sig)
        assert code == 128 + sig, (at, commands[at - 1])
        _nothing_forced(farm, adb_server, result)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(point=st.floats(0, 1), sig=st.sampled_from([signal.SIGINT, signal.SIGTERM]))
def test_a_signal_anywhere_leaves_nothing_forced(
    farm: VirtualAndroidFarm,
    adb_server: AdbServer,
    scenario: Path,
    commands: list[str],
    point: float,
    sig: int,
) -> None:
    at = 1 + int(point * (len(commands) - 1))
    code, result = _run(farm, adb_server, scenario, at, sig)
    assert code == 128 + sig, (at, commands[at - 1])
    _nothing_forced(farm, adb_server, result)
