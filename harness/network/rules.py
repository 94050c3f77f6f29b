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


@dataclass(frozen=True)
class Conditions:
    """Network quality for every request (``network: {latency: 2s, loss: 30%, bandwidth: 64kbps}``).

    Loss is per request, not per packet (the proxy sees requests): that share of requests
    gets no answer and runs into the client's timeout. It is deterministic so a scenario
    means the same every run: with 30 %, request n is lost when ⌊0.3·(n+1)⌋ > ⌊0.3·n⌋ — the
    4th, 7th, 10th … (counted from the scenario's first request).
    """

    latency_ms: int = 0
    loss: float = 0.0  # 0..1
    bandwidth_bytes_s: float | None = None

    def lost(self, n: int) -> bool:
        """Whether request ``n`` (0-based) is lost."""
        return int(self.loss * (n + 1) + 1e-9) > int(self.loss * n + 1e-9)

    def describe(self) -> str:
        parts = []
        if self.latency_ms:
            parts.append(f"latency {format_duration_ms(self.latency_ms)}")
        if self.loss:
            parts.append(f"loss {self.loss * 100:g}%")
        if self.bandwidth_bytes_s:
            parts.append(f"bandwidth {self.bandwidth_bytes_s:g} B/s")
        return ", ".join(parts) or "normal"


def parse_loss(value: str | float) -> float:
    """``30%`` or ``0.3`` → 0.3."""
    text = str(value).strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise RuleError(f"loss {value!r}: write a share such as 30%") from None
    if not 0 <= share <= 1:
        raise RuleError(f"loss {value!r}: between 0% and 100%")
    return share


@dataclass
class RuleSet:
    """The rules of one scenario, with the per-rule counters the answer sequences need.

    Thread-safe: the proxy decides on its own event loop while the runner reads the counts.
    """

    rules: list[Rule] = field(default_factory=list)
    conditions: Conditions = field(default_factory=Conditions)
    _hits: list[int] = field(default_factory=list)
    _requests: int = 0
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
        """New rules (a scenario's, or its next ``server:`` step's): their counters start at zero."""
        with self._lock:
            self.rules = list(rules)
            self._hits = [0] * len(self.rules)

    def set_conditions(self, conditions: Conditions) -> None:
        with self._lock:
            self.conditions = conditions

    def reset(self) -> None:
        """No rules, no conditions, the loss count from zero: the next scenario starts clean."""
        with self._lock:
            self.rules, self._hits, self._requests = [], [], 0
            self.conditions = Conditions()

    def decide(self, host: str, method: str, path: str) -> Decision:
        with self._lock:
            cond = self.conditions
            lost = cond.lost(self._requests)
            self._requests += 1
            decision = Decision(None, None, Answer("pass"))
            for i, rule in enumerate(self.rules):
                if rule.matches(host, method, path):
                    answer = rule.answer(self._hits[i])
                    self._hits[i] += 1
                    decision = Decision(rule, i, answer, rule.latency_ms, rule.bandwidth_bytes_s)
                    break
        if not (cond.latency_ms or cond.loss or cond.bandwidth_bytes_s):
            return decision
        speeds = [b for b in (decision.bandwidth_bytes_s, cond.bandwidth_bytes_s) if b]
        return Decision(decision.rule, decision.rule_index, Answer("timeout") if lost else decision.answer,
                        decision.latency_ms + cond.latency_ms, min(speeds) if speeds else None)

    def hits(self) -> list[int]:
        with self._lock:
            return list(self._hits)

    def unmatched(self) -> list[Rule]:
        """Rules no request matched: worth a warning (typo in a host?) at the end of a scenario."""
        with self._lock:
            return [r for r, n in zip(self.rules, self._hits, strict=True) if n == 0]
