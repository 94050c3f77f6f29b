"""The steps that judge rather than act: ``expect`` over the journal and ``wait`` (for device
time, or until an expectation holds). They set their own window anchors, so no start barrier."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.actions.base import Action, RunContext
from harness.durations import format_duration_ms
from harness.scenario import models as m

#: ``wait: {until: …}`` without a timeout and a scenario without one: at most this long.
DEFAULT_UNTIL_MS = 6 * 3_600_000
NS = 1_000_000


class Wait(Action[m.Wait]):
    model: ClassVar = m.Wait
    summary = "let device time pass (`2h`) or wait `until:` an expectation holds"
    example = "wait: 2h"
    android = "virtual device: `cmd bgtest clock advance`; phone: real time"
    ios = "virtual iPhone: `simctl bgtest clock advance`; real: real time"
    marks_start = False

    def describe(self, step: m.Wait) -> str:
        if step.until is not None and not step.label:
            return step.describe()  # "wait until sync succeeded (at most 1h)"
        return super().describe(step)

    def run(self, step: m.Wait, ctx: RunContext, device: Any) -> None:
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


class Expect(Action[m.Expect]):
    model: ClassVar = m.Expect
    summary = "assert on task events or raw log records"
    example = "expect: {task: sync, state: succeeded}"
    android = "logcat (all buffers)"
    ios = "unified log (+ app stdout)"
    marks_start = False

    def describe(self, step: m.Expect) -> str:
        return str(step.label) if step.label else step.describe()

    def run(self, step: m.Expect, ctx: RunContext, device: Any) -> None:
        now = ctx.barrier(step.describe())
        anchor = ctx.anchor_ns
        end = anchor + step.within * NS if step.within is not None else None
        ctx.evaluate(step, anchor, end, what=step.describe(), closes_at=now)
