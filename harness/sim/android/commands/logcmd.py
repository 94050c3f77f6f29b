"""``/system/bin/log``: write a line to logd from the shell, as toybox's ``log`` does.

The harness uses it as a barrier: it logs a unique marker and waits until its own logcat
reader has seen it, so every record the device wrote before that point is in the journal.
"""

from __future__ import annotations

from ..registry import CommandContext, command

_PRIORITIES = {"v": "V", "d": "D", "i": "I", "w": "W", "e": "E", "f": "F", "a": "F"}
_USAGE = """usage: log [-p PRI] [-t TAG] [MESSAGE...]

Logs message to logcat.

-p	use the given priority instead of INFO:
	d: DEBUG  e: ERROR  f: FATAL  i: INFO  v: VERBOSE  w: WARN  s: SILENT
-t	use the given tag instead of "log\""""


@command("log")
def log_command(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    priority, tag = "I", "log"
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-p", "-t") and i + 1 < len(args):
            value = args[i + 1]
            if arg == "-p":
                letter = value[:1].lower()
                if letter == "s":
                    return 0
                if letter not in _PRIORITIES:
                    ctx.err(f"log: bad -p '{value}'")
                    return 1
                priority = _PRIORITIES[letter]
            else:
                tag = value
            i += 2
            continue
        if arg.startswith("-") and arg != "-" and not words:
            ctx.err(f"log: Unknown option '{arg}'")
            ctx.err(_USAGE)
            return 1
        words.append(arg)
        i += 1
    message = " ".join(words)
    if not message:
        return 0
    # Each `log` is its own short-lived process, as on a phone: its pid tells two calls apart
    # (logcat joins consecutive lines with the same time, pid, tid and tag into one message).
    procs = ctx.device.procs
    proc = procs.spawn("log", ctx.uid)
    try:
        ctx.device.log(priority, tag, message, pid=proc.pid, uid=ctx.uid)
    finally:
        procs.kill(proc.pid)
    return 0
