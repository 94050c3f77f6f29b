"""logd: the device's log ring buffers (main, radio, events, system, crash, stats, security, kernel).

What a phone's logd does and this one copies, because the harness reads its logs through them:

- Each buffer is a ring bounded in bytes; when a new entry does not fit, the oldest entries of
  *that* buffer are dropped (a chatty app can push old ``main`` lines out, never ``crash`` ones).
- Every entry gets a device-wide sequence number; readers merge buffers in sequence order, which
  is also time order because device time never goes back.
- A message longer than the kernel-era payload limit (4068 bytes with priority and tag) is
  truncated by the writer, as liblog does.
- A reboot empties every buffer (logd keeps them in RAM) and ends every live reader.

Appending is the hot path (the OS model logs thousands of lines per virtual day), so it only
builds the record and accounts its size; all formatting happens in ``logcat.py`` when someone reads.

Timestamps: a phone stamps entries with nanosecond resolution, so two entries never share a
timestamp and one landing exactly on a millisecond boundary is a one-in-a-million event. The
virtual clock ticks in whole milliseconds, which would make both common. ``append`` therefore
nudges a timestamp by the fewest nanoseconds that make it strictly later than the previous entry
and not on a millisecond boundary. Printed times (ms, µs) are unchanged, and ``logcat -T '<time>'``
(which logd answers with entries strictly *after* that instant) replays the whole millisecond on a
virtual device exactly as it does on a phone.
"""

from __future__ import annotations

import asyncio
import heapq
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import SystemContext

#: Buffer names by log id, in logd's id order (the order ``logcat -g`` and ``-c`` walk them).
BUFFER_NAMES: tuple[str, ...] = ("main", "radio", "events", "system", "crash", "stats", "security", "kernel")
BUFFER_IDS: dict[str, int] = {name: i for i, name in enumerate(BUFFER_NAMES)}
#: What ``logcat`` reads when no ``-b`` is given.
DEFAULT_READ = ("main", "system", "crash", "kernel")

#: liblog's limits, printed by ``logcat -g``.
LOGGER_ENTRY_MAX_LEN = 5 * 1024
LOGGER_ENTRY_MAX_PAYLOAD = 4068
#: logd refuses sizes outside this range (``logcat -G``).
MIN_BUFFER_SIZE = 64 * 1024
MAX_BUFFER_SIZE = 256 * 1024 * 1024

#: Ring sizes of a phone's user build (Pixel: 256 KiB per buffer; bigger for main/system here so a
#: virtual day of background work fits, as "Logger buffer sizes: 1M" in developer options does).
DEFAULT_SIZES: dict[str, int] = {
    "main": 1024 * 1024,
    "radio": 256 * 1024,
    "events": 256 * 1024,
    "system": 1024 * 1024,
    "crash": 256 * 1024,
    "stats": 64 * 1024,
    "security": 256 * 1024,
    "kernel": 256 * 1024,
}

#: Bytes an entry costs beyond its tag and message: logd's per-entry header (uid, pid, tid,
#: sequence, realtime, length, ids) plus the priority byte and two NULs of the payload.
ENTRY_OVERHEAD = 31

_NS_PER_MS = 1_000_000
_MAYBE_TOO_LONG = (LOGGER_ENTRY_MAX_PAYLOAD - 3) // 4
_seq_key = attrgetter("seq")


@dataclass(slots=True)
class LogEntry:
    """One log record as logd stores it; ``level`` is one of V D I W E F, ``buffer`` a buffer name."""

    seq: int
    buffer: str
    time_ns: int
    pid: int
    tid: int
    uid: int
    level: str
    tag: str
    message: str


class LogdClosed(Exception):
    """The device went down: a live reader's stream ends here."""


class _Ring:
    __slots__ = ("entries", "max_size", "name", "total_count", "total_size", "used")

    def __init__(self, name: str, max_size: int) -> None:
        self.name = name
        self.entries: deque[LogEntry] = deque()
        self.used = 0
        self.max_size = max_size
        self.total_count = 0  # since logd started (``logcat -S`` "Total"), not reset by a clear
        self.total_size = 0

    def trim(self) -> None:
        entries, limit = self.entries, self.max_size
        while self.used > limit and entries:
            old = entries.popleft()
            self.used -= ENTRY_OVERHEAD + len(old.tag) + len(old.message)


class LogSubscription:
    """A live reader's cursor: ``await next_batch()`` returns entries newer than the last batch.

    A cursor instead of a queue per reader: appends cost nothing per reader, a slow reader does
    not pile up a private copy of the log, and (as with logd) entries that were pushed out of the
    ring before a slow reader got to them are simply gone.
    """

    def __init__(self, logd: Logd, buffers: Iterable[str] | None, after_seq: int) -> None:
        self._logd = logd
        self.buffers = tuple(buffers) if buffers is not None else BUFFER_NAMES
        self.cursor = after_seq
        self.closed = False
        self._final: list[LogEntry] = []

    async def next_batch(self) -> list[LogEntry]:
        """Entries appended since the previous batch (waits for at least one).

        Raises :class:`LogdClosed` once the device shut down and everything written before
        that has been handed out.
        """
        while True:
            if self.closed:
                if self._final:
                    batch, self._final = self._final, []
                    return batch
                raise LogdClosed("logd went away")
            batch = self._logd.since(self.cursor, self.buffers)
            if batch:
                self.cursor = batch[-1].seq
                return batch
            fut = asyncio.get_running_loop().create_future()
            self._logd._waiters.append(fut)
            await fut

    def _close(self) -> None:
        if not self.closed:
            self._final = self._logd.since(self.cursor, self.buffers)
            if self._final:
                self.cursor = self._final[-1].seq
            self.closed = True


class Logd:
    """The device's log daemon state; ``device.log(...)`` and ``logcat`` are its writer and reader."""

    def __init__(
        self, device: SystemContext | None = None, sizes: dict[str, int] | None = None
    ) -> None:
        self.device = device
        merged = dict(DEFAULT_SIZES)
        merged.update(sizes or {})
        self._rings: dict[str, _Ring] = {name: _Ring(name, merged[name]) for name in BUFFER_NAMES}
        self._seq = 0
        self._last_ns = 0
        #: ``logcat -p`` / ``-P``: logd's prune rules (kept, printed back; pruning stays oldest-first).
        self.prune_list = "~! ~1000/!"
        self._subs: set[LogSubscription] = set()
        self._waiters: list[asyncio.Future[None]] = []
        if device is not None:
            device.bus.subscribe("shutdown", self._on_shutdown)
            device.bus.subscribe("boot", self._on_boot)

    # ------------------------------------------------------------------ writing
    def append(
        self,
        buffer: str,
        time_ns: int,
        pid: int,
        tid: int,
        uid: int,
        level: str,
        tag: str,
        message: str,
    ) -> LogEntry:
        """Store one record; drops the oldest entries of that buffer when it is full."""
        ring = self._rings[buffer]  # KeyError for a buffer that does not exist: a caller bug
        if len(message) + len(tag) > _MAYBE_TOO_LONG:  # UTF-8 takes up to 4 bytes a character
            message = _truncate_payload(tag, message)
        if time_ns % _NS_PER_MS == 0:
            time_ns += 1
        if time_ns <= self._last_ns:
            time_ns = self._last_ns + 1
        self._last_ns = time_ns
        self._seq += 1
        entry = LogEntry(self._seq, buffer, time_ns, pid, tid, uid, level, tag, message)
        ring.entries.append(entry)
        cost = ENTRY_OVERHEAD + len(tag) + len(message)
        ring.used += cost
        ring.total_size += cost
        ring.total_count += 1
        if ring.used > ring.max_size:
            ring.trim()
        if self._waiters:
            self._wake()
        return entry

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                try:
                    fut.set_result(None)
                except RuntimeError:  # its loop is gone (a test's private loop); nobody waits
                    pass

    # ------------------------------------------------------------------ reading
    @property
    def last_seq(self) -> int:
        """Sequence number of the newest entry ever written (0 before the first)."""
        return self._seq

    def entries(self, buffers: Iterable[str] | None = None) -> list[LogEntry]:
        """Every stored entry of these buffers (default: all), merged in sequence (= time) order."""
        rings = [self._rings[b] for b in _names(buffers)]
        nonempty = [r.entries for r in rings if r.entries]
        if not nonempty:
            return []
        if len(nonempty) == 1:
            return list(nonempty[0])
        return list(heapq.merge(*nonempty, key=_seq_key))

    def tail(self, count: int, buffers: Iterable[str] | None = None) -> list[LogEntry]:
        """The newest ``count`` entries across these buffers, in order (``logcat -t N``)."""
        parts = []
        for name in _names(buffers):
            part = list(islice(reversed(self._rings[name].entries), count))
            if part:
                part.reverse()
                parts.append(part)
        if len(parts) == 1:
            return parts[0][-count:]
        return list(heapq.merge(*parts, key=_seq_key))[-count:] if parts else []

    def since(self, seq: int, buffers: Iterable[str] | None = None) -> list[LogEntry]:
        """Entries newer than ``seq`` in these buffers, in order (cheap for a live reader's step)."""
        parts: list[list[LogEntry]] = []
        for name in _names(buffers):
            entries = self._rings[name].entries
            if not entries or entries[-1].seq <= seq:
                continue
            # Count the new ones from the end (a live reader's usual step is short); bisect for a
            # long way back. reversed() then walks only those (deque indexing is O(n)).
            fresh = 0
            for e in reversed(entries):
                if e.seq <= seq:
                    break
                fresh += 1
                if fresh > 256:
                    fresh = len(entries) - bisect_right(entries, seq, key=_seq_key)
                    break
            part = list(islice(reversed(entries), fresh))
            part.reverse()
            parts.append(part)
        if not parts:
            return []
        if len(parts) == 1:
            return parts[0]
        return list(heapq.merge(*parts, key=_seq_key))

    def clear(self, buffers: Iterable[str] | None = None) -> None:
        """Empty these buffers (default: all), as ``logcat -c`` does."""
        for name in _names(buffers):
            ring = self._rings[name]
            ring.entries.clear()
            ring.used = 0

    # ------------------------------------------------------------------- sizes
    def size(self, buffer: str) -> int:
        """The ring's capacity in bytes."""
        return self._rings[buffer].max_size

    def used(self, buffer: str) -> int:
        """Bytes the ring's entries take now ("consumed" in ``logcat -g``)."""
        return self._rings[buffer].used

    def totals(self, buffer: str) -> tuple[int, int]:
        """Bytes and entries ever written to the ring since logd started (``logcat -S``)."""
        ring = self._rings[buffer]
        return ring.total_size, ring.total_count

    def count(self, buffer: str) -> int:
        """Entries in the ring now."""
        return len(self._rings[buffer].entries)

    def set_size(self, buffer: str, size: int) -> bool:
        """Resize a ring (``logcat -G``); False when logd would refuse the size."""
        if not MIN_BUFFER_SIZE <= size <= MAX_BUFFER_SIZE:
            return False
        ring = self._rings[buffer]
        ring.max_size = size
        ring.trim()
        return True

    # ------------------------------------------------------------- live readers
    def subscribe(
        self, buffers: Iterable[str] | None = None, after_seq: int | None = None
    ) -> LogSubscription:
        """A live reader that starts after ``after_seq`` (default: after the newest entry)."""
        sub = LogSubscription(self, buffers, self._seq if after_seq is None else after_seq)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: LogSubscription) -> None:
        self._subs.discard(sub)

    # --------------------------------------------------------------- lifecycle
    def _on_shutdown(self) -> None:
        """logd dies with the device: every live reader gets what was written, then its end."""
        subs, self._subs = self._subs, set()
        for sub in subs:
            sub._close()
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                try:
                    fut.set_result(None)
                except RuntimeError:
                    pass

    def _on_boot(self) -> None:
        """A fresh logd: empty buffers (RAM does not survive a reboot), no readers."""
        self._on_shutdown()
        self.clear()
        for ring in self._rings.values():
            ring.total_count = ring.total_size = 0


def _names(buffers: Iterable[str] | None) -> Iterable[str]:
    return BUFFER_NAMES if buffers is None else buffers


def _truncate_payload(tag: str, message: str) -> str:
    """Cut the message so priority + tag + NUL + message + NUL fit liblog's payload limit."""
    room = LOGGER_ENTRY_MAX_PAYLOAD - 3 - len(tag.encode())
    data = message.encode()
    if len(data) <= room:
        return message
    return data[: max(0, room)].decode(errors="ignore")
