"""The virtual device's background-work lines read by the harness's own vocabularies.

The device prints what WorkManager and the plugins print; the harness decides task states
from those lines. This checks the two agree end to end: logcat text → parser → vocabulary →
task events, for each library the app models use.
"""

from __future__ import annotations

from pathlib import Path

from harness.logs.logcat_parser import LogcatParser
from harness.logs.vocab import TaskEvent, VocabState, load_vocabulary
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"


def events(device: VirtualAndroidDevice, vocabulary: str) -> list[TaskEvent]:
    rc, out, _ = run_sync(device, "logcat -d -v threadtime")
    assert rc == 0
    parser = LogcatParser(reference_ns=device.clock.now_ns())
    records = parser.feed(out) + parser.flush()
    state = VocabState([load_vocabulary(vocabulary)])
    found: list[TaskEvent] = []
    for rec in records:
        found.extend(state.events(rec))
    return found


def states(found: list[TaskEvent], task: str) -> list[str]:
    return [e.state for e in found if e.is_for(task)]


def test_native_workmanager_lines_give_task_events() -> None:
    d = VirtualAndroidDevice(app_models=[FIXTURES / "nwm_demo.yaml"])
    for task in ("flaky", "periodic-sync", "chain-download"):
        rc, _, err = run_sync(d, f"am start -a android.intent.action.VIEW -d nwmdemo://enqueue/{task}")
        assert rc == 0, err
    d.clock.advance(5 * 60_000)
    found = events(d, "native_workmanager")
    flaky = states(found, "flaky")
    assert flaky[0] == "enqueued"
    assert flaky.count("retried") == 2 and flaky[-1] == "succeeded"
    assert "succeeded" in states(found, "periodic-sync")
    for step in ("chain-download", "chain-process", "chain-upload"):
        assert "succeeded" in states(found, step), step


def test_plain_workmanager_lines_give_task_events() -> None:
    d = VirtualAndroidDevice(app_models=[FIXTURES / "wm_plain.yaml"])
    rc, _, err = run_sync(d, "am start -a android.intent.action.VIEW -d wmplain://work/sync")
    assert rc == 0, err
    d.clock.advance(9 * 60_000)
    assert "succeeded" not in states(events(d, "androidx_workmanager"), "sync")
    d.clock.advance(2 * 60_000)  # 15 m interval, 5 m flex: the first run comes 10 m after enqueue
    found = states(events(d, "androidx_workmanager"), "sync")
    # periodic: the run succeeds and WorkManager schedules the next period at once
    assert found == ["enqueued", "started", "succeeded", "enqueued"]
