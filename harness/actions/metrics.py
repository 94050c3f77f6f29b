"""The ``metric`` step: memory, battery drain and queue depth measured from the device.

The readings come from the OS's own accounting, through the device's metric reader (one per
platform, in the device drivers), started when the scenario starts (the runner has the reader
reset the OS's counters then), so a reading covers the scenario so far. A bound that the
reading misses fails the step; a metric the device cannot give is recorded "not measurable
here" with the reason and does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from harness.actions.base import Action, RunContext
from harness.errors import StepFailed
from harness.scenario import models as m

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import LogReader, MetricReader


class Measures(Protocol):
    """The driver capability: a metric reader for the app (the runner starts it with the scenario)."""

    def metrics(self, app: AppUnderTest, journal: LogReader) -> MetricReader: ...


class Metric(Action[m.Metric]):
    model: ClassVar = m.Metric
    summary = "measure the app from the device: memory, battery drain, queue depth (docs/metrics.md)"
    example = 'metric: {memory: "<= 50MB", battery: "< 2%/day", queue: "< 10"}'
    android = "`dumpsys procstats`/`meminfo`, `dumpsys batterystats`, `dumpsys jobscheduler`"
    ios = ("queue: `lldb` getPendingTaskRequests on an iPhone; memory and battery are not measurable "
           "(reported so)")

    def describe(self, step: m.Metric) -> str:
        if step.label:
            return str(step.label)
        parts = [f"{n} {step.bound(n)}" if step.bound(n) is not None else n for n in step.names()]
        return "metric: " + ", ".join(parts)

    def run(self, step: m.Metric, ctx: RunContext, device: Measures) -> None:
        missed = []
        for name in step.names():
            reading = ctx.measure(name)
            bound = step.bound(name)
            ctx.record_metric(reading, bound)
            if bound is not None and reading.value is not None and not bound.ok(reading.value):
                missed.append(f"{name} {reading.spec.format(reading.value)}, expected {bound.describe()} "
                              f"({reading.source})")
        if missed:
            raise StepFailed("; ".join(missed))
