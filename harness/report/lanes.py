"""The timeline's lanes, as plain data: what the device and each task did over one scenario.

A Battery-Historian-like picture needs, per lane, spans of one value each (screen on, deep
Doze IDLE, saver on, process running …) and, per task, each run as a bar from start to finish.
Two sources feed the state lanes, both taken from the device: the guard's snapshots (before
the first state-changing step and after each one: they know the battery, network and
standby bucket, which change only by steps) and the state changes the device logged (Doze
maintenance windows, screen timeouts, the app's process being started or killed, which
happen between steps). Nothing is interpolated: a lane starts at its first known value.

Results are read as the JSON dicts the run wrote (results.json), so a report can be redrawn
from a saved run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.durations import format_duration_ms

#: Lane order, label and per-value colours (values not listed are grey).
_ANDROID_BUCKETS = {
    5: "exempted",
    10: "active",
    20: "working_set",
    30: "frequent",
    40: "rare",
    45: "restricted",
    50: "never",
}
_IDLE_LIGHT = "#c7d2fe"
LANES: dict[str, tuple[str, dict[str, str]]] = {
    "screen": ("Screen", {"on": "#facc15", "unlocked": "#facc15", "off": "", "locked": ""}),
    "doze_deep": (
        "Doze (deep)",
        {
            "ACTIVE": "",
            "INACTIVE": "#e0e7ff",
            "IDLE_PENDING": _IDLE_LIGHT,
            "SENSING": _IDLE_LIGHT,
            "LOCATING": _IDLE_LIGHT,
            "QUICK_DOZE_DELAY": _IDLE_LIGHT,
            "IDLE": "#1e3a8a",
            "IDLE_MAINTENANCE": "#60a5fa",
        },
    ),
    "doze_light": (
        "Doze (light)",
        {
            "ACTIVE": "",
            "INACTIVE": "#ccfbf1",
            "PRE_IDLE": "#99f6e4",
            "IDLE": "#0f766e",
            "WAITING_FOR_NETWORK": "#14b8a6",
            "IDLE_MAINTENANCE": "#5eead4",
            "OVERRIDE": "#e5e7eb",
        },
    ),
    "battery_level": ("Battery level", {}),
    "plugged": (
        "Plugged",
        {
            "unplugged": "",
            "AC": "#16a34a",
            "USB": "#16a34a",
            "plugged": "#16a34a",
            "wireless": "#16a34a",
            "dock": "#16a34a",
            "charging": "#16a34a",
            "full": "#16a34a",
            "charged": "#16a34a",
        },
    ),
    "saver": ("Battery saver", {"on": "#f97316", "off": ""}),
    "network": (
        "Network",
        {
            "wifi": "#0ea5e9",
            "wifi+mobile": "#0ea5e9",
            "mobile": "#6366f1",
            "online": "#0ea5e9",
            "none": "#fca5a5",
            "offline": "#fca5a5",
            "airplane": "#ef4444",
        },
    ),
    "process": (
        "App process",
        {
            "running": "#22c55e",
            "stopped": "#9ca3af",
            "killed": "#ef4444",
            "died": "#ef4444",
            "not running": "",
        },
    ),
    "bucket": (
        "Standby bucket",
        {
            "exempted": "#15803d",
            "active": "#22c55e",
            "working_set": "#84cc16",
            "frequent": "#eab308",
            "rare": "#f97316",
            "restricted": "#ef4444",
            "never": "#7f1d1d",
        },
    ),
}
OUTCOME_COLORS = {
    "succeeded": "#16a34a",
    "failed": "#dc2626",
    "retried": "#d97706",
    "cancelled": "#7c3aed",
    "running": "#2563eb",
    "interrupted": "#4b5563",
}
_ENDS = ("succeeded", "failed", "retried", "cancelled")
#: Concurrent runs of one task row are stacked up to this many sub-rows (a load test's burst).
MAX_SUBROWS = 6


@dataclass
class Span:
    start: int
    end: int
    value: str
    color: str
    title: str
    row: int = 0  # sub-row inside a task lane
    run: str = ""  # a task lane's bar: the task's own name


@dataclass
class Mark:
    time: int
    kind: str  # enqueued | retried | succeeded | failed | cancelled | started (an event without a bar)
    color: str
    title: str


@dataclass
class Lane:
    key: str
    label: str
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    #: (time, value) points: the battery level lane is a line, not spans
    points: list[tuple[int, float, str]] = field(default_factory=list)
    rows: int = 1
    task: bool = False


# ----------------------------------------------------------------------------- state lanes
def snapshot_values(state: dict[str, Any], package: str | None) -> dict[str, str]:
    """One guard snapshot (Android ``AndroidState`` or iOS ``IosState`` as a dict) as lane values."""
    if not state:
        return {}
    out: dict[str, str] = {}
    if "apps" not in state and "status_bar" not in state:  # Android
        if state.get("screen_on") is not None:
            out["screen"] = "on" if state["screen_on"] else "off"
        for key in ("doze_deep", "doze_light"):
            if state.get(key):
                out[key] = str(state[key])
        if state.get("battery_level") is not None:
            out["battery_level"] = str(state["battery_level"])
        if state.get("plugged") is not None:
            out["plugged"] = "plugged" if state["plugged"] else "unplugged"
        if state.get("low_power") in ("0", "1", "null"):
            out["saver"] = "on" if state["low_power"] == "1" else "off"
        wifi, data, airplane = state.get("wifi_on"), state.get("mobile_data"), state.get("airplane")
        if airplane == "1":
            out["network"] = "airplane"
        elif wifi or data:
            nets = [name for name, on in (("wifi", wifi), ("mobile", data)) if on == "1"]
            out["network"] = "+".join(nets) or "none"
        bucket = _of_app(state.get("buckets") or {}, package)
        if bucket is not None:
            number = int(bucket)
            out["bucket"] = _ANDROID_BUCKETS.get(number, str(number))
        return out
    # iOS
    if state.get("low_power") is not None:
        out["saver"] = "on" if state["low_power"] else "off"
    if state.get("network") is not None:
        out["network"] = "online" if state["network"] else "offline"
    battery = state.get("battery") or {}
    if battery.get("level") is not None:
        out["battery_level"] = str(battery["level"])
    if battery.get("state"):
        out["plugged"] = (
            "unplugged" if battery["state"] in ("discharging", "unplugged") else str(battery["state"])
        )
    if state.get("locked") is not None:
        out["screen"] = "locked" if state["locked"] else "unlocked"
    app = _of_app(state.get("apps") or {}, package)
    if app is not None:
        out["process"] = "running" if app == "running" else "not running"
    return out


def _of_app(per_app: dict[str, Any], package: str | None) -> Any:
    """The app's entry in a snapshot's per-app table (the only one when the package is not known)."""
    if package is not None:
        return per_app.get(package)
    return next(iter(per_app.values())) if len(per_app) == 1 else None


def _state_changes(result: dict[str, Any], package: str | None) -> list[tuple[int, int, str, str, str]]:
    """(time, order, lane, value, where it comes from), in time order.

    The guard's first snapshot is the value before anything at its instant; after that, a lane
    the log speaks of follows the log alone (its lines are ordered within one millisecond,
    snapshots of the same millisecond are not), and the other lanes follow the snapshots.
    """
    changes: list[tuple[int, int, str, str, str]] = []
    start = result.get("device_start_ms", 0)
    logged = {change["lane"] for change in result.get("states", [])}
    for lane, value in snapshot_values(result.get("start_state") or {}, package).items():
        changes.append((start, -1, lane, value, "the state guard's snapshot before the first state change"))
    for step in result.get("steps", []):
        when = step.get("device_end_ms") or step.get("device_start_ms") or start
        for lane, value in snapshot_values(step.get("state") or {}, package).items():
            if lane not in logged:
                changes.append((when, 1, lane, value, f"snapshot after step `{step.get('summary', '')}`"))
    for change in result.get("states", []):
        changes.append((change["time_ms"], 0, change["lane"], change["value"], change["line"]))
    changes.sort(key=lambda c: (c[0], c[1]))
    return changes


def state_lanes(result: dict[str, Any], package: str | None, end: int) -> list[Lane]:
    """Every lane the data says something about, in a fixed order; value spans up to ``end``."""
    by_lane: dict[str, list[tuple[int, str, str]]] = {}
    for when, _order, lane, value, source in _state_changes(result, package):
        seq = by_lane.setdefault(lane, [])
        if seq and seq[-1][1] == value:
            continue
        seq.append((when, value, source))
    ios = result.get("platform") == "ios"
    lanes: list[Lane] = []
    for key, (label, colors) in LANES.items():
        seq = by_lane.get(key)
        if not seq:
            continue
        if ios and key == "saver":
            label = "Low Power Mode"
        lane = Lane(key, label)
        if key == "battery_level":
            latest = {t: (t, float(v), src) for t, v, src in seq if _is_number(v)}  # last of each instant
            lane.points = list(latest.values())
            lanes.append(lane)
            continue
        for i, (when, value, source) in enumerate(seq):
            until = seq[i + 1][0] if i + 1 < len(seq) else end
            if until <= when:
                continue  # a value that lasted no time (changed again in the same millisecond)
            color = colors.get(value, "#9ca3af")
            title = f"{label}: {value} from {_rel(when, result)}\n{source}"
            lane.spans.append(Span(when, until, value, color, title))
        lanes.append(lane)
    return lanes


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _rel(t: int, result: dict[str, Any]) -> str:
    return "+" + format_duration_ms(max(0, t - result.get("device_start_ms", 0)))


# ----------------------------------------------------------------------------- task lanes
def _events(result: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every task event, those logged during the restore too (judged or not, they happened)."""
    for ev in [*result.get("events", []), *result.get("after_restore_events", [])]:
        if isinstance(ev, dict):
            yield ev
        else:  # results.json written before events carried their line: (time, task, state)
            t, task, state = ev[:3]
            yield {"time_ms": t, "task": task, "state": state, "run": task, "line": ""}


def _process_ends(result: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(time, value, line) whenever the log shows the app's process ending: its runs end there too."""
    return sorted(
        (c["time_ms"], c["value"], c["line"])
        for c in result.get("states", [])
        if c["lane"] == "process" and c["value"] in ("killed", "stopped", "died")
    )


def task_lanes(result: dict[str, Any], end: int, min_gap_ms: int = 0) -> list[Lane]:
    """One lane per task: each run a bar from ``started`` to its outcome; enqueues and retries as marks.

    A run whose outcome never shows ends where the log shows the app's process ending (a
    force-stop, a kill, a reboot), else at the next start of the same task (a run stopped by
    the system, e.g. for Doze, logs no outcome), else it is still running at the end.
    ``min_gap_ms`` is how much device time the narrowest visible bar covers, so runs closer
    than that stack in sub-rows instead of hiding each other.
    """
    lanes: dict[str, Lane] = {}
    open_runs: dict[tuple[str, str], dict[str, Any]] = {}
    ends = _process_ends(result)

    def close_by_process(before: int) -> None:
        for key, began in list(open_runs.items()):
            ended = next((e for e in ends if began["start"] < e[0] <= before), None)
            if ended is not None:
                del open_runs[key]
                _close(
                    lanes[key[0]],
                    began,
                    ended[0],
                    "interrupted",
                    ended[2],
                    result,
                    f"ended with the app's process ({ended[1]})",
                )

    for ev in sorted(_events(result), key=lambda e: e["time_ms"]):
        task, state, run, t = ev["task"], ev["state"], ev.get("run") or ev["task"], ev["time_ms"]
        lane = lanes.setdefault(task, Lane(f"task:{task}", task, task=True))
        line = ev.get("line", "")
        close_by_process(t)
        if state == "enqueued":
            lane.marks.append(Mark(t, "enqueued", "#6b7280", f"{run} enqueued at {_rel(t, result)}\n{line}"))
        elif state == "started":
            began = open_runs.get((task, run))
            if began is not None and began["start"] == t:
                continue  # the same start, told by another line
            if began is not None:  # stopped by the system without an outcome; it starts again now
                lane.marks.append(
                    Mark(
                        began["start"],
                        "started",
                        OUTCOME_COLORS["running"],
                        f"{run} started at {_rel(began['start'], result)}; no outcome in the log "
                        f"before it started again at {_rel(t, result)}\n{began['line']}",
                    )
                )
            open_runs[(task, run)] = {"start": t, "line": line, "name": run}
        elif state in _ENDS:
            began = open_runs.pop((task, run), None)
            if state == "retried":
                lane.marks.append(
                    Mark(
                        t, "retried", OUTCOME_COLORS["retried"], f"{run} retried at {_rel(t, result)}\n{line}"
                    )
                )
            if began is None:
                lane.marks.append(
                    Mark(
                        t,
                        state,
                        OUTCOME_COLORS[state],
                        f"{run} {state} at {_rel(t, result)} (its start is not in the log)\n{line}",
                    )
                )
            else:
                _close(lane, began, t, state, line, result)
    close_by_process(end)
    for (task, _run), began in open_runs.items():
        _close(lanes[task], began, end, "running", "", result)
    for lane in lanes.values():
        _stack(lane, min_gap_ms)
    return list(lanes.values())


def _close(
    lane: Lane, began: dict[str, Any], t: int, outcome: str, line: str, result: dict[str, Any], what: str = ""
) -> None:
    start = began["start"]
    took = format_duration_ms(max(0, t - start))
    if not what:
        what = "still running at the end" if outcome == "running" else f"{outcome} after {took}"
    title = f"{began['name']}: started {_rel(start, result)}, {what}\n{began['line']}"
    if line:
        title += f"\n{line}"
    lane.spans.append(Span(start, t, outcome, OUTCOME_COLORS[outcome], title, run=began["name"]))


def _stack(lane: Lane, min_gap_ms: int) -> None:
    """Give overlapping runs their own sub-row (first free one), at most ``MAX_SUBROWS``."""
    ends: list[int] = []
    for span in sorted(lane.spans, key=lambda s: (s.start, s.end)):
        visible_end = max(span.end, span.start + min_gap_ms)
        for row, row_end in enumerate(ends):
            if row_end < span.start:
                span.row, ends[row] = row, visible_end
                break
        else:
            if len(ends) < MAX_SUBROWS:
                span.row = len(ends)
                ends.append(visible_end)
            else:
                span.row = min(range(len(ends)), key=ends.__getitem__)
                ends[span.row] = max(ends[span.row], visible_end)
    lane.rows = max(1, len(ends))


# ----------------------------------------------------------------------------- windows
def failing_windows(result: dict[str, Any]) -> list[tuple[int, int, str]]:
    """(start, end, what) of each failed expectation's window, where the step result gives it."""
    out = []
    for start, end, step in step_times(result):
        if step.get("status") not in ("failed", "error") or step.get("kind") not in ("expect", "wait"):
            continue
        if step.get("window_start_ms") is not None and step.get("window_end_ms") is not None:
            start, end = step["window_start_ms"], step["window_end_ms"]
        # else: from where the step before it ended to where it gave up (an expectation's
        # window starts at the last action, which is the step before it, or earlier)
        if end >= start:
            out.append((start, end, f"{step.get('summary', '')} ({step.get('location', '')})"))
    return out


def step_times(result: dict[str, Any]) -> list[tuple[int, int, dict[str, Any]]]:
    """(start, end, step) per step; a wait or an expectation starts where the step before it ended."""
    out = []
    previous_end = result.get("device_start_ms", 0)
    for step in result.get("steps", []):
        start, end = step.get("device_start_ms") or 0, step.get("device_end_ms") or 0
        if step.get("kind") in ("wait", "expect") and start == end:
            start = min(previous_end, end) if end else previous_end
        start = start or previous_end
        end = max(end, start)
        out.append((start, end, step))
        previous_end = end
    return out
