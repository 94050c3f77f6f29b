"""Expectations in a run: judging ``expect`` / ``wait until`` windows over the journal, the
scenario's own ``fail_fast_on`` guards, and the per-task outcomes for the reports.

The runner mixes :class:`ExpectationSteps` in; what it needs from the runner (``engine``,
``journal``, ``scenario``, ``result``, ``ctx``, ``_barrier``, ``_let_time_pass``,
``_state_summary``) is declared below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from harness.actions.flow import Expect, Wait
from harness.actions.tasks import ExpireTask, RunTask
from harness.devices.base import LogReader
from harness.durations import format_duration_ms
from harness.errors import BgtestError, StepFailed
from harness.logs import expect as ex
from harness.result import ScenarioResult, TaskOutcome, TimelineEvent
from harness.scenario import models as m

NS = 1_000_000
MAX_TIMELINE_EVENTS = 2_000


@dataclass
class _Ctx:
    anchor_ns: int = 0
    #: the stream position of the marker at ``anchor_ns`` (records at that time up to it are
    #: before the window), and of the last barrier's marker
    anchor_seq: int | None = None
    barrier_seq: int | None = None
    scenario_start_ns: int = 0
    #: the device-time window [start, end) the last expectation looked at (end None: open)
    window: tuple[int, int | None] | None = None
    #: device time at which the state restore (finally + guard) began, and how many task
    #: events the engine had by then: later ones are reported apart
    restore_ns: int | None = None
    restore_index: int | None = None


class ExpectationSteps:
    """The expectation half of the runner."""

    engine: ex.ExpectationEngine | None
    journal: LogReader | None
    scenario: m.Scenario
    result: ScenarioResult
    ctx: _Ctx
    _guards: list[ex.Check]

    def _barrier(self, what: str, timeout: float = 30.0) -> int:
        raise NotImplementedError

    def _let_time_pass(
        self, ms: int, what: str, until: Callable[[], bool] | None = None, only_fails_early: bool = False
    ) -> None:
        raise NotImplementedError

    def _state_summary(self) -> str:
        raise NotImplementedError

    def _network_summary(self) -> list[str]:
        """What the fault proxy did to this scenario's requests ([] when it was not used)."""
        raise NotImplementedError

    def _failure(self, check: ex.Check) -> StepFailed:
        return StepFailed(check.failure_message(self._state_summary(), self._network_summary()))

    def _ask_diagnostics(self) -> int | None:
        """Have the app log its work's diagnostics (names for UUIDs); when they are in the journal
        (device time, ns), or None where the platform has none or they failed."""
        raise NotImplementedError

    def _check_budget(self) -> None:
        """The scenario's ``timeout:``: device time since its start may not exceed it."""
        budget = self.scenario.timeout
        if budget is None or self.engine is None:
            return
        spent_ms = (self.engine.now_ns - self.ctx.scenario_start_ns) // NS
        if spent_ms > budget:
            raise StepFailed(
                f"the scenario's timeout ({format_duration_ms(budget)} of device time) is spent: "
                f"this step ended at +{format_duration_ms(spent_ms)}"
            )

    def _mark_restore(self) -> None:
        """Where the scenario's own events end: from here on the device is being restored."""
        assert self.engine is not None and self.journal is not None
        try:
            at = self._barrier("restore")
        except BgtestError:
            at = self.engine.now_ns
        with self.journal.lock:
            self.ctx.restore_ns, self.ctx.restore_index = at, len(self.engine.events)

    def _evaluate(
        self, step: Expect, anchor_ns: int, end_ns: int | None, what: str, closes_at: int | None = None
    ) -> None:
        """Judge ``step`` over the window ``[anchor_ns, end_ns)``; ``end_ns`` None: what already
        happened up to ``closes_at`` (the expect step's own barrier)."""
        assert self.engine is not None and self.journal is not None
        spec = to_engine_expectation(step, (end_ns - anchor_ns) // NS if end_ns is not None else None)
        # fail_fast_on patterns are guards of their own, judged in time order with the records
        # since the anchor: a crash logged before the awaited event still fails the step.
        guards_spec = spec.fail_fast_on
        spec = dataclasses.replace(spec, fail_fast_on=())
        self.ctx.window = (anchor_ns, end_ns)
        seq = self.ctx.anchor_seq if anchor_ns == self.ctx.anchor_ns else None
        with self.journal.lock:
            guards = [
                self.engine.add(
                    ex.Expectation(
                        match=g,
                        never=True,
                        text=f"fail_fast_on {g.describe()}: never ({spec.describe()})",
                        where=spec.where,
                    ),
                    anchor_ns,
                    history=self.journal.records_since(anchor_ns),
                    anchor_seq=seq,
                )
                for g in guards_spec
            ]
            # Task events since the anchor are replayed by the engine itself; raw log matches
            # need the records (replaying them for an event check would count events twice).
            raw = (spec.match is not None and not spec.match.is_event) or any(
                not item.is_event for item in spec.in_order
            )
            history = self.journal.records_since(anchor_ns) if raw else ()
            check = self.engine.add(spec, anchor_ns, history=history, anchor_seq=seq)
            now = self.engine.now_ns
        if end_ns is None:
            # Only what already happened counts: decide now (once unnamed work is named).
            self._name_unlinked(check)
            with self.journal.lock:
                check.close(closes_at if closes_at is not None else now)
                for g in guards:
                    g.close(closes_at if closes_at is not None else now)

        def tripped() -> ex.Check | None:
            return next((g for g in guards if g.status == ex.FAILED), None)

        if end_ns is not None and check.status == ex.PENDING and tripped() is None:
            left_ms = max(0, (end_ns - now) // NS)
            if left_ms:
                self._let_time_pass(
                    left_ms,
                    what,
                    until=lambda: check.status != ex.PENDING or tripped() is not None,
                    only_fails_early=spec.never,  # a `never` decides early only by failing
                )
            self._name_unlinked(check)
            with self.journal.lock:
                if check.status == ex.PENDING and tripped() is None:
                    self.engine.advance_to(max(self.engine.now_ns, end_ns))
                if check.status == ex.PENDING and tripped() is None:
                    check.close(self.engine.now_ns)
        if end_ns is not None and check.status != ex.PENDING and tripped() is None:
            # decided early: the window the step really looked at ends where it decided
            self.ctx.window = (anchor_ns, max(anchor_ns, min(end_ns, check.decided_ns or end_ns)))
        guard = tripped()
        if guard is not None:
            raise self._failure(guard)
        if check.status == ex.FAILED:
            raise self._failure(check)

    def _name_unlinked(self, check: ex.Check) -> None:
        """Before a task check decides: work that only a UUID names (issue #9) -- the engine says
        when to ask WorkManager's diagnostics (they name UUIDs); then it stops waiting."""
        assert self.engine is not None and self.journal is not None
        if check.status != ex.PENDING or not check.patterns():
            return
        with self.journal.lock:
            ask = self.engine.wants_diagnostics()
        if ask:
            asked = self._ask_diagnostics()
            if asked is not None:
                self.engine.diagnostics_asked_ns = asked
        with self.journal.lock:
            self.engine.release_unlinked()

    def _check_scenario_guards(self) -> None:
        """The scenario's own fail_fast_on: any match so far fails the scenario at once."""
        for guard in self._guards:
            if guard.status == ex.FAILED:
                raise self._failure(guard)

    def _fail_fast_only(self, spec: m.LogMatch) -> ex.Expectation:
        return ex.Expectation(match=spec, never=True, text=f"fail_fast_on: {spec.describe()}: never")

    def _collect_tasks(self) -> None:
        """The tasks the scenario names (globs expanded to the tasks they matched) and what the
        logs say happened to them; events from the restore on are kept apart."""
        if self.engine is None:
            return
        named = referenced_tasks(self.scenario)
        patterns = [ex.TaskPattern(name) for name in named]
        absent = absence_expected(self.scenario)
        cut_index, cut_ns = self.ctx.restore_index, self.ctx.restore_ns
        tasks = self.result.tasks
        for i, ev in enumerate(self.engine.events):
            rows = list(dict.fromkeys(
                (name, p.text) for p in patterns if (name := ex.name_for(p, ev)) is not None
            ))
            if not patterns:  # a scenario that names no task: every task the log shows
                rows = [(ev.task, ev.task)]
            late = cut_index is not None and i >= cut_index and ev.time_ns >= (cut_ns or 0)
            # the timeline's lane is the name as the scenario wrote it (a glob is one lane);
            # the run is the task it matched, to pair a start with its end
            run, lane = rows[0] if rows else (ev.task, ev.task)
            timeline = self.result.after_restore_events if late else self.result.events
            if len(timeline) < MAX_TIMELINE_EVENTS:
                timeline.append(TimelineEvent(ev.time_ns // NS, lane, ev.state, run, ev.record.short()))
            seen: set[str] = set()
            for name, pattern in rows:
                if name in seen:
                    continue
                seen.add(name)
                outcome = tasks.get(name)
                if outcome is None:
                    outcome = tasks[name] = TaskOutcome(
                        name, pattern=pattern, absence_expected=pattern in absent
                    )
                if late:
                    outcome.after_restore[ev.state] = outcome.after_restore.get(ev.state, 0) + 1
                    continue
                outcome.counts[ev.state] = outcome.counts.get(ev.state, 0) + 1
                if ev.time_ns // NS >= outcome.last_time_ms:
                    outcome.last_state = ev.state
                    outcome.last_time_ms = ev.time_ns // NS
        # a name or glob that matched nothing: a row when that is news (a failed run) or the point
        for p in patterns:
            if any(o.pattern == p.text for o in tasks.values()):
                continue
            if self.result.status != "passed" or p.text in absent:
                tasks[p.text] = TaskOutcome(p.text, pattern=p.text, absence_expected=p.text in absent)


# --------------------------------------------------------------------------- helpers
def to_engine_expectation(step: Expect, window_ms: int | None) -> ex.Expectation:
    """The YAML model of an expectation as the engine's spec: the same values, no re-parsing."""
    loc = step.location
    latency_from, latency_to = step.latency_states
    return ex.Expectation(
        match=step.match if step.in_order is None else None,
        within_ns=window_ms * NS if window_ms is not None else None,
        count=step.count,
        never=step.never,
        in_order=tuple(step.in_order or ()),
        latency=step.latency,
        latency_from=latency_from,
        latency_to=latency_to,
        success_rate=step.success_rate,
        tasks=(step.task,) if step.success_rate is not None and step.task else (),
        fail_fast_on=tuple(step.fail_fast_on or ()),
        text=step.describe().removeprefix("expect "),
        where=f"{loc.file}:{loc.line}" if loc else "",
    )


def referenced_tasks(scenario: m.Scenario) -> list[str]:
    """Task names and globs a scenario talks about, in the order it first does."""
    names: list[str] = []

    def add(name: str | None) -> None:
        if name and name not in names:
            names.append(name)

    for step in scenario.all_steps():
        for expect in _expectations(step):
            add(expect.task)
            for item in expect.in_order or ():
                add(item.task)
        if isinstance(step, (RunTask, ExpireTask)):
            add(step.task)
    return names


def absence_expected(scenario: m.Scenario) -> set[str]:
    """Names and globs whose every mention expects nothing to happen (never: true / count: 0)."""
    quiet: set[str] = set()
    loud: set[str] = set()
    for step in scenario.all_steps():
        for expect in _expectations(step):
            count = expect.count
            zero = expect.never or (count is not None and count.op == "==" and count.value == 0)
            if expect.task:
                (quiet if zero else loud).add(expect.task)
            for item in expect.in_order or ():
                if item.task:
                    loud.add(item.task)
        if isinstance(step, (RunTask, ExpireTask)):
            loud.add(step.task)
    return quiet - loud


def _expectations(step: object) -> list[Expect]:
    if isinstance(step, Expect):
        return [step]
    if isinstance(step, Wait) and step.until is not None:
        return [step.until]
    return []
