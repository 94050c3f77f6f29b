"""The small toybox programs a harness and a person use: echo, true, false, sleep, id, which …

Outputs and error texts follow toybox on Android 14 (``toybox echo``, ``toybox sleep`` …).
File programs (cat, ls, rm …) are in ``fileutils.py``, text filters (grep, head …) in
``textutils.py``.
"""

from __future__ import annotations

import asyncio
import re

from ..registry import COMMANDS, CommandContext, command


def _byte(value: int) -> str:
    """A raw byte as a str: bytes >= 0x80 as surrogates, so they encode back unchanged."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def _echo_escapes(text: str) -> tuple[str, bool]:
    r"""Apply ``echo -e`` escapes; returns (text, stop) where stop means ``\c`` was seen."""
    out: list[str] = []
    i = 0
    n = len(text)
    simple = {"a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
    simple["\\"] = "\\"
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt == "c":
            return "".join(out), True
        elif nxt == "0":
            j = i + 2
            digits = ""
            while j < n and len(digits) < 3 and text[j] in "01234567":
                digits += text[j]
                j += 1
            out.append(_byte(int(digits or "0", 8) & 0xFF))
            i = j
        elif nxt == "x":
            j = i + 2
            digits = ""
            while j < n and len(digits) < 2 and text[j] in "0123456789abcdefABCDEF":
                digits += text[j]
                j += 1
            if digits:
                out.append(_byte(int(digits, 16)))
                i = j
            else:
                out.append("\\x")
                i += 2
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out), False


@command("echo")
def echo(ctx: CommandContext) -> int:
    """toybox echo: leading ``-n``/``-e``/``-E`` flag words only (``-ne`` too), rest verbatim."""
    args = ctx.argv[1:]
    newline = True
    escapes = False
    while args and len(args[0]) > 1 and args[0][0] == "-" and all(c in "neE" for c in args[0][1:]):
        for c in args[0][1:]:
            if c == "n":
                newline = False
            elif c == "e":
                escapes = True
            else:
                escapes = False
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = _echo_escapes(text)
        if stop:
            newline = False
    if newline:
        text += "\n"
    ctx.stdout.write(text.encode("utf-8", "surrogateescape"))
    return 0


@command("true")
def true_(ctx: CommandContext) -> int:
    return 0


@command("false")
def false_(ctx: CommandContext) -> int:
    return 1


def _parse_seconds(text: str) -> float | None:
    """toybox sleep accepts fractions and an s/m/h/d suffix."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    mult = 1
    if text and text[-1] in units:
        mult = units[text[-1]]
        text = text[:-1]
    try:
        value = float(text)
    except ValueError:
        return None
    if value < 0 or value != value:
        return None
    return value * mult


@command("sleep")
async def sleep(ctx: CommandContext) -> int:
    """Sleeps on the device clock: a jump in manual mode, a real (scaled) wait otherwise."""
    if len(ctx.argv) < 2:
        ctx.err("sleep: Needs 1 argument")
        return 1
    total = 0.0
    for arg in ctx.argv[1:]:
        secs = _parse_seconds(arg)
        if secs is None:
            ctx.err(f"sleep: bad duration '{arg}'")
            return 1
        total += secs
    clock = ctx.device.clock
    if clock.mode == "manual":
        clock.advance(total * 1000.0)
        await asyncio.sleep(0)
    else:
        await asyncio.sleep(total / clock.scale)
    return 0


_SHELL_GROUPS = (
    "groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),"
    "1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),"
    "3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs)"
)


@command("id")
def id_(ctx: CommandContext) -> int:
    """The shell user's identity, SELinux context included, as ``id`` prints on Android 14."""
    args = ctx.argv[1:]
    if args in (["-u"], ["-un"], ["-nu"]):
        ctx.out("shell" if "n" in args[0] else "2000")
        return 0
    if args in (["-g"], ["-gn"], ["-ng"]):
        ctx.out("shell" if "n" in args[0] else "2000")
        return 0
    if args and args[0].startswith("-"):
        ctx.err(f"id: Unknown option '{args[0].lstrip('-')[:1]}'")
        return 1
    if args and args[0] not in ("shell", "2000"):
        ctx.err(f"id: unknown user '{args[0]}'")
        return 1
    ctx.out(f"uid=2000(shell) gid=2000(shell) {_SHELL_GROUPS} context=u:r:shell:s0")
    return 0


@command("whoami")
def whoami(ctx: CommandContext) -> int:
    ctx.out("shell")
    return 0


@command("which")
def which(ctx: CommandContext) -> int:
    """Finds programs in ``/system/bin``; silent and exit 1 for what is not there."""
    args = [a for a in ctx.argv[1:] if a != "-a"]
    status = 0
    for name in args:
        if "/" in name:
            st = ctx.device.fs.stat(name)
            if st is not None and not st.is_dir:
                ctx.out(name)
            else:
                status = 1
        elif name in COMMANDS:
            ctx.out(f"/system/bin/{name}")
        else:
            status = 1
    return status


@command("uptime")
def uptime(ctx: CommandContext) -> int:
    """`` 09:00:00 up 0 min,  0 users,  load average: 0.00, 0.00, 0.00`` (toybox layout)."""
    import time as _time

    now_s = ctx.device.clock.now_ms() // 1000
    up_s = max(0, ctx.device.uptime_ms() // 1000)
    if "-s" in ctx.argv[1:]:
        ctx.out(_time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(now_s - up_s)))
        return 0
    days, rem = divmod(up_s, 86400)
    hours, mins = rem // 3600, (rem % 3600) // 60
    text = f" {_time.strftime('%H:%M:%S', _time.gmtime(now_s))} up "
    if days:
        text += f"{days} day{'s' if days != 1 else ''}, "
    text += f"{hours:2d}:{mins:02d}," if hours else f"{mins} min,"
    ctx.out(text + "  0 users,  load average: 0.00, 0.00, 0.00")
    return 0


_ESCAPE = re.compile(r"\\(?:0[0-7]{0,3}|x[0-9a-fA-F]{1,2}|.)", re.DOTALL)
_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([diouxXcsbeEfgG%])")


@command("printf")
def printf(ctx: CommandContext) -> int:
    """toybox printf: the format is reused until the arguments run out; bad numbers warn."""
    if len(ctx.argv) < 2:
        ctx.err("printf: Needs 1 argument")
        return 1
    fmt, args = ctx.argv[1], ctx.argv[2:]
    status = 0
    out: list[str] = []
    pos = 0

    def next_arg() -> str:
        nonlocal pos
        if pos < len(args):
            pos += 1
            return args[pos - 1]
        return ""

    while True:
        start_pos = pos
        i = 0
        while i < len(fmt):
            c = fmt[i]
            if c == "\\":
                seg = _ESCAPE.match(fmt, i)
                text, stop = _echo_escapes(seg.group() if seg else "\\")
                out.append(text)
                if stop:
                    ctx.stdout.write("".join(out).encode("utf-8", "surrogateescape"))
                    return status
                i = seg.end() if seg else i + 1
                continue
            if c != "%":
                out.append(c)
                i += 1
                continue
            m = _PRINTF_SPEC.match(fmt, i)
            if m is None:
                out.append(c)
                i += 1
                continue
            flags, width, prec, conv = m.groups()
            i = m.end()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = next_arg() or "0"
            if prec == "*":
                prec = next_arg() or "0"
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            arg = next_arg()
            if conv in "diouxXc" and conv != "c":
                try:
                    value = int(arg, 0) if arg else 0
                except ValueError:
                    ctx.err(f"printf: invalid number '{arg}'")
                    status = 1
                    value = 0
                out.append((spec + ("d" if conv in "iu" else conv)) % value)
            elif conv in "eEfgG":
                try:
                    fvalue = float(arg) if arg else 0.0
                except ValueError:
                    ctx.err(f"printf: invalid number '{arg}'")
                    status = 1
                    fvalue = 0.0
                out.append((spec + conv) % fvalue)
            elif conv == "c":
                out.append(arg[:1])
            elif conv == "b":
                out.append((spec + "s") % _echo_escapes(arg)[0])
            else:
                out.append((spec + "s") % arg)
        if pos >= len(args) or pos == start_pos:
            break
    ctx.stdout.write("".join(out).encode("utf-8", "surrogateescape"))
    return status
