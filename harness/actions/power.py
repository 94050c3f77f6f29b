"""Power and idle state: Doze, the battery, battery saver / Low Power Mode, the screen, app
standby buckets. Each changes device state, so the guard restores what it touched."""

from __future__ import annotations

from typing import ClassVar, Protocol

from harness.actions.base import Action, RunContext
from harness.devices.base import Facet
from harness.scenario import models as m


class Dozes(Protocol):
    def doze(self, mode: str) -> str: ...


class HasBattery(Protocol):
    def battery(self, state: str | None = None, level: int | None = None) -> None: ...


class SavesPower(Protocol):
    def power_saver(self, on: bool) -> None: ...


class HasScreen(Protocol):
    def screen(self, on: bool) -> None: ...


class HasStandbyBuckets(Protocol):
    def standby_bucket(self, package: str, bucket: str | int) -> None: ...


class Doze(Action[m.Doze]):
    model: ClassVar = m.Doze
    summary = "Doze: `deep`, `light`, `off` (unforce), `step`"
    example = "doze: deep"
    android = "`dumpsys deviceidle force-idle|step|unforce [deep|light]`, then verified with `get`"
    ios_why_not = "iOS has no Doze; use low_power or screen: off and wait"
    touches = frozenset({Facet.DOZE, Facet.BATTERY})  # forcing idle unplugs the battery first

    def run(self, step: m.Doze, ctx: RunContext, device: Dozes) -> None:
        device.doze(step.mode)


class Battery(Action[m.Battery]):
    model: ClassVar = m.Battery
    summary = "battery state: `unplugged`, `charging`, `reset`, `{level: N}`"
    example = "battery: unplugged"
    android = "`dumpsys battery unplug|set ac 1|reset|set level N`"
    ios = "virtual iPhone: `simctl bgtest battery …`; a real iPhone cannot be unplugged remotely"
    touches = frozenset({Facet.BATTERY})

    def run(self, step: m.Battery, ctx: RunContext, device: HasBattery) -> None:
        device.battery(step.state, step.level)


class BatterySaver(Action[m.BatterySaver]):
    model: ClassVar = m.BatterySaver
    summary = "battery saver on/off (same as low_power)"
    example = "battery_saver: on"
    android = "`dumpsys battery unplug` then `cmd power set-mode 1|0`"
    ios = "Low Power Mode: `simctl spawn <udid> notifyutil -s com.apple.system.lowpowermode 1`; device: WDA"
    touches = frozenset({Facet.SAVER, Facet.BATTERY})  # turning it on unplugs the battery first

    def run(self, step: m.BatterySaver, ctx: RunContext, device: SavesPower) -> None:
        device.power_saver(step.enabled)


class LowPower(BatterySaver):
    model: ClassVar = m.LowPower
    summary = "Low Power Mode on/off (same as battery_saver)"
    example = "low_power: on"
    android = "`dumpsys battery unplug` then `cmd power set-mode 1|0`"
    ios = "`simctl spawn <udid> notifyutil -s com.apple.system.lowpowermode 1`; device: WDA Settings"


class StandbyBucket(Action[m.StandbyBucket]):
    model: ClassVar = m.StandbyBucket
    summary = "app standby bucket: active, working_set, frequent, rare, restricted, never"
    example = "standby_bucket: rare"
    android = "`am set-standby-bucket <package> <bucket>`"
    ios_why_not = "iOS has no standby buckets"
    touches = frozenset({Facet.BUCKET})

    def run(self, step: m.StandbyBucket, ctx: RunContext, device: HasStandbyBuckets) -> None:
        device.standby_bucket(step.package or ctx.app.need(), step.bucket)


class Screen(Action[m.Screen]):
    model: ClassVar = m.Screen
    summary = "screen on/off"
    example = "screen: off"
    android = "`input keyevent KEYCODE_WAKEUP|KEYCODE_SLEEP`"
    ios = "WDA `lock` / `unlock`"
    touches = frozenset({Facet.SCREEN})

    def run(self, step: m.Screen, ctx: RunContext, device: HasScreen) -> None:
        device.screen(step.on)
