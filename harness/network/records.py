"""Every request that went through the proxy, as a record the expectation engine can search.

A `RequestRecord` becomes a `LogRecord` with tag :data:`PROXY_TAG` and one fixed message
form, so ``count``, ``in_order`` and the time between two attempts are asked of requests with
the same engine and the same words as of task events::

    GET https://api.example.com/sync 503 attempt=2 after=1m5s duration=12ms rule=1

The outcome is the status, or ``timeout`` / ``reset`` / ``dns`` / ``error`` when no status
came back. ``after`` (from the second attempt on) is the time since the previous attempt
started, in whole seconds: the backoff a scenario asserts with ``message: "attempt=2 after=1m"``.
Time is device time (see ``virtual_time``). URLs are redacted before a record
exists: the journal is saved as an artifact, and a token in a query string is a secret.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..durations import format_duration_ms
from ..logs.record import LogRecord

#: The tag of request records in the journal (an expectation says ``tag: bgtest-proxy``).
PROXY_TAG = "bgtest-proxy"
REDACTED = "[REDACTED]"
# Query parameters whose value is a credential (matched case-insensitively, as a whole name
# or a suffix: "access_token", "x-api-key", "sig").
_SECRET_PARAM = re.compile(
    r"(^|[_\-.])(token|access_token|id_token|refresh_token|api[_\-]?key|apikey|key|secret|password|"
    r"passwd|pwd|auth|authorization|session|sessionid|sig|signature|code)$",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """The URL with user:password and credential-looking query values replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request: when (device time), what, what came back, how long, which attempt."""

    time_ns: int
    method: str
    url: str
    status: int | None
    outcome: str  # the status as text, or timeout / reset / dns / error
    duration_ms: int | None
    attempt: int
    rule: int | None  # 1-based index of the rule that decided it, None: passed through
    after_ms: int | None = None  # since the previous attempt's start; None for the first

    def message(self) -> str:
        duration = "none" if self.duration_ms is None else format_duration_ms(self.duration_ms)
        rule = "-" if self.rule is None else str(self.rule)
        # whole seconds: a backoff is asserted in seconds, and a job may start a few ms late
        after = "" if self.after_ms is None else f"after={format_duration_ms(self.after_ms // 1000 * 1000)} "
        return (f"{self.method} {self.url} {self.outcome} attempt={self.attempt} {after}"
                f"duration={duration} rule={rule}")

    def to_log_record(self, seq: int = 0) -> LogRecord:
        msg = self.message()
        return LogRecord(time_ns=self.time_ns, pid=0, tid=0, level="I", tag=PROXY_TAG, message=msg,
                         raw=f"I/{PROXY_TAG}: {msg}", seq=seq, process=PROXY_TAG)


class RequestLog:
    """The records of one session in arrival order, numbering attempts per method + URL.

    The attempt counts requests to the same method and URL (query string left out: a retry
    often carries a new timestamp or nonce). `listeners` are called with each new record, on
    the proxy's thread; the runner uses one to hand records to the journal.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: dict[tuple[str, str], tuple[int, int]] = {}  # -> (count, last start ns)
        self.records: list[RequestRecord] = []
        self.listeners: list[Callable[[RequestRecord], None]] = []

    def next_attempt(self, method: str, url: str, time_ns: int = 0) -> tuple[int, int | None]:
        """This request's attempt number and the ms since the previous attempt started."""
        key = (method.upper(), url.split("?", 1)[0])
        with self._lock:
            n, last = self._attempts.get(key, (0, 0))
            self._attempts[key] = (n + 1, time_ns)
            return n + 1, (max(0, time_ns - last) // 1_000_000 if n else None)

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.records.append(record)
            listeners = list(self.listeners)
        for listener in listeners:
            listener(record)

    def reset(self) -> None:
        with self._lock:
            self._attempts.clear()
            self.records.clear()
