"""toybox programs about time and processes: date, ps, pidof, kill.

Time is the device clock (``date`` in a scenario's virtual night says the virtual time); the
zone is UTC, as ``persist.sys.timezone`` says.
"""

from __future__ import annotations

import time

from ..os.processes import Proc
from ..registry import CommandContext, command

DATE_FORMAT = "%a %b %e %H:%M:%S %Z %Y"


def _strftime(fmt: str, now_ns: int) -> str:
    """strftime in UTC plus toybox's ``%N`` (nanoseconds) and ``%s`` (epoch seconds)."""
    secs = now_ns // 1_000_000_000
    tm = time.gmtime(secs)
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            if d == "N":
                out.append(f"{now_ns % 1_000_000_000:09d}")
            elif d == "s":
                out.append(str(secs))
            elif d == "Z":
                out.append("UTC")
            elif d == "z":
                out.append("+0000")
            elif d == "e":
                out.append(f"{tm.tm_mday:2d}")
            elif d == "%":
                out.append("%")
            else:
                out.append(time.strftime("%" + d, tm))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@command("date")
def date(ctx: CommandContext) -> int:
    args = [a for a in ctx.argv[1:] if a not in ("-u", "--utc")]
    now_ns = ctx.device.clock.now_ns()
    if not args:
        ctx.out(_strftime(DATE_FORMAT, now_ns))
        return 0
    if len(args) == 1 and args[0].startswith("+"):
        ctx.out(_strftime(args[0][1:], now_ns))
        return 0
    if args[0].startswith("-") and args[0] not in ("-d", "-D", "-r"):
        ctx.err(f"date: Unknown option '{args[0][1:2]}' (see \"date --help\")")
        return 1
    if args[0][0].isdigit():
        ctx.err("date: cannot set date: Operation not permitted")
        return 1
    ctx.err(f"date: bad date '{args[-1]}'")
    return 1


# ---------------------------------------------------------------------------------- ps
_FIELDS = {
    # name: (header, width (negative = left aligned), getter)
    "USER": ("USER", -12, lambda p: p.user),
    "UID": ("UID", 5, lambda p: str(p.uid)),
    "PID": ("PID", 5, lambda p: str(p.pid)),
    "PPID": ("PPID", 5, lambda p: str(p.ppid)),
    "VSZ": ("VSZ", 10, lambda p: str(p.vsz_kb)),
    "RSS": ("RSS", 6, lambda p: str(p.rss_kb)),
    "WCHAN": ("WCHAN", -16, lambda p: p.wchan if p.state != "R" else "0"),
    "ADDR": ("ADDR", 4, lambda p: "0"),
    "S": ("S", 1, lambda p: p.state),
    "NAME": ("NAME", -27, lambda p: p.name),
    "CMD": ("CMD", -27, lambda p: p.name),
    "ARGS": ("ARGS", -27, lambda p: p.name),
    "COMM": ("COMM", -27, lambda p: p.name[:15]),
}
_DEFAULT = ["USER", "PID", "PPID", "VSZ", "RSS", "WCHAN", "ADDR", "S", "NAME"]


def _render(procs: list[Proc], fields: list[str]) -> list[str]:
    lines = []
    specs = [_FIELDS[f] for f in fields]
    header = []
    for title, width, _ in specs:
        header.append(f"{title:<{-width}}" if width < 0 else f"{title:>{width}}")
    lines.append(" ".join(header))
    for p in procs:
        cells = []
        for idx, (_, width, get) in enumerate(specs):
            value = get(p)
            if idx == len(specs) - 1 and width < 0:
                cells.append(value)
            else:
                cells.append(f"{value:<{-width}}" if width < 0 else f"{value:>{width}}")
        lines.append(" ".join(cells))
    return lines


@command("ps")
def ps(ctx: CommandContext) -> int:
    """toybox ps: ``-A``/``-e`` every process; without them, the shell's own; ``-o``, ``-p``."""
    procs = ctx.device.procs
    args = ctx.argv[1:]
    show_all = False
    fields = list(_DEFAULT)
    pids: set[int] | None = None
    names: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-A", "-e"):
            show_all = True
        elif arg in ("-o", "-O"):
            i += 1
            if i >= len(args):
                ctx.err("ps: Missing argument to -o")
                return 1
            wanted = [f.strip().split("=")[0].upper() for f in args[i].split(",") if f.strip()]
            bad = [f for f in wanted if f not in _FIELDS]
            if bad:
                ctx.err(f"ps: bad -o {bad[0]}")
                return 1
            fields = wanted if arg == "-o" else fields + wanted
        elif arg in ("-p", "--pid"):
            i += 1
            if i >= len(args):
                ctx.err("ps: Missing argument to -p")
                return 1
            try:
                pids = {int(x) for x in args[i].replace(",", " ").split()}
            except ValueError:
                ctx.err(f"ps: bad -p '{args[i]}'")
                return 1
        elif arg.startswith("-") and arg != "-w":
            ctx.err(f"ps: Unknown option '{arg[1:2]}' (see \"ps --help\")")
            return 1
        elif not arg.startswith("-"):
            names.append(arg)
        i += 1
    adbd = procs.by_name("adbd")
    me = procs.spawn("ps", 2000, user="shell", ppid=adbd[0].pid if adbd else 1)
    me.state = "R"
    try:
        listing = procs.all()
        if pids is not None:
            listing = [p for p in listing if p.pid in pids]
        elif names:
            listing = [p for p in listing if p.name in names]
        elif not show_all:
            listing = [p for p in listing if p.uid == 2000 and p.name in ("sh", "ps")]
        ctx.stdout.write("".join(line + "\n" for line in _render(listing, fields)))
    finally:
        procs.kill(me.pid)
    return 0 if listing or pids is None else 1


@command("pidof")
def pidof(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    single = False
    omit: set[int] = set()
    names = []
    i = 0
    while i < len(args):
        if args[i] == "-s":
            single = True
        elif args[i] == "-o" and i + 1 < len(args):
            i += 1
            omit.update(int(x) for x in args[i].split(",") if x.isdigit())
        else:
            names.append(args[i])
        i += 1
    found: list[int] = []
    for name in names:
        pids = sorted((p.pid for p in ctx.device.procs.all()
                       if (p.name == name or p.name.rsplit("/", 1)[-1] == name) and p.pid not in omit),
                      reverse=True)
        if single:
            pids = pids[:1]
        found.extend(pids)
    if not found:
        return 1
    ctx.out(" ".join(str(p) for p in found))
    return 0


_SIGNALS = {
    "HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "CONT": 18, "STOP": 19,
}


@command("kill")
def kill(ctx: CommandContext) -> int:
    """The shell may signal only its own processes; anything else is EPERM, as on a phone."""
    args = ctx.argv[1:]
    if args and args[0] == "-l":
        ctx.out(" ".join(_SIGNALS))
        return 0
    if args and args[0].startswith("-"):
        sig = args[0][1:].upper().removeprefix("SIG")
        if sig == "S" and len(args) > 1:
            args = args[1:]
        elif not (sig.isdigit() or sig in _SIGNALS):
            ctx.err(f"kill: unknown signal '{args[0][1:]}'")
            return 1
        args = args[1:]
    if not args:
        ctx.err("kill: Needs 1 argument")
        return 1
    status = 0
    for arg in args:
        if not arg.lstrip("-").isdigit():
            ctx.err(f"kill: not a number: {arg}")
            status = 1
            continue
        proc = ctx.device.procs.get(int(arg))
        if proc is None:
            ctx.err(f"kill: {arg}: No such process")
            status = 1
        elif proc.uid != ctx.uid:
            ctx.err(f"kill: {arg}: Operation not permitted")
            status = 1
        else:
            ctx.device.procs.kill(proc.pid)
    return status


@command("dmesg")
def dmesg(ctx: CommandContext) -> int:
    """The kernel log is closed to the shell user on a production build."""
    ctx.err("dmesg: klogctl: Permission denied")
    return 1
