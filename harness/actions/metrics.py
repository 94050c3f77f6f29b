"""The ``metric`` step: memory, battery drain and queue depth measured from the device.

The readings come from the OS's own accounting, through the device's metric reader (one per
platform, in the device drivers), started when the scenario starts (the runner has the reader
reset the OS's counters then), so a reading covers the scenario so far. A bound that the
reading misses fails the step; a metric the device cannot give is recorded "not measurable
here" with the reason and does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Protocol

from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema, model_validator

from harness.actions.base import Action, RunContext
from harness.errors import StepFailed
from harness.metrics import METRIC_NAMES, MetricName
from harness.scenario.fields import OP_RE, cmp_schema, cmp_serializer, one_or_many
from harness.scenario.step import StepBase
from harness.scenario.values import Comparison

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import LogReader, MetricReader

# --------------------------------------------------------------------------- step model

MemoryBound = Annotated[
    Comparison,
    PlainValidator(Comparison.size),
    cmp_serializer,
    WithJsonSchema(cmp_schema('peak PSS of the app\'s process, e.g. "<= 50MB"', False,
                              OP_RE + r"[0-9]+(\.[0-9]+)?\s*([kKmMgG][bB]?)?\s*$")),
]
BatteryBound = Annotated[
    Comparison,
    PlainValidator(Comparison.per_day),
    cmp_serializer,
    WithJsonSchema(cmp_schema('the app\'s battery use per day on battery, e.g. "< 2%/day"', False,
                              OP_RE + r"[0-9]+(\.[0-9]+)?\s*%\s*(/\s*day|per\s+day)?\s*$")),
]
QueueBound = Annotated[
    Comparison,
    PlainValidator(Comparison.depth),
    cmp_serializer,
    WithJsonSchema(cmp_schema('work waiting to run, e.g. "< 10"', True, OP_RE + r"[0-9]+\s*$")),
]


class Metric(StepBase):
    """Measure the app from the device (never from the app): memory, battery drain, queue depth.

    With a bound the step fails when the reading misses it; a metric the device cannot give is
    reported "not measurable here" with the reason and does not fail the step (docs/metrics.md).
    """

    kind: ClassVar[str] = "metric"
    primary: ClassVar[str | None] = "measure"
    measure: Annotated[list[MetricName], BeforeValidator(one_or_many)] = Field(
        default_factory=list, description="metrics to read and report without a bound: memory, battery, queue"
    )
    memory: MemoryBound | None = Field(
        None, description='peak PSS of the app\'s process since the scenario started, e.g. "<= 50MB"')
    battery: BatteryBound | None = Field(
        None, description='the app\'s drain over the scenario, per day on battery, e.g. "< 2%/day"')
    queue: QueueBound | None = Field(None, description='work waiting to run, e.g. "< 10"')

    @model_validator(mode="after")
    def _something(self) -> Metric:
        if not self.names():
            raise ValueError("metric needs memory:, battery: or queue: (or a list of names to read)")
        doubled = [n for n in self.measure if getattr(self, n) is not None]
        if doubled:
            raise ValueError(f"{doubled[0]} is both measured and bounded; keep the bound")
        return self

    def names(self) -> list[str]:
        """Every metric the step reads, in a fixed order."""
        return [n for n in METRIC_NAMES if n in self.measure or getattr(self, n) is not None]

    def bound(self, name: str) -> Comparison | None:
        return getattr(self, name)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- the action


class Measures(Protocol):
    """The driver capability: a metric reader for the app (the runner starts it with the scenario)."""

    def metrics(self, app: AppUnderTest, journal: LogReader) -> MetricReader: ...


class MetricAction(Action[Metric]):
    model: ClassVar = Metric
    summary = "measure the app from the device: memory, battery drain, queue depth (docs/metrics.md)"
    example = 'metric: {memory: "<= 50MB", battery: "< 2%/day", queue: "< 10"}'
    android = "`dumpsys procstats`/`meminfo`, `dumpsys batterystats`, `dumpsys jobscheduler`"
    ios = ("queue: `lldb` getPendingTaskRequests on an iPhone; memory and battery are not measurable "
           "(reported so)")

    def describe(self, step: Metric) -> str:
        if step.label:
            return str(step.label)
        parts = [f"{n} {step.bound(n)}" if step.bound(n) is not None else n for n in step.names()]
        return "metric: " + ", ".join(parts)

    def run(self, step: Metric, ctx: RunContext, device: Measures) -> None:
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
