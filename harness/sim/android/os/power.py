"""PowerManager: screen (interactive) state and battery saver, ``cmd power``, ``dumpsys power``.

Screen: on at boot; the power keys toggle it (``input keyevent`` lives in ``system_cmds.py`` and
calls :meth:`PowerManager.key`); without user activity it goes off after
``settings system screen_off_timeout`` unless ``stay_on_while_plugged_in`` covers the current
power source. The lock screen is modelled as disabled (a test device), so screen-on means
"on and unlocked" to Doze.

Battery saver follows PowerManagerService / BatterySaverStateMachine, simplified:
- ``cmd power set-mode 1`` while plugged is refused (setLowPowerModeInternal returns false): no
  change, no output.
- ``settings put global low_power 1`` while plugged: the setting reads 1 but saver stays off
  (BatterySaverStateMachine's enableBatterySaverLocked: "Can't enable: isPowered"). It is *not*
  applied later on unplug, and putting 1 again changes nothing (the value did not change, so no
  observer fires) — put 0 then 1, or use ``cmd power set-mode 1``, as on a phone.
- Plugging in turns saver off and writes ``low_power=0``; ``low_power_sticky`` (set by a manual
  enable) brings it back on unplug while the level is below 90 %, as AOSP's sticky restore does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...clock import Timer
    from .context import SystemContext

#: low_power_sticky_auto_disable_level: at or above this level a sticky saver stays off.
STICKY_AUTO_DISABLE_LEVEL = 90
#: PhoneWindowManager's wake-up details per wake reason.
_WAKE_DETAILS = {"POWER_BUTTON": "android.policy:POWER", "WAKE_KEY": "android.policy:KEY"}
#: BatteryManager plug-type bits, what ``stay_on_while_plugged_in`` is a mask of.
_PLUG_BITS = {"ac": 1, "usb": 2, "wireless": 4, "dock": 8}


class PowerManager:
    """Screen state and battery saver; publishes ``screen`` and ``power_save``."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self.interactive = True
        self.saver_enabled = False
        self.last_user_activity_ms = device.clock.now_ms()
        self._timeout_timer: Timer | None = None
        device.settings.observe("global", "low_power", self._on_low_power_setting)
        device.settings.observe("system", "screen_off_timeout", lambda _v: self._arm_timeout())
        device.settings.observe("global", "stay_on_while_plugged_in", lambda _v: self._arm_timeout())
        device.bus.subscribe("power_source", self._on_power_source)
        device.bus.subscribe("boot", self._on_boot)
        device.bus.subscribe("shutdown", self._on_shutdown)

    # ---------------------------------------------------------------- screen
    def set_interactive(self, on: bool, reason: str | None = None) -> None:
        """Wake or sleep; ``reason`` is a sleep reason (``power_button``, ``timeout`` …) or, waking,
        a wake reason suffix (``POWER_BUTTON``, ``WAKE_KEY`` …), logged as PowerManagerService does."""
        if on:
            self.last_user_activity_ms = self.device.clock.now_ms()
        if on == self.interactive:
            self._arm_timeout()
            return
        self.interactive = on
        if reason is None:
            reason = "APPLICATION" if on else "application"
        if on:
            details = _WAKE_DETAILS.get(reason, "android.server.power:SHELL")
            message = f"Waking up from Asleep (uid 1000, reason=WAKE_REASON_{reason}, details={details})..."
        else:
            message = f"Going to sleep due to {reason} (uid 1000)..."
        self.device.log("I", "PowerManagerService", message, buffer="system")  # Slog: the system buffer
        self.device.bus.publish("screen", interactive=on)
        self.device.bus.publish("constraints")
        self._arm_timeout()

    def user_activity(self) -> None:
        """A key or touch: keeps the screen on for another timeout."""
        self.last_user_activity_ms = self.device.clock.now_ms()
        self._arm_timeout()

    def key(self, keycode: int) -> None:
        """KEYCODE_POWER (26) toggles, KEYCODE_WAKEUP (224) wakes, KEYCODE_SLEEP (223) sleeps."""
        if keycode == 26:
            self.set_interactive(
                not self.interactive, "POWER_BUTTON" if not self.interactive else "power_button"
            )
        elif keycode == 224:
            self.set_interactive(True, "WAKE_KEY")
        elif keycode == 223:
            self.set_interactive(False, "sleep_button")
        elif self.interactive:
            self.user_activity()
            if keycode in (3, 4):  # HOME / BACK send the top app to the background (ActivityManager)
                on_key = getattr(getattr(self.device, "activity", None), "on_navigation_key", None)
                if on_key is not None:
                    on_key(keycode)

    @property
    def wakefulness(self) -> str:
        return "Awake" if self.interactive else "Asleep"

    def _stay_on(self) -> bool:
        mask = self.device.settings.get_int("global", "stay_on_while_plugged_in", 0)
        plug = self.device.battery.plug_type
        return plug is not None and bool(mask & _PLUG_BITS[plug])

    def _arm_timeout(self) -> None:
        if self._timeout_timer is not None:
            self._timeout_timer.cancel()
            self._timeout_timer = None
        if not self.interactive or self._stay_on():
            return
        timeout = self.device.settings.get_int("system", "screen_off_timeout", 60_000)
        if timeout <= 0:
            return
        when = self.last_user_activity_ms + timeout
        self._timeout_timer = self.device.clock.schedule_at(when, self._on_timeout, "power:screen-timeout")

    def _on_timeout(self) -> None:
        self._timeout_timer = None
        if self.interactive and not self._stay_on():
            self.set_interactive(False, "timeout")

    # ----------------------------------------------------------------- saver
    def set_saver(self, enabled: bool) -> bool:
        """A manual request (``cmd power set-mode``); False, and no change, while plugged."""
        if self.device.battery.plugged:
            return False
        settings = self.device.settings
        settings.set_quiet("global", "low_power", "1" if enabled else "0")
        settings.set_quiet("global", "low_power_sticky", "1" if enabled else "0")
        self._set_saver_state(enabled)
        return True

    def saver_restricts(self, package: str) -> bool:
        """Battery saver defers this app's jobs/alarms and cuts its network (power-save whitelist exempt)."""
        if not self.saver_enabled:
            return False
        idle = getattr(self.device, "idle", None)
        return not (idle is not None and idle.is_power_save_whitelisted(package))

    def _set_saver_state(self, enabled: bool) -> None:
        if enabled == self.saver_enabled:
            return
        self.saver_enabled = enabled
        self.device.log(
            "I",
            "BatterySaverController",
            f"Battery saver {'enabled' if enabled else 'disabled'}",
            buffer="system",
        )
        self.device.bus.publish("power_save", enabled=enabled)
        self.device.bus.publish("constraints")

    def _on_low_power_setting(self, value: str | None) -> None:
        wanted = value is not None and value.strip() not in ("", "0")
        if wanted and self.device.battery.plugged:
            return  # "Can't enable: isPowered"; the setting stays as put
        self.device.settings.set_quiet("global", "low_power_sticky", "1" if wanted else "0")
        self._set_saver_state(wanted)

    def _on_power_source(self, plugged: bool) -> None:
        settings = self.device.settings
        if plugged:
            if self.saver_enabled:
                settings.set_quiet("global", "low_power", "0")
                self._set_saver_state(False)
        elif (
            settings.get_int("global", "low_power_sticky", 0) == 1
            and self.device.battery.level < STICKY_AUTO_DISABLE_LEVEL
        ):
            settings.set_quiet("global", "low_power", "1")
            self._set_saver_state(True)
        self._arm_timeout()

    def _on_shutdown(self) -> None:
        if self._timeout_timer is not None:
            self._timeout_timer.cancel()
            self._timeout_timer = None

    def _on_boot(self) -> None:
        """The screen comes on at boot; saver comes back from the persisted setting."""
        self.last_user_activity_ms = self.device.clock.now_ms()
        if not self.interactive:
            self.interactive = True
            self.device.bus.publish("screen", interactive=True)
        wanted = self.device.settings.get_int("global", "low_power", 0) == 1
        self._set_saver_state(wanted and not self.device.battery.plugged)
        self._arm_timeout()

    def dump(self) -> str:
        battery = self.device.battery
        plug_bits = _PLUG_BITS.get(battery.plug_type or "", 0)
        b = _b
        settings = self.device.settings
        idle_ms = self.device.now_ms() - self.last_user_activity_ms
        lines = [
            "POWER MANAGER (dumpsys power)",
            "",
            "Power Manager State:",
            "  mDirty=0x0",
            f"  mWakefulness={self.wakefulness}",
            "  mWakefulnessChanging=false",
            f"  mIsPowered={b(battery.plugged)}",
            f"  mPlugType={plug_bits}",
            f"  mBatteryLevel={battery.level}",
            f"  mBatteryLevelLow={b(battery.low)}",
            f"  mStayOn={b(self._stay_on())}",
            "  mProximityPositive=false",
            f"  mBootCompleted={b(self.device.booted)}",
            "  mSystemReady=true",
            f"  mDeviceIdleMode={b(self.device.idle.deep_idle())}",
            f"  mLightDeviceIdleMode={b(self.device.idle.light_idle())}",
            f"  mLastUserActivityTime={self.device.uptime_ms() - idle_ms}",
            f"  mHoldingWakeLockSuspendBlocker={b(self.interactive)}",
            f"  mHoldingDisplaySuspendBlocker={b(self.interactive)}",
            f"Display Power: state={'ON' if self.interactive else 'OFF'}",
            "",
            "Settings and Configuration:",
            f"  mScreenOffTimeoutSetting={settings.get_int('system', 'screen_off_timeout', 60_000)}",
            f"  mStayOnWhilePluggedInSetting={settings.get_int('global', 'stay_on_while_plugged_in')}",
            "",
            "Battery saver state machine:",
            f"  Enabled={b(self.saver_enabled)}",
            f"    full={b(self.saver_enabled)}",
            "    adaptive=false",
            f"  mSettingBatterySaverEnabled={b(self.device.settings.get_int('global', 'low_power') == 1)}",
            f"  mSettingBatterySaverEnabledSticky="
            f"{b(self.device.settings.get_int('global', 'low_power_sticky') == 1)}",
            f"  mIsPowered={b(battery.plugged)}",
            f"  mBatteryLevel={battery.level}",
        ]
        return "\n".join(lines)


def _b(v: bool) -> str:
    return "true" if v else "false"
