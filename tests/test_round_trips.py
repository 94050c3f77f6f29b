"""The conversation with the device is the cost of a scenario (issue 17): each step's round
trips are counted, and the bundled Android scenarios must stay within these counts. A count,
not a time — it does not depend on the machine. Also: batching never lets a step see a record
from before it (the barrier guarantee)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.actions.registry import ACTIONS
from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.run.runner import ScenarioRunner
from harness.run.session import app_under_test
from harness.scenario.loader import load_file, load_text
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]
ANDROID = [
    s for p in sorted((ROOT / "scenarios").glob("*.yaml")) for s in load_file(p) if "android" in s.platforms
]

#: adb round trips per step at most: an action <= 4 (issue 17; a doze step was 14-23, a reboot
#: 22: now the barrier, ``reboot``, and the log reader's wait-for-device and its boot wait that
#: becomes logcat) and the expectations as they are today.
ACTION_LIMIT = 4
LIMITS = {"expect": 6, "wait": 3}  # a wait asks the clock mode, advances, marks
#: ``server`` (issue 13) is 5: ``adb reverse`` is a service of its own, not a shell command, so
#: the barrier, the guard's snapshot, the reverse, the proxy setting and the state after it
LIMITS["server"] = 5


@pytest.fixture(scope="module")
def device(adb_server: AdbServer) -> Iterator[AndroidDevice]:
    models = list(dict.fromkeys(Path(s.app.model_path) for s in ANDROID if s.app and s.app.model_path))
    with VirtualAndroidFarm(adb_server=adb_server, app_models=models) as farm:
        yield AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)


@pytest.mark.parametrize("scenario", ANDROID, ids=lambda s: Path(s.location.file).stem)
def test_bundled_scenarios_stay_within_their_round_trips(device: AndroidDevice, scenario: object) -> None:
    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()  # type: ignore[arg-type]
    assert result.status == "passed", result.failure
    for step in result.steps:
        limit = LIMITS.get(step.kind, ACTION_LIMIT if ACTIONS[step.kind].marks_start else 0)
        assert step.round_trips.get("adb", 0) <= limit, (step.summary, step.round_trips)
        assert set(step.round_trips) <= {"adb"}


def test_a_doze_step_is_four_round_trips_and_sees_nothing_from_before_it(device: AndroidDevice) -> None:
    """Barrier, the guard's snapshot, force+verify in one command, the state it left (timeline)."""
    text = (
        "name: t\nsteps:\n  - doze: deep\n  - expect: {tag: DeviceIdleController, within: 1m}\n"
        "finally:\n  - doze: off\n"
    )
    (scenario,) = load_text(text, file=str(ROOT / "scenarios" / "inline.yaml"))
    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()
    doze = result.steps[0]
    assert doze.round_trips == {"adb": 4}  # barrier, snapshot, doze, the state after it (timeline)
    # the device logged the change after the step's marker, never before it
    changes = [c for c in result.states if c.lane == "doze_deep"]
    assert changes and all(c.time_ms >= doze.device_start_ms for c in changes)


def test_an_app_event_caused_by_a_step_is_after_its_marker(device: AndroidDevice) -> None:
    text = (
        "name: t\napp: {model: nwm_demo}\nsteps:\n"
        "  - launch: nwmdemo://enqueue/upload\n  - expect: {task: upload, state: enqueued, within: 1m}\n"
    )
    (scenario,) = load_text(text, file=str(ROOT / "scenarios" / "inline.yaml"), base_dir=ROOT / "scenarios")
    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()
    assert result.status == "passed", result.failure
    launch = result.steps[0]
    enqueued = [e for e in result.events if e.state == "enqueued"]
    assert enqueued and min(e.time_ms for e in enqueued) >= launch.device_start_ms
