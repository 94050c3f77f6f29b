"""``cmd bgtest …``: the virtual device's vendor command — its clock (``harness/sim/clockcmd.py``,
shared with the virtual iPhone) and its hardware cable."""

from __future__ import annotations

from ...clockcmd import USAGE, ClockCommandError, clock_command_io
from ..registry import CommandContext, cmd_service

_HELP = f"""Virtual device (bgtest) commands:
  help
    Print this help text.
  {USAGE}
  cable [none|ac|usb|wireless|dock]
    Print or move the virtual charging cable (the hardware under dumpsys battery)."""


@cmd_service("bgtest")
async def cmd_bgtest(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    if not args or args[0] in ("help", "-h"):
        ctx.out(_HELP)
        return 0 if args else 255
    if args[0] == "clock":
        try:
            ctx.out(await clock_command_io(ctx.device.clock, args[1:]))
        except ClockCommandError as exc:
            ctx.err(f"Error: {exc}")
            return 255
        return 0
    if args[0] == "cable":
        return _cable(ctx, args[1:])
    ctx.err(f"Unknown command: {args[0]}")
    return 255


def _cable(ctx: CommandContext, args: list[str]) -> int:
    battery = ctx.device.battery
    if not args:
        ctx.out(battery.cable or "none")
        return 0
    choice = args[0]
    if choice not in ("none", "ac", "usb", "wireless", "dock") or len(args) > 1:
        ctx.err("Error: cable none|ac|usb|wireless|dock")
        return 255
    battery.set_cable(None if choice == "none" else choice)
    return 0
