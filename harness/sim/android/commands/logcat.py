"""``/system/bin/logcat``: read logd's buffers the way Android 12–14's logcat does.

The harness decides pass/fail from this output, so it follows AOSP ``logcat/logcat.cpp`` and
``liblog/logprint.cpp`` closely: getopt_long option handling (argument permutation, unique
long-option prefixes, ``logcat: Unknown option '-x'.`` errors), filterspecs (the last rule for a
tag wins, ``*`` alone means ``*:D``), the print formats byte for byte (every line of a multi-line
message repeats the prefix), ``--------- beginning of <buffer>`` printed lazily before the first
line shown from each buffer, tail counts taken *before* tag filters (logd counts, logcat
filters), and ``-T``/``-t '<time>'`` answered with entries strictly *after* that instant (logd
skips ``realtime <= start``).

Resuming a journal without gaps or duplicates: pass the last printed time to ``-T``. Printed
times are truncated to the millisecond and logd's timestamps never fall exactly on one (see
``logd.py``), so logcat replays *every* entry of that millisecond and everything after it. The
reader drops the replayed records stamped with that same millisecond that it already holds,
comparing (pid, tid, level, tag, message) as a multiset, and keeps the rest. After a reboot the
buffers start empty and later, so nothing is replayed.
"""

from __future__ import annotations

import calendar
import re
import struct
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from operator import attrgetter

from ..os.logd import (
    BUFFER_IDS,
    BUFFER_NAMES,
    DEFAULT_READ,
    LOGGER_ENTRY_MAX_LEN,
    LOGGER_ENTRY_MAX_PAYLOAD,
    LogdClosed,
    LogEntry,
)
from ..registry import CommandContext, command

PROG = "logcat"

# android_LogPriority values: filters compare these numbers.
_PRI = {"V": 2, "D": 3, "I": 4, "W": 5, "E": 6, "F": 7}
_PRI_DEFAULT, _PRI_VERBOSE, _PRI_DEBUG, _PRI_SILENT = 1, 2, 3, 8
_PRI_LETTER = {"v": 2, "d": 3, "i": 4, "w": 5, "e": 6, "f": 7, "s": 8, "*": 1}
_COLORS = {"V": 39, "D": 34, "I": 32, "W": 33, "E": 31, "F": 31}
_DELIMS = re.compile(r"[,:; \t\n\r\f]")

#: Android IDs whose passwd name fits logprint's 5 columns (others print numerically).
_SHORT_UID_NAMES = {
    0: "root", 1001: "radio", 1004: "input", 1005: "audio", 1007: "log", 1009: "mount", 1010: "wifi",
    1011: "adb", 1013: "media", 1014: "dhcp", 1016: "vpn", 1018: "usb", 1019: "drm", 1020: "mdnsr",
    1021: "gps", 1024: "mtp", 1027: "nfc", 2000: "shell", 2001: "cache", 2002: "diag",
}

_VERBS = ("brief", "process", "tag", "thread", "raw", "time", "threadtime", "long")
_ADVERBS = ("color", "colour", "usec", "nsec", "printable", "year", "zone", "epoch", "monotonic", "uid",
            "descriptive")

# getopt_long table of logcat.cpp: short options string and long options (has_arg 0/1/2).
_SHORTOPTS = ":cdDhLt:T:gG:sQf:r:n:v:b:BSpP:m:e:"
_LONGOPTS: dict[str, tuple[int, str]] = {
    "binary": (0, "B"), "buffer": (1, "b"), "buffer-size": (2, "g"), "clear": (0, "c"),
    "debug": (0, "debug"), "dividers": (0, "D"), "file": (1, "f"), "format": (1, "v"),
    "grep": (1, "e"), "head": (1, "m"), "help": (0, "h"), "id": (1, "id"), "last": (0, "L"),
    "max-count": (1, "m"), "pid": (1, "pid"), "print": (0, "print"), "prune": (2, "p"),
    "regex": (1, "e"), "rotate-count": (1, "n"), "rotate-kbytes": (1, "r"), "statistics": (0, "S"),
    "tail": (1, "t"), "wrap": (2, "wrap"),
}

_USAGE = """Usage: logcat [options] [filterspecs]

General options:
  -b, --buffer=<buffer>       Ring buffer(s) to read: main system radio events crash default all
                              (kernel, stats and security by name). Repeat -b or give a comma
                              separated list; buffers are interleaved. Default main,system,crash,kernel.
  -L, --last                  Dump logs from before the last reboot (pstore).
  -c, --clear                 Clear the selected buffers and exit.
  -d                          Dump the log and exit (do not block).
  --pid=<pid>                 Only print logs from the given pid.
  --wrap                      Sleep until a buffer is about to wrap (here: same as -d).

Formatting:
  -v, --format=<format>       Print format verb and adverbs:
                                brief help long process raw tag thread threadtime time
                                color descriptive epoch monotonic printable uid usec UTC year zone
  -D, --dividers              Print a divider whenever the output switches buffer.
  -B, --binary                Output the log in binary.

Outfile files:
  -f, --file=<file>           Log to a file instead of stdout.
  -r, --rotate-kbytes=<n>     Rotate the file every <n> kbytes (needs -f).
  -n, --rotate-count=<count>  Keep at most <count> rotated files, default 4.
  --id=<id>                   Clear the files when the signature <id> changes.

Logd control:
  -g, --buffer-size           Print the size of the ring buffers.
  -G, --buffer-size=<size>    Set the size of the ring buffers (suffix K or M).
  -S, --statistics            Print statistics.
  -p, --prune                 Print the prune list.
  -P, --prune='<list> ...'    Set the prune list.

Filtering:
  -s                          Silence everything by default, like filterspec '*:S'.
  -e, --regex=<expr>          Only print lines whose message matches the ECMAScript regex <expr>.
  -m, --max-count=<count>     Quit after printing <count> lines.
  --print                     With --regex and --max-count: print non-matching lines too.
  -t <count>                  Print the most recent <count> lines (implies -d).
  -t '<time>'                 Print the lines since <time> (implies -d).
  -T <count>                  Print the most recent <count> lines, then keep reading.
  -T '<time>'                 Print the lines since <time>, then keep reading.
                              <time> is 'MM-DD hh:mm:ss.mmm...', 'YYYY-MM-DD hh:mm:ss.mmm...'
                              or 'sssss.mmm...'.

filterspecs are a series of <tag>[:priority] where priority is one of
  V (verbose, the default for <tag>), D (debug, the default for '*'), I, W, E, F, S (silent).
'*:S <tag>' prints only <tag>; '<tag>:S' hides <tag>. Without filterspecs, ANDROID_LOG_TAGS is
used; without -v, ANDROID_PRINTF_LOG or "threadtime".
"""

_FORMAT_HELP = """-v <format>, --format=<format> options:
  verbs:   brief long process raw tag thread threadtime time
  adverbs: color descriptive epoch monotonic printable uid usec nsec UTC year zone "<zone>"
"""


class LogcatExit(Exception):
    """Stop with this status (after ``error()`` printed its message)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# --------------------------------------------------------------------------- options
@dataclass
class Options:
    """What the command line asked for, after logcat.cpp's parsing rules."""

    clear: bool = False
    nonblock: bool = False
    got_t: bool = False
    tail_lines: int = 0
    tail_time_ns: int | None = None
    pid: int = 0
    dividers: bool = False
    binary: bool = False
    regex: re.Pattern[str] | None = None
    max_count: int = 0
    print_anyway: bool = False
    get_size: bool = False
    set_size: int = 0
    id_mask: set[str] = field(default_factory=set)
    security_selected: bool = False
    statistics: bool = False
    get_prune: bool = False
    set_prune: str | None = None
    pstore: bool = False
    fmt: PrintFormat = field(default_factory=lambda: PrintFormat())
    format_set: bool = False
    filters: Filters = field(default_factory=lambda: Filters())
    filterspecs: list[str] = field(default_factory=list)
    file: str | None = None
    rotate_kb: int = 0
    rotate_count: int = 4


@dataclass
class PrintFormat:
    verb: str = "brief"
    color: bool = False
    usec: bool = False
    nsec: bool = False
    year: bool = False
    zone: bool = False
    epoch: bool = False
    monotonic: bool = False
    uid: bool = False
    tz: tzinfo | None = None

    def apply(self, word: str) -> int:
        """logprint's setPrintFormat: 1 for a verb, 0 for an adverb, -1 for an unknown word."""
        if word in _VERBS:
            self.verb = word
            return 1
        if word in ("color", "colour"):
            self.color = True
        elif word == "usec":
            self.usec = True
        elif word == "nsec":
            self.nsec = True
        elif word == "year":
            self.year = True
        elif word == "zone":
            self.zone = not self.zone
        elif word == "epoch":
            self.epoch = True
        elif word == "monotonic":
            self.monotonic = True
        elif word == "uid":
            self.uid = True
        elif word in ("printable", "descriptive"):
            pass  # our messages are text and event tags already carry names
        else:
            tz = _zone(word)
            if tz is None:
                return -1
            # A time zone name: logprint switches TZ and toggles the zone adverb.
            self.tz = tz
            self.zone = not self.zone
        return 0


class Filters:
    """android_log_addFilterString / shouldPrintLine: a global level plus per-tag levels."""

    def __init__(self) -> None:
        self.global_pri = _PRI_VERBOSE
        self.rules: dict[str, int] = {}

    def add_rule(self, expr: str) -> bool:
        name, colon, rest = expr.partition(":")
        if not name:
            return False
        pri = _PRI_DEFAULT
        if colon:
            c = rest[:1].lower()
            if c.isdigit() and c.isascii():
                pri = int(c) if int(c) < _PRI_SILENT else _PRI_VERBOSE
                if pri == 0:
                    return False
            elif c in _PRI_LETTER:
                pri = _PRI_LETTER[c]
            else:
                return False
        if name == "*":
            self.global_pri = _PRI_DEBUG if pri == _PRI_DEFAULT else pri
        else:
            self.rules[name] = _PRI_VERBOSE if pri == _PRI_DEFAULT else pri
        return True

    def add_string(self, text: str) -> bool:
        return all(self.add_rule(part) for part in re.split(r"[ \t,]", text) if part)

    def predicate(self) -> Callable[[LogEntry], bool] | None:
        """A test for entries, or None when everything passes (the fast path)."""
        rules, floor = self.rules, self.global_pri
        pri = _PRI
        if not rules:
            if floor <= _PRI_VERBOSE:
                return None
            return lambda e: pri.get(e.level, 0) >= floor
        return lambda e: pri.get(e.level, 0) >= rules.get(e.tag, floor)


def _zone(name: str) -> tzinfo | None:
    if name in ("UTC", "GMT"):
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        return None


def _local_zone(ctx: CommandContext) -> tzinfo | None:
    """bionic's local time: $TZ, else persist.sys.timezone; None means UTC (the fast path)."""
    name = ctx.env.get("TZ") or ctx.device.props.get("persist.sys.timezone") or "UTC"
    zone = _zone(name)
    return None if zone is None or zone is timezone.utc else zone


def _parse_uint(text: str) -> int | None:
    """android::base::ParseUint: strtoull with base 0 (so 0x10 and 010 work), no sign, no junk."""
    s = text.lstrip(" \t\n\r\f\v")
    if s.startswith("+"):
        s = s[1:]
    if not s or s.startswith("-"):
        return None
    try:
        if s[:2].lower() == "0x":
            return int(s[2:], 16)
        if len(s) > 1 and s[0] == "0":
            return int(s[1:], 8)
        return int(s, 10) if s.isdigit() else None
    except ValueError:
        return None


def _parse_byte_count(text: str) -> int | None:
    """android::base::ParseByteCount: a number with an optional k/m/g/t suffix and optional b."""
    m = re.fullmatch(r"(\d+)(?:([bBkKmMgGtT])([bB])?)?", text)
    if not m:
        return None
    value = _parse_uint(m.group(1))
    if value is None:
        return None
    return value << (10 * "bkmgt".index(m.group(2).lower())) if m.group(2) else value


_TIME_FORMATS = (
    re.compile(r"(\d{1,2})-(\d{1,2}) *(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{0,9})"),
    re.compile(r"(\d{1,4})-(\d{1,2})-(\d{1,2}) *(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{0,9})"),
    re.compile(r"(\d+)\.(\d{0,9})"),
)


def parse_log_time(text: str, now_ns: int, tz: tzinfo | None = None) -> tuple[int, str] | None:
    """logcat's parseTime: ``(ns since epoch, unparsed rest)`` or None when no format fits.

    Calendar forms are local time of ``tz`` (default UTC), like mktime; ``MM-DD`` takes the year
    of the device's current time, as log_time::strptime does.
    """
    zone = tz or timezone.utc
    year_now = datetime.fromtimestamp(now_ns // 1_000_000_000, zone).year
    for i, pattern in enumerate(_TIME_FORMATS):
        m = pattern.match(text)
        if not m:
            continue
        g = m.groups()
        if i == 2:
            secs, frac = int(g[0]), g[1]
        else:
            if i == 0:
                year, mon, day, hh, mm, ss, frac = year_now, *map(int, g[:5]), g[5]
            else:
                year, mon, day, hh, mm, ss, frac = *map(int, g[:6]), g[6]
            if not (1 <= mon <= 12 and 1 <= day <= 31 and hh <= 23 and mm <= 59 and ss <= 61):
                continue
            secs = calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0))
            if zone is not timezone.utc:
                naive = datetime(1970, 1, 1) + timedelta(seconds=secs)
                secs = int(naive.replace(tzinfo=zone).timestamp())
        ns = int(frac.ljust(9, "0")) if frac else 0
        return secs * 1_000_000_000 + ns, text[m.end():]
    return None


def _getopt(argv: list[str], operands: list[str]) -> Iterator[tuple[str, str | None, str]]:
    """getopt_long over ``argv`` as bionic does it: yields ``(option, optarg, error_word)``.

    ``error_word`` is what logcat quotes as ``argv[optind - 1]`` when it reports a problem.
    Errors come out as the options ``"?"`` (unknown) and ``":"`` (missing argument); non-option
    words are collected into ``operands`` (getopt permutes them to the end).
    """
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            operands.extend(argv[i + 1:])
            return
        if not word.startswith("-") or word == "-":
            operands.append(word)
            i += 1
            continue
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            match = _LONGOPTS.get(name)
            if match is None:
                found = {_LONGOPTS[k] for k in _LONGOPTS if k.startswith(name)}
                match = found.pop() if len(found) == 1 else None
            i += 1
            if match is None:
                yield "?", None, word
                return
            has_arg, val = match
            if has_arg == 0 and eq:
                yield ":", None, word
                return
            optarg: str | None = value if eq else None
            if has_arg == 1 and not eq:
                if i >= len(argv):
                    yield ":", None, word
                    return
                optarg = argv[i]
                i += 1
            yield val, optarg, argv[i - 1]
            continue
        # a cluster of short options
        pos = 1
        while pos < len(word):
            ch = word[pos]
            pos += 1
            last = pos >= len(word)
            spec = _SHORTOPTS.find(ch) if ch != ":" else -1
            if spec < 0:
                yield "?", None, word if last else argv[i - 1]
                return
            if _SHORTOPTS[spec + 1: spec + 2] == ":":
                if not last:
                    yield ch, word[pos:], word
                    i += 1
                    break
                if i + 1 >= len(argv):
                    yield ":", None, word
                    return
                i += 2
                yield ch, argv[i - 1], argv[i - 1]
                break
            yield ch, None, word if last else argv[i - 1]
            if last:
                i += 1


def _error(ctx: CommandContext, message: str, status: int = 1) -> LogcatExit:
    ctx.err(f"{PROG}: {message}")
    return LogcatExit(status)


def _parse(ctx: CommandContext) -> Options:
    """Options from argv and the environment; raises LogcatExit after printing an error."""
    argv = ctx.argv
    if len(argv) == 2 and argv[1] == "--help":
        ctx.stderr.write(_USAGE)
        raise LogcatExit(0)
    o = Options()
    o.fmt.tz = _local_zone(ctx)
    operands: list[str] = []
    for opt, arg, word in _getopt(argv, operands):
        if opt == "pid":
            if o.pid:
                raise _error(ctx, "Only one --pid argument can be provided.")
            pid = _parse_uint(arg or "")
            if pid is None or pid < 1:
                raise _error(ctx, f"pid {arg} out of range.")
            o.pid = pid
        elif opt == "wrap":
            o.nonblock = True
            if arg is not None:
                value = _parse_uint(arg)
                if value is None or value < 1:
                    raise _error(ctx, f"wrap {arg} out of range.")
                if value != 7200:
                    ctx.err(f"WARNING: wrap 7200 seconds, ignoring {value}")
        elif opt == "print":
            o.print_anyway = True
        elif opt in ("debug", "id"):
            pass
        elif opt == "s":
            o.filters.add_rule("*:s")
        elif opt == "c":
            o.clear = True
        elif opt == "L":
            o.pstore = o.nonblock = True
        elif opt == "d":
            o.nonblock = True
        elif opt in ("t", "T"):
            assert arg is not None
            if opt == "t":
                o.got_t = o.nonblock = True
            if re.fullmatch(r"[0-9]*", arg):
                count = _parse_uint(arg)
                if count is None or count < 1:
                    ctx.err(f"WARNING: -{opt} {arg} invalid, setting to 1")
                    count = 1
                o.tail_lines = count
            else:
                parsed = parse_log_time(arg, ctx.device.clock.now_ns(), o.fmt.tz)
                if parsed is None:
                    raise _error(ctx, f"-{opt} '{arg}' not in time format.")
                o.tail_time_ns, rest = parsed
                if rest:
                    ctx.err(f"WARNING: -{opt} '{arg[: len(arg) - len(rest)]}' '{rest}' time truncated")
        elif opt == "D":
            o.dividers = True
        elif opt == "e":
            o.regex = _compile_regex(ctx, arg or "")
        elif opt == "m":
            count = _parse_uint(arg or "")
            if count is None or count < 1:
                raise _error(ctx, f"-m '{arg}' isn't an integer greater than zero.")
            o.max_count = count
        elif opt == "g" and arg is None:
            o.get_size = True
        elif opt in ("g", "G"):
            size = _parse_byte_count(arg or "")
            if size is None or size < 1:
                raise _error(ctx, "-G must be specified as <num><multiplier>.")
            o.set_size = size
        elif opt == "p" and arg is None:
            o.get_prune = True
        elif opt in ("p", "P"):
            o.set_prune = arg
        elif opt == "b":
            for name in _DELIMS.split(arg or ""):
                if name == "default":
                    o.id_mask.update(("main", "system", "crash"))
                elif name == "all":
                    o.id_mask.update(BUFFER_NAMES)
                elif name in BUFFER_IDS:
                    o.security_selected |= name == "security"
                    o.id_mask.add(name)
                else:
                    raise _error(ctx, f"Unknown buffer '{name}' listed for -b.")
        elif opt == "B":
            o.binary = True
        elif opt == "f":
            o.file = arg
        elif opt == "r":
            value = _parse_uint(arg or "")
            if value is None or value < 1:
                raise _error(ctx, f"Invalid parameter '{arg}' to -r.")
            o.rotate_kb = value
        elif opt == "n":
            value = _parse_uint(arg or "")
            if value is None or value < 1:
                raise _error(ctx, f"Invalid parameter '{arg}' to -n.")
            o.rotate_count = value
        elif opt == "v":
            if arg in ("help", "--help"):
                ctx.stderr.write(_FORMAT_HELP)
                raise LogcatExit(0)
            for word_ in _DELIMS.split(arg or ""):
                result = o.fmt.apply(word_)
                if result < 0:
                    raise _error(ctx, f"Invalid parameter '{word_}' to -v.")
                o.format_set |= result > 0
        elif opt == "Q":
            raise LogcatExit(0)  # the emulator console option; quietly nothing off an emulator
        elif opt == "S":
            o.statistics = True
        elif opt == ":":
            raise _error(ctx, f"Option '{word}' needs an argument.")
        elif opt == "h":
            ctx.stderr.write(_USAGE)
            ctx.stderr.write(_FORMAT_HELP)
            raise LogcatExit(0)
        elif opt == "?":
            raise _error(ctx, f"Unknown option '{word}'.")

    if o.max_count and o.got_t:
        raise _error(ctx, "Cannot use -m (--max-count) and -t together.")
    if o.print_anyway and (o.regex is None or not o.max_count):
        ctx.err("WARNING: --print ignored, to be used in combination with\n"
                "         --regex <expr> and --max-count <N>")
        o.print_anyway = False
    if not o.id_mask:
        o.id_mask.update(DEFAULT_READ)
    if o.rotate_kb and not o.file:
        raise _error(ctx, "-r requires -f as well.")
    if not o.format_set:
        env_format = ctx.env.get("ANDROID_PRINTF_LOG")
        if env_format is not None:
            for word_ in _DELIMS.split(env_format):
                result = o.fmt.apply(word_)
                if result < 0:
                    ctx.err(f"invalid format in ANDROID_PRINTF_LOG '{word_}'")
                o.format_set |= result > 0
        if not o.format_set:
            o.fmt.apply("threadtime")
    if operands:
        for spec in operands:
            if not o.filters.add_string(spec):
                raise _error(ctx, f"Invalid filter expression '{spec}'.")
    else:
        env_tags = ctx.env.get("ANDROID_LOG_TAGS")
        if env_tags is not None and not o.filters.add_string(env_tags):
            raise _error(ctx, "Invalid filter expression in ANDROID_LOG_TAGS.")
    if o.pstore and o.file:
        raise _error(ctx, "-c is ambiguous with both -f and -L specified.")
    if o.pstore and (o.set_size or o.get_size or o.statistics or o.get_prune or o.set_prune):
        raise _error(ctx, "-L is incompatible with -g/-G, -S, and -p/-P.")
    if o.file and (o.set_size or o.get_size or o.statistics or o.get_prune or o.set_prune):
        raise _error(ctx, "-f is incompatible with -g/-G, -S, and -p/-P.")
    return o


_REGEX_ERRORS = (
    ("missing ), unterminated subpattern", "The expression contained mismatched ( and )."),
    ("unbalanced parenthesis", "The expression contained mismatched ( and )."),
    ("unterminated character set", "The expression contained mismatched [ and ]."),
    ("nothing to repeat", "One of *?+{ was not preceded by a valid regular expression."),
    ("multiple repeat", "One of *?+{ was not preceded by a valid regular expression."),
    ("bad escape", "The expression contained an invalid escaped character, or a trailing escape."),
)


def _compile_regex(ctx: CommandContext, expr: str) -> re.Pattern[str]:
    """std::regex(ECMAScript); an invalid one aborts logcat with libc++'s uncaught-exception text."""
    try:
        return re.compile(expr)
    except re.error as e:
        text = "The expression contained an invalid escaped character, or a trailing escape."
        for needle, libcxx in _REGEX_ERRORS:
            if needle in str(e):
                text = libcxx
                break
        ctx.err(f"libc++abi: terminating due to uncaught exception of type std::__1::regex_error: {text}")
        raise LogcatExit(134) from None  # SIGABRT


# --------------------------------------------------------------------------- formatting
def make_formatter(fmt: PrintFormat, boot_ns: int = 0) -> Callable[[LogEntry], str]:
    """logprint's android_log_formatLogLine for one format: entry → the text logcat writes."""
    stamp = _stamp_fn(fmt, boot_ns)
    uid_fn = _uid_fn(fmt) if fmt.uid else None
    verb = fmt.verb
    pri_char = {k: k for k in _PRI}
    color = fmt.color

    def head(e: LogEntry) -> tuple[str, str]:
        p = pri_char.get(e.level, "?")
        u = uid_fn(e.uid) if uid_fn else ""
        if verb == "threadtime":
            return f"{stamp(e.time_ns)} {u.replace(':', ' ', 1)}{e.pid:5d} {e.tid:5d} {p} {e.tag:<8}: ", "\n"
        if verb == "time":
            return f"{stamp(e.time_ns)} {p}/{e.tag:<8}({u}{e.pid:5d}): ", "\n"
        if verb == "brief":
            return f"{p}/{e.tag:<8}({u}{e.pid:5d}): ", "\n"
        if verb == "tag":
            return f"{p}/{e.tag:<8}: ", "\n"
        if verb == "process":
            return f"{p}({u}{e.pid:5d}) ", f"  ({e.tag})\n"
        if verb == "thread":
            return f"{p}({u}{e.pid:5d}:{e.tid:5d}) ", "\n"
        if verb == "long":
            return f"[ {stamp(e.time_ns)} {u}{e.pid:5d}:{e.tid:5d} {p}/{e.tag:<8} ]\n", "\n\n"
        return "", "\n"  # raw

    plain_ms = not (fmt.usec or fmt.nsec or fmt.zone or fmt.epoch or fmt.monotonic) and fmt.tz is None
    if verb in ("threadtime", "time") and not uid_fn and not color and plain_ms:
        # threadtime (the default and the harness's) and time (adbutils'): the date part cached
        # per second, one f-string per entry.
        head_of_second = _second_fn(fmt.year)
        cached_sec, cached_head = -1, ""
        with_tid = verb == "threadtime"

        def fast(e: LogEntry) -> str:
            nonlocal cached_sec, cached_head
            ms = e.time_ns // 1_000_000
            sec = ms // 1000
            if sec != cached_sec:
                cached_sec, cached_head = sec, head_of_second(sec)
            tag = e.tag
            level = pri_char.get(e.level, "?")
            if with_tid:
                prefix = f"{cached_head}{ms % 1000:03d} {e.pid:5d} {e.tid:5d} {level} {tag:<8}: "
            else:
                prefix = f"{cached_head}{ms % 1000:03d} {level}/{tag:<8}({e.pid:5d}): "
            if len(tag) > 60 or not tag.isascii():
                prefix = _clip_prefix(prefix)
            msg = e.message
            if "\n" not in msg:
                return prefix + msg + "\n"
            return _per_line(prefix, msg, "\n")

        return fast

    whole_message = verb == "long"

    def generic(e: LogEntry) -> str:
        prefix, suffix = head(e)
        if color:
            code = _COLORS.get(e.level, 39)
            prefix = f"\x1b[{code}m{prefix}"
            suffix = "\x1b[0m" + suffix
        if len(prefix) > 100 or (len(prefix) > 31 and not prefix.isascii()):
            prefix = _clip_prefix(prefix)
        msg = e.message
        if whole_message or "\n" not in msg:
            return prefix + msg + suffix
        return _per_line(prefix, msg, suffix)

    return generic


def _second_fn(year: bool) -> Callable[[int], str]:
    """``MM-DD hh:mm:ss.`` (or with the year) of a UTC second, for the threadtime fast path."""
    pattern = "%Y-%m-%d %H:%M:%S." if year else "%m-%d %H:%M:%S."

    def head(sec: int) -> str:
        return time.strftime(pattern, time.gmtime(sec))

    return head


def _per_line(prefix: str, msg: str, suffix: str) -> str:
    """Each line of a multi-line message gets the whole prefix; a final newline adds no line."""
    parts = msg.split("\n")
    if msg.endswith("\n"):
        parts.pop()
    return "".join(prefix + part + suffix for part in parts)


def _clip_prefix(prefix: str) -> str:
    """logprint builds the prefix in a 128-byte buffer: anything past 127 bytes is cut."""
    data = prefix.encode()
    if len(data) < 128:
        return prefix
    return data[:127].decode(errors="ignore")


def _stamp_fn(fmt: PrintFormat, boot_ns: int) -> Callable[[int], str]:
    """Time column: calendar time (cached per second), epoch seconds or seconds since boot."""
    if fmt.nsec:
        def frac(ns: int) -> str:
            return f".{ns % 1_000_000_000:09d}"
    elif fmt.usec:
        def frac(ns: int) -> str:
            return f".{ns // 1000 % 1_000_000:06d}"
    else:
        def frac(ns: int) -> str:
            return f".{ns // 1_000_000 % 1000:03d}"

    if fmt.monotonic or fmt.epoch:
        width = 6 if fmt.monotonic else 19
        offset = boot_ns if fmt.monotonic else 0

        def seconds(ns: int) -> str:
            ns -= offset
            return f"{ns // 1_000_000_000:{width}d}" + frac(ns)

        return seconds

    tz = fmt.tz or timezone.utc
    pattern = "%Y-%m-%d %H:%M:%S" if fmt.year else "%m-%d %H:%M:%S"
    zone = fmt.zone
    cache: list = [None, ""]

    def calendar_time(ns: int) -> str:
        sec = ns // 1_000_000_000
        if sec != cache[0]:
            local = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=sec)
            if tz is not timezone.utc:
                local = local.astimezone(tz)
            cache[0] = sec
            cache[1] = local.strftime(pattern), local.strftime(" %z") if zone else ""
        text, z = cache[1]
        return text + frac(ns) + z

    return calendar_time


def _uid_fn(fmt: PrintFormat) -> Callable[[int], str]:
    def uid(value: int) -> str:
        if value < 0:
            return "      "
        name = _SHORT_UID_NAMES.get(value)
        return f"{name:>5}:" if name else f"{value:5d}:"

    return uid


def binary_entry(e: LogEntry) -> bytes:
    """``-B``: logd's struct logger_entry (v4, 28-byte header) followed by the raw payload."""
    tag, msg = e.tag.encode(), e.message.encode()
    payload = bytes([_PRI.get(e.level, 0)]) + tag + b"\0" + msg + b"\0"
    sec, nsec = divmod(e.time_ns, 1_000_000_000)
    head = struct.pack("<HHiIIIII", len(payload), 28, e.pid, e.tid, sec & 0xFFFFFFFF, nsec,
                       BUFFER_IDS[e.buffer], e.uid)
    return head + payload


def _format_size(value: int) -> str:
    for unit in ("", "Ki", "Mi", "Gi"):
        if value < 1024 or unit == "Gi":
            return f"{value} {unit}B"
        value //= 1024
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the command
class _Printer:
    """ProcessBuffer + PrintDividers: filters, regex, max-count, dividers, formatting."""

    def __init__(self, o: Options, boot_ns: int) -> None:
        self.fmt = make_formatter(o.fmt, boot_ns)
        self.keep = o.filters.predicate()
        self.regex = o.regex
        self.print_anyway = o.print_anyway
        self.max_count = o.max_count
        self.dividers = o.dividers
        self.count = 0
        self.last_buffer: str | None = None
        self.started: set[str] = set()

    @property
    def done(self) -> bool:
        return bool(self.max_count) and self.count >= self.max_count

    def render(self, batch: list[LogEntry]) -> list[str]:
        out: list[str] = []
        add = out.append
        fmt, keep, regex = self.fmt, self.keep, self.regex
        last = self.last_buffer
        max_count = self.max_count
        for e in batch:
            if max_count and self.count >= max_count:
                break
            if keep is not None and not keep(e):
                continue
            if regex is not None:
                if regex.search(e.message) is not None:
                    self.count += 1
                elif not self.print_anyway:
                    continue
            else:
                self.count += 1
            if e.buffer != last:
                self._divider(e.buffer, add)
                last = e.buffer
            add(fmt(e))
        self.last_buffer = last
        return out

    def _divider(self, buffer: str, add: Callable[[str], None]) -> None:
        if buffer not in self.started:
            add(f"--------- beginning of {buffer}\n")
            self.started.add(buffer)
        elif self.dividers:
            add(f"--------- switch to {buffer}\n")


_CHUNK = 2048  # entries per write before awaiting drain (backpressure)


@command("logcat")
async def logcat_command(ctx: CommandContext) -> int:
    try:
        o = _parse(ctx)
        return await _run(ctx, o)
    except LogcatExit as stop:
        return stop.status


async def _run(ctx: CommandContext, o: Options) -> int:
    device = ctx.device
    logd = device.logd
    if o.pstore:
        return 0  # no pstore/pmsg log on this device: nothing from before the last reboot
    if o.file is not None and o.clear:
        for path in _rotated_names(o.file, o.rotate_count):
            if device.fs.exists(path):
                device.fs.remove(path, uid=ctx.uid)
        return 0
    buffers = [name for name in BUFFER_NAMES if name in o.id_mask]
    if ctx.uid not in (0, 1000):
        buffers = [b for b in buffers if b != "security"]  # logd masks it for everyone else
    failures: list[str] = []
    for name in buffers:
        if o.clear:
            logd.clear([name])
        if o.set_size and not logd.set_size(name, o.set_size):
            failures.append(name)
        if o.get_size:
            ctx.out(f"{name}: ring buffer is {_format_size(logd.size(name))} "
                    f"({_format_size(logd.used(name))} consumed), "
                    f"max entry is {LOGGER_ENTRY_MAX_LEN} B, max payload is {LOGGER_ENTRY_MAX_PAYLOAD} B")
    if failures:
        plural = "s" if len(failures) > 1 else ""
        raise _error(ctx, f"failed to set the '{','.join(failures)}' log size{plural}.")
    if o.set_prune is not None:
        logd.prune_list = o.set_prune
        return 0
    if o.get_prune:
        ctx.out(logd.prune_list)
        return 0
    if o.statistics:
        _statistics(ctx, buffers)
        return 0
    if o.get_size or o.set_size or o.clear:
        return 0

    # What logd sends: the selected buffers, this reader's uid view, --pid, then -t/-T.
    own_uid = ctx.uid if ctx.uid >= 10000 else None
    cheap_tail = o.tail_lines and o.tail_time_ns is None and own_uid is None and not o.pid
    snapshot = logd.tail(o.tail_lines, buffers) if cheap_tail else logd.entries(buffers)
    cursor = logd.last_seq
    if own_uid is not None or o.pid:
        snapshot = [e for e in snapshot if _visible(e, own_uid, o.pid)]
    if o.tail_time_ns is not None:
        snapshot = snapshot[bisect_right(snapshot, o.tail_time_ns, key=attrgetter("time_ns")):]
    elif o.tail_lines:
        snapshot = snapshot[-o.tail_lines:]

    printer = _Printer(o, device.boot_time_ms * 1_000_000)
    write = _writer(ctx, o)
    for start in range(0, len(snapshot), _CHUNK):
        await write(snapshot[start:start + _CHUNK], printer)
        if printer.done:
            return 0
    if o.nonblock:
        return 0

    sub = logd.subscribe(buffers, after_seq=cursor)
    try:
        while not printer.done:
            try:
                batch = await sub.next_batch()
            except LogdClosed:
                return 143  # init's SIGTERM at shutdown
            if own_uid is not None or o.pid:
                batch = [e for e in batch if _visible(e, own_uid, o.pid)]
            for start in range(0, len(batch), _CHUNK):
                await write(batch[start:start + _CHUNK], printer)
                if printer.done:
                    break
    finally:
        logd.unsubscribe(sub)
    return 0


def _visible(e: LogEntry, own_uid: int | None, pid: int) -> bool:
    return (own_uid is None or e.uid == own_uid) and (not pid or e.pid == pid)


def _writer(ctx: CommandContext, o: Options) -> Callable[[list[LogEntry], _Printer], object]:
    """Where rendered text goes: stdout (with drain for backpressure) or the ``-f`` file."""

    async def to_stdout(batch: list[LogEntry], printer: _Printer) -> None:
        if o.binary:
            data = b"".join(binary_entry(e) for e in batch)
            if data:
                ctx.stdout.write(data)
        else:
            text = "".join(printer.render(batch))
            if text:
                ctx.stdout.write(text)
        await ctx.stdout.drain()

    fs = ctx.device.fs
    written = [0]
    if o.file is not None:
        st = fs.stat(o.file)
        written[0] = st.size if st is not None else 0

    async def to_file(batch: list[LogEntry], printer: _Printer) -> None:
        # Entry by entry, as logcat checks the rotation size after each one.
        assert o.file is not None
        from ..os.fs import FsError

        for e in batch:
            text = "".join(printer.render([e]))
            if not text:
                continue
            data = text.encode()
            try:
                fs.write(o.file, data, mode=0o640, append=True, uid=ctx.uid)
            except FsError as err:
                raise _error(ctx, f"Couldn't open output file: {err.reason}") from None
            written[0] += len(data)
            if o.rotate_kb and written[0] // 1024 >= o.rotate_kb:
                _rotate(ctx, o.file, o.rotate_count)
                written[0] = 0
            if printer.done:
                return

    return to_file if o.file is not None else to_stdout


def _rotated_names(path: str, count: int) -> list[str]:
    """``FILE`` and its rotations ``FILE.1`` … ``FILE.N``, zero-padded to N's digits as logcat does."""
    width = len(str(count))
    return [path] + [f"{path}.{i:0{width}d}" for i in range(1, count + 1)]


def _rotate(ctx: CommandContext, path: str, count: int) -> None:
    """Shift FILE.N-1 → FILE.N … FILE → FILE.1 (the oldest falls off), then start FILE empty."""
    fs = ctx.device.fs
    names = _rotated_names(path, count)
    for i in range(count, 0, -1):
        if fs.exists(names[i - 1]):
            if fs.exists(names[i]):
                fs.remove(names[i], uid=ctx.uid)
            fs.rename(names[i - 1], names[i], uid=ctx.uid)
    fs.write(path, b"", mode=0o640, uid=ctx.uid)


def _statistics(ctx: CommandContext, buffers: list[str]) -> None:
    """``-S``: the head of logd's statistics: per-buffer size/count since start ("Total") and now.

    Columns follow LogStatistics::Format (19 apart, a buffer without entries leaves its "Now"
    cell blank); the span, overhead and chattiest-UID/PID/TAG tables that follow on a phone are
    not produced.
    """
    logd = ctx.device.logd

    def row(label: str, start: int, cells: list[str | None], total: str) -> str:
        out, spaces = label, start
        for cell in cells:
            if cell is not None:
                piece = " " * max(spaces, 0) + cell
                out += piece
                spaces = max(spaces, 0) - len(piece)
            spaces += 19
        return out + " " * max(spaces, 0) + total

    totals = [logd.totals(b) for b in buffers]
    now = [(logd.used(b), logd.count(b)) for b in buffers]
    ctx.out(row("size/num", 1, list(buffers), "Total"))
    ctx.out(row("Total", 4, [f"{s}/{n}" for s, n in totals],
                f"{sum(s for s, _ in totals)}/{sum(n for _, n in totals)}"))
    ctx.out(row("Now", 6, [f"{s}/{n}" if n else None for s, n in now],
                f"{sum(s for s, _ in now)}/{sum(n for _, n in now)}"))
