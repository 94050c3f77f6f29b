"""Incremental parser for the unified log: `log stream --style ndjson` (and `log show`).

What the real tool does that a naive `json.loads` per line trips over (research ios.md §2):
plain-text banners before the data (`Filtering the log data using …`, `getpwuid_r …`,
`Skipping info and debug messages …`), the `{"count":N,"finished":1}` trailer of `log show`,
keys in any order, escaped slashes, and no `process` key -- the process name is the basename
of `processImagePath`. Anything that is not a log object is counted and skipped, never raised.

Records: `tag` is the process name (who logged, as Console shows it), `level` the
`messageType` word, `subsystem`/`category` as printed (empty when unset). Time is the
`timestamp` field with its offset, so it is a true epoch; nanoseconds keep microseconds.
"""

from __future__ import annotations

import calendar
import json
import re

from .record import LogRecord

_TS = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(?:([+-])(\d\d):?(\d\d)|Z)?"
)
_EVENT_TYPES = frozenset(
    {"logEvent", "activityCreateEvent", "signpostEvent", "stateEvent", "timesyncEvent", ""}
)


def parse_timestamp(text: str) -> int | None:
    """`2023-02-23 10:44:02.761747+0100` -> epoch ns (None if unreadable)."""
    m = _TS.match(text)
    if m is None:
        return None
    y, mo, d, hh, mi, ss, frac, sign, oh, om = m.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(hh), int(mi), int(ss)))
    except (ValueError, OverflowError):
        return None
    if sign:
        off = int(oh) * 3600 + int(om) * 60
        secs -= off if sign == "+" else -off
    ns = int(frac) * 10 ** (9 - len(frac)) if frac else 0
    return secs * 1_000_000_000 + ns


class OslogParser:
    """Feed text (or bytes) as it arrives; get complete `LogRecord`s back."""

    def __init__(self, *, seq_start: int = 0) -> None:
        self._buf = ""
        self._seq = seq_start
        self.banners: list[str] = []
        self.garbage = 0

    def feed(self, chunk: str | bytes) -> list[LogRecord]:
        if isinstance(chunk, bytes):
            chunk = chunk.decode("utf-8", "replace")
        data = self._buf + chunk
        cut = data.rfind("\n")
        if cut == -1:
            self._buf = data
            return []
        self._buf = data[cut + 1:]
        out: list[LogRecord] = []
        for line in data[:cut].split("\n"):
            self._line(line, out)
        return out

    def flush(self) -> list[LogRecord]:
        out: list[LogRecord] = []
        if self._buf:
            line, self._buf = self._buf, ""
            self._line(line, out)
        return out

    def discard_partial(self) -> object | None:
        self._buf = ""
        return None

    def emit_held(self, held: object | None) -> list[LogRecord]:
        return []

    def _line(self, line: str, out: list[LogRecord]) -> None:
        line = line.strip().rstrip(",")  # `--style json` puts one object per element; tolerate commas
        if not line:
            return
        if not line.startswith("{"):
            if line not in ("[", "]"):
                self.banners.append(line)
            return
        try:
            obj = json.loads(line)
        except ValueError:
            self.garbage += 1
            return
        rec = record_from_json(obj, line, self._seq)
        if rec is None:
            return
        self._seq += 1
        out.append(rec)

    @property
    def seq(self) -> int:
        return self._seq


def record_from_json(obj: object, raw: str, seq: int) -> LogRecord | None:
    """One unified-log object -> `LogRecord`; None for trailers and non-log objects."""
    if not isinstance(obj, dict) or "timestamp" not in obj:
        return None
    if str(obj.get("eventType", "")) not in _EVENT_TYPES:
        return None
    ts = parse_timestamp(str(obj.get("timestamp", "")))
    if ts is None:
        return None
    path = str(obj.get("processImagePath") or "")
    process = path.rsplit("/", 1)[-1] if path else str(obj.get("process") or "")
    return LogRecord(
        time_ns=ts,
        pid=_int(obj.get("processID")),
        tid=_int(obj.get("threadID")),
        level=str(obj.get("messageType") or "Default"),
        tag=process,
        message=str(obj.get("eventMessage") or ""),
        raw=raw,
        seq=seq,
        subsystem=str(obj.get("subsystem") or ""),
        category=str(obj.get("category") or ""),
        process=process,
    )


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
