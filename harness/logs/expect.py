"""The expectation engine: judge what a scenario expects against the device's own log, as the
records arrive, in device time.

Specs are plain dataclasses (`Expectation`, `Match`), independent of the scenario language's
pydantic models, so Python tests and the YAML runner build the same thing. Each live
expectation becomes a `Check` that is *pending* until it can decide: a count of ">= 1" passes
the moment the event shows up; "0", "== 1", "<= n" can only pass once the window has closed
(device time reached the deadline), but fail the moment they are exceeded; a latency fails as
soon as the budget has run out without the end event.

Cheap with many live checks: a record's task events are computed once (the vocabulary does a
dict lookup on the tag before any regex), then handed only to checks indexed by task name;
raw matches are indexed by tag / subsystem / process and run their regex only on those
records. `interest()` tells the journal which tags it must materialise at all.

Device time advances with the records (they arrive in time order) and with `advance_to(now)`,
which the runner calls when it knows the journal has caught up with the device clock (after a
`wait`, after its journal barrier); only then can a window close without a record past it.
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .logcat_parser import Interest
from .record import LogRecord, canonical_level
from .vocab import STATES, TaskEvent, VocabState

PENDING, PASSED, FAILED = "pending", "passed", "failed"
_COUNT = re.compile(r"^\s*(>=|<=|==|=|>|<)?\s*(\d+)\s*$")
_RATE = re.compile(r"^\s*(>=|<=|==|=|>|<)?\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")
_OPS = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b, "==": lambda a, b: a == b,
}


class ExpectationError(ValueError):
    """A spec the engine cannot evaluate (bad count, unknown state …); the text says how to fix it."""


# --------------------------------------------------------------------------------------------
# specs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Count:
    """`1` (exactly), `">= 3"`, `"0"`, `"< 2"` …"""

    op: str
    n: int

    @classmethod
    def parse(cls, value: str | int | None) -> Count:
        if value is None:
            return cls(">=", 1)
        if isinstance(value, bool):
            raise ExpectationError(f"count: {value!r} is not a count; write 1, \">= 3\" or \"0\"")
        m = _COUNT.match(str(value))
        if m is None:
            raise ExpectationError(f"count: {value!r} is not a count; write 1, \">= 3\", \"<= 2\" or \"0\"")
        op = m.group(1) or "=="
        return cls("==" if op == "=" else op, int(m.group(2)))

    def ok(self, k: int) -> bool:
        return _OPS[self.op](k, self.n)

    def passes_early(self, k: int) -> bool:
        """Once true, more occurrences cannot make it false."""
        return self.op in (">=", ">") and self.ok(k)

    def fails_early(self, k: int) -> bool:
        """Once true, more occurrences cannot make it true."""
        return (self.op in ("==", "<=") and k > self.n) or (self.op == "<" and k >= self.n)

    def __str__(self) -> str:
        return str(self.n) if self.op == "==" else f"{self.op} {self.n}"


@dataclass(frozen=True)
class Rate:
    op: str
    fraction: float
    text: str

    @classmethod
    def parse(cls, value: str | float) -> Rate:
        m = _RATE.match(str(value))
        if m is None:
            raise ExpectationError(f"success_rate: {value!r} is not a rate; write \">= 95%\"")
        op, num, pct = m.group(1) or ">=", float(m.group(2)), m.group(3)
        frac = num / 100 if pct or num > 1 else num
        return cls("==" if op == "=" else op, frac, str(value).strip())

    def ok(self, ratio: float) -> bool:
        return _OPS[self.op](round(ratio, 9), round(self.fraction, 9))


@dataclass(frozen=True)
class Match:
    """What one record or event must look like: a task event (`task` + `state`) or a raw log
    match (`tag`, `subsystem`, `level`, `message` regex, `process`)."""

    task: str | None = None
    state: str | None = None
    tag: str | None = None
    subsystem: str | None = None
    level: str | None = None
    message: str | None = None
    process: str | None = None

    def __post_init__(self) -> None:
        if self.task is not None:
            if self.state is None:
                raise ExpectationError(f"task {self.task!r}: say which state: {', '.join(STATES)}")
            if self.state not in STATES:
                raise ExpectationError(f"state {self.state!r}: use one of {', '.join(STATES)}")
        elif not any((self.tag, self.subsystem, self.level, self.message, self.process)):
            raise ExpectationError("an expectation needs a task + state or a log match "
                                   "(tag, subsystem, level, message, process)")
        if self.message is not None:
            try:
                re.compile(self.message)
            except re.error as exc:
                raise ExpectationError(f"message: bad regex {self.message!r}: {exc}") from None

    @property
    def is_event(self) -> bool:
        return self.task is not None

    def __str__(self) -> str:
        if self.is_event:
            return f"task {self.task} {self.state}"
        parts = [f"{k}={getattr(self, k)!r}" for k in ("tag", "subsystem", "process", "level", "message")
                 if getattr(self, k) is not None]
        return "log " + " ".join(parts)


@dataclass(frozen=True)
class Expectation:
    """One `expect:` as the scenario language has it. `text` is how the user wrote it (quoted
    in failure messages); `where` is `file:line`."""

    match: Match | None = None
    within_ns: int | None = None
    count: str | int | None = None
    never: bool = False
    in_order: tuple[Match, ...] = ()
    latency_ns: int | None = None
    latency_from: str = "enqueued"
    latency_to: str = "succeeded"
    success_rate: str | None = None
    tasks: tuple[str, ...] = ()
    fail_fast_on: tuple[Match, ...] = ()
    text: str = ""
    where: str = ""

    def describe(self) -> str:
        if self.text:
            return self.text
        bits: list[str] = []
        if self.in_order:
            bits.append("in order: " + " -> ".join(str(m) for m in self.in_order))
        elif self.success_rate is not None:
            bits.append(f"success rate {self.success_rate} of {', '.join(self.tasks) or '?'}")
        elif self.latency_ns is not None and self.match is not None:
            bits.append(f"task {self.match.task}: {self.latency_from} -> {self.latency_to} "
                        f"<= {_dur(self.latency_ns)}")
        elif self.match is not None:
            bits.append(str(self.match))
            if self.never:
                bits.append("never")
            elif self.count is not None:
                bits.append(f"count {Count.parse(self.count)}")
        if self.fail_fast_on:
            bits.append("fail fast on " + " | ".join(str(m) for m in self.fail_fast_on))
        if self.within_ns is not None:
            bits.append(f"within {_dur(self.within_ns)}")
        return ", ".join(bits)


# --------------------------------------------------------------------------------------------
# compiled matchers
# --------------------------------------------------------------------------------------------
class _Raw:
    """A raw match compiled once; `key` decides which index it lives in."""

    __slots__ = ("check", "level", "match", "message", "process", "subsystem", "tag")

    def __init__(self, match: Match, check: Check) -> None:
        self.match = match
        self.check = check
        self.tag = match.tag
        self.subsystem = match.subsystem
        self.process = match.process
        self.level = canonical_level(match.level) if match.level else None
        self.message = re.compile(match.message) if match.message is not None else None

    def rest_matches(self, rec: LogRecord) -> bool:
        """Everything but the indexed key (already equal when we get here)."""
        if self.tag is not None and rec.tag != self.tag:
            return False
        if self.subsystem is not None and rec.subsystem != self.subsystem:
            return False
        if self.process is not None and rec.process != self.process:
            return False
        if self.level is not None and rec.level_name != self.level:
            return False
        return self.message is None or self.message.search(rec.message) is not None


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
    """A live expectation. The engine calls `on_event` / `on_raw` / `on_near` / `on_time`."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        self.exp = exp
        self.anchor_ns = anchor_ns
        self.deadline_ns = anchor_ns + exp.within_ns if exp.within_ns is not None else None
        self.engine = engine
        self.status = PENDING
        self.reason = ""
        self.decided_ns: int | None = None
        self.near: deque[LogRecord] = deque(maxlen=5)
        self.raws: list[_Raw] = [_Raw(m, self) for m in self._raw_matches()]
        self.fail_fast: list[_Raw] = [_Raw(m, self) for m in exp.fail_fast_on]
        self.fail_record: LogRecord | None = None

    # what to index
    def _raw_matches(self) -> list[Match]:
        return []

    def tasks(self) -> Iterable[str] | None:
        """Task names whose events this check wants; None = every task event."""
        return ()

    # helpers
    def in_window(self, t: int) -> bool:
        return t >= self.anchor_ns and (self.deadline_ns is None or t < self.deadline_ns)

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
        raise NotImplementedError

    # reporting
    def observed(self) -> list[str]:
        """Lines about what was seen, for the failure message."""
        return []

    def failure_message(self, device_state: Mapping[str, object] | str | None = None) -> str:
        exp = self.exp
        lines = [f"expected: {exp.describe()}" + (f"  ({exp.where})" if exp.where else "")]
        end = self.deadline_ns
        window = f"{_ts(self.anchor_ns)} -> {_ts(end) if end is not None else 'end of scenario'}"
        if end is not None:
            window += f" ({_dur(end - self.anchor_ns)})"
        lines.append(f"  window (device time): {window}")
        lines.append(f"  result: {self.status}: {self.reason or 'not decided yet'}")
        if self.fail_record is not None:
            lines.append("  fail-fast record:")
            text = self.fail_record.raw or self.fail_record.message
            lines += ["    " + part for part in text.split("\n")[:12]]
        lines += ["  " + line for line in self.observed()]
        if self.near:
            lines.append("  closest records:")
            lines += [f"    {r.short()}" for r in self.near]
        if device_state:
            lines.append("  device state:")
            if isinstance(device_state, str):
                lines += ["    " + s for s in device_state.splitlines()]
            else:
                lines += [f"    {k}: {v}" for k, v in device_state.items()]
        return "\n".join(lines)

    def _task_history(self, task: str, label: str | None = None) -> list[str]:
        evs = self.engine.task_history(task)
        if not evs:
            out = [f"{label or 'task ' + task}: no events at all in the log"]
            unnamed = self.engine.vocab.unresolved() if self.engine.vocab is not None else {}
            if unnamed:
                out.append(f"  ({len(unnamed)} WorkManager work id(s) never linked to a name: "
                           + ", ".join(list(unnamed)[:3]) + ")")
            return out
        out = [f"{label or 'last events of ' + task}:"]
        for ev in evs[-6:]:
            marker = "" if self.in_window(ev.time_ns) else "  (outside window)"
            out.append(f"  {_ts(ev.time_ns)} {ev.state:<9} {ev.record.short()}{marker}")
        return out


class OccursCheck(Check):
    """`within`, `count`, `never` for one event or raw match."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        assert exp.match is not None
        self.match = exp.match
        self.count = Count(op="==", n=0) if exp.never else Count.parse(exp.count)
        self.hits: list[tuple[int, LogRecord]] = []
        super().__init__(exp, anchor_ns, engine)

    def _raw_matches(self) -> list[Match]:
        return [] if self.match.is_event else [self.match]

    def tasks(self) -> Iterable[str] | None:
        return [self.match.task] if self.match.is_event else ()

    def _hit(self, t: int, rec: LogRecord) -> None:
        if self.status != PENDING or not self.in_window(t):
            return
        self.hits.append((t, rec))
        k = len(self.hits)
        if self.count.passes_early(k):
            self._decide(PASSED, f"seen {k} time(s)", t)
        elif self.count.fails_early(k):
            self._decide(FAILED, f"seen {k} time(s), expected count {self.count}", t)

    def on_event(self, ev: TaskEvent) -> None:
        if ev.state == self.match.state and ev.is_for(self.match.task or ""):
            self._hit(ev.time_ns, ev.record)

    def on_raw(self, rec: LogRecord, raw: _Raw) -> None:
        self._hit(rec.time_ns, rec)

    def close(self, now: int) -> None:
        if self.status != PENDING:
            return
        k = len(self.hits)
        if self.count.ok(k):
            self._decide(PASSED, f"seen {k} time(s)", now)
        else:
            self._decide(FAILED, f"seen {k} time(s), expected count {self.count}", now)

    def observed(self) -> list[str]:
        out: list[str] = []
        if self.hits:
            out.append(f"matching records ({len(self.hits)}):")
            out += [f"  {_ts(t)} {r.short()}" for t, r in self.hits[:5]]
        if self.match.is_event:
            out += self._task_history(self.match.task or "")
        return out


class InOrderCheck(Check):
    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        self.steps = list(exp.in_order)
        self.pos = 0
        self.seen: list[tuple[int, LogRecord]] = []
        super().__init__(exp, anchor_ns, engine)

    def _raw_matches(self) -> list[Match]:
        # one matcher per distinct match: a repeated step must not be satisfied twice by one record
        return list(dict.fromkeys(m for m in self.steps if not m.is_event))

    def tasks(self) -> Iterable[str] | None:
        return {m.task for m in self.steps if m.is_event and m.task}

    def _advance(self, t: int, rec: LogRecord) -> None:
        self.seen.append((t, rec))
        self.pos += 1
        if self.pos == len(self.steps):
            self._decide(PASSED, "all steps seen in order", t)

    def on_event(self, ev: TaskEvent) -> None:
        if self.status != PENDING or not self.in_window(ev.time_ns):
            return
        step = self.steps[self.pos]
        if step.is_event and step.state == ev.state and ev.is_for(step.task or ""):
            self._advance(ev.time_ns, ev.record)

    def on_raw(self, rec: LogRecord, raw: _Raw) -> None:
        if self.status != PENDING or not self.in_window(rec.time_ns):
            return
        if self.steps[self.pos] == raw.match:
            self._advance(rec.time_ns, rec)

    def close(self, now: int) -> None:
        if self.status == PENDING:
            self._decide(FAILED, f"stopped after step {self.pos} of {len(self.steps)}: "
                                 f"never saw {self.steps[self.pos]} after that", now)

    def observed(self) -> list[str]:
        out = [f"steps seen in order ({self.pos}/{len(self.steps)}):"]
        out += [f"  {i + 1}. {self.steps[i]} at {_ts(t)}: {r.short()}" for i, (t, r) in enumerate(self.seen)]
        if self.pos < len(self.steps) and self.steps[self.pos].is_event:
            out += self._task_history(self.steps[self.pos].task or "")
        return out


class LatencyCheck(Check):
    """`latency`: from the first `latency_from` event in the window to the next `latency_to`."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        assert exp.match is not None and exp.match.task and exp.latency_ns is not None
        for s in (exp.latency_from, exp.latency_to):
            if s not in STATES:
                raise ExpectationError(f"latency: unknown state {s!r}; use one of {', '.join(STATES)}")
        self.task = exp.match.task
        self.budget = exp.latency_ns
        self.start: TaskEvent | None = None
        self.end: TaskEvent | None = None
        super().__init__(exp, anchor_ns, engine)

    def tasks(self) -> Iterable[str] | None:
        return [self.task]

    def on_event(self, ev: TaskEvent) -> None:
        if self.status != PENDING or not self.in_window(ev.time_ns) or not ev.is_for(self.task):
            return
        if self.start is None:
            if ev.state == self.exp.latency_from:
                self.start = ev
                self.engine._reschedule(self, ev.time_ns + self.budget)
            return
        if ev.state == self.exp.latency_to and ev.time_ns >= self.start.time_ns:
            self.end = ev
            took = ev.time_ns - self.start.time_ns
            span = f"{self.exp.latency_from} -> {self.exp.latency_to} took {_dur(took)}"
            if took <= self.budget:
                self._decide(PASSED, span, ev.time_ns)
            else:
                self._decide(FAILED, f"{span}, more than {_dur(self.budget)}", ev.time_ns)

    def on_time(self, now: int) -> None:
        if self.status == PENDING and self.start is not None and now > self.start.time_ns + self.budget:
            self._decide(FAILED, f"no {self.exp.latency_to} within {_dur(self.budget)} of "
                                 f"{self.exp.latency_from} at {_ts(self.start.time_ns)}", now)
            return
        super().on_time(now)

    def close(self, now: int) -> None:
        if self.status != PENDING:
            return
        if self.start is None:
            self._decide(FAILED, f"task {self.task} was never {self.exp.latency_from} in the window", now)
        else:
            self._decide(FAILED, f"no {self.exp.latency_to} after {self.exp.latency_from} "
                                 f"at {_ts(self.start.time_ns)}", now)

    def observed(self) -> list[str]:
        return self._task_history(self.task)


class SuccessRateCheck(Check):
    """`success_rate` over `tasks` (names or globs such as ``load-*``). With only plain names
    the denominator is fixed and the check can pass early; with globs the tasks are those
    seen in the window, so it is decided when the window closes."""

    def __init__(self, exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> None:
        if not exp.tasks:
            raise ExpectationError("success_rate: list the tasks (names or patterns like load-*)")
        self.rate = Rate.parse(exp.success_rate or "")
        self.exact = [t for t in exp.tasks if not any(c in t for c in "*?[")]
        exact = set(self.exact)
        self.globs = [t for t in exp.tasks if t not in exact]
        self.known: dict[str, str] = {t: "" for t in self.exact}  # task -> last state in window
        self.succeeded: set[str] = set()
        super().__init__(exp, anchor_ns, engine)

    def tasks(self) -> Iterable[str] | None:
        return None if self.globs else self.exact

    def _name(self, ev: TaskEvent) -> str | None:
        for n in (ev.task, *sorted(ev.names)):
            if n in self.known:
                return n
        for n in (ev.task, *sorted(ev.names)):
            if any(fnmatch.fnmatchcase(n, g) for g in self.globs):
                return n
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
            if not self.globs and self.rate.op in (">=", ">") and self.rate.ok(self._ratio()):
                self._decide(PASSED, self._summary(), ev.time_ns)

    def _ratio(self) -> float:
        return len(self.succeeded) / len(self.known) if self.known else 0.0

    def _summary(self) -> str:
        return (f"{len(self.succeeded)}/{len(self.known)} tasks succeeded "
                f"({self._ratio() * 100:.1f}%, wanted {self.rate.text})")

    def close(self, now: int) -> None:
        if self.status != PENDING:
            return
        if not self.known:
            self._decide(FAILED, f"no task matching {', '.join(self.exp.tasks)} was seen", now)
        else:
            self._decide(PASSED if self.rate.ok(self._ratio()) else FAILED, self._summary(), now)

    def observed(self) -> list[str]:
        missing = sorted(t for t in self.known if t not in self.succeeded)
        out = [f"tasks without success ({len(missing)}): " + ", ".join(missing[:20])
               + (" …" if len(missing) > 20 else "")]
        for t in missing[:3]:
            out += self._task_history(t)
        return out


class FailFastOnlyCheck(Check):
    """An expectation made only of `fail_fast_on`: passes when its window closes clean."""

    def close(self, now: int) -> None:
        self._decide(PASSED, "no fail-fast pattern matched", now)


def _check_for(exp: Expectation, anchor_ns: int, engine: ExpectationEngine) -> Check:
    if exp.in_order:
        return InOrderCheck(exp, anchor_ns, engine)
    if exp.success_rate is not None:
        return SuccessRateCheck(exp, anchor_ns, engine)
    if exp.latency_ns is not None:
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


class ExpectationEngine:
    """All live expectations of one device. Feed it every record (in order) with `feed`."""

    def __init__(self, vocab: VocabState | None = None, *, history_per_task: int = 32) -> None:
        self.vocab = vocab
        self.now_ns = 0
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
        # called after every `add` (the journal recomputes which tags it must materialise)
        self.on_add: list[Callable[[], None]] = []

    # -- setup ---------------------------------------------------------------------------
    def add(self, exp: Expectation, anchor_ns: int, *, history: Iterable[LogRecord] = ()) -> Check:
        """Start evaluating `exp` over device time from `anchor_ns`.

        Task events the engine already saw since the anchor are replayed; raw records from
        before now must be passed as `history` (the journal has them).
        """
        check = _check_for(exp, anchor_ns, self)
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
            if ev.time_ns >= anchor_ns:
                check.on_event(ev)
        for rec in history:
            if rec.time_ns >= anchor_ns:
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
                if raw.check.status == PENDING and raw.rest_matches(rec):
                    raw.check.on_fail_fast(rec, raw)
                    self._dirty = True
        if self._dirty:
            self._prune()
        return events

    def feed_many(self, recs: Iterable[LogRecord]) -> None:
        for rec in recs:
            self.feed(rec)

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
                    if id(check) not in notified and check.status == PENDING:
                        notified.add(id(check))
                        check.on_event(ev)
                        if check.status != PENDING:
                            self._dirty = True
        for check in self._any_task:
            if check.status == PENDING:
                check.on_event(ev)
                if check.status != PENDING:
                    self._dirty = True

    def _raw_dispatch(self, rec: LogRecord, only: Check | None = None) -> None:
        for raw in self._raw.candidates(rec):
            check = raw.check
            if check.status != PENDING or (only is not None and check is not only):
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
        self._expire(self.now_ns)
        if self._dirty:
            self._prune()

    def finish(self, now_ns: int | None = None) -> None:
        """The scenario is over: decide every open check (windows without `within` end here)."""
        if now_ns is not None:
            self.advance_to(now_ns)
        for check in self.checks:
            if check.status == PENDING:
                check.close(self.now_ns)

    def _expire(self, now: int) -> None:
        dl = self._deadlines
        while dl and dl[0][0] <= now:
            _, _, check = heapq.heappop(dl)
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


def _dur(ns: int) -> str:
    ms = ns // 1_000_000
    if ms % 86_400_000 == 0 and ms:
        return f"{ms // 86_400_000}d"
    if ms % 3_600_000 == 0 and ms:
        return f"{ms // 3_600_000}h"
    if ms % 60_000 == 0 and ms:
        return f"{ms // 60_000}m"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"
