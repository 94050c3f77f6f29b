"""``cmd battery`` and ``dumpsys battery`` (BatteryService.Shell)."""

from __future__ import annotations

from ..os.battery import _b
from ..registry import CommandContext, cmd_service, dumpsys_section

_HELP = """Battery service (battery) commands:
  help
    Print this help text.
  get [-f] [ac|usb|wireless|dock|status|level|temp|present|counter|invalid]
  set [-f] [ac|usb|wireless|dock|status|level|temp|present|counter|invalid] <value>
    Force a battery property value, freezing battery state.
    -f: force a battery change broadcast be sent, prints new sequence.
  unplug [-f]
    Force battery unplugged, freezing battery state.
    -f: force a battery change broadcast be sent, prints new sequence.
  reset [-f]
    Unfreeze battery state, returning to current hardware values.
    -f: force a battery change broadcast be sent, prints new sequence."""

_SET_KEYS = ("present", "ac", "usb", "wireless", "dock", "status", "level", "counter", "temp", "invalid")


def _take_options(args: list[str]) -> tuple[bool, list[str]]:
    force = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        if args[0] == "-f":
            force = True
        args = args[1:]
    return force, args


def battery_shell(ctx: CommandContext, args: list[str]) -> int:
    """BatteryService.Shell: output goes to stdout (its PrintWriter), errors too, as AOSP does."""
    svc = ctx.device.battery
    if not args or args[0] in ("help", "-h"):
        ctx.out(_HELP)
        return 255
    verb, rest = args[0], args[1:]
    if verb == "unplug":
        force, _ = _take_options(rest)
        svc.unplug(force)
        if force:
            ctx.out(str(svc.seq))
        return 0
    if verb == "reset":
        force, _ = _take_options(rest)
        if svc.reset(force) and force:
            ctx.out(str(svc.seq))
        return 0
    if verb == "get":
        _, rest = _take_options(rest)
        if not rest:
            ctx.out("No property specified")
            return 255
        key = rest[0]
        info = svc.info
        values: dict[str, object] = {
            "present": info.present,
            "ac": info.ac,
            "usb": info.usb,
            "wireless": info.wireless,
            "dock": info.dock,
            "status": info.status,
            "level": info.level,
            "counter": info.counter,
            "temp": info.temp,
            "invalid": info.invalid,
            "current_now": -450_000 if not info.plugged() else 900_000,
            "current_average": -420_000 if not info.plugged() else 880_000,
        }
        if key not in values:
            ctx.out(f"Unknown get option: {key}")
            return 0
        v = values[key]
        ctx.out(_b(v) if isinstance(v, bool) else str(v))
        return 0
    if verb == "set":
        force, rest = _take_options(rest)
        if not rest:
            ctx.out("No property specified")
            return 255
        if len(rest) < 2:
            ctx.out("No value specified")
            return 255
        key, value = rest[0], rest[1]
        if key not in _SET_KEYS:
            ctx.out(f"Unknown set option: {key}")
            return 0
        try:
            number = _java_int(value)
        except ValueError:
            ctx.out(f"Bad value: {value}")
            return 255
        svc.set_field(key, number, force)
        if force:
            ctx.out(str(svc.seq))
        return 0
    ctx.out(f"Unknown command: {verb}")
    return 255


def _java_int(text: str) -> int:
    """Integer.parseInt: optional sign and decimal digits only, 32-bit."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isdigit() or not body.isascii():
        raise ValueError(text)
    n = int(text)
    if not -(2**31) <= n < 2**31:
        raise ValueError(text)
    return n


@cmd_service("battery")
def cmd_battery(ctx: CommandContext) -> int:
    return battery_shell(ctx, ctx.argv[1:])


@dumpsys_section("battery")
def dumpsys_battery(ctx: CommandContext) -> int:
    """``dumpsys battery`` dumps; with arguments it runs the shell but dumpsys itself exits 0."""
    args = ctx.argv[1:]
    if not args or args[0] in ("-a", "--proto"):  # dumpInternal: no args or -a; anything else is the shell
        ctx.out(ctx.device.battery.dump())
        return 0
    battery_shell(ctx, args)
    return 0
