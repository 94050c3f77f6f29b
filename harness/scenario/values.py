"""The values an expectation is made of — one meaning from the YAML to the verdict.

The scenario models validate these once; the expectation engine (``harness.logs.expect``)
imports the very same types, so nothing travels as a string to be parsed a second time:

- :class:`Comparison`: ``">= 3"`` (a count), ``">= 95%"`` (a rate), ``"<= 30s"`` (a latency)
  — an operator, a bound and its unit, with one ``ok`` and one human description;
- :class:`Match`: what a task event (``task`` + ``state``) or a raw log record (``tag``,
  ``subsystem``, ``category``, ``level``, ``message``, ``process``) must look like;
- :class:`TaskPattern`: a task name or a glob (``api-*``), with one matching rule for every
  expectation kind and for the summary;
- the log-level order behind ``level:`` ("the lowest level that matches").
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from harness.durations import DurationError, format_duration_ms, parse_duration_ms
from harness.sizes import SizeError, format_size_kb, parse_size_kb

# --------------------------------------------------------------------------- comparisons

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_CMP = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)\s*$")
_OP_PREFIX = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*(.*?)\s*$", re.S)
_WORDS = {
    "==": "exactly",
    "!=": "not",
    ">=": "at least",
    "<=": "at most",
    ">": "more than",
    "<": "less than",
}

Unit = Literal["count", "rate", "ms", "kb", "pct_day"]

MAX_COUNT = 10_000_000
"""Largest count an expectation may name: more task events than any device logs in a run (and
a bound that keeps 5000-digit counts from reaching integer arithmetic)."""


@dataclass(frozen=True)
class Comparison:
    """An operator and a bound: ``>= 3`` matches, ``>= 95%`` of tasks, ``<= 30s`` of device time.

    ``value`` is in the unit's base: a whole number for ``count``, a fraction (0.95) for
    ``rate``, milliseconds for ``ms``. ``text`` is what the author wrote, kept for messages.
    """

    op: str
    value: float
    unit: Unit = "count"
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison operator {self.op!r}; use one of {', '.join(_OPS)}")

    def ok(self, measured: float) -> bool:
        """Whether ``measured`` (same unit as ``value``) satisfies the comparison."""
        if self.unit == "rate":  # 19/20 against 95%: float noise must not decide a verdict
            return _OPS[self.op](round(measured, 9), round(self.value, 9))
        return _OPS[self.op](measured, self.value)

    def passes_early(self, measured: float) -> bool:
        """True once more (a higher count, a longer time) can no longer make it false."""
        return self.op in (">=", ">") and self.ok(measured)

    def fails_early(self, measured: float) -> bool:
        """True once more can no longer make it true."""
        if self.op in ("==", "<="):
            return measured > self.value
        return self.op == "<" and measured >= self.value

    def certain(self) -> bool | None:
        """True when every measurement satisfies it, False when none can (counts and times are
        never negative), None when the measurement decides."""
        if self.op == ">=" and self.value <= 0:
            return True
        if self.op == "<" and self.value <= 0:
            return False
        return None

    def bound_text(self) -> str:
        """The bound in its unit: ``3``, ``95%``, ``30s``."""
        if self.unit == "rate":
            return f"{self.value * 100:g}%"
        if self.unit == "ms":
            return format_duration_ms(int(self.value))
        if self.unit == "kb":
            return format_size_kb(self.value)
        if self.unit == "pct_day":
            return f"{self.value:g}%/day"
        return f"{int(self.value)}"

    def describe(self) -> str:
        """In words: ``at least 3``, ``at most 30s``, ``exactly 0``."""
        return f"{_WORDS[self.op]} {self.bound_text()}"

    def __str__(self) -> str:
        return f"{self.op} {self.bound_text()}"

    # -- the one parser per unit (the models validate with these; Python callers may too)
    @classmethod
    def count(cls, value: Any) -> Comparison:
        """``1`` / ``"1"`` (exactly), ``">= 3"``, ``"0"``, ``"!= 2"``."""
        if isinstance(value, Comparison):
            return value
        if isinstance(value, bool):
            raise ValueError('expected a count: 1, "0", ">= 3", "<= 2"')
        if isinstance(value, int):
            if value < 0:
                raise ValueError("a count cannot be negative")
            if value > MAX_COUNT:
                raise ValueError(f"a count above {MAX_COUNT:,} cannot be met by any device's log")
            return cls("==", value, "count", str(value))
        if isinstance(value, str) and len(value) > 40:
            raise ValueError(f'not a count expression: {len(value)} characters; write 1, "0", ">= 3"')
        m = _CMP.match(value) if isinstance(value, str) else None
        if not m or m.group(3) or "." in m.group(2):
            raise ValueError(f'not a count expression: {value!r}; write 1, "0", ">= 3", "<= 2", "> 0"')
        if int(m.group(2)) > MAX_COUNT:
            raise ValueError(f"a count above {MAX_COUNT:,} cannot be met by any device's log")
        return cls(_op(m.group(1), "=="), int(m.group(2)), "count", value.strip())

    @classmethod
    def rate(cls, value: Any) -> Comparison:
        """``">= 95%"`` (a bare percentage means at least), or a fraction 0..1 meaning at least."""
        if isinstance(value, Comparison):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
            return cls(">=", float(value), "rate", f">= {value * 100:g}%")
        m = _CMP.match(value) if isinstance(value, str) else None
        if not m or not m.group(3) or float(m.group(2)) > 100:
            raise ValueError(f'not a success rate: {value!r}; write a percentage such as ">= 95%"')
        return cls(_op(m.group(1), ">="), float(m.group(2)) / 100, "rate", value.strip())

    @classmethod
    def latency(cls, value: Any) -> Comparison:
        """``"<= 30s"``, ``"> 1m"``; a bare duration means at most."""
        if isinstance(value, Comparison):
            return value
        op, text = "<=", value
        if isinstance(value, str):
            if len(value) > 80:
                raise ValueError(f"not a latency bound: {len(value)} characters; write e.g. \"<= 30s\"")
            m = _OP_PREFIX.match(value)
            assert m is not None
            op, text = _op(m.group(1), "<="), m.group(2)
        try:
            ms = parse_duration_ms(text)
        except DurationError:
            raise ValueError(f'not a latency bound: {value!r}; write e.g. "<= 30s" or ">= 1m"') from None
        return cls(op, ms, "ms", str(value).strip())


    # -- device metrics (harness/metrics.py): a bare bound means "at most", as a budget does
    @classmethod
    def size(cls, value: Any) -> Comparison:
        """``"<= 50MB"``, ``"< 1GB"``, ``"100MB"`` (at most): a memory bound, held in kB."""
        if isinstance(value, Comparison):
            return value
        op, text = _split_bound(value, "a memory bound", '"<= 50MB"')
        try:
            kb = parse_size_kb(text)
        except SizeError:
            raise ValueError(f'not a memory bound: {value!r}; write e.g. "<= 50MB" or "< 1GB"') from None
        return cls(op, kb, "kb", str(value).strip())

    @classmethod
    def per_day(cls, value: Any) -> Comparison:
        """``"< 2%"``, ``"<= 2%/day"``, ``"< 5% per day"``: battery used per day, in percent."""
        if isinstance(value, Comparison):
            return value
        op, text = _split_bound(value, "a battery bound", '"< 2%/day"')
        m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*%\s*(?:/\s*day|per\s+day)?", text)
        if m is None or float(m.group(1)) > 100:
            raise ValueError(f'not a battery bound: {value!r}; write a percentage of the battery per day, '
                             'e.g. "< 2%/day"')
        return cls(op, float(m.group(1)), "pct_day", str(value).strip())

    @classmethod
    def depth(cls, value: Any) -> Comparison:
        """``"< 10"``, ``50`` (at most): how much work may wait."""
        if isinstance(value, Comparison):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        op, text = _split_bound(value, "a queue bound", '"< 10"')
        if not text.isdigit() or int(text) > MAX_COUNT:
            raise ValueError(f'not a queue bound: {value!r}; write a number of waiting tasks, e.g. "< 10"')
        return cls(op, int(text), "count", str(value).strip())


def _split_bound(value: Any, what: str, example: str) -> tuple[str, str]:
    """The operator (``<=`` when none is written) and the rest of a bound written as text."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"not {what}: {value!r}; write e.g. {example}")
    text = str(value)
    if len(text) > 40:
        raise ValueError(f"not {what}: {len(text)} characters; write e.g. {example}")
    m = _OP_PREFIX.match(text)
    assert m is not None
    return _op(m.group(1), "<="), m.group(2)


def _op(written: str | None, default: str) -> str:
    return "==" if written == "=" else (written or default)


# --------------------------------------------------------------------------- task patterns

_GLOB_CHARS = frozenset("*?[")


def is_glob(name: str) -> bool:
    """A task name with ``*``, ``?`` or ``[`` names a set of tasks (shell-style, case-sensitive)."""
    return not _GLOB_CHARS.isdisjoint(name)


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    import fnmatch

    return re.compile(fnmatch.translate(pattern))


@dataclass(frozen=True)
class TaskPattern:
    """A task as an expectation names it: one name, or a glob over names.

    The one rule, for every expectation kind and for the summary: an event belongs to the
    pattern when any of the names the logs gave it (the task id, unique work name, tags,
    linked names, the WorkSpec UUID) equals the name / matches the glob.
    """

    text: str

    @property
    def is_glob(self) -> bool:
        return is_glob(self.text)

    def name_in(self, names: Iterable[str]) -> str | None:
        """The first of ``names`` this pattern covers (the name a summary row is keyed by)."""
        if not self.is_glob:
            return self.text if self.text in names else None
        match = _glob_regex(self.text).match
        return next((n for n in names if match(n)), None)

    def covers(self, name: str) -> bool:
        return _glob_regex(self.text).match(name) is not None if self.is_glob else name == self.text

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- log levels

LEVEL_ORDER = ("verbose", "debug", "info", "default", "warn", "error", "fatal")
"""Lowest to highest. Android's V D I W E F (A = fatal) and the unified log's Debug, Info,
Default, Error, Fault share one scale; iOS ``default`` (os_log's notice level) sits between
info and warn, and ``fault`` ranks with ``fatal``."""
_LEVEL_RANK = {name: i for i, name in enumerate(LEVEL_ORDER)}
_LEVEL_RANK["fault"] = _LEVEL_RANK["fatal"]
_LEVEL_LETTERS = {
    "V": "verbose", "D": "debug", "I": "info", "W": "warn", "E": "error", "F": "fatal", "A": "fatal",
}


def level_rank(canonical: str) -> int:
    """Rank of a canonical level name (``warn``) or an Android letter (``W``); unknown: -1."""
    return _LEVEL_RANK.get(_LEVEL_LETTERS.get(canonical, canonical), -1)


TaskState = Literal["enqueued", "started", "succeeded", "failed", "retried", "cancelled"]
LogLevel = Literal[
    "verbose", "debug", "info", "default", "warn", "error", "fatal", "fault", "V", "D", "I", "W", "E", "F"
]

# --------------------------------------------------------------------------- Match


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_regex)]

LOG_FIELDS = ("tag", "subsystem", "category", "level", "message", "process")


class Match(BaseModel):
    """What a record must look like: a task event (task + state) or a raw log record."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # an empty name (`task: "${env:TASK:-}"`) names nothing: refused, as a `never` on it always held
    task: str | None = Field(
        None, min_length=1,
        description="task id, unique work name or tag; '*' '?' '[...]' glob a set (load-*)",
    )
    state: TaskState | None = Field(None, description="task event to look for")
    tag: str | None = Field(
        None, min_length=1, description="log tag, exact (Android; on iOS the process name)"
    )
    subsystem: str | None = Field(None, min_length=1, description="iOS unified-log subsystem (exact)")
    category: str | None = Field(None, min_length=1, description="iOS unified-log category (exact)")
    level: LogLevel | None = Field(
        None, description="lowest log level that matches: verbose debug info default warn error fatal/fault"
    )
    message: Regex | None = Field(None, description="regular expression searched in the message")
    process: str | None = Field(None, min_length=1, description="iOS process (image) name")

    @property
    def is_event(self) -> bool:
        return self.task is not None or self.state is not None

    @property
    def is_log(self) -> bool:
        return any(getattr(self, f) is not None for f in LOG_FIELDS)

    @property
    def pattern(self) -> TaskPattern | None:
        return TaskPattern(self.task) if self.task is not None else None

    @model_validator(mode="before")
    @classmethod
    def _task_state_words(cls, data: Any) -> Any:
        """``in_order: ["sync enqueued", "sync succeeded"]`` — TASK STATE as two words."""
        if cls is Match and isinstance(data, str):
            parts = data.split()
            if len(parts) != 2:
                raise ValueError(
                    f"not a task event: {data!r}; write 'TASK STATE' (sync succeeded) or a mapping"
                )
            return {"task": parts[0], "state": parts[1]}
        return data

    @model_validator(mode="after")
    def _one_family(self) -> Match:
        if self.is_event and self.is_log:
            raise ValueError(
                "match either a task event (task, state) or a log record (tag, subsystem, "
                "category, level, message, process), not both"
            )
        if self.state is not None and self.task is None:
            raise ValueError("'state' needs the 'task' it belongs to")
        return self

    def describe(self) -> str:
        """In words, for messages and reports: ``sync succeeded``, ``log tag=X message~/Y/``."""
        if self.is_event:
            return f"{self.task} {self.state}" if self.state else f"{self.task}"
        parts = []
        for name in ("tag", "subsystem", "category", "process"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name} {value}")
        if self.level is not None:
            parts.append(f"level {self.level} or higher")
        if self.message is not None:
            parts.append(f"message /{self.message}/")
        return "log record with " + ", ".join(parts)

    def __str__(self) -> str:
        return self.describe()


def _log_only_schema(schema: dict[str, Any]) -> None:
    for name in ("task", "state"):
        schema.get("properties", {}).pop(name, None)


class LogMatch(Match):
    """A raw log record pattern (fail_fast_on); a bare string is a message regex."""

    model_config = ConfigDict(json_schema_extra=_log_only_schema)

    @model_validator(mode="before")
    @classmethod
    def _bare_regex(cls, data: Any) -> Any:
        return {"message": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _log_only(self) -> LogMatch:
        if self.is_event:
            raise ValueError("fail_fast_on matches log records (tag, message, …), not task events")
        if not self.is_log:
            raise ValueError("an empty log match would match every record; give a tag, message, …")
        return self


# --------------------------------------------------------------------------- descriptions


def describe_expectation(
    match: Match | None = None,
    *,
    count: Comparison | None = None,
    never: bool = False,
    in_order: Iterable[Match] = (),
    latency: Comparison | None = None,
    latency_states: tuple[str, str] = ("enqueued", "succeeded"),
    success_rate: Comparison | None = None,
    tasks: Iterable[str] = (),
    fail_fast_on: Iterable[Match] = (),
    within_ms: int | None = None,
) -> str:
    """One line a person reads in the console, JUnit and HTML: what is expected, in words.

    The scenario model and the engine's spec both describe themselves through this, so a
    failure message quotes the expectation the way the summary does.
    """
    bits: list[str] = []
    steps = list(in_order)
    names = ", ".join(tasks) or (match.task if match is not None and match.task else "?")
    if steps:
        bits.append("in order: " + " → ".join(m.describe() for m in steps))
    elif success_rate is not None:
        bits.append(f"tasks {names}: {success_rate.describe()} succeeded")
    elif latency is not None:
        bits.append(f"{names}: {latency_states[0]} → {latency_states[1]} in {latency.describe()}")
    elif match is not None:
        text = match.describe()
        if never:
            bits.append(f"{text}: never")
        elif count is not None:
            plural = "" if count.value == 1 else "s"
            bits.append(f"{text}: {count.describe()} time{plural}")
        else:
            bits.append(text)
    fail_fast = list(fail_fast_on)
    if fail_fast:
        bits.append("failing at once on " + " or ".join(m.describe() for m in fail_fast))
    if within_ms is not None:
        bits.append(f"within {format_duration_ms(within_ms)}")
    return ", ".join(bits)
