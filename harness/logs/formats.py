"""The text formats people capture device logs in, and reading a capture whatever its format.

`bgtest logs` reads what a person saved or pasted: `adb logcat` in every `-v` format, Android
Studio's copies (before and after its 2022 logcat rewrite), `flutter run` output, iOS `log
stream`/`log show` styles, Console.app and Xcode console copies, idevicesyslog. The format is
detected per file (the one whose header matches most of the first lines) and named in the
output. The live journals read `-v threadtime` and ndjson with `LogcatParser` / `OslogParser`;
a capture in those formats goes through the very same parsers here.

A line without the format's header is never fatal: right after a record it continues that
record (multi-line NSLog bodies, `log --style long` bodies, hard-wrapped pastes); otherwise it
is a record of its own with an unknown source, which the vocabularies try against every rule
(a paste that lost its header). Such lines are counted and listed (`--verbose`). Known
non-log lines (`(lldb)` commands, `flutter run`'s own output, `log` banners) are skipped.

Large captures: with an `Interest` (the vocabulary's tags) only the lines whose header names
one of those tags -- plus every line that has no header at all -- are parsed, found with one
regex pass per chunk, which keeps a million-line capture within a few times `grep`.
"""

from __future__ import annotations

import calendar
import errno
import mmap
import os
import re
import stat
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .logcat_parser import Interest, LogcatParser, prefix_tree, year_not_after
from .oslog_parser import OslogParser
from .record import LogRecord

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

# -- pieces -----------------------------------------------------------------------------------
_DATE = r"(?P<year>\d{4})-(?P<mon>\d\d)-(?P<day>\d\d)"
_MD = r"(?:(?P<year>\d{4})-)?(?P<mon>\d\d)-(?P<day>\d\d)"
_CLOCK = r"(?P<hh>\d\d):(?P<mi>\d\d):(?P<ss>\d\d)\.(?P<frac>\d{1,9})"
_ZONE = r"(?P<zone>[+-]\d\d:?\d\d)"
_LVL = r"(?P<level>[VDIWEFA])"
_JUNK = r"(?:`|\*\*|> )?"  # Markdown a paste may open the line with (a backtick, bold, a quote)


@dataclass(frozen=True)
class LineFormat:
    """One header layout. `rx` parses a whole line; `scan` (Android formats) is the header up to
    the tag, for the selective pass; `tail` what follows the tag there."""

    name: str
    platform: str
    rx: re.Pattern[str]
    scan: bytes = b""
    tail: bytes = b""
    body_follows: bool = False  # `-v long`: the message starts on the next line
    padded: bool = False  # the tag sits in a padded column (Android Studio): scan at that column
    lead: bytes = b""  # how every header line starts (cheap: tried on every line of a large capture)


def _f(name: str, platform: str, pattern: str, scan: bytes = b"", tail: bytes = b"",
       body_follows: bool = False, padded: bool = False, lead: bytes = b"") -> LineFormat:
    return LineFormat(name, platform, re.compile(pattern), scan, tail, body_follows, padded, lead or scan)


#: Tried in this order; on a tie in detection the earlier (more specific) one wins.
FORMATS: tuple[LineFormat, ...] = (
    # adb logcat -v threadtime (+ year, zone, uid, usec/nsec); epoch: seconds since 1970
    _f("threadtime", "android",
       rf"^{_JUNK}{_MD} {_CLOCK}(?: {_ZONE})? +(?:(?P<uid>\S+) +)?(?P<pid>\d+) +(?P<tid>\d+) {_LVL} "
       r"(?P<tag>.*?) *:(?: (?P<msg>.*))?$"),
    _f("threadtime-epoch", "android",
       rf"^ *(?P<epoch>\d+)\.(?P<frac>\d{{3,9}})(?: {_ZONE})? +(?:(?P<uid>\S+) +)?(?P<pid>\d+) +(?P<tid>\d+) "
       rf"{_LVL} (?P<tag>.*?) *:(?: (?P<msg>.*))?$"),
    # -v time: `03-02 00:27:38.286 I/Tag(31375): msg`
    _f("time", "android",
       rf"^{_JUNK}{_MD} {_CLOCK}(?: {_ZONE})? {_LVL}/(?P<tag>[^(]*?) *\( *"
       r"(?:(?P<uid>[^:()]+): *)?(?P<pid>\d+)\): ?(?P<msg>.*)$",
       rb"(?:\d{4}-)?\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?: [+-]\d{4})? [VDIWEFA]/", rb" *\(",
       lead=rb"(?:\d{4}-)?\d\d-"),
    # -v time,epoch: `    1767603600.000 D/Tag( 1522): msg`
    _f("time-epoch", "android",
       rf"^ *(?P<epoch>\d+)\.(?P<frac>\d{{3,9}})(?: {_ZONE})? {_LVL}/(?P<tag>[^(]*?) *\( *"
       r"(?:(?P<uid>[^:()]+): *)?(?P<pid>\d+)\): ?(?P<msg>.*)$",
       rb" *\d+\.\d+(?: [+-]\d{4})? [VDIWEFA]/", rb" *\(", lead=rb" *\d"),
    # Android Studio 2022+ (Electric Eel): `2024-08-06 20:16:47.304  6930-6958  Tag  com.pkg  I  msg`
    _f("studio-2022", "android",
       rf"^{_JUNK}{_DATE} {_CLOCK} +(?P<pid>\d+)-(?P<tid>\d+) +(?P<tag>\S+) +(?P<process>\S+) +{_LVL} {{1,2}}"
       r"(?P<msg>.*)$",
       rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ +\d+-\d+ +", rb" ", padded=True, lead=rb"\d{4}-"),
    # Android Studio before 2022: `[YYYY-]MM-DD hh:mm:ss.mmm pid-tid/com.pkg L/Tag: msg` (`?` = unknown)
    _f("studio-legacy", "android",
       rf"^{_JUNK}{_MD} {_CLOCK} +(?P<pid>\d+)-(?P<tid>\d+)/(?P<process>\S+) {_LVL}/"
       r"(?P<tag>.*?): ?(?P<msg>.*)$",
       rb"(?:\d{4}-)?\d\d-\d\d \d\d:\d\d:\d\d\.\d+ +\d+-\d+/\S+ [VDIWEFA]/", rb":",
       lead=rb"(?:\d{4}-)?\d\d-"),
    # -v long: `[ 05-12 10:00:00.123  1234: 1250 I/MyTag ]`, the message on the following lines
    _f("long", "android",
       rf"^\[ +(?:{_MD} {_CLOCK}|(?P<epoch>\d+)\.(?P<frac2>\d+))(?: {_ZONE})? +(?:(?P<uid>\S+) +)?"
       rf"(?P<pid>\d+): *(?P<tid>\d+) {_LVL}/(?P<tag>.*?) *\]$", body_follows=True),
    # -v brief (what `flutter run` prints for Android): `I/Tag( 1234): msg`; a paste may lose `I/`
    _f("brief", "android",
       rf"^{_JUNK}(?:{_LVL}/)?(?P<tag>[^\s(/][^(]*?|) *\( *(?:(?P<uid>[^:()]+): *)?(?P<pid>\d+)\): ?"
       r"(?P<msg>.*)$",
       rb"[VDIWEFA]/", rb" *\("),
    # -v process: `I( 1234) msg  (Tag)`
    _f("process", "android", rf"^{_LVL}\( *(?P<pid>\d+)\) (?P<msg>.*?)  \((?P<tag>[^()]*)\)$"),
    # -v tag: `I/Tag   : msg`
    _f("tag", "android", rf"^{_JUNK}{_LVL}/(?P<tag>[^:]*?) *: ?(?P<msg>.*)$", rb"[VDIWEFA]/", rb" *:"),
    # iOS: Xcode's console (NSLog): `2020-03-04 10:00:03.996042+0300 App[989:242302] msg`
    _f("xcode-console", "ios",
       rf"^(?:\(lldb\) )?{_JUNK}{_DATE} {_CLOCK}{_ZONE} (?P<process>[^\[\s]+)\[(?P<pid>\d+):"
       r"(?P<tid>[0-9a-fx]+)\] (?P<msg>.*)$"),
    # `log stream|show --style syslog`: `2023-09-27 22:55:39.622369+0200  localhost proc[41737]: (Sender) msg`
    _f("log-syslog", "ios",
       rf"^{_DATE} {_CLOCK}{_ZONE} +(?P<host>\S+) (?P<process>[^\[\s]+)\[(?P<pid>\d+)\]: "
       r"(?:\((?P<sender>[^)]*)\) )?(?:\[(?P<subsystem>[^:\]\s]+):(?P<category>[^\]]+)\] )?(?P<msg>.*)$"),
    # `--style compact`: `2026-10-09 09:06:13.210 Df Proc[10112:19172] [subsys:cat] msg`
    _f("log-compact", "ios",
       rf"^{_DATE} {_CLOCK} (?P<type>Df|Db|E |F |I |A |Er|Fa) +(?P<process>[^\[\s]+)\[(?P<pid>\d+):"
       r"(?P<tid>[0-9a-fx]+)\] (?:\[(?P<subsystem>[^:\]\s]+):(?P<category>[^\]]+)\] |\((?P<sender>[^)]*)\) )?"
       r"(?P<msg>.*)$"),
    # `--style default`: `2025-08-09 10:11:55.521570-0400 0x115ddb  Default  0x0  51184  0  proc: msg`
    _f("log-default", "ios",
       rf"^{_DATE} {_CLOCK}{_ZONE} +(?P<tid>0x[0-9a-f]+) +(?P<type>\w+) +0x[0-9a-f]+ +(?P<pid>\d+) +\d+ +"
       r"(?P<process>[^:\s]+): (?:\((?P<sender>[^)]*)\) )?"
       r"(?:\[(?P<subsystem>[^:\]\s]+):(?P<category>[^\]]+)\] )?(?P<msg>.*)$"),
    # Console.app selection copied as text: `[type<TAB>]time<TAB>process<TAB>msg`
    _f("console-app", "ios",
       rf"^(?:(?P<type>default|info|debug|error|fault|activity)\t)?(?:{_DATE} )?{_CLOCK}{_ZONE}?\t"
       r"(?P<process>[^\t]+)\t(?P<msg>.*)$"),
    # idevicesyslog: `Mar  4 10:00:03 iPhone App(BackgroundTasks)[989] <Notice>: msg`
    _f("idevicesyslog", "ios",
       r"^(?P<mname>[A-Z][a-z]{2}) +(?P<day>\d+) (?P<hh>\d\d):(?P<mi>\d\d):(?P<ss>\d\d)(?:\.(?P<frac>\d+))? "
       r"(?P<host>\S+) (?P<process>[^\[(\s]+)(?:\((?P<sender>[^)]*)\))?\[(?P<pid>\d+)\] <(?P<type>\w+)>: "
       r"(?P<msg>.*)$"),
    # A paste that kept only `Tag: msg` (every other header field deleted)
    _f("tag-message", "android", r"^(?P<tag>[A-Za-z][\w.$-]*): (?P<msg>.*)$"),
)
#: `flutter run` prints its own progress between the app's `-v brief` lines.
_FLUTTER_TOOL = re.compile(
    r"^(?:Launching lib/|Syncing files to device|Running Gradle task|Running 'gradlew|Built build/|"
    r"Initializing gradle|Resolving dependencies|Flutter run key commands|An Observatory debugger|"
    r"The Flutter DevTools|A Dart VM Service|Waiting for .* to report its views|Xcode build done)"
)
BY_NAME = {f.name: f for f in FORMATS}
BY_NAME["flutter-run"] = replace(BY_NAME["brief"], name="flutter-run")
NDJSON = "log-ndjson"
#: A capture with no header at all (what `flutter run` shows for iOS, a quoted line).
PLAIN = "message-only"
ALL_NAMES = (*BY_NAME, NDJSON, PLAIN)
#: `flutter run` on iOS prints the app's output bare, Dart's print() as `flutter: …`.
_FLUTTER_IOS = re.compile(r"^flutter: ")

#: Lines that are not log lines: debugger commands, `flutter run`'s own output, `log` banners.
_NOT_LOG = re.compile(
    r"^(?:\(lldb\)|--------- (?:beginning of|switch to) |Filtering the log data|Skipping info and debug|"
    r"getpwuid_r|Error from getpwuid_r|Timestamp {2,}|\{\"count\":\d+,\"finished\":1\})"
)


#: ANSI colour and style codes (SGR): `logcat -v color` wraps each line in them.
_SGR = re.compile(rb"\x1b\[[0-9;]*m")


class UnknownFormat(ValueError):
    """No line of a capture has a header bgtest knows (and nothing says it is message-only)."""


@dataclass
class Capture:
    """A capture read: its records (`seq` = 1-based line of the first message line), the format
    used, and the lines read without a header."""

    path: str
    format: str
    platform: str
    records: list[LogRecord] = field(default_factory=list)
    headerless: list[tuple[int, str]] = field(default_factory=list)  # (line, text)
    headerless_count: int = 0
    times: dict[int, str] = field(default_factory=dict)  # seq -> ISO 8601 device time as printed


def detect(lines: list[str], platform: str | None = None) -> tuple[str, str] | None:
    """(format, platform) of a capture from its first lines; None when no header matches."""
    scores: dict[str, int] = {}
    seen = 0
    for line in lines:
        if not line.strip():
            continue
        seen += 1
        if seen % 64 == 0 and max(scores.values(), default=0) * 10 >= seen * 9:
            break  # a format has read (nearly) every line so far: enough evidence
        if line.lstrip().startswith("{"):
            scores[NDJSON] = scores.get(NDJSON, 0) + 1
            continue
        for fmt in FORMATS:
            if platform and fmt.platform != platform:
                continue
            if fmt.rx.match(line):
                scores[fmt.name] = scores.get(fmt.name, 0) + 1
    if scores.get("tag-message") and scores["tag-message"] * 2 < seen:
        del scores["tag-message"]  # `Word: text` in a minority of lines is prose, not a header
    if not scores:
        return None
    order = {n: i for i, n in enumerate(ALL_NAMES)}
    best = max(scores, key=lambda n: (scores[n], -order[n]))
    if best == "brief" and any(_FLUTTER_TOOL.match(x) for x in lines):
        best = "flutter-run"
    return best, ("ios" if best == NDJSON else BY_NAME[best].platform)


def sniff(path: str | Path, platform: str | None = None) -> tuple[bytes, str, str]:
    """Read a capture and detect its format: (bytes, format, platform). Raises `UnknownFormat`
    (its message names the file and the formats tried) and `OSError`."""
    p = Path(path)
    data = _mapped(p)
    if _SGR.search(data[:1 << 18]):  # `adb logcat -v color`, a CI job's log: colours are not text
        data = _SGR.sub(b"", data[:])
    head = data[:1 << 18].decode("utf-8", "replace").splitlines()[:2000]
    found = detect(head, platform)
    if found is not None:
        return data, found[0], found[1]
    if not any(line.strip() for line in head):
        raise UnknownFormat(f"{p}: empty capture (no log lines)")
    if platform is None and any(_FLUTTER_IOS.match(line) for line in head):
        platform = "ios"
    if platform is None:
        raise UnknownFormat(
            f"{p}: no line has a log header bgtest knows; tried {', '.join(ALL_NAMES[:-1])} "
            f"(to read it as bare messages, give --platform android|ios)")
    return data, PLAIN, platform


def _mapped(path: Path) -> bytes:
    """The file's bytes: mapped, not copied, when it is a non-empty regular file (a million-line
    capture is a hundred megabytes; the scans read it in place, `grep`-like). A mapping reads
    like bytes for what the readers do (slices, `find`, regexes); it closes when dropped."""
    with path.open("rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):  # /dev/zero would be read until memory runs out
            kind = "a character device" if stat.S_ISCHR(mode) else "a block device"
            raise OSError(errno.EINVAL, f"it is {kind}; give a saved capture, or a pipe: <(adb logcat -d)")
        try:
            if os.fstat(fh.fileno()).st_size and stat.S_ISREG(mode):
                return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)  # type: ignore[return-value]
        except (OSError, ValueError):
            pass  # a file that cannot be mapped is read
        return fh.read()


def read_capture(path: str | Path, *, platform: str | None = None, interest: Interest | None = None,
                 reference_ns: int | None = None, keep_headerless: int = 200,
                 sniffed: tuple[bytes, str, str] | None = None) -> Capture:
    """Read one capture file (see `sniff` for errors). `interest` lets large captures skip the
    lines no vocabulary can use; a year-less date takes its year from the file's mtime."""
    p = Path(path)
    data, fmt_name, plat = sniffed if sniffed is not None else sniff(p, platform)
    if reference_ns is None:
        reference_ns = int(p.stat().st_mtime * 1_000_000_000)
    cap = Capture(str(p), fmt_name, plat)
    if fmt_name == NDJSON:
        _read_ndjson(data, cap)
    elif fmt_name in ("threadtime", "threadtime-epoch"):
        _read_threadtime(data, cap, interest, reference_ns)
    else:
        _LineReader(cap, BY_NAME.get(fmt_name), reference_ns, keep_headerless).read(data, interest)
    return cap


# -- the live parsers, on a file ----------------------------------------------------------------
class _LineCounter:
    """1-based line number of increasing byte offsets, counting newlines incrementally."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.line = 1

    def at(self, offset: int) -> int:
        if offset < self.pos:  # not expected: records come in stream order
            self.pos, self.line = 0, 1
        self.line += self.data[self.pos:offset].count(b"\n")  # (a mapping has no count)
        self.pos = offset
        return self.line


def _read_threadtime(data: bytes, cap: Capture, interest: Interest | None, reference_ns: int) -> None:
    parser = LogcatParser(reference_ns=reference_ns)
    recs: list[LogRecord] = []
    step = 1 << 20  # as the live journal is fed: the parser learns the layout from a chunk's first line
    for at in range(0, len(data), step):
        recs += parser.feed(data[at:at + step], interest)
    recs += parser.flush()
    counter = _LineCounter(data)
    for rec in recs:
        rec.seq = counter.at(rec.seq)
        cap.records.append(rec)
        cap.times[rec.seq] = _iso_from_ns(rec.time_ns)
    cap.headerless_count = parser.garbage


def _read_ndjson(data: bytes, cap: Capture) -> None:
    parser = OslogParser()
    for line_no, raw in enumerate(data[:].split(b"\n"), 1):
        for rec in parser.feed(raw + b"\n"):
            rec.seq = line_no
            cap.records.append(rec)
            m = re.search(r'"timestamp"\s*:\s*"([^"]+)"', rec.raw)
            cap.times[line_no] = _iso_text(m.group(1)) if m else _iso_from_ns(rec.time_ns)
    cap.headerless_count = parser.garbage


# -- every other format, line by line ----------------------------------------------------------
def _tag_column(data: bytes, fmt: LineFormat) -> int | None:
    """Where the tag column starts, from the first header line (None: no ASCII header found)."""
    for raw in data[:1 << 16].split(b"\n")[:50]:
        m = fmt.rx.match(raw.decode("utf-8", "replace"))
        if m is not None and raw[: m.start("tag")].isascii():
            return m.start("tag") or None
    return None


class _LineReader:
    def __init__(self, cap: Capture, fmt: LineFormat | None, reference_ns: int, keep: int) -> None:
        self.cap = cap
        self.fmt = fmt
        self.keep = keep
        ref = time.gmtime(reference_ns // 1_000_000_000)
        self.year, self.month = ref.tm_year, ref.tm_mon
        self._saved: int | None = reference_ns  # the capture was saved then: no date is later
        self.current: LogRecord | None = None
        self.parts: list[str] = []
        self.last_line = 0

    def read(self, data: bytes, interest: Interest | None) -> None:
        fmt = self.fmt
        if interest is not None and fmt is not None and fmt.scan and interest.tags:
            starts = self._scan(data, interest, fmt)
            lines_at = _LineCounter(data)
            i = 0
            while i < len(starts):
                i = self._read_on(data, starts, i, lines_at.at(starts[i]), fmt)
        else:
            for no, line in enumerate(data[:].decode("utf-8", "replace").split("\n"), 1):
                self.line(no, line.rstrip("\r"))
        self._close()

    def _read_on(self, data: bytes, starts: list[int], i: int, no: int, fmt: LineFormat) -> int:
        """Read the picked line ``starts[i]`` (line ``no``) and go on through the lines after it —
        picked ones, and any without a header whether picked or not — up to a header the scan
        passed over: what the full read makes of a line (a message's continuation, a line of its
        own, a blank that ends a record) must not depend on the scan. Returns the index of the
        next picked line not read yet."""
        size, start, i = len(data), starts[i], i + 1
        end = data.find(b"\n", start)
        while True:
            end = size if end == -1 else end
            self.line(no, data[start:end].decode("utf-8", "replace").rstrip("\r"))
            if end >= size:
                return len(starts)
            start, no = end + 1, no + 1
            end = data.find(b"\n", start)
            if i < len(starts) and starts[i] == start:
                i += 1  # picked: read here, in order
            elif fmt.rx.match(data[start: size if end == -1 else end].decode("utf-8", "replace")):
                return i  # another tag's header, passed over: so is what follows it

    @staticmethod
    def _scan(data: bytes, interest: Interest, fmt: LineFormat) -> list[int]:
        """Line starts worth parsing: a header naming a wanted tag, or no header at all. One
        regex pass: it starts with a literal newline, which `re` finds at C speed, and tries the
        fixed header layout only there (the first line is always parsed).

        A line is passed over only when it is certainly the header of a tag nobody wants, and
        that whole test is one negative lookahead after the newline: the common line (another
        tag's header) costs one assertion and no branch — an alternation tried on every line
        was a quarter of the scan. Every other line is a match."""
        tags = prefix_tree(sorted({t.encode() for t in interest.tags}))
        col = _tag_column(data, fmt) if fmt.padded else None
        if not col:
            rx = re.compile(rb"\n(?!(?=" + fmt.lead + rb")(?!" + fmt.scan + tags + fmt.tail + rb"))")
            return [0, *(m.start() + 1 for m in rx.finditer(data))]
        # Android Studio's tag column: passed over is a line with a head (`lead`) and, at the
        # column, a space, no wanted tag, a tag's first letter; a match is a wanted tag, a column
        # that moved, no header at all, a blank. The skip to the column is DOTALL (sre jumps
        # instead of testing each byte for a newline): on a header-led line shorter than the
        # column it reads the next line's bytes and may pass the short line over — `_read_on`
        # reads it anyway after the line before it, unless that is another tag's header (whose
        # continuation it then is). Each newline is tried on its own: the next line always is.
        skip = rb"(?s:.{%d}) (?!" % (col - 1) + tags + fmt.tail + rb")[^ ]"
        rx = re.compile(rb"\n(?!(?=" + fmt.lead + rb")" + skip + rb")")
        return [0, *(m.start() + 1 for m in rx.finditer(data))]

    def line(self, no: int, text: str) -> None:
        fmt = self.fmt
        if not text.strip():
            self._close()
            return
        m = fmt.rx.match(text) if fmt is not None else None
        if m is None:
            if _NOT_LOG.match(text) or _FLUTTER_TOOL.match(text):
                self._close()
                return
            self._headerless(no, text)
            return
        self._close()
        rec, iso = self._record(m, no, text)
        if fmt is not None and fmt.body_follows:
            rec.seq = no + 1
            self.parts = []
        else:
            self.parts = [rec.message]
        self.current = rec
        self.last_line = no
        self.cap.times[rec.seq] = iso

    def _headerless(self, no: int, text: str) -> None:
        cap = self.cap
        if self.fmt is not None:
            cap.headerless_count += 1
            if len(cap.headerless) < self.keep:
                cap.headerless.append((no, text))
        if self.current is not None and no == self.last_line + 1:
            self.parts.append(text)  # a continuation: multi-line body, wrapped line
            self.current.raw += "\n" + text
            self.last_line = no
            return
        self._close()
        self.current = LogRecord(0, 0, 0, "", "", text, raw=text, seq=no)
        self.parts = [text]
        self.last_line = no

    def _close(self) -> None:
        rec = self.current
        if rec is None:
            return
        self.current = None
        rec.message = "\n".join(self.parts)
        self.cap.records.append(rec)

    def _record(self, m: re.Match[str], no: int, text: str) -> tuple[LogRecord, str]:
        g = m.groupdict()
        ns, iso = self._time(g)
        process = g.get("process") or ""
        if process == "?":
            process = ""
        tag = g.get("tag")
        if tag is None:
            tag = process
        level = g.get("level") or (g.get("type") or "").strip() or ""
        pid = int(g["pid"]) if g.get("pid") else 0
        tid_text = g.get("tid") or ""
        tid = int(tid_text, 16) if tid_text.startswith("0x") else int(tid_text) if tid_text.isdigit() else 0
        rec = LogRecord(ns, pid, tid, level, tag.strip(), g.get("msg") or "", raw=text, seq=no,
                        subsystem=g.get("subsystem") or "", category=g.get("category") or "",
                        process=process, uid=g.get("uid") or "")
        return rec, iso

    def _time(self, g: dict[str, str | None]) -> tuple[int, str]:
        if g.get("epoch"):
            frac = g.get("frac") or g.get("frac2") or "0"
            ns = int(g["epoch"] or 0) * 1_000_000_000 + int(frac) * 10 ** (9 - len(frac))
            return ns, _iso_from_ns(ns, g.get("zone"))
        if not g.get("hh"):
            return 0, ""
        frac = g.get("frac") or "0"
        mon_text = g.get("mon")
        month = int(mon_text) if mon_text else _MONTHS.get(g.get("mname") or "", 0)
        day = int(g["day"]) if g.get("day") else 0
        if g.get("year"):
            year: int | None = int(g["year"] or 0)
        elif month:
            year = self._year_for(month, day)
        else:
            year = None
        secs = int(g["hh"] or 0) * 3600 + int(g["mi"] or 0) * 60 + int(g["ss"] or 0)
        zone = _zone(g.get("zone"))
        clock = f"{g['hh']}:{g['mi']}:{g['ss']}.{frac}"
        if year is None:  # a time of day only (Console.app, Xcode copies without date)
            return secs * 1_000_000_000 + int(frac) * 10 ** (9 - len(frac)), clock + zone
        try:
            base = calendar.timegm((year, month, day, 0, 0, 0))
        except (ValueError, OverflowError):
            base = 0
        ns = (base + secs) * 1_000_000_000 + int(frac) * 10 ** (9 - len(frac))
        return ns, f"{year:04d}-{month:02d}-{day:02d}T{clock}{zone}"

    def _year_for(self, month: int, day: int) -> int:
        """A date without a year: the first one's year is the latest that does not put it after
        the capture was saved (a log from May saved in December is from this May, not next);
        then the previous line's, rolling at December -> January (as `LogcatParser`)."""
        if self._saved is not None:
            self.year = year_not_after(self._saved, month, day)
            self._saved = None
        elif month < self.month - 6:
            self.year += 1
        elif month > self.month + 6:
            self.year -= 1
        self.month = month
        return self.year


def _zone(text: str | None) -> str:
    if not text:
        return ""
    digits = text.replace(":", "")
    return f"{digits[:3]}:{digits[3:5]}"


def _iso_text(stamp: str) -> str:
    """`2023-02-23 10:44:02.761747+0100` -> `2023-02-23T10:44:02.761747+01:00`."""
    m = re.match(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)\s*([+-]\d\d:?\d\d)?", stamp)
    if m is None:
        return stamp
    return f"{m.group(1)}T{m.group(2)}{_zone(m.group(3))}"


def _iso_from_ns(ns: int, zone: str | None = None) -> str:
    secs, rem = divmod(ns, 1_000_000_000)
    t = time.gmtime(secs)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{rem // 1_000_000:03d}{_zone(zone)}")


