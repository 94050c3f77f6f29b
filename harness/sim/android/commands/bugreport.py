"""``bugreportz``: dumpstate's zipped bug report, as ``adb bugreport`` and Mobly drive it.

The adb client (packages/modules/adb client/bugreport.cpp) first runs ``bugreportz -v`` and
reads the version from *stderr*; with 1.1 or later it runs ``bugreportz -p`` and follows its
stdout protocol (frameworks/native/cmds/bugreportz/readme.md): ``BEGIN:<path>``,
``PROGRESS:<n>/<total>``, then ``OK:<path>`` or ``FAIL:<message>``; on OK it pulls the zip over
sync. The zip holds what dumpstate writes: ``bugreport-*.txt`` (sections produced by running
the device's own programs), ``main_entry.txt`` naming it, and ``version.txt``.
``bugreportz -s`` streams the zip to stdout instead.
"""

from __future__ import annotations

import inspect
import io
import time
import zipfile

from ..os.fs import SHELL_APP_FILES
from ..procio import InputSource, OutputSink
from ..registry import COMMANDS, CommandContext, command

VERSION = "1.2"
BUGREPORT_DIR = f"{SHELL_APP_FILES}/bugreports"
#: dumpstate sections: (title, program argv) — the parts a person reads first.
_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("UPTIME", ("uptime",)),
    ("SYSTEM PROPERTIES", ("getprop",)),
    ("SYSTEM LOG", ("logcat", "-v", "threadtime", "-v", "printable", "-v", "uid", "-d", "*:v")),
    ("EVENT LOG", ("logcat", "-b", "events", "-v", "threadtime", "-v", "printable", "-v", "uid", "-d",
                   "*:v")),
    ("DUMPSYS jobscheduler", ("dumpsys", "jobscheduler")),
    ("DUMPSYS deviceidle", ("dumpsys", "deviceidle")),
    ("DUMPSYS battery", ("dumpsys", "battery")),
)


@command("bugreportz")
async def bugreportz(ctx: CommandContext) -> int:
    """``bugreportz [-h | -v | -p | -s]``."""
    args = ctx.argv[1:]
    if "-h" in args or any(a not in ("-p", "-v", "-s") for a in args):
        ctx.err("usage: bugreportz [-hpsv]\n  -h: to display this help message\n"
                "  -p: display progress\n  -s: stream content to standard output\n"
                "  -v: to display the version\n  or no arguments to generate a zipped bugreport")
        return 1 if "-h" not in args else 0
    if "-v" in args:
        ctx.err(VERSION)
        return 0
    name = _name(ctx)
    data = await _zip(ctx, name)
    if "-s" in args:
        ctx.stdout.write(data)
        return 0
    path = f"{BUGREPORT_DIR}/{name}.zip"
    progress = "-p" in args
    if progress:
        ctx.out(f"BEGIN:{path}")
        ctx.out("PROGRESS:100/100")
    fs = ctx.device.fs
    fs.mkdir(BUGREPORT_DIR, parents=True)
    fs.write(path, data, mode=0o644)
    ctx.out(f"OK:{path}")
    return 0


def _name(ctx: CommandContext) -> str:
    """dumpstate's base name: ``bugreport-<product>-<build id>-<local date-time>``."""
    props = ctx.device.props
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(ctx.device.now_ms() / 1000))
    return f"bugreport-{props.get('ro.product.name', 'phone')}-{props.get('ro.build.id', 'UNKNOWN')}-{stamp}"


async def _run(ctx: CommandContext, argv: tuple[str, ...]) -> bytes:
    fn = COMMANDS.get(argv[0])
    if fn is None:
        return f"*** command '{argv[0]}' not found\n".encode()
    out = OutputSink()
    sub = CommandContext(ctx.device, list(argv), InputSource(), out, OutputSink(), dict(ctx.env), 0)
    result = fn(sub)
    if inspect.isawaitable(result):
        await result
    return out.getvalue()


async def _zip(ctx: CommandContext, name: str) -> bytes:
    props = ctx.device.props
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ctx.device.now_ms() / 1000))
    text = io.BytesIO()
    bar = b"=" * 56 + b"\n"
    text.write(bar + f"== dumpstate: {stamp}\n".encode() + bar + b"\n")
    text.write(f"Build: {props.get('ro.build.display.id')}\n".encode())
    text.write(f"Build fingerprint: '{props.get('ro.build.fingerprint')}'\n".encode())
    text.write(f"Bootloader: {props.get('ro.bootloader')}\n".encode())
    text.write(f"Radio: {props.get('gsm.version.baseband')}\n".encode())
    text.write(b"Bugreport format version: 2.0\n\n")
    for title, argv in _SECTIONS:
        text.write(f"------ {title} ({' '.join(argv)}) ------\n".encode())
        text.write(await _run(ctx, argv))
        text.write(b"\n")
    text.write(b"==== dumpstate: done\n")
    when = time.gmtime(ctx.device.now_ms() / 1000)[:6]  # device time, never the host's clock
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, body in ((f"{name}.txt", text.getvalue()), ("main_entry.txt", f"{name}.txt".encode()),
                             ("version.txt", b"2.0")):
            zf.writestr(zipfile.ZipInfo(member, when), body, zipfile.ZIP_DEFLATED)
    return buf.getvalue()
