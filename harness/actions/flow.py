"""The steps that judge rather than act: ``expect`` over the journal and ``wait`` (for device
time, or until an expectation holds). They set their own window anchors, so no start barrier."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from harness.actions.base import Action, RunContext
from harness.durations import format_duration_ms
from harness.scenario.fields import Count, Duration, Latency, Rate
from harness.scenario.step import StepBase
from harness.scenario.values import LogMatch, Match, describe_expectation

#: ``wait: {until: …}`` without a timeout and a scenario without one: at most this long.
DEFAULT_UNTIL_MS = 6 * 3_600_000
NS = 1_000_000

# --------------------------------------------------------------------------- step models


class Expect(Match, StepBase):
    """An expectation over the log journal, in device time."""

    kind: ClassVar[str] = "expect"
    primary: ClassVar[str | None] = "task"
    within: Duration | None = Field(None, description="how long to wait for it (device time)")
    count: Count | None = Field(None, description='how many matches: 1, "0", ">= 3" (default ">= 1")')
    never: bool = Field(False, description="no match may appear during `within`")
    in_order: list[Match] | None = Field(None, description="these matches, in this order")
    latency: Latency | None = Field(None, description='enqueued → succeeded, e.g. "<= 30s"')
    success_rate: Rate | None = Field(None, description='share of `task` tasks that succeeded, e.g. ">= 95%"')
    fail_fast_on: list[LogMatch] | None = Field(None, description="records that fail the step at once")

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.split()
            if len(parts) == 2:
                return {"task": parts[0], "state": parts[1]}
        raise ValueError(
            f"not a compact expectation: {value!r}; write 'TASK STATE' "
            "(e.g. periodic-sync succeeded) or a mapping"
        )

    @classmethod
    def compact_schema(cls, properties: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "string", "description": "TASK STATE, e.g. periodic-sync succeeded"}

    @model_validator(mode="after")
    def _coherent(self) -> Expect:
        """Every field acts, or the combination is refused here: one kind of check per expect."""
        if not (self.is_event or self.is_log or self.in_order):
            raise ValueError(
                "expect needs something to match: task + state, a log field (tag, message, …) or in_order"
            )
        kinds = [
            name
            for name, on in (
                ("in_order", self.in_order is not None),
                ("latency", self.latency is not None),
                ("success_rate", self.success_rate is not None),
                ("count", self.count is not None),
                ("never", self.never),
            )
            if on
        ]
        if len(kinds) > 1:
            if kinds == ["count", "never"]:
                raise ValueError("never: true already means count 0; remove one of them")
            raise ValueError(
                f"one expect checks one thing, this one asks for {' and '.join(kinds)}; "
                "write one expect per check"
            )
        if self.in_order is not None and (self.is_event or self.is_log):
            raise ValueError(
                "in_order lists what it matches itself; move task/state or the log fields into its entries"
            )
        if (self.latency or self.success_rate) and self.task is None:
            raise ValueError("latency and success_rate need the task (or task glob) they measure")
        if self.success_rate is not None and self.state not in (None, "succeeded"):
            raise ValueError(
                f"success_rate is the share of tasks that succeeded; state: {self.state} cannot change "
                "that (remove it, or write state: succeeded)"
            )
        if self.latency is not None and self.state in ("enqueued",):
            raise ValueError(
                "latency runs from enqueued to state (default succeeded); state: enqueued measures nothing"
            )
        if self.task is not None and self.state is None and not (self.latency or self.success_rate):
            raise ValueError(f"task {self.task!r}: say which state to look for, e.g. {self.task} succeeded")
        if self.never and self.within is None:
            raise ValueError("never: true needs a window: add within: <duration>")
        certain = self.count.certain() if self.count is not None else None
        if certain is not None:  # `>= 0` is the typo of `>= 1` that passes on an empty log
            raise ValueError(
                f"count {self.count} {'holds whatever the log shows' if certain else 'can never hold'}: "
                f"this expect would always {'pass' if certain else 'fail'}; write \">= 1\" for at least "
                'once, or "0" for never'
            )
        return self

    @property
    def match(self) -> Match | None:
        """The task event or log record this expect counts (``None`` for ``in_order``)."""
        if not (self.is_event or self.is_log):
            return None
        return Match.model_construct(**{name: getattr(self, name) for name in Match.model_fields})

    @property
    def latency_states(self) -> tuple[str, str]:
        """``latency`` runs from ``enqueued`` to ``state`` (default ``succeeded``)."""
        return ("enqueued", self.state or "succeeded")

    def describe(self) -> str:
        """One human line for the console, JUnit and HTML (``expect sync succeeded, within 2h``)."""
        return "expect " + describe_expectation(
            self.match,
            count=self.count,
            never=self.never,
            in_order=self.in_order or (),
            latency=self.latency,
            latency_states=self.latency_states,
            success_rate=self.success_rate,
            fail_fast_on=self.fail_fast_on or (),
            within_ms=self.within,
        )


class Wait(StepBase):
    kind: ClassVar[str] = "wait"
    primary: ClassVar[str | None] = "duration"
    duration: Duration | None = Field(None, description="device time to let pass")
    until: Expect | None = Field(None, description="an expectation; the wait ends when it holds")
    timeout: Duration | None = Field(None, description="longest wait for until: (default: the scenario's)")

    @classmethod
    def _normalize(cls, params: Any) -> Any:
        if isinstance(params, dict) and isinstance(params.get("until"), str):  # until: sync succeeded
            params = dict(params)
            params["until"] = {"expect": params["until"]}
        return params

    @model_validator(mode="after")
    def _one(self) -> Wait:
        if (self.duration is None) == (self.until is None):
            raise ValueError("wait needs either a duration (wait: 2h) or until: <expectation>, not both")
        if self.timeout is not None and self.until is None:
            raise ValueError("timeout applies to wait until:; for a plain wait write the duration")
        if self.until is not None and self.until.within is not None:
            raise ValueError(
                "a wait's window is its timeout: write wait: {until: …, timeout: 1h}, not within"
            )
        if self.until is not None and self.until.label is not None:
            raise ValueError("label names the wait step: put it next to until:, not inside it")
        return self

    def describe(self) -> str:
        """One human line: ``wait: 2h`` or ``wait until sync succeeded (at most 1h)``."""
        if self.duration is not None:
            return f"wait: {format_duration_ms(self.duration)}"
        assert self.until is not None
        text = self.until.describe().removeprefix("expect ")
        limit = f" (at most {format_duration_ms(self.timeout)})" if self.timeout else ""
        return f"wait until {text}{limit}"


# --------------------------------------------------------------------------- actions


class WaitAction(Action[Wait]):
    model: ClassVar = Wait
    summary = "let device time pass (`2h`) or wait `until:` an expectation holds"
    example = "wait: 2h"
    android = "virtual device: `cmd bgtest clock advance`; phone: real time"
    ios = "virtual iPhone: `simctl bgtest clock advance`; real: real time"
    marks_start = False

    def describe(self, step: Wait) -> str:
        if step.until is not None and not step.label:
            return step.describe()  # "wait until sync succeeded (at most 1h)"
        return super().describe(step)

    def run(self, step: Wait, ctx: RunContext, device: Any) -> None:
        if step.duration is not None:
            ctx.let_time_pass(step.duration, f"wait {format_duration_ms(step.duration)}")
            return
        assert step.until is not None  # the model requires one of the two
        timeout = step.timeout or ctx.scenario_timeout_ms or DEFAULT_UNTIL_MS
        # The same window an `expect` here would have (opened by the last action), kept open
        # until `timeout` after the wait began: an event the action caused before the wait
        # started ends the wait at once instead of being missed.
        begun = ctx.barrier("wait until")
        ctx.evaluate(step.until, ctx.anchor_ns, begun + timeout * NS, what=step.describe())


class ExpectAction(Action[Expect]):
    model: ClassVar = Expect
    summary = "assert on task events or raw log records"
    example = "expect: {task: sync, state: succeeded}"
    android = "logcat (all buffers)"
    ios = "unified log (+ app stdout)"
    marks_start = False

    def describe(self, step: Expect) -> str:
        return str(step.label) if step.label else step.describe()

    def run(self, step: Expect, ctx: RunContext, device: Any) -> None:
        now = ctx.barrier(step.describe())
        anchor = ctx.anchor_ns
        end = anchor + step.within * NS if step.within is not None else None
        ctx.evaluate(step, anchor, end, what=step.describe(), closes_at=now)
