"""BatteryService: level, power source, ``dumpsys battery`` / ``cmd battery``, drain over device time.

Two layers, as on a phone. The *hardware* (the virtual cell and cable) charges and drains with
device time; the *reported* state is what the system acts on and what the shell prints. The shell's
``unplug`` / ``set`` freeze the reported state ("UPDATES STOPPED") until ``reset``, exactly like
AOSP: a phone on a USB cable keeps charging while ``dumpsys battery unplug`` says it is not.
The virtual cable itself is moved by the vendor command ``cmd bgtest cable none|ac|usb|wireless``.

The drain is computed lazily from the last anchor, and one timer per whole percent publishes
``battery_level`` — a 24-hour day costs a few dozen events, not one per tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...clock import Timer
    from .context import SystemContext

STATUS_UNKNOWN, STATUS_CHARGING, STATUS_DISCHARGING, STATUS_NOT_CHARGING, STATUS_FULL = 1, 2, 3, 4, 5
HEALTH_GOOD = 2

#: Percent per hour: charging on a cable, and draining with the screen off / on.
CHARGE_PER_H = {"ac": 60.0, "usb": 30.0, "wireless": 40.0, "dock": 30.0}
DRAIN_SCREEN_OFF_PER_H = 1.0
DRAIN_SCREEN_ON_PER_H = 10.0
#: config_lowBatteryWarningLevel and its close-hysteresis (+5), as BatteryService uses them.
LOW_BATTERY_LEVEL = 15
LOW_BATTERY_CLOSE = 20
CAPACITY_UAH = 4_000_000
CABLES = ("ac", "usb", "wireless", "dock")


@dataclass
class HealthInfo:
    """The reported values (AOSP's HealthInfo subset that the dump and the shell show)."""

    ac: bool = False
    usb: bool = True
    wireless: bool = False
    dock: bool = False
    present: bool = True
    status: int = STATUS_CHARGING
    level: int = 80
    temp: int = 250
    counter: int = 3_200_000
    invalid: int = 0
    max_current: int = 500_000
    max_voltage: int = 5_000_000

    def plugged(self) -> bool:
        return self.ac or self.usb or self.wireless or self.dock

    def plug_type(self) -> str | None:
        for name in CABLES:
            if getattr(self, name):
                return name
        return None


class BatteryService:
    """The battery as the system sees it; ``plugged`` / ``level`` are the reported values."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self.cable: str | None = "usb"  # the virtual hardware cable
        self._hw_level = 80.0
        self._hw_at_ms = device.clock.now_ms()
        self._screen_on = True
        self.updates_stopped = False
        #: BatteryService.mSequence: +1 per ACTION_BATTERY_CHANGED; what ``-f`` prints and what
        #: JobScheduler's ``get-battery-seq`` reports back while battery monitoring is on.
        self.seq = 1
        self._info = self._hw_info()
        self._low = False
        self._timer: Timer | None = None
        device.bus.subscribe("screen", self._on_screen)
        device.bus.subscribe("boot", self._on_boot)
        self._schedule_next_percent()

    # ---------------------------------------------------------------- queries
    @property
    def level(self) -> int:
        return self._info.level

    @property
    def plugged(self) -> bool:
        return self._info.plugged()

    @property
    def plug_type(self) -> str | None:
        """``ac`` / ``usb`` / ``wireless`` / ``dock`` or None, as reported."""
        return self._info.plug_type()

    @property
    def status(self) -> int:
        return self._info.status

    @property
    def low(self) -> bool:
        """BATTERY_LOW as BatteryService computes it (what JobScheduler's battery-not-low reads)."""
        return self._low

    @property
    def info(self) -> HealthInfo:
        return replace(self._info)

    # ------------------------------------------------------------ shell verbs
    def unplug(self, force: bool = False) -> None:
        """``dumpsys battery unplug [-f]``: report no power source and freeze the state.

        ``force`` sends the battery-changed broadcast (a new ``seq``) even when nothing changed.
        """
        new = replace(self._info, ac=False, usb=False, wireless=False, dock=False)
        self.updates_stopped = True
        self._apply(new, force)

    def reset(self, force: bool = False) -> bool:
        """Unfreeze and return to the hardware values; False (and no broadcast) when not frozen."""
        if not self.updates_stopped:
            return False
        self.updates_stopped = False
        self._apply(self._hw_info(), force)
        return True

    def set_level(self, n: int, force: bool = False) -> None:
        self.set_field("level", n, force)

    def set_field(self, key: str, value: int, force: bool = False) -> None:
        """``dumpsys battery set [-f] KEY VALUE`` (freezes the state)."""
        if key in CABLES or key == "present":
            new = replace(self._info, **{key: value != 0})
        else:
            new = replace(self._info, **{key: value})
        self.updates_stopped = True
        self._apply(new, force)

    def set_cable(self, cable: str | None) -> None:
        """Move the virtual cable (vendor command); the reported state follows unless frozen."""
        self._sync_hw()
        self.cable = cable
        self._hw_changed()

    # -------------------------------------------------------------- hardware
    def _rate_per_ms(self) -> float:
        if self.cable is not None:
            return CHARGE_PER_H[self.cable] / 3_600_000 if self._hw_level < 100 else 0.0
        per_h = DRAIN_SCREEN_ON_PER_H if self._screen_on else DRAIN_SCREEN_OFF_PER_H
        return -per_h / 3_600_000 if self._hw_level > 0 else 0.0

    def _sync_hw(self) -> None:
        now = self.device.clock.now_ms()
        level = self._hw_level + self._rate_per_ms() * (now - self._hw_at_ms)
        self._hw_level = min(100.0, max(0.0, level))
        self._hw_at_ms = now

    def hardware_level(self) -> float:
        self._sync_hw()
        return self._hw_level

    def _hw_info(self) -> HealthInfo:
        level = int(math.floor(self._hw_level + 1e-9))
        if self.cable is None:
            status = STATUS_DISCHARGING
        else:
            status = STATUS_FULL if level >= 100 else STATUS_CHARGING
        return HealthInfo(
            ac=self.cable == "ac",
            usb=self.cable == "usb",
            wireless=self.cable == "wireless",
            dock=self.cable == "dock",
            status=status,
            level=level,
            counter=CAPACITY_UAH * level // 100,
            max_current=0 if self.cable is None else 500_000,
            max_voltage=0 if self.cable is None else 5_000_000,
        )

    def _schedule_next_percent(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rate = self._rate_per_ms()
        if rate == 0:
            return
        level = self._hw_level
        target = math.floor(level + 1e-9) + 1 if rate > 0 else math.ceil(level - 1e-9) - 1
        if rate < 0 and target < 0:
            return
        delay = max(1.0, (target - level) / rate)
        self._timer = self.device.clock.schedule_in(math.ceil(delay), self._on_percent, "battery:percent")

    def _on_percent(self) -> None:
        self._timer = None
        self._hw_changed()

    def _hw_changed(self) -> None:
        self._sync_hw()
        self._hw_level = round(self._hw_level, 6)
        if not self.updates_stopped:
            self._apply(self._hw_info(), force=False)
        self._schedule_next_percent()

    def _on_screen(self, interactive: bool) -> None:
        self._sync_hw()
        self._screen_on = interactive
        self._schedule_next_percent()

    def _on_boot(self) -> None:
        """BatteryService restarts: shell overrides are gone, the hardware speaks again."""
        self._sync_hw()
        self.updates_stopped = False
        self._apply(self._hw_info(), force=False)

    # ------------------------------------------------------------ reporting
    def _apply(self, new: HealthInfo, force: bool) -> None:
        old = self._info
        self._info = new
        if new == old and not force:
            return
        self.seq += 1
        plugged = new.plugged()
        if plugged:
            self._low = False
        elif self._low:
            self._low = new.level < LOW_BATTERY_CLOSE
        else:
            self._low = new.level <= LOW_BATTERY_LEVEL
        bus = self.device.bus
        if plugged != old.plugged():
            bus.publish("power_source", plugged=plugged)
        if new.level != old.level:
            bus.publish("battery_level", level=new.level)
        bus.publish("constraints")

    def dump(self) -> str:
        i = self._info
        lines = ["Current Battery Service state:"]
        if self.updates_stopped:
            lines.append("  (UPDATES STOPPED -- use 'reset' to restart)")
        lines += [
            f"  AC powered: {_b(i.ac)}",
            f"  USB powered: {_b(i.usb)}",
            f"  Wireless powered: {_b(i.wireless)}",
            f"  Dock powered: {_b(i.dock)}",
            f"  Max charging current: {i.max_current}",
            f"  Max charging voltage: {i.max_voltage}",
            f"  Charge counter: {i.counter}",
            f"  status: {i.status}",
            f"  health: {HEALTH_GOOD}",
            f"  present: {_b(i.present)}",
            f"  level: {i.level}",
            "  scale: 100",
            f"  voltage: {3_600 + 6 * i.level}",
            f"  temperature: {i.temp}",
            "  technology: Li-ion",
            "  Charging state: 1",
            "  Charging policy: 1",
        ]
        return "\n".join(lines)


def _b(v: bool) -> str:
    return "true" if v else "false"
