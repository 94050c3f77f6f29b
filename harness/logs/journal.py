"""The per-device log journal: one ordered stream of `LogRecord`s that survives disconnects and
reboots, indexed by tag and task, saved as an artifact.

Resuming (the Mobly idea, our own code): when the stream breaks, the reader reconnects with
``logcat -T '<last time>'``. `-T` is inclusive, so records stamped with exactly that time come
again; the journal remembers the identity (time ms, pid, tid, tag, message) of the records in
that boundary millisecond and drops the repeats, while genuinely new records of the same
millisecond pass. Records cut in half by the break are discarded by the parser and arrive
whole with the resumed stream. A reboot empties the device buffers: nothing can repeat, the
reader starts without `-T`, and the half record from before the reboot is kept (it is the
best there will ever be).

Selective mode: with an expectation engine attached, only records the engine can use are
materialised (see `LogcatParser.feed(interest=…)`); the raw bytes are always kept, so the
saved artifact and any late question (`history_since`) see every record.

Thread model: a reader thread calls `feed` / `disconnected`; the runner reads under `lock`.
"""

from __future__ import annotations

import heapq
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

from .expect import ExpectationEngine
from .logcat_parser import Interest, LogcatParser, format_time
from .oslog_parser import OslogParser
from .record import NO_SEQ, LogRecord
from .vocab import TaskEvent, VocabState


class LogSource(Protocol):
    """A device's log stream, as the driver provides it.

    `open(since)` starts one reader -- Android: ``logcat -v threadtime -b all`` plus
    ``-T since`` when `since` is given -- and yields byte chunks until the stream ends
    (disconnect, reboot, stop). Raising `OSError` / `ConnectionError` also ends it.
    """

    def open(self, since: str | None) -> Iterable[bytes]: ...


class Journal:
    def __init__(self, *, platform: str = "android", engine: ExpectationEngine | None = None,
                 vocab: VocabState | None = None, reference_ns: int | None = None,
                 selective: bool = True, time_style: str = "threadtime",
                 always_tags: frozenset[str] = frozenset()) -> None:
        self.platform = platform
        self.engine = engine
        self.vocab = vocab if vocab is not None else (engine.vocab if engine is not None else None)
        self.selective = selective and engine is not None and platform == "android"
        self.time_style = time_style
        self.lock = threading.RLock()
        self._reference_ns = reference_ns
        self._parser = self._new_parser(0)
        self.records: list[LogRecord] = []
        self.by_tag: dict[str, list[LogRecord]] = {}
        self.by_task: dict[str, list[TaskEvent]] = {}
        # Selective mode keeps the raw stream in a spool file (not in memory: a day of logcat is
        # gigabytes) with the breaks and reboots at their offsets, to replay it in full later.
        self._spool: IO[bytes] | None = None
        self._spooled = 0
        self._marks: list[tuple[int, str]] = []  # (spool offset, "disconnect" | "reboot")
        self.dropped_duplicates = 0
        self.reconnects = 0
        self.reboots = 0
        self._last_ns = 0  # newest device time seen (records or lines)
        self._boundary_ms = -1
        self._boundary_keys: set[tuple] = set()
        self._resuming = False
        # The first record since the start (or the last reboot): the journal holds the buffer
        # from there on. A resume at its millisecond shows what came before it again.
        self._anchor: tuple[int, tuple] | None = None  # (ms, key)
        self._before_anchor = False
        self._interest: Interest | None = None
        self._interest_dirty = True
        self._held: object | None = None
        self.always_tags = frozenset(always_tags)  # materialised even in selective mode (markers)
        self._external: list[LogRecord] = []  # records from outside the device log (add_external)
        if engine is not None and self.selective:
            engine.on_add.append(self.refresh_interest)

    def _new_parser(self, seq_start: int) -> LogcatParser | OslogParser:
        if self.platform == "ios":
            return OslogParser(seq_start=seq_start)
        last = getattr(self, "_last_ns", 0)
        return LogcatParser(reference_ns=last or self._reference_ns, seq_start=seq_start)

    # -- input -------------------------------------------------------------------------------
    def refresh_interest(self) -> None:
        """Expectations changed: recompute which tags must be materialised."""
        self._interest_dirty = True

    def _current_interest(self) -> Interest | None:
        if not self.selective or self.engine is None:
            return None
        if self._interest_dirty:
            interest = self.engine.interest()
            if interest is not None and not self.always_tags <= interest.tags:
                interest = Interest(interest.tags | self.always_tags, interest.literals)
            self._interest = interest
            self._interest_dirty = False
        return self._interest

    def feed(self, chunk: bytes | str) -> list[LogRecord]:
        """Parse a chunk of the stream and append the complete records it finishes."""
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        with self.lock:
            if self.selective and chunk:
                if self._spool is None:
                    # lives as long as the journal (closed by close() or with it)
                    self._spool = tempfile.TemporaryFile(prefix="bgtest-journal-", buffering=0)  # noqa: SIM115
                self._spool.write(chunk)
                self._spooled += len(chunk)
            parser = self._parser
            if isinstance(parser, LogcatParser):
                recs = parser.feed(chunk, self._current_interest())
                line_ns = parser.last_line_ns
            else:
                recs = parser.feed(chunk)
                line_ns = 0
            added = [r for r in recs if self.append(r)]
            if line_ns // 1_000_000 > self._boundary_ms:
                # a newer line, materialised or not: past the resume boundary, and the new
                # boundary millisecond holds no materialised record yet
                self._resuming = False
                self._boundary_ms = line_ns // 1_000_000
                self._boundary_keys.clear()
            if line_ns > self._last_ns:
                self._last_ns = line_ns
            return added

    def append(self, rec: LogRecord) -> bool:
        """Add one record unless it repeats one already seen at the resume boundary."""
        with self.lock:
            ms = rec.time_ns // 1_000_000
            anchor = self._anchor
            if self._before_anchor and anchor is not None:
                # `-T` is inclusive of its millisecond, and before the journal's first record
                # that millisecond may hold lines it never had (older than its start: on a
                # virtual device in manual time, a whole earlier scenario). The anchor itself
                # comes again and is dropped as a repeat below.
                if ms == anchor[0] and rec.key() != anchor[1]:
                    self.dropped_duplicates += 1
                    return False
                self._before_anchor = False
            if self._anchor is None:
                self._anchor = (ms, rec.key())
            if self._resuming:
                if ms < self._boundary_ms:
                    self.dropped_duplicates += 1
                    return False
                if ms == self._boundary_ms:
                    if rec.key() in self._boundary_keys:
                        self.dropped_duplicates += 1
                        return False
                else:
                    self._resuming = False
            if ms > self._boundary_ms:
                self._boundary_ms = ms
                self._boundary_keys.clear()
            if ms == self._boundary_ms:
                self._boundary_keys.add(rec.key())
            if rec.time_ns > self._last_ns:
                self._last_ns = rec.time_ns
            self.records.append(rec)
            lst = self.by_tag.get(rec.tag)
            if lst is None:
                self.by_tag[rec.tag] = [rec]
            else:
                lst.append(rec)
            if self.engine is not None:
                events = self.engine.feed(rec)
            elif self.vocab is not None:
                events = self.vocab.events(rec)
            else:
                events = []
            for ev in events:
                for name in ev.names or (ev.task,):
                    self.by_task.setdefault(name, []).append(ev)
            return True

    def add_external(self, rec: LogRecord) -> None:
        """A record that did not come from the device's log (a request the proxy saw): searched
        like any record, and kept apart so a re-read of the device stream still has it. It has
        no place in the stream (``seq`` -1): its device time alone puts it in a window."""
        with self.lock:
            rec.seq = NO_SEQ
            self._external.append(rec)
            if rec.time_ns > self._last_ns:
                self._last_ns = rec.time_ns
            self.records.append(rec)
            self.by_tag.setdefault(rec.tag, []).append(rec)
            if self.engine is not None:
                self.engine.feed(rec)

    def flush(self) -> list[LogRecord]:
        """End of a finished stream (e.g. `logcat -d`): the last line and pending record count."""
        with self.lock:
            return [r for r in self._parser.flush() if self.append(r)]

    def disconnected(self) -> None:
        """The stream broke (USB drop, adb restart, the device going down)."""
        with self.lock:
            self._marks.append((self._spooled, "disconnect"))
            self._held = self._parser.discard_partial()
            self._resuming = self._boundary_ms >= 0
            self._before_anchor = self._resuming and self._anchor is not None and (
                self._anchor[0] == self._boundary_ms
            )
            self.reconnects += 1

    def rebooted(self) -> None:
        """The device rebooted: its buffers are empty, the next reader starts from scratch."""
        with self.lock:
            self._marks.append((self._spooled, "reboot"))
            held, self._held = self._held, None
            self._before_anchor = False  # the held record is the journal's own, after its anchor
            # the half record is the best there will ever be -- unless it was itself a repeat
            # read again after a resume, so it still goes through the boundary check
            for rec in self._parser.emit_held(held):
                self.append(rec)
            self._resuming = False
            self._anchor = None  # a new buffer: nothing before its first record
            seq = self._parser.offset if isinstance(self._parser, LogcatParser) else self._parser.seq
            self._parser = self._new_parser(seq)
            self.reboots += 1

    def resume_since(self) -> str | None:
        """The `-T` argument for the next reader (None: read the whole buffer)."""
        with self.lock:
            if not self._resuming or self._boundary_ms < 0:
                return None
            return format_time(self._boundary_ms * 1_000_000, self.time_style)

    def resume_args(self) -> list[str]:
        since = self.resume_since()
        return ["-T", since] if since is not None else []

    def follow(self, source: LogSource, *, should_stop: Callable[[], bool],
               max_reconnects: int | None = None,
               on_disconnect: Callable[[BaseException | None], None] | None = None) -> None:
        """Read `source` until `should_stop()`, reconnecting with `-T` after every break.

        `on_disconnect` runs after each break (the driver waits for the device there, and calls
        `rebooted()` if it rebooted) before the next `open`.
        """
        breaks = 0
        while not should_stop():
            error: BaseException | None = None
            try:
                for chunk in source.open(self.resume_since()):
                    self.feed(chunk)
                    if should_stop():
                        return
            except (OSError, ConnectionError) as exc:
                error = exc
            if should_stop():
                return
            self.disconnected()
            breaks += 1
            if on_disconnect is not None:
                on_disconnect(error)
            if max_reconnects is not None and breaks > max_reconnects:
                return

    # -- queries -----------------------------------------------------------------------------
    @property
    def last_time_ns(self) -> int:
        return self._last_ns

    def tag(self, tag: str) -> list[LogRecord]:
        with self.lock:
            return list(self.by_tag.get(tag, ()))

    def task(self, task: str) -> list[TaskEvent]:
        with self.lock:
            return list(self.by_task.get(task, ()))

    def history_since(self, anchor_ns: int) -> list[LogRecord]:
        """Records since `anchor_ns` for an expectation added late (see `ExpectationEngine.add`)."""
        if anchor_ns > self._last_ns:
            return []
        return [r for r in self.all_records() if r.time_ns >= anchor_ns]

    def all_records(self) -> list[LogRecord]:
        """Re-read the kept raw stream in full, with the same de-duplication as live."""
        if not self.selective:
            with self.lock:
                return list(self.records)
        with self.lock:
            size, marks, spool = self._spooled, list(self._marks), self._spool
            external = list(self._external)
        replay = Journal(platform=self.platform, reference_ns=self._reference_ns, selective=False,
                         time_style=self.time_style)
        pos = 0
        for end, kind in [*marks, (size, "")]:
            while pos < end and spool is not None:
                with self.lock:  # the reader appends to the same file: read, then back to its end
                    spool.seek(pos)
                    data = spool.read(min(1 << 20, end - pos)) or b""
                    spool.seek(0, os.SEEK_END)
                if not data:
                    break
                replay.feed(data)
                pos += len(data)
            if kind == "disconnect":
                replay.disconnected()
            elif kind == "reboot":
                replay.rebooted()
        replay.flush()
        if external:  # in device-time order among the device's own records
            return list(heapq.merge(replay.records, external, key=lambda r: r.time_ns))
        return replay.records

    def iter_lines(self) -> Iterator[str]:
        for rec in self.all_records():
            yield rec.raw if rec.raw else f"{rec.level}/{rec.tag}: {rec.message}"

    def close(self) -> None:
        """Drop the spool file (the journal's records stay)."""
        with self.lock:
            if self._spool is not None:
                self._spool.close()
                self._spool = None
                self._spooled = 0
                self._marks.clear()

    def save(self, path: str | Path) -> Path:
        """Write the journal artifact: every record once, as the device printed it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", errors="replace") as fh:
            for line in self.iter_lines():
                fh.write(line)
                fh.write("\n")
        return path
