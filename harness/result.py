"""What a scenario run produced: steps, task outcomes, restored state, artifacts.

Plain data, filled by the runner and read by every report (console, JSON, JUnit properties),
so the reports never disagree about what happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "error", "skipped"]


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


@dataclass
class TaskOutcome:
    """How one background task fared, as read from the device's logs."""

    task: str
    counts: dict[str, int] = field(default_factory=dict)
    last_state: str = ""
    last_time_ms: int = 0

    def why(self) -> str:
        """One phrase for the summary table: what the logs say happened."""
        if not self.counts:
            return "never seen in the logs"
        order = ("enqueued", "started", "retried", "succeeded", "failed", "cancelled")
        return ", ".join(f"{state} ×{self.counts[state]}" for state in order if self.counts.get(state))


@dataclass
class ScenarioResult:
    name: str
    file: str
    line: int
    platform: str
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
    #: (device ms, task, state) for the timeline report; capped so a load test stays small.
    events: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["location"] = self.location
        return data
