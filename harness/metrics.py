"""Device-measured metrics: what each one is, its unit, the deployment guide's thresholds, and a reading.

The guide's Success Metrics table ends the pre-release checklist; three of its rows cannot be
read from logs and are measured from the device itself, never from the app:

- ``memory``: the largest PSS of the app's process seen during the scenario (Android
  ``dumpsys procstats`` since the scenario began, and ``dumpsys meminfo`` at the step), kB;
- ``battery``: the app's estimated drain (``dumpsys batterystats`` per-uid ``Estimated power
  use``, reset when the scenario starts), as percent of the battery per day on battery;
- ``queue``: work waiting to run (the app's JobScheduler jobs that are not running — where
  WorkManager's scheduled work waits; on iOS the app's pending BGTaskScheduler requests).

A device that cannot give a number gives a :class:`Measurement` with ``value=None`` and the
reason ("not measurable here"); nothing is ever estimated in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.sizes import format_size_kb

MetricName = Literal["memory", "battery", "queue"]
METRIC_NAMES: tuple[MetricName, ...] = ("memory", "battery", "queue")


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its unit and the deployment guide's target and alert threshold (Success Metrics)."""

    name: MetricName
    title: str
    unit: str  # "kB", "%/day", "pending"
    target: float
    alert: float
    #: What the guide's table says, for reports.
    guide: str

    def format(self, value: float) -> str:
        if self.unit == "kB":
            return format_size_kb(value)
        if self.unit == "%/day":
            return f"{value:.2g}%/day" if value < 10 else f"{value:.0f}%/day"
        return f"{value:g}"


SPECS: dict[MetricName, MetricSpec] = {
    "memory": MetricSpec("memory", "Memory usage", "kB", 50 * 1024, 100 * 1024,
                         "<50MB per task, alert >100MB"),
    "battery": MetricSpec("battery", "Battery impact", "%/day", 2.0, 5.0, "<2% per day, alert >5% per day"),
    "queue": MetricSpec("queue", "Queue depth", "pending", 10, 50, "<10 pending, alert >50 pending"),
}


@dataclass(frozen=True)
class Measurement:
    """A metric read from a device: a value with its source, or why there is none."""

    name: MetricName
    value: float | None
    #: The command (or log) the value came from: ``dumpsys procstats``, ``dumpsys batterystats``.
    source: str
    #: Why there is no value ("not measurable here: …"); empty when there is one.
    reason: str = ""
    #: Facts behind the value, for reports (``{"pss_kb": 52000, "pid": 1234}``).
    detail: tuple[tuple[str, str], ...] = ()

    @property
    def measurable(self) -> bool:
        return self.value is not None

    @property
    def spec(self) -> MetricSpec:
        return SPECS[self.name]

    def text(self) -> str:
        """``52MB (dumpsys procstats)`` or ``not measurable here: …``."""
        if self.value is None:
            return f"not measurable here: {self.reason}"
        return f"{self.spec.format(self.value)} ({self.source})"


def not_measurable(name: MetricName, source: str, reason: str) -> Measurement:
    return Measurement(name, None, source, reason)
