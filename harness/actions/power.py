"""Power and idle state: Doze, the battery, battery saver / Low Power Mode, the screen, app
standby buckets. Each changes device state, so the guard restores what it touched."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import BeforeValidator, Field, model_validator

from harness.actions.base import Action, RunContext
from harness.devices.base import Facet
from harness.scenario.fields import OnOff
from harness.scenario.step import StepBase

# --------------------------------------------------------------------------- step models


def _doze_off(value: Any) -> Any:
    """``doze: false`` is ``doze: off``: a YAML 1.1 editor reads ``off`` as false, so both mean it."""
    return "off" if value is False else value


class Doze(StepBase):
    kind: ClassVar[str] = "doze"
    primary: ClassVar[str | None] = "mode"
    mode: Annotated[Literal["deep", "light", "off", "step"], BeforeValidator(_doze_off)]


class Battery(StepBase):
    kind: ClassVar[str] = "battery"
    primary: ClassVar[str | None] = "state"
    state: Literal["unplugged", "charging", "reset"] | None = None
    level: int | None = Field(None, ge=0, le=100, description="battery percentage")

    @model_validator(mode="after")
    def _something(self) -> Battery:
        if self.state is None and self.level is None:
            raise ValueError("battery needs a state (unplugged, charging, reset) or a level: N")
        return self


class BatterySaver(StepBase):
    kind: ClassVar[str] = "battery_saver"
    primary: ClassVar[str | None] = "enabled"
    enabled: OnOff


class LowPower(BatterySaver):
    kind: ClassVar[str] = "low_power"


class StandbyBucket(StepBase):
    kind: ClassVar[str] = "standby_bucket"
    primary: ClassVar[str | None] = "bucket"
    bucket: Literal["active", "working_set", "frequent", "rare", "restricted", "never"]
    package: str | None = None


class Screen(StepBase):
    kind: ClassVar[str] = "screen"
    primary: ClassVar[str | None] = "on"
    on: OnOff


# --------------------------------------------------------------------------- driver capabilities


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



# --------------------------------------------------------------------------- actions


class DozeAction(Action[Doze]):
    model: ClassVar = Doze
    summary = "Doze: `deep`, `light`, `off` (unforce), `step`"
    example = "doze: deep"
    android = "`dumpsys deviceidle force-idle|step|unforce [deep|light]`, then verified with `get`"
    ios_why_not = "iOS has no Doze; use low_power or screen: off and wait"
    touches = frozenset({Facet.DOZE, Facet.BATTERY})  # forcing idle unplugs the battery first

    def run(self, step: Doze, ctx: RunContext, device: Dozes) -> None:
        device.doze(step.mode)


class BatteryAction(Action[Battery]):
    model: ClassVar = Battery
    summary = "battery state: `unplugged`, `charging`, `reset`, `{level: N}`"
    example = "battery: unplugged"
    android = "`dumpsys battery unplug|set ac 1|reset|set level N`"
    ios = "virtual iPhone: `simctl bgtest battery …`; a real iPhone cannot be unplugged remotely"
    touches = frozenset({Facet.BATTERY})

    def run(self, step: Battery, ctx: RunContext, device: HasBattery) -> None:
        device.battery(step.state, step.level)


class BatterySaverAction(Action[BatterySaver]):
    model: ClassVar = BatterySaver
    summary = "battery saver on/off (same as low_power)"
    example = "battery_saver: on"
    android = "`dumpsys battery unplug` then `cmd power set-mode 1|0`"
    ios = "Low Power Mode: `simctl spawn <udid> notifyutil -s com.apple.system.lowpowermode 1`; device: WDA"
    touches = frozenset({Facet.SAVER, Facet.BATTERY})  # turning it on unplugs the battery first

    def run(self, step: BatterySaver, ctx: RunContext, device: SavesPower) -> None:
        device.power_saver(step.enabled)


class LowPowerAction(BatterySaverAction):
    model: ClassVar = LowPower
    summary = "Low Power Mode on/off (same as battery_saver)"
    example = "low_power: on"
    android = "`dumpsys battery unplug` then `cmd power set-mode 1|0`"
    ios = "`simctl spawn <udid> notifyutil -s com.apple.system.lowpowermode 1`; device: WDA Settings"


class StandbyBucketAction(Action[StandbyBucket]):
    model: ClassVar = StandbyBucket
    summary = "app standby bucket: active, working_set, frequent, rare, restricted, never"
    example = "standby_bucket: rare"
    android = "`am set-standby-bucket <package> <bucket>`"
    ios_why_not = "iOS has no standby buckets"
    option_limits: ClassVar = {"package": (("android",), "standby buckets are Android")}
    touches = frozenset({Facet.BUCKET})

    def run(self, step: StandbyBucket, ctx: RunContext, device: HasStandbyBuckets) -> None:
        device.standby_bucket(step.package or ctx.app.need(), step.bucket)


class ScreenAction(Action[Screen]):
    model: ClassVar = Screen
    summary = "screen on/off"
    example = "screen: off"
    android = "`input keyevent KEYCODE_WAKEUP|KEYCODE_SLEEP`"
    ios = "WDA `lock` / `unlock`"
    touches = frozenset({Facet.SCREEN})

    def run(self, step: Screen, ctx: RunContext, device: HasScreen) -> None:
        device.screen(step.on)
