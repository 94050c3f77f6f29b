"""The timeline's lanes: state changes read from real-format log lines, snapshots, and task runs as bars."""

from __future__ import annotations

from pathlib import Path

from harness.logs.device_states import state_changes
from harness.logs.logcat_parser import LogcatParser
from harness.report.lanes import failing_windows, snapshot_values, state_lanes, task_lanes

PKG = "dev.brewkits.nwm_demo"
T0 = 1_767_603_600_000  # 2026-01-05 09:00:00 UTC

# As `logcat -v threadtime -v year -b main,system,crash,events` prints them (AOSP formats).
LOG = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "device_states.logcat"


def _records():  # type: ignore[no-untyped-def]
    parser = LogcatParser(reference_ns=T0 * 1_000_000)
    return parser.feed(LOG.read_bytes()) + parser.flush()


def test_state_changes_follow_the_device_log() -> None:
    changes = [(c.time_ms - T0, c.lane, c.value) for c in state_changes(_records(), PKG)]
    assert changes == [
        (0, "process", "running"),  # the other app's process is not ours
        (1000, "screen", "off"),
        (1000, "doze_deep", "INACTIVE"),
        (1000, "doze_light", "INACTIVE"),
        (2000, "doze_deep", "IDLE"),
        (2000, "battery_level", "40"),
        (2000, "plugged", "unplugged"),
        (2000, "saver", "on"),
        (3_600_000, "doze_deep", "IDLE_MAINTENANCE"),
        (3_602_000, "doze_deep", "IDLE"),
        (7_200_000, "process", "stopped"),  # the kill and the death of a force-stop say nothing new
        (9_000_000, "process", "running"),
        (9_600_000, "process", "killed"),
        (9_600_000, "screen", "on"),
    ]
    assert state_changes(_records(), None)[0].lane == "screen"  # no app: no process lane


def test_snapshots_become_lane_values_on_both_platforms() -> None:
    android = {"doze_deep": "IDLE", "doze_light": "OVERRIDE", "screen_on": False, "battery_level": 40,
               "plugged": False, "low_power": "1", "wifi_on": "0", "mobile_data": "1", "airplane": "0",
               "buckets": {PKG: 40}}  # fmt: skip
    assert snapshot_values(android, PKG) == {
        "screen": "off", "doze_deep": "IDLE", "doze_light": "OVERRIDE", "battery_level": "40",
        "plugged": "unplugged", "saver": "on", "network": "mobile", "bucket": "rare",
    }  # fmt: skip
    assert snapshot_values({**android, "airplane": "1"}, PKG)["network"] == "airplane"
    ios = {"low_power": True, "network": False, "battery": {"level": 80, "state": "charging"},
           "locked": None, "apps": {"com.x": "running"}}  # fmt: skip
    assert snapshot_values(ios, None) == {
        "saver": "on",
        "network": "offline",
        "battery_level": "80",
        "plugged": "charging",
        "process": "running",
    }


def _result(**extra: object) -> dict:  # type: ignore[type-arg]
    return {"device_start_ms": T0, "device_end_ms": T0 + 10_000, "platform": "android", "steps": [], **extra}


def test_a_lane_follows_the_log_when_it_has_lines_else_the_snapshots() -> None:
    result = _result(
        start_state={"low_power": "0", "wifi_on": "1", "mobile_data": "0", "airplane": "0"},
        steps=[
            {"summary": "network: wifi off", "kind": "network", "device_end_ms": T0 + 2000,
             "state": {"low_power": "0", "wifi_on": "0", "mobile_data": "0", "airplane": "0"}},
        ],
        states=[
            {"time_ms": T0, "lane": "saver", "value": "on", "line": "Battery saver enabled"},
            {"time_ms": T0 + 5000, "lane": "saver", "value": "off", "line": "Battery saver disabled"},
        ],
    )  # fmt: skip
    lanes = {lane.key: lane for lane in state_lanes(result, PKG, T0 + 10_000)}
    # the start snapshot comes before the log line of the same instant, and lasted no time
    assert [(s.start - T0, s.end - T0, s.value) for s in lanes["saver"].spans] == [
        (0, 5000, "on"),
        (5000, 10_000, "off"),
    ]
    assert "Battery saver disabled" in lanes["saver"].spans[-1].title
    assert [(s.start - T0, s.value) for s in lanes["network"].spans] == [(0, "wifi"), (2000, "none")]
    assert "snapshot after step `network: wifi off`" in lanes["network"].spans[-1].title
    assert list(lanes) == ["saver", "network"]  # only lanes the data speaks of, in a fixed order


def _ev(t: int, state: str, run: str = "sync", task: str = "sync", line: str = "") -> dict:  # type: ignore[type-arg]
    return {"time_ms": T0 + t, "task": task, "state": state, "run": run, "line": line or f"{run} {state}"}


def test_each_run_is_a_bar_from_start_to_outcome() -> None:
    events = [_ev(0, "enqueued"), _ev(0, "started"), _ev(0, "started"), _ev(2000, "retried"),
              _ev(3000, "started"), _ev(5000, "succeeded")]  # fmt: skip
    [lane] = task_lanes(_result(events=events), T0 + 10_000)
    assert [(s.start - T0, s.end - T0, s.value) for s in lane.spans] == [
        (0, 2000, "retried"),
        (3000, 5000, "succeeded"),
    ]
    assert [m.kind for m in lane.marks] == ["enqueued", "retried"]
    assert "sync succeeded" in lane.spans[1].title  # the log line, for hover


def test_a_run_ends_with_the_process_or_stays_running() -> None:
    events = [_ev(0, "started"), _ev(1000, "started", run="other", task="other")]
    states = [{"time_ms": T0 + 4000, "lane": "process", "value": "stopped", "line": "Force stopping"}]
    lanes = {lane.label: lane for lane in task_lanes(_result(events=events, states=states), T0 + 10_000)}
    [span] = lanes["sync"].spans
    assert (span.end - T0, span.value) == (4000, "interrupted") and "Force stopping" in span.title
    [later] = task_lanes(_result(events=[_ev(5000, "started")], states=states), T0 + 10_000)[0].spans
    assert (later.end - T0, later.value) == (10_000, "running")


def test_a_run_that_starts_again_without_an_outcome_is_a_start_mark() -> None:
    [lane] = task_lanes(_result(events=[_ev(0, "started"), _ev(3000, "started"), _ev(4000, "succeeded")]), T0)
    assert [(s.start - T0, s.value) for s in lane.spans] == [(3000, "succeeded")]
    assert [(m.time - T0, m.kind) for m in lane.marks] == [(0, "started")]


def test_concurrent_runs_of_a_glob_row_stack_in_sub_rows() -> None:
    events = [_ev(0, "started", run=f"load-{i}", task="load-*") for i in range(10)]
    events += [_ev(200, "succeeded", run=f"load-{i}", task="load-*") for i in range(10)]
    [lane] = task_lanes(_result(events=events), T0 + 10_000)
    assert len(lane.spans) == 10 and lane.rows == 6  # at most six sub-rows; the rest share them


def test_the_failing_window_comes_from_the_step_or_from_the_step_before() -> None:
    steps = [
        {"kind": "stop_app", "status": "passed", "device_start_ms": T0 + 1000, "device_end_ms": T0 + 1000},
        {"kind": "expect", "status": "failed", "summary": "expect x", "location": "a.yaml:9",
         "device_start_ms": 0, "device_end_ms": T0 + 9000},
    ]  # fmt: skip
    assert failing_windows(_result(steps=steps)) == [(T0 + 1000, T0 + 9000, "expect x (a.yaml:9)")]
    steps[1].update(window_start_ms=T0 + 500, window_end_ms=T0 + 8000)
    assert failing_windows(_result(steps=steps))[0][:2] == (T0 + 500, T0 + 8000)
