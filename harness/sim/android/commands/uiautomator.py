"""``uiautomator dump`` and ``screenrecord``: the virtual screen for UI tools.

``uiautomator dump [--compressed] [FILE]`` writes the accessibility hierarchy of what is on
screen (default ``/sdcard/window_dump.xml``) and prints AOSP's own message, typo included
("UI hierchary dumped to: …", cmds/uiautomator DumpCommand). The screen is the status bar over
the resumed app's window (``activity.top()``) or the launcher; with the screen off there is no
window to dump (``ERROR: null root node returned by UiTestAutomationBridge.``).

``screenrecord`` needs a hardware video encoder this virtual phone does not have: it answers
its usage text, and a recording fails the way screenrecord reports a codec that cannot be
created (exit 1) rather than writing a file that is not a video.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ..registry import CommandContext, command
from .screencap import HEIGHT, STATUS_BAR, WIDTH

DEFAULT_DUMP = "/sdcard/window_dump.xml"
LAUNCHER = "com.google.android.apps.nexuslauncher"


def _node(index: int, cls: str, package: str, bounds: tuple[int, int, int, int], res_id: str = "",
          text: str = "", desc: str = "", children: str = "", clickable: bool = False) -> str:
    x1, y1, x2, y2 = bounds
    attrs = {
        "index": str(index), "text": text, "resource-id": res_id, "class": cls, "package": package,
        "content-desc": desc, "checkable": "false", "checked": "false", "clickable": str(clickable).lower(),
        "enabled": "true", "focusable": str(clickable).lower(), "focused": "false", "scrollable": "false",
        "long-clickable": "false", "password": "false", "selected": "false",
        "bounds": f"[{x1},{y1}][{x2},{y2}]",
    }
    head = "<node " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    return f"{head}>{children}</node>" if children else f"{head} />"


def hierarchy_xml(ctx: CommandContext) -> str:
    """The window hierarchy of the virtual screen, as UiAutomator serialises it."""
    top = ctx.device.activity.top()
    package = top[0] if top else LAUNCHER
    content = (0, STATUS_BAR, WIDTH, HEIGHT)
    if top:
        title = (42, STATUS_BAR + 40, WIDTH - 42, STATUS_BAR + 140)
        label = _node(0, "android.widget.TextView", package, title, res_id=f"{package}:id/title",
                      text=top[1].lstrip("."))
        inner = _node(0, "android.view.ViewGroup", package, content, res_id=f"{package}:id/content",
                      children=label)
    else:
        inner = _node(0, "android.view.View", package, content, res_id=f"{LAUNCHER}:id/workspace",
                      desc="Home", clickable=True)
    root = _node(0, "android.widget.FrameLayout", package, (0, 0, WIDTH, HEIGHT), children=inner)
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
            f'<hierarchy rotation="0">{root}</hierarchy>')


@command("uiautomator")
def uiautomator(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    if not args or args[0] != "dump":
        ctx.out("Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\n"
                "help: displays help message\n\n"
                "runtest: executes UI automation tests\n"
                "    runtest <class spec> [options]\n\n"
                "dump: creates an XML dump of current UI hierarchy\n"
                "    dump [--verbose][file]\n"
                "      [--compressed]: dumps compressed layout information.\n"
                "      [file]: the location where the dumped XML should be stored, default is\n"
                "      /sdcard/window_dump.xml\n\n"
                "events: prints out accessibility events until terminated")
        return 0 if args and args[0] == "help" else 1
    path = next((a for a in args[1:] if not a.startswith("--")), DEFAULT_DUMP)
    if not getattr(ctx.device.power, "interactive", True):
        ctx.err("ERROR: null root node returned by UiTestAutomationBridge.")
        return 1
    xml = hierarchy_xml(ctx)
    if path == "/dev/tty":
        ctx.stdout.write(xml)
    else:
        try:
            ctx.device.fs.write(path, xml.encode(), uid=ctx.uid)
        except Exception as exc:
            ctx.err(f"ERROR: could not write {path}: {getattr(exc, 'reason', exc)}")
            return 1
    ctx.out(f"UI hierchary dumped to: {path}")
    return 0


@command("screenrecord")
def screenrecord(ctx: CommandContext) -> int:
    """``screenrecord [options] <filename>``: usage, or the encoder failure this phone has."""
    args = ctx.argv[1:]
    files = [a for a in args if not a.startswith("--")]
    if not args or "--help" in args or not files:
        ctx.out("Usage: screenrecord [options] <filename>\n\n"
                "Android screenrecord v1.3.  Records the device's display to a .mp4 file.\n\n"
                "Options:\n"
                "--size WIDTHxHEIGHT\n"
                "    Set the video size, e.g. \"1280x720\".  Default is the device's main\n"
                "    display resolution (if supported), 1280x720 if not.\n"
                "--bit-rate RATE\n"
                "    Set the video bit rate, in bits per second.  Value may be specified as\n"
                "    bits or megabits, e.g. '4000000' is equivalent to '4M'.  Default 20Mbps.\n"
                "--time-limit TIME\n    Set the maximum recording time, in seconds.  Default is 180.\n"
                "--verbose\n    Display interesting information on stdout.\n"
                "--help\n    Show this message.\n\n"
                "Recording continues until Ctrl-C is hit or the time limit is reached.")
        return 0 if "--help" in args else 2
    # virtual hardware: no MediaCodec video encoder (screenrecord.cpp prepareEncoder)
    ctx.err("ERROR: unable to create video/avc codec instance")
    return 1
