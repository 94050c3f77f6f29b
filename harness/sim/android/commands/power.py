"""``cmd power`` and ``dumpsys power`` (PowerManagerShellCommand)."""

from __future__ import annotations

from ..registry import CommandContext, cmd_service, dumpsys_section

_HELP = """Power manager (power) commands:
  help
    Print this help text.

  set-adaptive-power-saver-enabled [true|false]
    enables or disables adaptive power saver.
  set-mode MODE
    sets the power mode of the device to MODE.
    1 turns low power mode on and 0 turns low power mode off.
  set-fixed-performance-mode-enabled [true|false]
    enables or disables fixed performance mode
    note: this will affect system performance and should only be used
          during development"""


@cmd_service("power")
def cmd_power(ctx: CommandContext) -> int:
    """PowerManagerShellCommand."""
    args = ctx.argv[1:]
    if not args or args[0] in ("help", "-h"):
        ctx.out(_HELP)
        return 255
    verb = args[0]
    if verb == "set-mode":
        if len(args) < 2:
            ctx.out('Error: java.lang.IllegalArgumentException: Argument expected after "set-mode"')
            return 255
        mode = _java_int(args[1])
        if mode is None:
            ctx.out(f'Error: java.lang.NumberFormatException: For input string: "{args[1]}"')
            return 255
        ctx.device.power.set_saver(mode == 1)
        return 0
    if verb in ("set-adaptive-power-saver-enabled", "set-fixed-performance-mode-enabled"):
        if len(args) < 2:  # getNextArgRequired throws; ShellCommand reports it on stderr
            ctx.err(f"\nException occurred while executing '{verb}':")
            ctx.err(f'java.lang.IllegalArgumentException: Argument expected after "{verb}"')
            return 255
        return 0
    ctx.out(f"Unknown command: {verb}")
    return 255


def _java_int(text: str) -> int | None:
    """Integer.parseInt, or None where it would throw NumberFormatException."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not (body.isascii() and body.isdigit()):
        return None
    value = int(text)
    return value if -(2**31) <= value < 2**31 else None


@dumpsys_section("power")
def dumpsys_power(ctx: CommandContext) -> int:
    ctx.out(ctx.device.power.dump())
    return 0
