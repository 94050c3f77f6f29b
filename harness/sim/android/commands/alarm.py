"""``dumpsys alarm``."""

from __future__ import annotations

from ..registry import CommandContext, dumpsys_section


@dumpsys_section("alarm")
def dumpsys_alarm(ctx: CommandContext) -> int:
    ctx.out(ctx.device.alarms.dump())
    return 0
