"""The expectation engine: judge what a scenario expects against the device's own log, as the
records arrive, in device time.

A spec (`Expectation`) is made of the scenario language's own values — `Match`, `Comparison`,
`TaskPattern` from `harness.scenario.values` — so the YAML runner and Python callers build the
same thing and nothing is parsed twice. Each live expectation becomes a `Check` that is
*pending* until it can decide: a count of ">= 1" passes the moment the event shows up; "0",
"== 1", "<= n" can only pass once the window has closed (device time reached the deadline),
but fail the moment they are exceeded; a latency "<= 30s" fails as soon as its budget has run
out without the end event.

Task names are patterns: a plain name or a glob (`api-*`). An event belongs to a pattern when
any name the logs gave it (task id, unique work name, tags, linked names, WorkSpec UUID)
equals the name or matches the glob -- in every kind of check alike.

Cheap with many live checks: a record's task events are computed once (the vocabulary does a
dict lookup on the tag before any regex), then handed only to checks indexed by task name
(glob checks see every event); raw matches are indexed by tag / subsystem / process and run
their regex only on those records. `interest()` tells the journal which tags it must
materialise at all.

Device time advances with the records (they arrive in time order) and with `advance_to(now)`,
which the runner calls when it knows the journal has caught up with the device clock (after a
`wait`, after its journal barrier); only then can a window close without a record past it.
"""

from __future__ import annotations

import heapq
import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.durations import format_duration_ms
from harness.scenario.values import Comparison, Match, TaskPattern, describe_expectation, level_rank

from .logcat_parser import Interest
from .record import NO_SEQ, LogRecord, canonical_level
from .vocab import STATES, TaskEvent, VocabState

PENDING, PASSED, FAILED = "pending", "passed", "failed"
_MS = 1_000_000

__all__ = [
    "FAILED", "PASSED", "PENDING", "Check", "Comparison", "Expectation", "ExpectationEngine",
    "ExpectationError", "Match", "TaskPattern", "required_literal",
]


class ExpectationError(ValueError):
    """A spec the engine cannot evaluate (bad count, unknown state …); the text says how to fix it."""


# --------------------------------------------------------------------------------------------
# specs
# --------------------------------------------------------------------------------------------
def _coerce(value: object, parse: Callable[[object], Comparison], what: str) -> Comparison | None:
    """Python callers may write ``count=">= 3"``: the scenario language's own parser reads it."""
    if value is None or isinstance(value, Comparison):
        return value
    try:
        return parse(value)
    except ValueError as exc:
        raise ExpectationError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class Expectation:
    """One `expect:` (or `wait: until:`): what to match and which check to make of it.

    `count`, `latency` (milliseconds) and `success_rate` are `Comparison` s (a string is read
    by the scenario language's parser); `tasks` are the patterns `success_rate` measures
    (default: the match's task). `text` is how the scenario describes it (quoted in failure
    messages); `where` is `file:line`.
    """

    match: Match | None = None
    within_ns: int | None = None
    count: Comparison | None = None
    never: bool = False
    in_order: tuple[Match, ...] = ()
    latency: Comparison | None = None
    latency_from: str = "enqueued"
    latency_to: str = "succeeded"
    success_rate: Comparison | None = None
    tasks: tuple[str, ...] = ()
    fail_fast_on: tuple[Match, ...] = ()
    text: str = ""
    where: str = ""

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "count", _coerce(self.count, Comparison.count, "count"))
        setattr_(self, "latency", _coerce(self.latency, Comparison.latency, "latency"))
        setattr_(self, "success_rate", _coerce(self.success_rate, Comparison.rate, "success_rate"))
        if not self.tasks and self.success_rate is not None and self.match is not None and self.match.task:
            setattr_(self, "tasks", (self.match.task,))
        for m in (self.match, *self.in_order, *self.fail_fast_on):
            if m is None:
                continue
            if m.state is not None and m.state not in STATES:
                raise ExpectationError(f"state {m.state!r}: use one of {', '.join(STATES)}")
            if not m.is_event and not m.is_log:
                raise ExpectationError("an empty match would match every record: give a task + state "
                                       "or a log field (tag, subsystem, category, level, message, process)")
        for m in self.fail_fast_on:
            if m.is_event:
                raise ExpectationError(f"fail_fast_on matches log records, not task events ({m})")

    def describe(self) -> str:
        if self.text:
            return self.text
        return describe_expectation(
            self.match,
            count=self.count,
            never=self.never,
            in_order=self.in_order,
            latency=self.latency,
            latency_states=(self.latency_from, self.latency_to),
            success_rate=self.success_rate,
            tasks=self.tasks,
            fail_fast_on=self.fail_fast_on,
            within_ms=self.within_ns // _MS if self.within_ns is not None else None,
        )


# --------------------------------------------------------------------------------------------
# compiled matchers
# --------------------------------------------------------------------------------------------
_RANKS: dict[str, int] = {}


def _rank(level: str) -> int:
    """Rank of a record's level as printed (``E``, ``Error``, ``Fault``), cached per spelling."""
    rank = _RANKS.get(level)
    if rank is None:
        rank = _RANKS[level] = level_rank(canonical_level(level))
    return rank


class _Raw:
    """A raw match compiled once; `key` decides which index it lives in."""

    __slots__ = ("category", "check", "match", "message", "min_rank", "process", "subsystem", "tag")

    def __init__(self, match: Match, check: Check) -> None:
        self.match = match
        self.check = check
        self.tag = match.tag
        self.subsystem = match.subsystem
        self.category = match.category
        self.process = match.process
        # `level:` is the lowest level that matches (W also matches E and F)
        self.min_rank = level_rank(canonical_level(match.level)) if match.level else None
        self.message = re.compile(match.message) if match.message is not None else None

    def rest_matches(self, rec: LogRecord) -> bool:
        """Everything but the indexed key (already equal when we get here)."""
        if self.tag is not None and rec.tag != self.tag:
            return False
        if self.subsystem is not None and rec.subsystem != self.subsystem:
            return False
        if self.category is not None and rec.category != self.category:
            return False
        if self.process is not None and rec.process != self.process:
            return False
        if self.min_rank is not None and _rank(rec.level) < self.min_rank:
            return False
        return self.message is None or self.message.search(rec.message) is not None


def _event_names(ev: TaskEvent) -> list[str]:
    """Every name of an event, the task's own first, then the others sorted (stable rows)."""
    rest = sorted(n for n in ev.names if n != ev.task)
    return [ev.task, *rest, *((ev.uuid,) if ev.uuid and ev.uuid not in ev.names else ())]


def name_for(pattern: TaskPattern, ev: TaskEvent) -> str | None:
    """The name under which `ev` belongs to `pattern` (None: it does not)."""
    if not pattern.is_glob:
        return pattern.text if ev.is_for(pattern.text) else None
    return pattern.name_in(_event_names(ev))


def required_literal(pattern: str) -> str | None:
    """A literal every match of `pattern` must contain (>= 3 chars), for the journal's scan.

    Only top-level literal runs count, and none when the pattern has inline flags or a
    top-level alternation -- then we cannot say, and the journal parses every line.
    """
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        import sre_parse  # type: ignore[no-redef]
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    best, run = "", []
    for op, arg in list(parsed):
        if str(op) == "LITERAL":
            run.append(chr(arg))
            continue
        if str(op) == "BRANCH":
            return None
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []
    if len("".join(run)) > len(best):
        best = "".join(run)
    return best if len(best) >= 3 else None



# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
class Check:
    """A live expectation. The engine calls `on_event` / `on_raw` / `on_near` / `on_time`.

    Its window is ``[anchor, anchor + within)`` in device time; without `within` it stays open
    until the runner closes it (`close`), and `window_end_ns` is then when that happened. A
    record logged at the anchor's very millisecond but before the step's marker (``anchor_seq``,
    its place in the stream) is not in it: on a virtual device whose clock moves only when asked,
    a launch, a force-stop and the expect after them all happen at one device millisecond.
    """

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        self.exp = exp
        self.anchor_ns = anchor_ns
        self.anchor_seq: int | None = None
        self.deadline_ns = anchor_ns + exp.within_ns if exp.within_ns is not None else None
        self.engine = engine
        self.status = PENDING
        self.reason = ""
        self.decided_ns: int | None = None
        self.closed_ns: int | None = None
        self.near: deque[LogRecord] = deque(maxlen=5)
        self.raws: list[_Raw] = [_Raw(m, self) for m in self._raw_matches()]
        self.fail_fast: list[_Raw] = [_Raw(m, self) for m in exp.fail_fast_on]
        self.fail_record: LogRecord | None = None

    # what to index
    def _raw_matches(self) -> list[Match]:
        return []

    def patterns(self) -> list[TaskPattern]:
        """The task patterns whose events this check wants."""
        return []

    def tasks(self) -> Iterable[str] | None:
        """Task names to index this check under; None = every task event (a glob is among them)."""
        pats = self.patterns()
        if any(p.is_glob for p in pats):
            return None
        return [p.text for p in pats]

    # helpers
    def in_window(self, t: int) -> bool:
        return t >= self.anchor_ns and (self.deadline_ns is None or t < self.deadline_ns)

    def before_anchor(self, rec: LogRecord) -> bool:
        """Logged in the anchor's millisecond, but before the marker that opened the window (an
        iOS app's stdout line carries no time of its own: bgtest stamps it a few ns apart)."""
        return (self.anchor_seq is not None and rec.time_ns // 1_000_000 == self.anchor_ns // 1_000_000
                and NO_SEQ < rec.seq < self.anchor_seq)

    @property
    def window_end_ns(self) -> int | None:
        """Where the window closes: anchor + within, or when it was closed; None while open."""
        return self.deadline_ns if self.deadline_ns is not None else self.closed_ns

    def _decide(self, status: str, reason: str, now: int) -> None:
        if self.status == PENDING:
            self.status, self.reason, self.decided_ns = status, reason, now

    def on_fail_fast(self, rec: LogRecord, raw: _Raw) -> None:
        if self.status == PENDING and self.in_window(rec.time_ns):
            self.fail_record = rec
            self._decide(FAILED, f"fail-fast pattern {raw.match} matched", rec.time_ns)

    def on_event(self, ev: TaskEvent) -> None:  # pragma: no cover - overridden
        pass

    def on_raw(self, rec: LogRecord, raw: _Raw) -> None:  # pragma: no cover - overridden
        pass

    def on_near(self, rec: LogRecord) -> None:
        if self.in_window(rec.time_ns) or rec.time_ns < self.anchor_ns:
            self.near.append(rec)

    def on_time(self, now: int) -> None:
        """Device time reached `now` (all records before it have been fed)."""
        if self.status == PENDING and self.deadline_ns is not None and now >= self.deadline_ns:
            self.close(now)

    def close(self, now: int) -> None:
        """The window is over (or the scenario): decide what is still open."""
        if self.closed_ns is None:
            self.closed_ns = now
        if self.status == PENDING:
            self._judge(now)

    def _judge(self, now: int) -> None:
        raise NotImplementedError

    # reporting
    def observed(self) -> list[str]:
        """Lines about what was seen, for the failure message."""
        return []

    def window_text(self) -> str:
        """``+41m → +51m (10m); device clock 2026-01-05 10:12:00.000 → …`` (offsets from the
        scenario's start when the engine knows it)."""
        start, end = self.anchor_ns, self.window_end_ns
        text = f"{_ts(start)} → {_ts(end) if end is not None else 'still open'}"
        if self.engine.origin_ns is not None:
            rel = self.engine.rel
            text = f"{rel(start)} → {rel(end) if end is not None else 'still open'}"
        if end is not None:
            text += f" ({_dur(end - start)})"
        if self.exp.within_ns is None and end is not None:
            text += ", no within: only what had happened by then"
        if self.engine.origin_ns is not None:
            text += f"; device clock {_ts(start)} → {_ts(end) if end is not None else '…'}"
        return text

    def failure_message(self, device_state: Mapping[str, object] | str | None = None,
                        network: Sequence[str] = ()) -> str:
        """The step's failure: what was expected, the window, what was seen, what the network
        did to the requests (``network``: the proxy's own words, when a scenario used it) and
        the device's state."""
        exp = self.exp
        lines = [f"expected: {exp.describe()}" + (f"  ({exp.where})" if exp.where else "")]
        lines.append(f"  window (device time): {self.window_text()}")
        lines.append(f"  result: {self.status}: {self.reason or 'not decided yet'}")
        if self.fail_record is not None:
            lines.append("  fail-fast record:")
            text = self.fail_record.raw or self.fail_record.message
            lines += ["    " + part for part in text.split("\n")[:12]]
        lines += ["  " + line for line in self.observed()]
        if self.near:
            lines.append("  closest records:")
            lines += [f"    {r.short()}" for r in self.near]
        if network:
            lines.append("  what the network did (bgtest's proxy):")
            lines += ["    " + line for line in network]
        if device_state:
            lines.append("  device state:")
            if isinstance(device_state, str):
                lines += ["    " + s for s in device_state.splitlines()]
            else:
                lines += [f"    {k}: {v}" for k, v in device_state.items()]
        return "\n".join(lines)

    def _task_history(self, pattern: TaskPattern | str, label: str | None = None) -> list[str]:
        pattern = pattern if isinstance(pattern, TaskPattern) else TaskPattern(pattern)
        if pattern.is_glob:
            names = self.engine.task_names_matching(pattern)
            if not names:
                seen = self.engine.task_names()
                shown = ", ".join(seen[:12]) + (" …" if len(seen) > 12 else "")
                return [f"no task in the log matches {pattern}"
                        + (f"; the log names: {shown}" if seen else "; the log has no task events at all")]
            out = [f"tasks matching {pattern} ({len(names)}): " + ", ".join(names[:12])
                   + (" …" if len(names) > 12 else "")]
            for name in names[:3]:
                out += self._task_history(TaskPattern(name))
            return out
        task = pattern.text
        evs = self.engine.task_history(task)
        if not evs:
            refused = self.engine.vocab.refused.get(task) if self.engine.vocab is not None else None
            if refused is not None:  # the app asked and the framework said no (the Simulator: Code=1)
                return [f"{label or 'task ' + task}: its request was refused, so it was never pending: "
                        f"{self.engine.rel(refused.time_ns)} {refused.short()}"]
            seen = self.engine.task_names()
            unnamed = self.engine.unnamed_summary()
            if not seen and not unnamed:
                return [f"{label or 'task ' + task}: no events at all in the log"]
            shown = ", ".join(seen[:12]) + (" …" if len(seen) > 12 else "")
            return [f"{label or 'task ' + task}: no event names it"
                    + (f"; the log names: {shown}" if seen else ""), *unnamed]
        out = [f"{label or 'last events of ' + task}:"]
        for ev in evs[-6:]:
            marker = "" if self.in_window(ev.time_ns) and not self.before_anchor(ev.record) else \
                "  (outside window)"
            out.append(f"  {self.engine.rel(ev.time_ns)} {ev.state:<9} {ev.record.short()}{marker}")
        return out


class OccursCheck(Check):
    """`within`, `count`, `never` for one event (a task name or glob) or raw match."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        assert exp.match is not None
        self.match = exp.match
        if self.match.task is not None and self.match.state is None:
            raise ExpectationError(f"task {self.match.task!r}: say which state: {', '.join(STATES)}")
        self.pattern = self.match.pattern
        self.count = Comparison("==", 0) if exp.never else (exp.count or Comparison(">=", 1))
        self.hits: list[tuple[int, LogRecord]] = []
        self.names: dict[str, int] = {}  # which tasks the hits belong to (a glob's members)
        super().__init__(exp, anchor_ns, engine)

    def _raw_matches(self) -> list[Match]:
        return [] if self.match.is_event else [self.match]

    def patterns(self) -> list[TaskPattern]:
        return [self.pattern] if self.pattern is not None else []

    def _hit(self, t: int, rec: LogRecord) -> None:
        if self.status != PENDING or not self.in_window(t):
            return
        self.hits.append((t, rec))
        k = len(self.hits)
        if self.count.passes_early(k):
            self._decide(PASSED, f"seen {k} time(s)", t)
        elif self.count.fails_early(k):
            # decided at this hit: later ones in the window are not counted, so the number is
            # what was seen by then, not the window's total (`exactly 1` after three runs)
            self._decide(FAILED, self._seen(k, stopped=t), t)

    def _seen(self, k: int, stopped: int | None = None) -> str:
        text = f"seen {k} time(s), expected {self.count.describe()}"
        if stopped is not None:
            text = (f"seen {k} time(s) by {self.engine.rel(stopped)}, expected {self.count.describe()}; "
                    "counting stopped there (more could not change the verdict)")
        if self.pattern is not None and self.pattern.is_glob and self.names:
            shown = ", ".join(f"{n} ×{c}" for n, c in list(self.names.items())[:8])
            more = f" and {len(self.names) - 8} more" if len(self.names) > 8 else ""
            text += f" (from {len(self.names)} task(s) matching {self.pattern}: {shown}{more})"
        return text

    def on_event(self, ev: TaskEvent) -> None:
        if ev.state != self.match.state or self.pattern is None:
            return
        name = name_for(self.pattern, ev)
        if name is not None and self.status == PENDING and self.in_window(ev.time_ns):
            self.names[name] = self.names.get(name, 0) + 1
            self._hit(ev.time_ns, ev.record)

    def on_raw(self, rec: LogRecord, raw: _Raw) -> None:
        self._hit(rec.time_ns, rec)

    def _judge(self, now: int) -> None:
        k = len(self.hits)
        if self.count.ok(k):
            self._decide(PASSED, f"seen {k} time(s)", now)
        else:
            self._decide(FAILED, self._seen(k), now)

    def observed(self) -> list[str]:
        out: list[str] = []
        if self.hits:
            out.append(f"matching records ({len(self.hits)}):")
            out += [f"  {self.engine.rel(t)} {r.short()}" for t, r in self.hits[:5]]
        if self.pattern is not None:
            out += self._task_history(self.pattern)
        return out


class InOrderCheck(Check):
    """`in_order`: each match after the previous one, in the window (tasks may be globs)."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        self.steps = list(exp.in_order)
        for step in self.steps:
            if step.task is not None and step.state is None:
                raise ExpectationError(f"in_order: task {step.task!r} needs a state: {', '.join(STATES)}")
        self.pos = 0
        self.seen: list[tuple[int, LogRecord]] = []
        super().__init__(exp, anchor_ns, engine)

    def _raw_matches(self) -> list[Match]:
        # one matcher per distinct match: a repeated step must not be satisfied twice by one record
        out: list[Match] = []
        for m in self.steps:
            if not m.is_event and m not in out:
                out.append(m)
        return out

    def patterns(self) -> list[TaskPattern]:
        return [p for m in self.steps if (p := m.pattern) is not None]

    def _advance(self, t: int, rec: LogRecord) -> None:
        self.seen.append((t, rec))
        self.pos += 1
        if self.pos == len(self.steps):
            self._decide(PASSED, "all steps seen in order", t)

    def on_event(self, ev: TaskEvent) -> None:
        if self.status != PENDING or not self.in_window(ev.time_ns):
            return
        step = self.steps[self.pos]
        pattern = step.pattern
        if pattern is not None and step.state == ev.state and name_for(pattern, ev) is not None:
            self._advance(ev.time_ns, ev.record)

    def on_raw(self, rec: LogRecord, raw: _Raw) -> None:
        if self.status != PENDING or not self.in_window(rec.time_ns):
            return
        if self.steps[self.pos] == raw.match:
            self._advance(rec.time_ns, rec)

    def _judge(self, now: int) -> None:
        self._decide(FAILED, f"stopped after step {self.pos} of {len(self.steps)}: "
                             f"never saw {self.steps[self.pos]} after that", now)

    def observed(self) -> list[str]:
        out = [f"steps seen in order ({self.pos}/{len(self.steps)}):"]
        out += [f"  {i + 1}. {self.steps[i]} at {self.engine.rel(t)}: {r.short()}"
                for i, (t, r) in enumerate(self.seen)]
        if self.pos < len(self.steps) and (pattern := self.steps[self.pos].pattern) is not None:
            out += self._task_history(pattern)
        return out


class LatencyCheck(Check):
    """`latency`: per task, from its first `latency_from` event in the window to the next
    `latency_to`, held against the comparison (``<= 30s``, ``>= 1m`` …).

    A plain task name is one measurement and can pass early; a glob measures every task it
    covers that started in the window, so it passes when the window closes with all of them
    measured and within the bound, and fails at the first one out of bounds.
    """

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        assert exp.match is not None and exp.match.task and exp.latency is not None
        for s in (exp.latency_from, exp.latency_to):
            if s not in STATES:
                raise ExpectationError(f"latency: unknown state {s!r}; use one of {', '.join(STATES)}")
        self.pattern = TaskPattern(exp.match.task)
        self.bound = exp.latency
        self.starts: dict[str, TaskEvent] = {}
        self.took: dict[str, int] = {}
        super().__init__(exp, anchor_ns, engine)

    def patterns(self) -> list[TaskPattern]:
        return [self.pattern]

    def _span(self, name: str, took_ns: int) -> str:
        who = f"{name}: " if self.pattern.is_glob else ""
        return f"{who}{self.exp.latency_from} → {self.exp.latency_to} took {_dur(took_ns)}"

    def on_event(self, ev: TaskEvent) -> None:
        if self.status != PENDING or not self.in_window(ev.time_ns):
            return
        name = name_for(self.pattern, ev)
        if name is None or name in self.took:
            return
        start = self.starts.get(name)
        if start is None:
            if ev.state == self.exp.latency_from:
                self.starts[name] = ev
                if self.bound.op in ("<=", "<", "=="):
                    self.engine._reschedule(self, ev.time_ns + int(self.bound.value) * _MS)
            return
        if ev.state != self.exp.latency_to or ev.time_ns < start.time_ns:
            return
        took = ev.time_ns - start.time_ns
        self.took[name] = took
        if not self.bound.ok(took / _MS):
            self._decide(FAILED, f"{self._span(name, took)}, wanted {self.bound.describe()}", ev.time_ns)
        elif not self.pattern.is_glob:
            self._decide(PASSED, self._span(name, took), ev.time_ns)

    def on_time(self, now: int) -> None:
        if self.status == PENDING:
            for name, start in self.starts.items():
                if name not in self.took and self.bound.fails_early((now - start.time_ns) / _MS):
                    budget = _dur(int(self.bound.value) * _MS)
                    self._decide(FAILED, f"{name}: no {self.exp.latency_to} within {budget} of "
                                         f"{self.exp.latency_from} at {self.engine.rel(start.time_ns)}", now)
                    return
        super().on_time(now)

    def _judge(self, now: int) -> None:
        if not self.starts:
            what = f"no task matching {self.pattern}" if self.pattern.is_glob else f"task {self.pattern}"
            self._decide(FAILED, f"{what} was never {self.exp.latency_from} in the window", now)
            return
        open_ = [n for n in self.starts if n not in self.took]
        if open_:
            start = self.starts[open_[0]]
            more = f" (and {len(open_) - 1} more)" if len(open_) > 1 else ""
            self._decide(FAILED, f"{open_[0]}: no {self.exp.latency_to} after {self.exp.latency_from} "
                                 f"at {self.engine.rel(start.time_ns)}{more}", now)
            return
        slowest = max(self.took, key=lambda n: self.took[n])
        span = self._span(slowest, self.took[slowest])
        self._decide(PASSED, f"{len(self.took)} task(s), slowest {span}", now)

    def observed(self) -> list[str]:
        return self._task_history(self.pattern)


class SuccessRateCheck(Check):
    """`success_rate` over `tasks` (names or globs such as ``load-*``). With only plain names
    the denominator is fixed and the check can pass early; with globs the tasks are those
    seen in the window, so it is decided when the window closes."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        if not exp.tasks or exp.success_rate is None:
            raise ExpectationError("success_rate: list the tasks (names or patterns like load-*)")
        self.rate = exp.success_rate
        pats = [TaskPattern(t) for t in exp.tasks]
        self.exact = [p.text for p in pats if not p.is_glob]
        self.globs = [p for p in pats if p.is_glob]
        self.known: dict[str, str] = {t: "" for t in self.exact}  # task -> last state in window
        self.succeeded: set[str] = set()
        self._patterns = pats
        super().__init__(exp, anchor_ns, engine)

    def patterns(self) -> list[TaskPattern]:
        return self._patterns

    def _name(self, ev: TaskEvent) -> str | None:
        for n in _event_names(ev):
            if n in self.known:
                return n
        for g in self.globs:
            name = name_for(g, ev)
            if name is not None:
                return name
        return None

    def on_event(self, ev: TaskEvent) -> None:
        if self.status != PENDING or not self.in_window(ev.time_ns):
            return
        name = self._name(ev)
        if name is None:
            return
        self.known[name] = ev.state
        if ev.state == "succeeded":
            self.succeeded.add(name)
            if not self.globs and self.rate.passes_early(self._ratio()):
                self._decide(PASSED, self._summary(), ev.time_ns)

    def _ratio(self) -> float:
        return len(self.succeeded) / len(self.known) if self.known else 0.0

    def _summary(self) -> str:
        return (f"{len(self.succeeded)}/{len(self.known)} tasks succeeded "
                f"({self._ratio() * 100:.1f}%, wanted {self.rate.describe()})")

    def _judge(self, now: int) -> None:
        if not self.known:
            self._decide(FAILED, f"no task matching {', '.join(self.exp.tasks)} was seen", now)
        else:
            self._decide(PASSED if self.rate.ok(self._ratio()) else FAILED, self._summary(), now)

    def observed(self) -> list[str]:
        if not self.known:
            out: list[str] = []
            for p in self._patterns:
                out += self._task_history(p)
            return out
        missing = sorted(t for t in self.known if t not in self.succeeded)
        out = [f"tasks without success ({len(missing)}): " + ", ".join(missing[:20])
               + (" …" if len(missing) > 20 else "")]
        for t in missing[:3]:
            out += self._task_history(t)
        return out


class FailFastOnlyCheck(Check):
    """An expectation made only of `fail_fast_on`: passes when its window closes clean."""

    def _judge(self, now: int) -> None:
        self._decide(PASSED, "no fail-fast pattern matched", now)


def _check_for(exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> Check:
    if exp.in_order:
        return InOrderCheck(exp, anchor_ns, engine)
    if exp.success_rate is not None:
        return SuccessRateCheck(exp, anchor_ns, engine)
    if exp.latency is not None:
        if exp.match is None or not exp.match.is_event:
            raise ExpectationError("latency needs a task (latency: enqueued -> succeeded of that task)")
        return LatencyCheck(exp, anchor_ns, engine)
    if exp.match is not None:
        return OccursCheck(exp, anchor_ns, engine)
    if exp.fail_fast_on:
        return FailFastOnlyCheck(exp, anchor_ns, engine)
    raise ExpectationError("empty expectation: give a task + state, a log match, in_order, "
                           "latency, success_rate or fail_fast_on")


# --------------------------------------------------------------------------------------------
# engine
# --------------------------------------------------------------------------------------------
@dataclass
class _Index:
    by_tag: dict[str, list[_Raw]] = field(default_factory=dict)
    by_subsystem: dict[str, list[_Raw]] = field(default_factory=dict)
    by_process: dict[str, list[_Raw]] = field(default_factory=dict)
    anywhere: list[_Raw] = field(default_factory=list)

    def add(self, raw: _Raw) -> None:
        if raw.tag is not None:
            self.by_tag.setdefault(raw.tag, []).append(raw)
        elif raw.subsystem is not None:
            self.by_subsystem.setdefault(raw.subsystem, []).append(raw)
        elif raw.process is not None:
            self.by_process.setdefault(raw.process, []).append(raw)
        else:
            self.anywhere.append(raw)

    def candidates(self, rec: LogRecord) -> list[_Raw]:
        found = self.by_tag.get(rec.tag, [])
        if rec.subsystem and rec.subsystem in self.by_subsystem:
            found = found + self.by_subsystem[rec.subsystem]
        if rec.process and rec.process in self.by_process:
            found = found + self.by_process[rec.process]
        if self.anywhere:
            found = found + self.anywhere
        return found

    def prune(self) -> None:
        for table in (self.by_tag, self.by_subsystem, self.by_process):
            for key in list(table):
                table[key] = [r for r in table[key] if r.check.status == PENDING]
                if not table[key]:
                    del table[key]
        self.anywhere = [r for r in self.anywhere if r.check.status == PENDING]


def _counted_before(check: Check, ev: TaskEvent) -> bool:
    """A re-emission of an event under new names, that `check` already took under its old ones."""
    return bool(ev.prior) and any(p.name_in(ev.prior) is not None for p in check.patterns())


def _not_for(check: Check, ev: TaskEvent) -> bool:
    """`ev` is not `check`'s to count: taken already, or logged before its window opened."""
    return _counted_before(check, ev) or check.before_anchor(ev.record)


class ExpectationEngine:
    """All live expectations of one device. Feed it every record (in order) with `feed`."""

    def __init__(self, vocab: VocabState | None = None, *, history_per_task: int = 32) -> None:
        self.vocab = vocab
        self.now_ns = 0
        #: device time of the scenario's start, when known: messages then say "+41m" too
        self.origin_ns: int | None = None
        self.checks: list[Check] = []
        self._raw = _Index()
        self._fail_fast = _Index()
        self._by_task: dict[str, list[Check]] = {}
        self._any_task: list[Check] = []
        self._deadlines: list[tuple[int, int, Check]] = []
        self._seq = itertools.count()
        self._history: dict[str, deque[TaskEvent]] = {}
        self._history_len = history_per_task
        self.events: list[TaskEvent] = []
        self._dirty = False
        # work a UUID names that no line tied to a name (issue #9 item 5): checks whose window
        # holds such events wait for the runner to ask WorkManager's diagnostics
        self._awaiting_names: list[Check] = []
        self.diagnostics_asked_ns: int | None = None
        self._asked_about: set[str] = set()
        # called after every `add` (the journal recomputes which tags it must materialise)
        self.on_add: list[Callable[[], None]] = []

    # -- setup ---------------------------------------------------------------------------
    def add(
        self, exp: Expectation, anchor_ns: int, *, history: Iterable[LogRecord] = (),
        anchor_seq: int | None = None,
    ) -> Check:
        """Start evaluating `exp` over device time from `anchor_ns`.

        Task events the engine already saw since the anchor are replayed; raw records from
        before now must be passed as `history` (the journal has them). ``anchor_seq``: the
        stream position of the marker that opened the window (records at ``anchor_ns`` up to it
        came before the step).
        """
        check = _check_for(exp, anchor_ns, self)
        check.anchor_seq = anchor_seq
        self.checks.append(check)
        for raw in check.raws:
            self._raw.add(raw)
        for raw in check.fail_fast:
            self._fail_fast.add(raw)
        tasks = check.tasks()
        if tasks is None:
            self._any_task.append(check)
        else:
            for t in tasks:
                self._by_task.setdefault(t, []).append(check)
        if check.deadline_ns is not None:
            heapq.heappush(self._deadlines, (check.deadline_ns, next(self._seq), check))
        # replay
        for ev in self.events:
            if ev.time_ns >= anchor_ns and not _not_for(check, ev):
                check.on_event(ev)
        for rec in history:
            if rec.time_ns >= anchor_ns and not check.before_anchor(rec):
                self._raw_dispatch(rec, only=check)
        check.on_time(self.now_ns)
        for fn in self.on_add:
            fn()
        return check

    def _reschedule(self, check: Check, at_ns: int) -> None:
        heapq.heappush(self._deadlines, (at_ns + 1, next(self._seq), check))

    def interest(self) -> Interest | None:
        """Tags / literals the journal must materialise; None = every record (a raw match the
        engine cannot pre-filter, e.g. a bare level or a regex without a literal)."""
        tags: set[str] = set(self.vocab.tags) if self.vocab is not None else set()
        literals: list[bytes] = [lit.encode() for lit in (self.vocab.literals if self.vocab else ())]
        for idx in (self._raw, self._fail_fast):
            tags.update(idx.by_tag)
            if idx.by_subsystem or idx.by_process:
                return None
            for raw in idx.anywhere:
                lit = required_literal(raw.match.message) if raw.match.message else None
                if lit is None:
                    return None
                literals.append(lit.encode())
        return Interest(frozenset(tags), tuple(dict.fromkeys(literals)))

    # -- input ---------------------------------------------------------------------------
    def feed(self, rec: LogRecord) -> list[TaskEvent]:
        t = rec.time_ns
        if t > self.now_ns:
            self.now_ns = t
            if self._deadlines and self._deadlines[0][0] <= t:
                self._expire(t)
        events = self.vocab.events(rec) if self.vocab is not None else []
        for ev in events:
            self._event(ev)
        if self._raw.by_tag or self._raw.anywhere or self._raw.by_subsystem or self._raw.by_process:
            self._raw_dispatch(rec)
        if self._fail_fast.by_tag or self._fail_fast.anywhere or self._fail_fast.by_subsystem \
                or self._fail_fast.by_process:
            for raw in self._fail_fast.candidates(rec):
                if raw.check.status == PENDING and not raw.check.before_anchor(rec) and raw.rest_matches(rec):
                    raw.check.on_fail_fast(rec, raw)
                    self._dirty = True
        if self._dirty:
            self._prune()
        return events

    def _event(self, ev: TaskEvent) -> None:
        self.events.append(ev)
        hist = self._history
        for name in ev.names or (ev.task,):
            dq = hist.get(name)
            if dq is None:
                dq = hist[name] = deque(maxlen=self._history_len)
            dq.append(ev)
        by_task = self._by_task
        if by_task:
            notified: set[int] = set()
            for name in ev.names or (ev.task,):
                for check in by_task.get(name, ()):
                    if id(check) not in notified and check.status == PENDING \
                            and not _not_for(check, ev):
                        notified.add(id(check))
                        check.on_event(ev)
                        if check.status != PENDING:
                            self._dirty = True
        for check in self._any_task:
            if check.status == PENDING and not _not_for(check, ev):
                check.on_event(ev)
                if check.status != PENDING:
                    self._dirty = True

    def _raw_dispatch(self, rec: LogRecord, only: Check | None = None) -> None:
        for raw in self._raw.candidates(rec):
            check = raw.check
            if check.status != PENDING or (only is not None and check is not only):
                continue
            if check.before_anchor(rec):
                continue
            if raw.rest_matches(rec):
                check.on_raw(rec, raw)
                if check.status != PENDING:
                    self._dirty = True
            elif raw.tag is not None or raw.subsystem is not None or raw.process is not None:
                check.on_near(rec)  # same source, wrong level or message: worth showing

    def advance_to(self, now_ns: int) -> None:
        """The journal holds every record up to device time `now_ns`: close due windows."""
        if now_ns > self.now_ns:
            self.now_ns = now_ns
        if self.vocab is not None:
            for ev in self.vocab.release_awaiting(self.now_ns):  # no refusal came: it was pending
                self._event(ev)
        self._expire(self.now_ns)
        if self._dirty:
            self._prune()

    def finish(self, now_ns: int | None = None) -> None:
        """The scenario is over: decide every open check (windows without `within` end here)."""
        if now_ns is not None:
            self.advance_to(now_ns)
        self.release_unlinked()
        for check in self.checks:
            if check.status == PENDING:
                check.close(self.now_ns)

    # -- work that no line named yet (WorkManager UUIDs) ---------------------------------------
    def _unnamed_for(self, patterns: list[TaskPattern]) -> dict[str, list[int]]:
        """Work that only its UUID or worker class names, not yet asked about, and not named
        by any of `patterns`: the scenario may mean it by its unique work name."""
        if self.vocab is None or not patterns:
            return {}
        links = self.vocab.links
        return {u: times for u, times in self.vocab.anonymous().items() if u not in self._asked_about
                and not any(p.name_in({u, *links.get(u, ())}) for p in patterns)}

    def _holds_unnamed(self, check: Check) -> bool:
        """Such work has events in this task check's window: the check cannot decide yet."""
        unnamed = self._unnamed_for(check.patterns())
        return any(check.in_window(t) for times in unnamed.values() for t in times) or any(
            check.in_window(rec.time_ns) for evs in (self.vocab.unresolved() if self.vocab else {}).values()
            for _s, rec in evs)

    def wants_diagnostics(self) -> bool:
        """Work was seen that no name a waiting task check uses covers, and WorkManager was not
        asked about it yet: the moment to ask for its diagnostics (they tie WorkSpec UUIDs to
        unique work names and tags). Each such UUID counts once."""
        fresh: set[str] = set()
        for check in self.checks:
            if check.status == PENDING:
                fresh.update(self._unnamed_for(check.patterns()))
        self._asked_about.update(fresh)
        return bool(fresh)

    def release_unlinked(self) -> list[TaskEvent]:
        """Stop waiting for names: held events go out under the worker class a start sequence
        tied them to, else their UUID; checks that waited for them decide."""
        released = self.vocab.release_unlinked() if self.vocab is not None else []
        for ev in released:
            self._event(ev)
        waiting, self._awaiting_names = self._awaiting_names, []
        for check in waiting:
            if check.status == PENDING:
                check.on_time(self.now_ns)
                self._dirty = True
        if self._dirty:
            self._prune()
        return released

    def unnamed_summary(self, limit: int = 3) -> list[str]:
        """What a failure says about work that no line named (instead of "no events at all")."""
        seen = self.vocab.anonymous_events() if self.vocab is not None else {}
        asked = self.diagnostics_asked_ns
        if not seen:
            if asked is None:
                return []
            return [f"  bgtest asked WorkManager for its diagnostics at {self.rel(asked)}; no row named "
                    "this task (is it the unique work name, a tag or the worker class?)"]
        out = [f"{len(seen)} WorkManager work(s) seen that no log line tied to a task name "
               f"(a unique work name is printed only by WorkManager's diagnostics):"]
        for uuid, evs in list(seen.items())[:limit]:
            name = next((t for _s, _t, t in evs if t != uuid), "")
            states = ", ".join(f"{st} {self.rel(t)}" for st, t, _n in evs[:4])
            out.append(f"  {uuid}" + (f" (worker {name})" if name else "") + f": {states}")
        if len(seen) > limit:
            out.append(f"  … and {len(seen) - limit} more")
        out.append(f"  bgtest asked WorkManager for its diagnostics at {self.rel(asked)}; no row named "
                   "this task" if asked is not None else
                   "  WorkManager's diagnostics were not asked for (add a `diagnostics` step; WorkManager "
                   "before 2.4 prints none)")
        out.append("  to match, name the task by its worker class, a tag or the WorkSpec id, or check the "
                   "unique work name")
        return out

    def _expire(self, now: int) -> None:
        dl = self._deadlines
        while dl and dl[0][0] <= now:
            _, _, check = heapq.heappop(dl)
            if check.status == PENDING and self._holds_unnamed(check):
                self._awaiting_names.append(check)  # decided once the held events are named
                continue
            if check.status == PENDING:
                check.on_time(now)
                if check.status != PENDING:
                    self._dirty = True

    def _prune(self) -> None:
        self._dirty = False
        self._raw.prune()
        self._fail_fast.prune()
        for key in list(self._by_task):
            live = [c for c in self._by_task[key] if c.status == PENDING]
            if live:
                self._by_task[key] = live
            else:
                del self._by_task[key]
        self._any_task = [c for c in self._any_task if c.status == PENDING]

    # -- queries -------------------------------------------------------------------------
    def task_history(self, task: str) -> list[TaskEvent]:
        return list(self._history.get(task, ()))

    def task_names(self) -> list[str]:
        """Every task name the log has shown so far (WorkSpec UUIDs left out), sorted."""
        vocab = self.vocab
        if vocab is None:
            return sorted(self._history)
        uuids = set(vocab.uuids())
        return sorted(n for n in self._history if n not in uuids and not vocab.is_full_class_name(n))

    def task_names_matching(self, pattern: TaskPattern) -> list[str]:
        return [n for n in self.task_names() if pattern.covers(n)]

    def rel(self, ns: int | None) -> str:
        """A device time as people read it in a run: ``+41m12s`` from the scenario's start."""
        if ns is None:
            return "-"
        if self.origin_ns is None:
            return _ts(ns)
        delta = ns - self.origin_ns
        return ("+" if delta >= 0 else "-") + _dur(abs(delta), exact=True)

    def pending(self) -> list[Check]:
        return [c for c in self.checks if c.status == PENDING]

    def next_deadline(self) -> int | None:
        """Earliest device time at which a pending check can be decided by time alone."""
        live = [d for d, _, c in self._deadlines if c.status == PENDING]
        return min(live) if live else None


# --------------------------------------------------------------------------------------------
def _ts(ns: int | None) -> str:
    if ns is None:
        return "-"
    secs, rem = divmod(ns, 1_000_000_000)
    t = time.gmtime(secs)
    return time.strftime("%Y-%m-%d %H:%M:%S", t) + f".{rem // 1_000_000:03d}"


def _dur(ns: int, exact: bool = False) -> str:
    ms = ns // 1_000_000
    if exact:
        return format_duration_ms(ms)
    if ms % 86_400_000 == 0 and ms:
        return f"{ms // 86_400_000}d"
    if ms % 3_600_000 == 0 and ms:
        return f"{ms // 3_600_000}h"
    if ms % 60_000 == 0 and ms:
        return f"{ms // 60_000}m"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"
