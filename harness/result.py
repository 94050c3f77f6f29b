"""What a scenario run produced: steps, task outcomes, restored state, artifacts.

Plain data, filled by the runner and read by every report (console, JSON, JUnit properties),
so the reports never disagree about what happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from harness.logs.device_states import StateChange

#: ``flaky``: failed, then passed on a rerun (``--reruns``); ``attempts`` says how each went.
Status = Literal["passed", "failed", "error", "skipped", "flaky"]


@dataclass
class StepResult:
    index: int
    phase: Literal["setup", "steps", "finally"]
    kind: str
    summary: str
    location: str
    status: Status = "passed"
    device_start_ms: int = 0
    device_end_ms: int = 0
    message: str = ""
    #: the device-time window an expect / wait until judged: from the action that opened it
    #: to anchor + within, or to where it was decided or closed (None: not an expectation)
    window_start_ms: int | None = None
    window_end_ms: int | None = None
    #: The device state right after a state-changing step (the guard's snapshot), for the
    #: timeline's lanes: Android ``AndroidState`` / iOS ``IosState`` fields.
    state: dict[str, Any] = field(default_factory=dict)
    #: Requests to the device during the step, by channel (adb, xcrun, wda): its real cost.
    round_trips: dict[str, int] = field(default_factory=dict)


@dataclass
class TaskOutcome:
    """How one background task the scenario names fared, as read from the device's logs.

    ``task`` is a concrete task (a glob the scenario wrote is expanded into the tasks it
    matched; ``pattern`` says which name or glob of the scenario brought the row in). A row
    for a name or glob that matched nothing has ``task == pattern`` and no counts. ``counts``
    are the scenario's own events; ``after_restore`` those logged once the device was being
    restored (``finally:`` and bgtest's state guard), which no expectation judged.
    """

    task: str
    counts: dict[str, int] = field(default_factory=dict)
    last_state: str = ""
    last_time_ms: int = 0
    pattern: str = ""
    #: the scenario expects this task's absence (never: true / count: 0): unseen is a pass
    absence_expected: bool = False
    after_restore: dict[str, int] = field(default_factory=dict)

    @property
    def states(self) -> list[str]:
        """The states it reached, in lifecycle order."""
        return [s for s in _ORDER if self.counts.get(s)]

    def why(self) -> str:
        """One phrase for the summary table: what the logs say happened."""
        if not self.counts:
            what = "no task matched" if self.task == self.pattern and _is_glob(self.pattern) else "never seen"
            text = what + (" (as expected)" if self.absence_expected else " in the logs")
        else:
            text = ", ".join(f"{state} ×{self.counts[state]}" for state in self.states)
        if self.after_restore:
            late = ", ".join(f"{s} ×{self.after_restore[s]}" for s in _ORDER if self.after_restore.get(s))
            text += f"; after the restore: {late}"
        return text


_ORDER = ("enqueued", "started", "retried", "succeeded", "failed", "cancelled")


def _is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


@dataclass
class TimelineEvent:
    """One task event for the timeline: which row, which run, and the log line that says so."""

    time_ms: int
    task: str  # the row: the name the scenario uses (a glob is one row)
    state: str
    run: str  # the task's own name (a glob row holds many tasks): pairs a start with its end
    line: str


@dataclass
class MetricReading:
    """One metric a ``metric:`` step read from the device (``value`` None: not measurable here)."""

    step: int  # index of the step among the scenario's steps
    name: str  # memory | battery | queue
    value: float | None
    unit: str  # kB | %/day | pending
    source: str  # the command it came from
    reason: str = ""  # why there is no value
    bound: str = ""  # the bound the step set ("<= 50MB"), "" when it only reads
    ok: bool | None = None  # None: no bound, or nothing to compare
    shown: str = ""  # the value as people read it ("52MB", "0.66%/day")


@dataclass
class ScenarioResult:
    name: str
    file: str
    line: int
    platform: str
    #: the scenario's `description:` (longer text for reports)
    description: str = ""
    device: dict[str, str] = field(default_factory=dict)
    status: Status = "passed"
    failure: str = ""
    wall_s: float = 0.0
    device_start_ms: int = 0
    device_end_ms: int = 0
    steps: list[StepResult] = field(default_factory=list)
    tasks: dict[str, TaskOutcome] = field(default_factory=dict)
    restored: list[str] = field(default_factory=list)
    artifacts: str = ""
    #: what this result means for `bgtest run`'s exit (harness.run.exits): 0 = from the status
    exit_code: int = 0
    #: Task events for the timeline report; capped so a load test stays small.
    events: list[TimelineEvent] = field(default_factory=list)
    #: the same for events logged once the restore began (finally: and the state guard):
    #: reported, never judged
    after_restore_events: list[TimelineEvent] = field(default_factory=list)
    #: The device state before the scenario changed any (the guard's first snapshot).
    start_state: dict[str, Any] = field(default_factory=dict)
    #: State changes the device logged (Doze, screen, saver, the app's process …), for the timeline.
    states: list[StateChange] = field(default_factory=list)
    #: What ``metric:`` steps read from the device (docs/metrics.md).
    metrics: list[MetricReading] = field(default_factory=list)
    #: A farm device dropped out and the scenario ran again on another: which, and where.
    retried_from: str = ""
    #: Every attempt when the scenario ran more than once (reruns, a device that dropped out),
    #: first to last: attempt, status, device, failure, wall_s, artifacts.
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["location"] = self.location
        for name, outcome in self.tasks.items():
            data["tasks"][name]["why"] = outcome.why()
            data["tasks"][name]["states"] = outcome.states
        return data


def combined(attempts: list[ScenarioResult]) -> ScenarioResult:
    """One scenario's result over its attempts: the last one's, with every attempt listed.

    A pass after a failure of the scenario's own is ``flaky`` — reported as such, never as a
    plain pass. A failure because the device dropped out (``retried_from``) is the farm's,
    not the scenario's: a pass after it alone is a pass."""
    final = attempts[-1]
    if len(attempts) == 1:
        return final
    final.attempts = [
        {
            "attempt": n,
            "status": a.status,
            "device": a.device.get("serial", ""),
            "failure": a.failure,
            "wall_s": a.wall_s,
            "artifacts": a.artifacts,
            "dropped_out": bool(a.retried_from),
        }
        for n, a in enumerate(attempts, 1)
    ]
    dropped = [n for n, a in enumerate(attempts, 1) if a.retried_from]
    if dropped:
        gone = attempts[dropped[-1] - 1].retried_from
        final.retried_from = (f"{gone} dropped out during attempt {dropped[-1]}; "
                              f"rerun on {final.device.get('serial') or 'another device'}")
    own = [a for a in attempts[:-1] if a.status in ("failed", "error") and not a.retried_from]
    if final.status == "passed" and own:
        final.status = "flaky"
    return final
