"""Fault rules: what the proxy does to the requests a scenario names.

A rule matches requests by host, method and path (globs, host case-insensitive) and says what
the server "answers", one entry per matching request in order, the last one repeating:

- a status (``503``, ``401``, ``200``): the proxy answers it itself, the real server is not
  asked (the app's backend may not even exist on the test machine);
- ``pass``: forward to the real server;
- ``timeout``: the answer never comes; the client's own timeout fires;
- ``reset``: the connection is closed under the request (the client sees a reset / EOF);
- ``dns``: the host does not resolve (NXDOMAIN), answered as a proxy answers it: 502.

``latency`` delays every answer of the rule; ``bandwidth`` delays it by its body size.
Requests no rule matches pass through untouched. The first matching rule wins, so a narrow
rule goes before a broad one. A rule that never matched is reported at the end of the
scenario (`RuleSet.unmatched`): a typo in a host must not pass silently.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..durations import DurationError, format_duration_ms, parse_duration_ms

AnswerKind = Literal["status", "pass", "timeout", "reset", "dns"]
_WORDS: tuple[AnswerKind, ...] = ("pass", "timeout", "reset", "dns")
_BANDWIDTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(bps|kbps|mbps|B/s|KB/s|MB/s)\s*$", re.IGNORECASE)
_BANDWIDTH_UNITS = {"bps": 1 / 8, "kbps": 1000 / 8, "mbps": 1_000_000 / 8,
                    "b/s": 1, "kb/s": 1024, "mb/s": 1024 * 1024}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


class RuleError(ValueError):
    """A rule the proxy cannot apply; the text says what to write instead."""


@dataclass(frozen=True)
class Answer:
    """One entry of a rule's answer sequence."""

    kind: AnswerKind
    status: int | None = None

    @classmethod
    def parse(cls, value: object) -> Answer:
        if isinstance(value, bool):
            raise RuleError(f"answer {value!r}: write a status (503) or one of {', '.join(_WORDS)}")
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            status = int(value)
            if not 100 <= status <= 599:
                raise RuleError(f"status {status}: an HTTP status is 100-599")
            return cls("status", status)
        if isinstance(value, str) and value.strip().lower() in _WORDS:
            return cls(value.strip().lower())  # type: ignore[arg-type]
        raise RuleError(f"answer {value!r}: write a status (503) or one of {', '.join(_WORDS)}")

    def __str__(self) -> str:
        return str(self.status) if self.kind == "status" else self.kind


def parse_bandwidth(value: str | int) -> float:
    """``64kbps``, ``1mbps``, ``10KB/s`` (a bare number is bytes/s) → bytes per second."""
    if isinstance(value, bool):
        raise RuleError(f"bandwidth {value!r}: write e.g. 64kbps, 1mbps or 10KB/s")
    if isinstance(value, (int, float)):
        if value <= 0:
            raise RuleError(f"bandwidth {value!r}: must be more than 0")
        return float(value)
    m = _BANDWIDTH.match(value)
    if m is None or float(m.group(1)) <= 0:
        raise RuleError(f"bandwidth {value!r}: write e.g. 64kbps, 1mbps or 10KB/s")
    return float(m.group(1)) * _BANDWIDTH_UNITS[m.group(2).lower()]


@dataclass(frozen=True)
class Rule:
    """Requests it matches and what happens to them. `where` locates it for messages."""

    host: str | None = None
    method: str | None = None
    path: str | None = None
    answers: tuple[Answer, ...] = ()
    latency_ms: int = 0
    bandwidth_bytes_s: float | None = None
    where: str = ""

    def matches(self, host: str, method: str, path: str) -> bool:
        if self.host is not None and not fnmatch.fnmatchcase(host.lower(), self.host.lower()):
            return False
        if self.method is not None and method.upper() != self.method:
            return False
        # the query string is not part of what a rule names
        return self.path is None or fnmatch.fnmatchcase(path.split("?", 1)[0], self.path)

    def answer(self, index: int) -> Answer:
        """The answer to the `index`-th matching request (0-based); the last one repeats."""
        if not self.answers:
            return Answer("pass")
        return self.answers[min(index, len(self.answers) - 1)]

    def describe(self) -> str:
        target = " ".join(p for p in (self.method, (self.host or "*") + (self.path or "")) if p)
        parts = [target]
        if self.answers:
            parts.append("→ [" + ", ".join(str(a) for a in self.answers) + "]")
        if self.latency_ms:
            parts.append(f"+{format_duration_ms(self.latency_ms)}")
        if self.bandwidth_bytes_s:
            parts.append(f"at {self.bandwidth_bytes_s:g} B/s")
        return " ".join(parts)

    @classmethod
    def from_mapping(cls, spec: Mapping[str, object], where: str = "") -> Rule:
        """Build a rule from its scenario form; `RuleError` names the key that is wrong."""
        known = {"host", "method", "path", "respond", "latency", "bandwidth"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise RuleError(f"unknown key {unknown[0]!r}; a rule has {', '.join(sorted(known))}")
        host, method, path = spec.get("host"), spec.get("method"), spec.get("path")
        if host is None and method is None and path is None:
            raise RuleError("a rule must name a host, a method or a path")
        if method is not None and str(method).upper() not in _METHODS:
            raise RuleError(f"method {method!r}: use one of {', '.join(sorted(_METHODS))}")
        if path is not None and not str(path).startswith(("/", "*")):
            raise RuleError(f"path {path!r}: a path starts with / (globs allowed: /api/*)")
        respond = spec.get("respond", ())
        items = respond if isinstance(respond, (list, tuple)) else [respond]
        answers = tuple(Answer.parse(v) for v in items)
        try:
            latency = parse_duration_ms(spec["latency"]) if "latency" in spec else 0  # type: ignore[arg-type]
        except DurationError as exc:
            raise RuleError(f"latency: {exc}") from None
        bandwidth = parse_bandwidth(spec["bandwidth"]) if "bandwidth" in spec else None  # type: ignore[arg-type]
        if not answers and not latency and bandwidth is None:
            raise RuleError("a rule needs respond, latency or bandwidth (else it does nothing)")
        return cls(host=str(host) if host is not None else None,
                   method=str(method).upper() if method is not None else None,
                   path=str(path) if path is not None else None,
                   answers=answers, latency_ms=latency, bandwidth_bytes_s=bandwidth, where=where)


@dataclass(frozen=True)
class Decision:
    """What the proxy does with one request: which rule (None: no rule), and its answer."""

    rule: Rule | None
    rule_index: int | None
    answer: Answer
    latency_ms: int = 0
    bandwidth_bytes_s: float | None = None


@dataclass
class RuleSet:
    """The rules of one scenario, with the per-rule counters the answer sequences need.

    Thread-safe: the proxy decides on its own event loop while the runner reads the counts.
    """

    rules: list[Rule] = field(default_factory=list)
    _hits: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._hits = [0] * len(self.rules)

    @classmethod
    def parse(cls, specs: Iterable[Mapping[str, object]]) -> RuleSet:
        rules = []
        for i, spec in enumerate(specs):
            try:
                rules.append(Rule.from_mapping(spec, where=f"rule {i + 1}"))
            except RuleError as exc:
                raise RuleError(f"rule {i + 1}: {exc}") from None
        return cls(rules)

    def replace(self, rules: Iterable[Rule]) -> None:
        """A new scenario's rules: counters start again from zero."""
        with self._lock:
            self.rules = list(rules)
            self._hits = [0] * len(self.rules)

    def decide(self, host: str, method: str, path: str) -> Decision:
        with self._lock:
            for i, rule in enumerate(self.rules):
                if rule.matches(host, method, path):
                    answer = rule.answer(self._hits[i])
                    self._hits[i] += 1
                    return Decision(rule, i, answer, rule.latency_ms, rule.bandwidth_bytes_s)
        return Decision(None, None, Answer("pass"))

    def hits(self) -> list[int]:
        with self._lock:
            return list(self._hits)

    def unmatched(self) -> list[Rule]:
        """Rules no request matched: worth a warning (typo in a host?) at the end of a scenario."""
        with self._lock:
            return [r for r, n in zip(self.rules, self._hits, strict=True) if n == 0]
