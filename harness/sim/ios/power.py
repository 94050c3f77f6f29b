"""Power: battery level, the charger and Low Power Mode (and what powerd logs about them)."""

from __future__ import annotations

from .facts import LOW_BATTERY, SPRINGBOARD_PATH
from .phone import Phone


class Power:
    """The battery and Low Power Mode of one phone."""

    def __init__(self, dev: Phone) -> None:
        self.dev = dev

    def set_low_power(self, on: bool) -> None:
        if self.dev.d["lpm"] != on:
            self.dev.d["lpm"] = on
            self.dev.syslog(
                SPRINGBOARD_PATH,
                f"Low Power Mode {'enabled' if on else 'disabled'}",
                subsystem="com.apple.powerd",
                category="lowPowerMode",
            )
        self.dev.d["notify"]["com.apple.system.lowpowermode"] = 1 if on else 0

    def set_battery(self, level: float | None = None, charging: bool | None = None) -> None:
        if level is not None:
            self.dev.d["battery"] = level
        if charging is not None:
            self.dev.d["charging"] = charging
        if self.dev.d["lpm"] and self.dev.d["charging"] and self.dev.d["battery"] >= 0.8:
            self.set_low_power(False)  # LPM switches itself off once charged back up [A]

    def battery_ok(self) -> bool:
        level = float(self.dev.d["battery"])
        return level < 0 or level >= LOW_BATTERY or bool(self.dev.d["charging"])
