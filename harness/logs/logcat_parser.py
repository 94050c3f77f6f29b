"""Incremental parser for `logcat -v threadtime` (also `-v year`, `-v epoch`, `-v uid`, `-v zone`).

Why bytes: logcat arrives as a byte stream that can be cut anywhere (USB drop, reboot) and
may carry invalid UTF-8 from apps; we split on ``\\n`` in bytes and decode each record once
with ``errors="replace"`` so a bad byte never costs a record, let alone a traceback.

Multi-line messages: logd stores one message with embedded newlines and logcat prints every
line with the full prefix. Consecutive lines whose prefix (time, pid, tid, level, tag) is
byte-identical are therefore joined into one record. This also joins two log calls from the
same thread in the same millisecond with the same tag (logcat prints nothing that tells them
apart) -- which is what we want for WorkManager's DiagnosticsWorker, whose section title and
table are such a pair; the vocabularies match every physical line of a joined record on its
own (vocab.py), so two results joined this way are still two events.

Selective parsing (`Interest`): the expectation engine only needs records with a handful of
tags. Scanning the buffer for those tags with `bytes.find` (C speed, like grep) and parsing
only the hit lines is what lets 20 live expectations keep up with a 1M-line log. The journal
keeps the raw bytes, so nothing is lost: any record can still be parsed later.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field

from .record import LogRecord

# threadtime / year / zone / uid: `[YYYY-]MM-DD HH:MM:SS.fff[ +zzzz] [uid ]pid tid L tag: msg`
_THREADTIME = re.compile(
    rb"(?:(\d{4})-)?(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3,9})(?: [+-]\d{4})? +"
    rb"(?:(\S+) +)?(\d+) +(\d+) ([VDIWEFA]) (.*?) *:(?: |$)"
)
# epoch: seconds right-aligned in 19 columns, then `.fff`
_EPOCH = re.compile(
    rb" *(\d+)\.(\d{3,9})(?: [+-]\d{4})? +(?:(\S+) +)?(\d+) +(\d+) ([VDIWEFA]) (.*?) *:(?: |$)"
)
_MARKER = b"--------- "
_LEVELS = {c.encode(): c for c in "VDIWEFA"}


@dataclass
class Interest:
    """Which records the caller wants materialised.

    `tags`: exact tags. `literals`: byte strings; a line containing one is wanted whatever
    its tag (a message regex with a required literal, e.g. ``FATAL EXCEPTION``). The needles
    actually searched are derived once: tags sharing a prefix of >= 3 chars (``WM-…``) are
    found with one scan of that prefix, since each scan costs a pass over the buffer.
    """

    tags: frozenset[str]
    literals: tuple[bytes, ...] = ()
    needles: tuple[bytes, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.needles = _needles(self.tags) + tuple(self.literals)
        self._columns: dict[int, re.Pattern[bytes]] = {}

    def column_scan(self, level_col: int) -> re.Pattern[bytes] | None:
        """One regex pass finding every wanted line of the standard layout (level letter at
        `level_col`): ``\n`` is a literal prefix sre searches fast, `.{N}` is a fixed skip, so
        the cost is one pass for all tags instead of one `find` pass per needle. A line whose
        level is not at that column (a pid of six digits or more) matches the second branch,
        and the caller falls back to the needle scan for that chunk.

        The skip is DOTALL: sre jumps N bytes at once instead of testing each for a newline
        (a sixth of the scan). A line shorter than N may therefore be skipped into the next
        one; a match that contains a newline after its first byte is such a line, and the
        caller goes on searching from that newline, so the next line is still tried."""
        if not self.tags:
            return None
        rx = self._columns.get(level_col)
        if rx is None:
            alts = prefix_tree(sorted({t.encode() for t in self.tags}))
            rx = re.compile(rb"\n(?s:.{%d})(?:(?P<w>[VDIWEFA] %s *:)|[^VDIWEFA\n])" % (level_col, alts))
            self._columns[level_col] = rx
        return rx

    def wants(self, tag: str, line: bytes) -> bool:
        return tag in self.tags or any(lit in line for lit in self.literals)


def prefix_tree(words: list[bytes]) -> bytes:
    """An alternation of ``words`` (sorted, distinct) factored by shared first bytes:
    ``W(?:M\\-(?:Processor|WorkerWrapper)|orkerWrapper)``. sre tries alternatives one by one
    and each failed one costs a step on every line; factored, a line whose tag starts with no
    wanted letter costs one failed branch per level instead of one per tag (the old and the
    `WM-` spellings of WorkManager's tags doubled the list)."""
    groups: dict[bytes, list[bytes]] = {}
    ends_here = False
    for w in words:
        if w:
            groups.setdefault(w[:1], []).append(w[1:])
        else:
            ends_here = True
    alts = [re.escape(first) + prefix_tree(rest) for first, rest in groups.items()]
    if not alts:
        return b""
    if len(alts) == 1 and not ends_here:
        return alts[0]
    return b"(?:" + b"|".join(alts) + b")" + (b"?" if ends_here else b"")


def _needles(tags: frozenset[str]) -> tuple[bytes, ...]:
    groups: dict[str, list[str]] = {}
    for tag in sorted(tags):
        groups.setdefault(tag[:3], []).append(tag)
    out: list[bytes] = []
    for key, members in groups.items():
        if len(members) > 1 and len(key) == 3:
            common = members[0]
            for m in members[1:]:
                while not m.startswith(common):
                    common = common[:-1]
            out.append(common.encode())
        else:
            out.extend(m.encode() for m in members)
    return tuple(out)


def year_not_after(reference_ns: int, month: int, day: int) -> int:
    """The year of a year-less ``MM-DD`` stamp logged no later than ``reference_ns`` (a day of
    slack: the log's clock may be ahead of UTC): a log from May read in December is from this
    May, one from December read in January from last December."""
    ref = time.gmtime(reference_ns // 1_000_000_000 + 86_400)
    return ref.tm_year if (month, day) <= (ref.tm_mon, ref.tm_mday) else ref.tm_year - 1


class LogcatParser:
    """Feed it bytes as they come; it returns complete records in stream order.

    `reference_ns` is the device's "now" (epoch ns, device wall clock taken as UTC) and
    decides the year of threadtime's ``MM-DD`` stamps: the first one is not later than the
    reference (`year_not_after`); afterwards the year rolls over when the month drops by more
    than six (December -> January).
    """

    def __init__(self, *, reference_ns: int | None = None, seq_start: int = 0) -> None:
        self._reference_ns: int | None = reference_ns if reference_ns is not None else time.time_ns()
        ref = time.gmtime(self._reference_ns // 1_000_000_000)
        self._year = ref.tm_year
        self._month = ref.tm_mon
        self._offset = seq_start  # stream offset (bytes) of the first byte of self._buf
        self._buf = b""
        self._pending: list | None = None  # [prefix, seq, fields, msg_parts, raw_parts]
        self._minute_cache: dict[tuple, int] = {}
        self._tag_cache: dict[bytes, str] = {}
        self.garbage = 0
        self.markers = 0
        self.last_line_ns = 0  # time of the last complete line seen, materialised or not
        self._level_col: int | None = None  # column of the level letter in the standard layout

    # -- public -------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Bytes of the stream consumed so far, including a buffered partial line."""
        return self._offset + len(self._buf)

    def feed(self, chunk: bytes | str, interest: Interest | None = None) -> list[LogRecord]:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        out: list[LogRecord] = []
        if not chunk:
            return out
        last_nl = chunk.rfind(b"\n")
        if last_nl == -1:
            self._buf += chunk
            return out
        start = 0
        if self._buf:
            first_nl = chunk.find(b"\n")
            line = self._buf + chunk[:first_nl]
            base = self._offset
            self._buf = b""
            self._offset = base + len(line) + 1
            start = first_nl + 1
            if interest is None:
                self._line(line, base, out)
            else:
                self._line_selective(line, base, interest, out)
        if start <= last_nl:
            if interest is None:
                self._full(chunk, start, last_nl, out)
            else:
                self._selective(chunk, start, last_nl, interest, out)
        self._offset += last_nl + 1 - start
        self._buf = chunk[last_nl + 1:]
        self._note_last_line(chunk, last_nl)
        for rec in out:
            if rec.time_ns > self.last_line_ns:
                self.last_line_ns = rec.time_ns
        return out

    def _note_last_line(self, chunk: bytes, last_nl: int) -> None:
        ls = chunk.rfind(b"\n", 0, last_nl) + 1
        line = chunk[ls:last_nl].rstrip(b"\r")
        m = _THREADTIME.match(line) or _EPOCH.match(line)
        if m is None:
            return
        if m.re is _THREADTIME:
            t = self._clock(*m.groups()[:7])
        else:
            t = int(m.group(1)) * 1_000_000_000 + int(m.group(2)) * 10 ** (9 - len(m.group(2)))
        if t > self.last_line_ns:
            self.last_line_ns = t

    def flush(self) -> list[LogRecord]:
        """End of stream: a trailing line without newline and the pending record are complete."""
        out: list[LogRecord] = []
        if self._buf:
            line, self._buf = self._buf, b""
            base = self._offset
            self._offset += len(line)
            self._line(line, base, out)
        self._emit(out)
        return out

    def discard_partial(self) -> object | None:
        """The stream broke: drop the cut line and the possibly incomplete multi-line record.

        Both will be printed again when logcat resumes with ``-T <last emitted time>``. The
        dropped record is returned (opaque) so a caller that learns the device rebooted --
        and will never see it again -- can still keep it with `emit_held`.
        """
        self._offset += len(self._buf)
        self._buf = b""
        held, self._pending = self._pending, None
        return held

    def emit_held(self, held: object | None) -> list[LogRecord]:
        out: list[LogRecord] = []
        if held is not None:
            self._emit(out)
            self._pending = held  # type: ignore[assignment]
            self._emit(out)
        return out

    # -- internals ----------------------------------------------------------------------
    def _full(self, data: bytes, start: int, end: int, out: list[LogRecord]) -> None:
        pos = self._offset
        line_fn = self._line
        for line in data[start:end].split(b"\n"):
            line_fn(line, pos, out)
            pos += len(line) + 1

    def _selective(self, data: bytes, start: int, end: int, interest: Interest, out: list) -> None:
        """Parse only lines a needle hits (plus their continuation lines)."""
        find, rfind = data.find, data.rfind
        starts: set[int] = set()
        pend = self._pending
        if pend is not None:
            if data.startswith(pend[0], start) or data.startswith(pend[0].rstrip(b" ") + b"\n", start):
                starts.add(start)
            else:
                self._emit(out)
        if self._level_col is None:
            self._learn_layout(data, start, end)
        rx = interest.column_scan(self._level_col) if self._level_col is not None else None
        needles = interest.needles
        if rx is not None:
            fast: set[int] = set()
            search = rx.search
            m = search(data, start - 1 if start > 0 else 0, end)
            while m is not None:
                cut = find(b"\n", m.start() + 1, m.end())
                if cut != -1:  # a line shorter than the header (a marker): none of ours, go on
                    m = search(data, cut, end)
                    continue
                if m.start("w") < 0:  # a line in another layout: this chunk takes the slow path
                    break
                fast.add(m.start() + 1)
                m = search(data, m.end(), end)
            else:
                starts |= fast
                needles = tuple(interest.literals)
                if start == 0:  # the chunk's first line has no newline before it
                    first = data[: find(b"\n", 0, end) if find(b"\n", 0, end) != -1 else end]
                    if any(n in first for n in interest.needles):
                        starts.add(0)
        for needle in needles:
            p = find(needle, start, end)
            while p != -1:
                ls = rfind(b"\n", start, p) + 1
                starts.add(ls if ls > start else start)
                nl = find(b"\n", p, end)
                if nl == -1:
                    break
                p = find(needle, nl, end)
        covered = start
        base = self._offset - start
        for ls in sorted(starts):
            if ls < covered:
                continue
            le = find(b"\n", ls, end)
            if le == -1:
                le = end
            line = data[ls:le]
            if line.endswith(b"\r"):
                line = line.rstrip(b"\r")
            pend = self._pending
            if pend is not None and ls == start and (
                line.startswith(pend[0]) or line == pend[0].rstrip(b" ")
            ):
                pend[3].append(_tail(line, pend[0]))
                pend[4].append(line)
            else:
                self._emit(out)
                m = _THREADTIME.match(line) or _EPOCH.match(line)
                if m is None or not interest.wants(m.group(m.lastindex).decode("utf-8", "replace"), line):
                    covered = le + 1
                    continue
                self._pending = pend = [line[: m.end()], base + ls, m, [line[m.end():]], [line]]
            prefix = pend[0]
            bare = prefix.rstrip(b" ")
            nxt = le + 1
            while nxt <= end and data.startswith(bare, nxt):
                e2 = find(b"\n", nxt, end)
                if e2 == -1:
                    e2 = end
                cont = data[nxt:e2]
                if cont.endswith(b"\r"):
                    cont = cont.rstrip(b"\r")
                if not (cont.startswith(prefix) or cont == bare):
                    break
                pend[3].append(_tail(cont, prefix))
                pend[4].append(cont)
                nxt = e2 + 1
            covered = nxt
            if nxt <= end:  # a different line follows: the record is complete
                self._emit(out)

    def _learn_layout(self, data: bytes, start: int, end: int) -> None:
        """Where the level letter sits in this stream's standard layout (5-wide pid and tid)."""
        le = data.find(b"\n", start, end)
        line = data[start: le if le != -1 else end].rstrip(b"\r")
        m = _THREADTIME.match(line) or _EPOCH.match(line)
        if m is None:
            return
        lvl = m.lastindex - 1  # groups: … [uid] pid tid level tag
        col = m.start(lvl)
        for g in (lvl - 1, lvl - 2, lvl - 3):  # tid, pid, uid: wider than 5 shifts the column
            if m.group(g) is not None and len(m.group(g)) > 5 and g >= lvl - 3:
                col -= len(m.group(g)) - 5
        self._level_col = col

    def _line_selective(self, line: bytes, pos: int, interest: Interest, out: list[LogRecord]) -> None:
        if line.endswith(b"\r"):
            line = line.rstrip(b"\r")
        pend = self._pending
        if pend is not None and (line.startswith(pend[0]) or line == pend[0].rstrip(b" ")):
            pend[3].append(_tail(line, pend[0]))
            pend[4].append(line)
            return
        self._emit(out)
        if not any(n in line for n in interest.needles):
            return
        m = _THREADTIME.match(line) or _EPOCH.match(line)
        if m is not None and interest.wants(m.group(m.lastindex).decode("utf-8", "replace"), line):
            self._pending = [line[: m.end()], pos, m, [line[m.end():]], [line]]

    def _line(self, line: bytes, pos: int, out: list[LogRecord]) -> None:
        if line.endswith(b"\r"):
            line = line.rstrip(b"\r")
        pend = self._pending
        if pend is not None:
            prefix = pend[0]
            if line.startswith(prefix) or line == prefix.rstrip(b" "):
                pend[3].append(_tail(line, prefix))
                pend[4].append(line)
                return
        m = _THREADTIME.match(line) or _EPOCH.match(line)
        if m is None:
            if line.startswith(_MARKER):
                self.markers += 1
            elif line.strip():
                self.garbage += 1
            self._emit(out)
            return
        self._emit(out)
        self._pending = [line[: m.end()], pos, m, [line[m.end():]], [line]]

    def _emit(self, out: list[LogRecord]) -> None:
        pend = self._pending
        if pend is None:
            return
        self._pending = None
        prefix, seq, m, msg_parts, raw_parts = pend
        if m.re is _THREADTIME:
            yb, mo, d, hh, mi, ss, frac, uid, pid, tid, lvl, tag = m.groups()
            time_ns = self._clock(yb, mo, d, hh, mi, ss, frac)
        else:
            secs, frac, uid, pid, tid, lvl, tag = m.groups()
            time_ns = int(secs) * 1_000_000_000 + int(frac) * 10 ** (9 - len(frac))
        if len(raw_parts) == 1:
            raw = raw_parts[0].decode("utf-8", "replace")
            # an ASCII prefix decodes to as many characters as bytes: slice instead of decoding twice
            message = raw[len(prefix):] if prefix.isascii() else msg_parts[0].decode("utf-8", "replace")
        else:
            message = b"\n".join(msg_parts).decode("utf-8", "replace")
            raw = b"\n".join(raw_parts).decode("utf-8", "replace")
        tags = self._tag_cache
        tag_s = tags.get(tag)
        if tag_s is None:
            tag_s = tag.decode("utf-8", "replace")
            if len(tags) < 4096:
                tags[tag] = tag_s
        out.append(LogRecord(
            time_ns, int(pid), int(tid), _LEVELS[lvl], tag_s, message,
            raw, seq, "", "", "", uid.decode("utf-8", "replace") if uid else "",
        ))

    def _clock(self, yb: bytes | None, mo: bytes, d: bytes, hh: bytes, mi: bytes, ss: bytes,
               frac: bytes) -> int:
        key = (yb, mo, d, hh, mi)
        base = self._minute_cache.get(key)
        if base is None:
            month = int(mo)
            if yb is not None:
                year = int(yb)
            else:
                before = self._year
                if self._reference_ns is not None:  # the first year-less stamp
                    self._year = year_not_after(self._reference_ns, month, int(d))
                    self._reference_ns = None
                elif month < self._month - 6:
                    self._year += 1
                elif month > self._month + 6:
                    self._year -= 1
                year = self._year
                if year != before:
                    self._minute_cache.clear()  # minutes cached under the old year are stale
            self._month = month
            try:
                base = calendar.timegm((year, month, int(d), int(hh), int(mi), 0)) * 1_000_000_000
            except (ValueError, OverflowError):
                base = 0
            if len(self._minute_cache) > 4096:
                self._minute_cache.clear()
            self._minute_cache[key] = base
        return base + int(ss) * 1_000_000_000 + int(frac) * 10 ** (9 - len(frac))


def _tail(line: bytes, prefix: bytes) -> bytes:
    return line[len(prefix):] if len(line) >= len(prefix) else b""


def format_time(time_ns: int, style: str = "threadtime") -> str:
    """Format a device time the way `logcat -T` accepts it (and threadtime prints it)."""
    secs, ns = divmod(time_ns, 1_000_000_000)
    if style == "epoch":
        return f"{secs}.{ns // 1_000_000:03d}"
    t = time.gmtime(secs)
    ms = ns // 1_000_000
    stamp = f"{t.tm_mon:02d}-{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms:03d}"
    return f"{t.tm_year:04d}-{stamp}" if style == "year" else stamp


def format_threadtime(rec: LogRecord, style: str = "threadtime") -> str:
    """Render a record as logcat prints it (one line per message line) -- for fixtures and tests."""
    stamp = format_time(rec.time_ns, style)
    if style == "epoch":
        stamp = f"{stamp:>23}"  # seconds right-aligned in 19 columns, then .mmm
    prefix = f"{stamp} {rec.pid:5d} {rec.tid:5d} {rec.level} {rec.tag:<8}: "
    return "\n".join(prefix + part for part in rec.message.split("\n"))
