"""``cmd bgtest …``: the virtual device's vendor command — its clock and its hardware cable.

This is how a harness finds out it is talking to a virtual device and asks it to move time
instead of sleeping: ``cmd bgtest clock advance 6h`` runs every event due in those six hours,
in order, at its own device time, and returns when the device has caught up.
"""

from __future__ import annotations

from ....durations import DurationError, format_duration_ms, parse_duration_ms
from ..registry import CommandContext, cmd_service

_HELP = """Virtual device (bgtest) commands:
  help
    Print this help text.
  clock
    Print the device time (epoch ms) and the clock mode.
  clock advance DURATION
    Run every event due in DURATION (500ms, 30s, 15m, 6h, 1d) in order, then return.
  clock mode manual|realtime|scaled N
    Switch the clock mode; scaled runs N times faster than the wall clock.
  cable [none|ac|usb|wireless|dock]
    Print or move the virtual charging cable (the hardware under dumpsys battery)."""


def _mode_text(ctx: CommandContext) -> str:
    clock = ctx.device.clock
    if clock.mode == "scaled":
        return f"scaled {clock.scale:g}"
    return clock.mode


@cmd_service("bgtest")
def cmd_bgtest(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    if not args or args[0] in ("help", "-h"):
        ctx.out(_HELP)
        return 0 if args else 255
    if args[0] == "clock":
        return _clock(ctx, args[1:])
    if args[0] == "cable":
        return _cable(ctx, args[1:])
    ctx.err(f"Unknown command: {args[0]}")
    return 255


def _clock(ctx: CommandContext, args: list[str]) -> int:
    clock = ctx.device.clock
    if not args:
        ctx.out(f"{clock.now_ms()} {_mode_text(ctx)}")
        return 0
    verb = args[0]
    if verb == "advance":
        if len(args) != 2:
            ctx.err("Error: clock advance needs one duration, e.g. 500ms, 30s, 15m, 6h, 1d")
            return 255
        try:
            delta = parse_duration_ms(args[1])
        except DurationError as exc:
            ctx.err(f"Error: {exc}")
            return 255
        ran = clock.advance(delta)
        ctx.out(f"advanced {format_duration_ms(delta)} to {clock.now_ms()}, {ran} events")
        return 0
    if verb == "mode":
        rest = args[1:]
        if rest[:1] in (["manual"], ["realtime"]) and len(rest) == 1:
            clock.set_mode(rest[0])  # type: ignore[arg-type]
        elif rest[:1] == ["scaled"] and len(rest) == 2:
            try:
                factor = float(rest[1])
            except ValueError:
                factor = 0.0
            if not factor > 0 or factor == float("inf"):
                ctx.err(f"Error: scale must be a positive number: {rest[1]}")
                return 255
            clock.set_mode("scaled", factor)
        else:
            ctx.err("Error: clock mode manual|realtime|scaled N")
            return 255
        ctx.out(f"{clock.now_ms()} {_mode_text(ctx)}")
        return 0
    ctx.err(f"Error: unknown clock command: {verb}")
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
