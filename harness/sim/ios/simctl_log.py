"""``log stream|show`` on the device (``simctl spawn <device> log …``): options, the NSPredicate
filter, the styles of ``oslog.py``; ``stream`` follows the append-only log without the lock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...durations import DurationError, parse_duration_ms
from .device import open_world
from .facts import SimError
from .follow import LOOK_S, Follower
from .oslog import HEADERS, RENDER, json_object, ndjson_line, shown_at_level
from .predicate import PredicateError, compile_predicate

if TYPE_CHECKING:
    from .simctl import Io
    from .state import SimHome


class LogArgs:
    def __init__(self) -> None:
        self.verb = ""
        self.style = "default"
        self.level = 0
        self.predicate: str | None = None
        self.processes: list[str] = []
        self.last_ms: int | None = None
        self.timeout_s: float | None = None
        self.info = False
        self.debug = False


_LOG_USAGE = (
    "usage:\n    log <command>\n\nglobal options:\n    -?, --help\n    -q, --quiet\n    -v, --verbose\n\n"
    "commands:\n    collect         gather system logs into a log archive\n"
    "    config          view/change logging system settings\n"
    "    erase           delete system logging data\n"
    "    show            view/search system logs\n"
    "    stream          watch live system logs\n"
    "    stats           show system logging statistics\n\n"
    "further help:\n    log help <command>\n    log help predicates"
)


def parse_log(argv: list[str]) -> LogArgs:
    if not argv or argv[0] not in ("stream", "show"):
        raise SimError(_LOG_USAGE, 64)
    la = LogArgs()
    la.verb = argv[0]
    it = iter(argv[1:])
    for a in it:
        key, eq, inline = a.partition("=")

        def val(key: str = key, eq: str = eq, inline: str = inline) -> str:
            if eq:
                return inline
            try:
                return next(it)
            except StopIteration:
                raise SimError(f"log: option '{key}' requires an argument", 64) from None

        if key == "--style":
            la.style = val()
            if la.style not in ("default", "compact", "json", "ndjson", "syslog"):
                raise SimError(f"log: invalid style: {la.style}", 64)
        elif key == "--level":
            v = val()
            if v not in ("default", "info", "debug"):
                raise SimError(f"log: invalid level: {v}", 64)
            la.level = {"default": 0, "info": 1, "debug": 2}[v]
        elif key == "--predicate":
            la.predicate = val()
        elif key == "--process":
            la.processes.append(val())
        elif key == "--last":
            text = val()
            try:
                la.last_ms = parse_duration_ms(text)
            except DurationError:
                raise SimError(f"log: invalid duration: {text}", 64) from None
        elif key == "--timeout":
            text = val()
            try:
                la.timeout_s = parse_duration_ms(text) / 1000.0
            except DurationError:
                raise SimError(f"log: invalid duration: {text}", 64) from None
        elif key == "--info":
            la.info = True
        elif key == "--debug":
            la.debug = True
        elif key in (
            "--color",
            "--type",
            "--source",
            "--start",
            "--end",
            "--signpost",
            "--mach-continuous-time",
        ):
            if key in ("--color", "--type", "--start", "--end"):
                val()
        else:
            raise SimError(f"log: unrecognized option '{a}'\n{_LOG_USAGE}", 64)
    if la.verb == "show":
        la.level = 2 if la.debug else 1 if la.info else 0
    return la


def _filter(la: LogArgs) -> Callable[[dict[str, Any]], bool]:
    parts = []
    if la.predicate is not None:
        try:
            parts.append(compile_predicate(la.predicate))
        except PredicateError as exc:
            raise SimError(f"log: Bad predicate ({exc}): {la.predicate}", 64) from None
    if la.processes:
        names = set(la.processes)
        parts.append(lambda r: r["path"].rsplit("/", 1)[-1] in names or str(r.get("pid")) in names)

    def keep(rec: dict[str, Any]) -> bool:
        return shown_at_level(rec, la.level) and all(p(rec) for p in parts)

    return keep


def _banner(la: LogArgs) -> str | None:
    if la.predicate is not None:
        return f'Filtering the log data using "{la.predicate}"'
    if la.processes:
        return " OR ".join(f'process == "{p}"' for p in la.processes).join(
            ('Filtering the log data using "', '"')
        )
    return None


class _Printer:
    def __init__(self, style: str, io: Io) -> None:
        self.style = style
        self.io = io
        self.count = 0

    def header(self) -> None:
        if self.style in HEADERS:
            self.io.out(HEADERS[self.style])

    def rec(self, rec: dict[str, Any]) -> None:
        if self.style == "ndjson":
            self.io.out(ndjson_line(rec))
        elif self.style == "json":
            self.io.o.write(("[" if self.count == 0 else ",") + json_object(rec))
            self.io.o.flush()
        else:
            self.io.out(RENDER[self.style](rec))
        self.count += 1

    def end(self) -> None:
        if self.style == "json":
            self.io.out("[]" if self.count == 0 else "]")


def log_tool(home: SimHome, udid: str, argv: list[str], io: Io) -> int:
    la = parse_log(argv)
    keep = _filter(la)
    pr = _Printer(la.style, io)
    banner = _banner(la)
    if la.verb == "show":
        with open_world(home) as world:
            now = world.now()
        recs, _ = home.read_log(0)
        if not (la.info or la.debug):
            io.out("Skipping info and debug messages, pass --info and/or --debug to include.")
        if banner:
            io.out(banner)
        pr.header()
        for rec in recs:
            if rec["udid"] != udid or (la.last_ms is not None and rec["t"] < now - la.last_ms):
                continue
            if keep(rec):
                pr.rec(rec)
        pr.end()
        if la.style == "ndjson":
            io.out(json.dumps({"count": pr.count, "finished": 1}, separators=(",", ":")))
        return 0
    offset = home.log_size()  # before the banner: a reader that waits for it misses no line after it
    if banner:
        io.out(banner)
    pr.header()
    deadline = None if la.timeout_s is None else time.monotonic() + la.timeout_s
    follower = Follower(home, io.o)
    try:
        while (deadline is None or time.monotonic() < deadline) and not follower.reader_gone():
            follower.tick()  # realtime device time: run what is due so it shows up in the stream
            if home.log_size() > offset:
                recs, offset = home.read_log(offset)
                for rec in recs:
                    if rec["udid"] == udid and keep(rec):
                        pr.rec(rec)
            time.sleep(LOOK_S)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    pr.end()
    return 0
