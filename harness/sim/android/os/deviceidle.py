"""DeviceIdleController: the deep and light Doze state machines, whitelists, ``cmd deviceidle``.

Follows AOSP's DeviceIdleController (Android 13/14) with its default constants, on the device
clock. Deep: ACTIVE → INACTIVE (30 m) → IDLE_PENDING (30 m) → SENSING → LOCATING → IDLE (1 h, 2 h,
4 h, 6 h, 6 h …) with IDLE_MAINTENANCE windows (5 m, then 10 m) in between; entering IDLE forces
the light machine to OVERRIDE. Light: ACTIVE → INACTIVE (1 m) → IDLE (5 m, 10 m, 15 m …) with 1 m
maintenance windows (WAITING_FOR_NETWORK when offline). Screen on or charging makes both ACTIVE
(unless forced); battery saver turns on quick doze (QUICK_DOZE_DELAY, 1 m, then IDLE).

Simplifications, chosen and documented: the motion sensor reports "stationary" 3 s into SENSING
and a network location fix arrives 5 s into LOCATING; alarm windows have no flex; a maintenance
window lasts its full length unless JobScheduler reports its jobs done (``set_jobs_active``),
when it ends early as AOSP's exitMaintenanceEarlyIfNeededLocked does; the lock screen is off.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from .timeutils import format_duration

if TYPE_CHECKING:
    from ...clock import Timer
    from .context import SystemContext

ACTIVE, INACTIVE, IDLE_PENDING, SENSING, LOCATING, IDLE, IDLE_MAINTENANCE, QUICK_DOZE_DELAY = (
    "ACTIVE",
    "INACTIVE",
    "IDLE_PENDING",
    "SENSING",
    "LOCATING",
    "IDLE",
    "IDLE_MAINTENANCE",
    "QUICK_DOZE_DELAY",
)
L_ACTIVE, L_INACTIVE, L_PRE_IDLE, L_IDLE, L_WAITING, L_MAINT, L_OVERRIDE = (
    "ACTIVE",
    "INACTIVE",
    "PRE_IDLE",
    "IDLE",
    "WAITING_FOR_NETWORK",
    "IDLE_MAINTENANCE",
    "OVERRIDE",
)

#: stateToString / lightStateToString numbers, as the ``device_idle`` event-log tags carry them.
DEEP_NUMBERS = {
    ACTIVE: 0,
    INACTIVE: 1,
    IDLE_PENDING: 2,
    SENSING: 3,
    LOCATING: 4,
    IDLE: 5,
    IDLE_MAINTENANCE: 6,
    QUICK_DOZE_DELAY: 7,
}
LIGHT_NUMBERS = {
    L_ACTIVE: 0,
    L_INACTIVE: 1,
    L_PRE_IDLE: 3,
    L_IDLE: 4,
    L_WAITING: 5,
    L_MAINT: 6,
    L_OVERRIDE: 7,
}

_LIGHT_IDLE_MODES = frozenset((L_IDLE, L_WAITING))

MIN = 60_000
#: DeviceIdleController.Constants defaults (COMPRESS_TIME=false), in dump order.
CONSTANTS: dict[str, int | float | bool] = {
    "flex_time_short": 1 * MIN,
    "light_after_inactive_to": 1 * MIN,
    "light_pre_idle_to": 3 * MIN,
    "light_idle_to": 5 * MIN,
    "light_idle_to_initial_flex": 1 * MIN,
    "light_max_idle_to_flex": 15 * MIN,
    "light_idle_factor": 2.0,
    "light_max_idle_to": 15 * MIN,
    "light_idle_maintenance_min_budget": 1 * MIN,
    "light_idle_maintenance_max_budget": 5 * MIN,
    "min_light_maintenance_time": 5_000,
    "min_deep_maintenance_time": 30_000,
    "inactive_to": 30 * MIN,
    "sensing_to": 4 * MIN,
    "locating_to": 30_000,
    "location_accuracy": 20.0,
    "motion_inactive_to": 10 * MIN,
    "motion_inactive_to_flex": 1 * MIN,
    "idle_after_inactive_to": 30 * MIN,
    "idle_pending_to": 5 * MIN,
    "max_idle_pending_to": 10 * MIN,
    "idle_pending_factor": 2.0,
    "quick_doze_delay_to": 1 * MIN,
    "idle_to": 60 * MIN,
    "max_idle_to": 6 * 60 * MIN,
    "idle_factor": 2.0,
    "min_time_to_alarm": 30 * MIN,
    "max_temp_app_allowlist_duration_ms": 5 * MIN,
    "mms_temp_app_allowlist_duration_ms": 1 * MIN,
    "sms_temp_app_allowlist_duration_ms": 20_000,
    "notification_allowlist_duration_ms": 30_000,
    "wait_for_unlock": True,
    "pre_idle_factor_long": 1.67,
    "pre_idle_factor_short": 0.33,
    "use_window_alarms": True,
}
_NOT_DURATIONS = {
    "light_idle_factor",
    "idle_pending_factor",
    "idle_factor",
    "location_accuracy",
    "wait_for_unlock",
    "pre_idle_factor_long",
    "pre_idle_factor_short",
    "use_window_alarms",
}
#: How long the virtual AnyMotionDetector and location provider take to answer.
SENSING_RESULT_MS = 3_000
LOCATION_FIX_MS = 5_000
EVENT_BUFFER_SIZE = 100

#: System apps allowed in power save (SystemConfig allow-in-power-save[-except-idle]), with appIds.
SYSTEM_WHITELIST: dict[str, int] = {"com.google.android.gms": 10150}
SYSTEM_EXCEPT_IDLE: dict[str, int] = {
    "com.android.providers.downloads": 10036,
    "com.android.vending": 10089,
    "com.google.android.gms": 10150,
}


def _b(v: bool) -> str:
    return "true" if v else "false"


class DeviceIdleController:
    """Doze. Publishes ``deviceidle(deep, light)`` and ``constraints`` on every state change."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self.c = dict(CONSTANTS)
        self.deep_enabled = True
        self.light_enabled = True
        # Persisted across reboot (deviceidle.xml): user whitelists and removed system entries.
        self.user_whitelist: dict[str, int] = {}
        self.user_except_idle: dict[str, int] = {}
        self.removed_system: dict[str, int] = {}
        self.events: deque[tuple[str, int, str]] = deque(maxlen=EVENT_BUFFER_SIZE)
        self._deep_timer: Timer | None = None
        self._light_timer: Timer | None = None
        self._aux_timer: Timer | None = None
        self._temp_timer: Timer | None = None
        self._reset_volatile()
        bus = device.bus
        bus.subscribe("boot", self._on_boot)
        bus.subscribe("screen", self._on_screen)
        bus.subscribe("power_source", self._on_power_source)
        bus.subscribe("network", self._on_network)
        bus.subscribe("power_save", self._on_power_save)
        bus.subscribe("shutdown", self._on_shutdown)

    def _reset_volatile(self) -> None:
        self._state = ACTIVE
        self._light_state = L_ACTIVE
        self._why = "boot"
        self.force_idle = False
        self.deep_enabled = True
        self.light_enabled = True
        self.quick_doze = False
        self.screen_on = True
        self.charging = True
        self.network_connected = True
        self.inactive_timeout = self.c["inactive_to"]
        self.next_idle_pending_delay = 0
        self.next_idle_delay = 0
        self.next_light_idle_delay = 0
        self.cur_light_budget = 0
        self.maintenance_start = 0
        self.next_alarm_time = 0
        self.next_light_alarm_time = 0
        self.jobs_active = False
        self.motion_active = False
        self.not_moving = False
        self.locating = False
        self.located = False
        self.temp_whitelist: dict[int, tuple[int, str]] = {}
        self._published = (ACTIVE, L_ACTIVE)
        for t in (self._deep_timer, self._light_timer, self._aux_timer, self._temp_timer):
            if t is not None:
                t.cancel()
        self._deep_timer = self._light_timer = self._aux_timer = self._temp_timer = None

    # ================================================================ queries
    @property
    def deep_state(self) -> str:
        return self._state

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        """moveToStateLocked: every deep move is written to the events log (``device_idle``)."""
        if value != self._state:
            self._state = value
            self.device.log("I", "device_idle", f"[{DEEP_NUMBERS[value]},{self._why}]", buffer="events")

    @property
    def light_state(self) -> str:
        return self._light_state

    @light_state.setter
    def light_state(self, value: str) -> None:
        if value != self._light_state:
            self._light_state = value
            self.device.log(
                "I", "device_idle_light", f"[{LIGHT_NUMBERS[value]},{self._why}]", buffer="events"
            )

    def deep_idle(self) -> bool:
        return self._state == IDLE

    def light_idle(self) -> bool:
        """PowerManager.isLightDeviceIdleMode: light IDLE (deep idle puts light in OVERRIDE, not here)."""
        return self._light_state in _LIGHT_IDLE_MODES

    def in_maintenance(self) -> bool:
        return self._state == IDLE_MAINTENANCE or self._light_state == L_MAINT

    def restricting(self) -> bool:
        """Doze currently defers non-whitelisted apps (deep IDLE, or light idle outside a window)."""
        return self._state == IDLE or self._light_state in _LIGHT_IDLE_MODES

    def restricts(self, package: str) -> bool:
        """True when Doze defers this app's jobs and network right now (alarms: see alarms.py)."""
        if not (self._state == IDLE or self._light_state in _LIGHT_IDLE_MODES):
            return False
        return not self.is_idle_whitelisted(package)

    def is_idle_whitelisted(self, package: str) -> bool:
        """Exempt from Doze: system or user whitelist, or a temp-whitelisted appId."""
        if package in self.user_whitelist:
            return True
        if package in SYSTEM_WHITELIST and package not in self.removed_system:
            return True
        if self.temp_whitelist:
            app_id = self._app_id(package)
            return app_id is not None and app_id in self.temp_whitelist
        return False

    def is_power_save_whitelisted(self, package: str) -> bool:
        """Exempt from battery saver / app standby: the idle whitelist plus the except-idle lists."""
        return (
            self.is_idle_whitelisted(package)
            or package in self.user_except_idle
            or (package in SYSTEM_EXCEPT_IDLE and package not in self.removed_system)
        )

    def _app_id(self, package: str) -> int | None:
        for table in (SYSTEM_EXCEPT_IDLE, SYSTEM_WHITELIST):
            if package in table:
                return table[package]
        pm = getattr(self.device, "packages", None)
        getter = getattr(pm, "get", None)
        app = getter(package) if callable(getter) else None
        uid = getattr(app, "uid", None)
        return uid % 100_000 if isinstance(uid, int) else None

    # ======================================================== bus handlers
    def _on_boot(self) -> None:
        self._reset_volatile()
        self._sync_inputs()
        self._become_inactive_if_appropriate()
        self._publish()

    def _on_shutdown(self) -> None:
        for t in (self._deep_timer, self._light_timer, self._aux_timer, self._temp_timer):
            if t is not None:
                t.cancel()
        self._deep_timer = self._light_timer = self._aux_timer = self._temp_timer = None

    def _sync_inputs(self) -> None:
        dev = self.device
        self.screen_on = dev.power.interactive
        self.charging = dev.battery.plugged
        self.network_connected = dev.net.active_network() is not None
        self.quick_doze = dev.power.saver_enabled

    def _on_screen(self, interactive: bool) -> None:
        if not interactive and self.screen_on:
            self.screen_on = False
            if not self.force_idle:
                self._become_inactive_if_appropriate()
        elif interactive:
            self.screen_on = True
            if not self.force_idle:
                self._become_active("screen", self.c["inactive_to"], change_light=True)
        self._publish()

    def _on_power_source(self, plugged: bool) -> None:
        if not plugged and self.charging:
            self.charging = False
            if not self.force_idle:
                self._become_inactive_if_appropriate()
        elif plugged and not self.charging:
            self.charging = True
            if not self.force_idle:
                self._become_active("charging", self.c["inactive_to"], change_light=True)
        self._publish()

    def _on_network(self, connected: bool) -> None:
        self.network_connected = connected
        if connected and self.light_state == L_WAITING:
            self._step_light("network")
        self._publish()

    def _on_power_save(self, enabled: bool) -> None:
        if enabled == self.quick_doze:
            return
        self.quick_doze = enabled
        if enabled:
            self._become_inactive_if_appropriate()
        self._publish()

    def set_jobs_active(self, active: bool) -> None:
        """JobScheduler says whether jobs run; an idle maintenance window then ends early."""
        self.jobs_active = active
        if not active:
            self._exit_maintenance_early_if_needed()
            self._publish()

    # =========================================================== transitions
    def _now(self) -> int:
        return self.device.clock.now_ms()

    def _event(self, kind: str, reason: str) -> None:
        self.events.appendleft((kind, self._now(), reason))

    def _publish(self) -> None:
        current = (self.state, self.light_state)
        if current == self._published:
            return
        self._published = current
        self.device.bus.publish("deviceidle", deep=self.state, light=self.light_state)
        self.device.bus.publish("constraints")

    def _schedule_deep(self, delay: int | float, fn: Callable[[], None] | None = None) -> None:
        self._cancel_deep()
        when = self._now() + int(delay)
        self.next_alarm_time = when
        self._deep_timer = self.device.clock.schedule_at(when, fn or self._deep_alarm, "deviceidle:deep")

    def _cancel_deep(self) -> None:
        if self._deep_timer is not None:
            self._deep_timer.cancel()
            self._deep_timer = None
        self.next_alarm_time = 0

    def _schedule_light(self, delay: int | float) -> None:
        self._cancel_light()
        when = self._now() + int(delay)
        self.next_light_alarm_time = when
        self._light_timer = self.device.clock.schedule_at(when, self._light_alarm, "deviceidle:light")

    def _cancel_light(self) -> None:
        if self._light_timer is not None:
            self._light_timer.cancel()
            self._light_timer = None
        self.next_light_alarm_time = 0

    def _schedule_aux(self, delay: int, fn: Callable[[], None]) -> None:
        self._cancel_aux()
        self._aux_timer = self.device.clock.schedule_in(delay, fn, "deviceidle:sensor")

    def _cancel_aux(self) -> None:
        if self._aux_timer is not None:
            self._aux_timer.cancel()
            self._aux_timer = None

    def _deep_alarm(self) -> None:
        self._deep_timer = None
        self.next_alarm_time = 0
        if self.state == SENSING:
            # sensing_to passed without an answer: start over (AOSP's sensing-timeout listener).
            self._why = "no activity"
            self.state = INACTIVE if self.deep_enabled else ACTIVE
            self._reset_idle_management()
            self._schedule_deep(self.inactive_timeout)
        else:
            self._step_deep("s:alarm")
        self._publish()

    def _light_alarm(self) -> None:
        self._light_timer = None
        self.next_light_alarm_time = 0
        self._step_light("s:alarm")
        self._publish()

    def _reset_idle_management(self) -> None:
        self.next_idle_pending_delay = 0
        self.next_idle_delay = 0
        self._cancel_aux()
        self.locating = False
        self.located = False
        self.motion_active = False

    def _become_active(self, reason: str, inactive_timeout: int | float, change_light: bool = True) -> None:
        if self.state != ACTIVE or (change_light and self.light_state != L_ACTIVE):
            self._event("normal", reason)
        self._why = reason
        self.state = ACTIVE
        self.inactive_timeout = int(inactive_timeout)
        self._cancel_deep()
        self._reset_idle_management()
        if change_light:
            self.light_state = L_ACTIVE
            self._cancel_light()
            self.next_light_idle_delay = 0
            self.cur_light_budget = 0
            self.maintenance_start = 0

    def _become_inactive_if_appropriate(self) -> None:
        if not self.force_idle and (self.charging or self.screen_on):
            return
        self._why = "no activity"
        if self.deep_enabled:
            if self.quick_doze:
                if self.state not in (QUICK_DOZE_DELAY, IDLE, IDLE_MAINTENANCE):
                    self.state = QUICK_DOZE_DELAY
                    self._reset_idle_management()
                    self._schedule_deep(self.c["quick_doze_delay_to"])
            elif self.state == ACTIVE:
                self.state = INACTIVE
                self._reset_idle_management()
                self._schedule_deep(self.inactive_timeout)
        if self.light_state == L_ACTIVE and self.light_enabled:
            self.light_state = L_INACTIVE
            self.next_light_idle_delay = 0
            self.cur_light_budget = 0
            self.maintenance_start = 0
            self._schedule_light(self.c["light_after_inactive_to"])

    def _upcoming_alarm_clock(self) -> bool:
        """An alarm clock due within ``min_time_to_alarm``: Doze must not go deeper (isUpcomingAlarmClock)."""
        alarms = getattr(self.device, "alarms", None)
        nxt = alarms.next_wake_from_idle_ms() if alarms is not None else None
        return nxt is not None and self._now() + self.c["min_time_to_alarm"] > nxt

    def _step_deep(self, reason: str) -> None:
        c = self.c
        s = self.state
        self._why = reason
        if s != ACTIVE and self._upcoming_alarm_clock():
            # AOSP: become active for the alarm, then inactive again; the state does not advance.
            self._become_active("alarm", c["inactive_to"], change_light=True)
            self._become_inactive_if_appropriate()
            return
        if s == INACTIVE:
            self.motion_active = True
            self._schedule_deep(c["idle_after_inactive_to"])
            self.next_idle_pending_delay = int(c["idle_pending_to"])
            self.next_idle_delay = int(c["idle_to"])
            self.state = IDLE_PENDING
        elif s == IDLE_PENDING:
            self.state = SENSING
            self.located = False
            self.not_moving = False
            self._schedule_deep(c["sensing_to"])
            self._schedule_aux(SENSING_RESULT_MS, self._on_stationary)
        elif s == SENSING:
            self._cancel_aux()
            self.state = LOCATING
            self.not_moving = True
            self.locating = True
            self._schedule_deep(c["locating_to"])
            self._schedule_aux(LOCATION_FIX_MS, self._on_location)
        elif s in (LOCATING, QUICK_DOZE_DELAY, IDLE_MAINTENANCE):
            self._cancel_aux()
            self.locating = False
            if not self.next_idle_delay:
                self.next_idle_delay = int(c["idle_to"])
            if not self.next_idle_pending_delay:
                self.next_idle_pending_delay = int(c["idle_pending_to"])
            self._schedule_deep(self.next_idle_delay)
            nxt = min(int(self.next_idle_delay * c["idle_factor"]), int(c["max_idle_to"]))
            self.next_idle_delay = max(nxt, int(c["idle_to"]))
            self.state = IDLE
            self.maintenance_start = 0
            if self.light_state != L_OVERRIDE:
                self.light_state = L_OVERRIDE
                self._cancel_light()
            self._event("deep-idle", reason)
        elif s == IDLE:
            self._schedule_deep(self.next_idle_pending_delay)
            self.maintenance_start = self._now()
            nxt = min(
                int(self.next_idle_pending_delay * c["idle_pending_factor"]), int(c["max_idle_pending_to"])
            )
            self.next_idle_pending_delay = max(nxt, int(c["idle_pending_to"]))
            self.state = IDLE_MAINTENANCE
            self._event("deep-maint", reason)
        # ACTIVE has no step: a plugged-in or screen-on device stays ACTIVE.

    def _on_stationary(self) -> None:
        self._aux_timer = None
        if self.state == SENSING:
            self._step_deep("s:stationary")
            self._publish()

    def _on_location(self) -> None:
        self._aux_timer = None
        if self.state == LOCATING:
            self.located = True
            self._step_deep("s:location")
            self._publish()

    def _step_light(self, reason: str) -> None:
        c = self.c
        s = self.light_state
        self._why = reason
        if s == L_INACTIVE or s in (L_PRE_IDLE, L_MAINT):
            if s == L_INACTIVE:
                self.cur_light_budget = int(c["light_idle_maintenance_min_budget"])
                self.next_light_idle_delay = int(c["light_idle_to"])
                self.maintenance_start = 0
                if self.jobs_active:
                    self.light_state = L_PRE_IDLE
                    self._schedule_light(c["light_pre_idle_to"])
                    return
            self.maintenance_start = 0
            self._schedule_light(self.next_light_idle_delay)
            self.next_light_idle_delay = min(
                int(self.next_light_idle_delay * c["light_idle_factor"]), int(c["light_max_idle_to"])
            )
            self.light_state = L_IDLE
            self._event("light-idle", reason)
        elif s in (L_IDLE, L_WAITING):
            if self.network_connected or s == L_WAITING:
                self.maintenance_start = self._now()
                self._schedule_light(self.cur_light_budget or c["light_idle_maintenance_min_budget"])
                self.light_state = L_MAINT
                self._event("light-maint", reason)
            else:
                self._schedule_light(self.next_light_idle_delay)
                self.light_state = L_WAITING
        # OVERRIDE and ACTIVE: a light step does nothing.

    def _exit_maintenance_early_if_needed(self) -> None:
        if self.jobs_active:
            return
        if self.state == IDLE_MAINTENANCE:
            self._step_deep("s:early")
        elif self.light_state == L_PRE_IDLE:
            self._step_light("s:predone")
        elif self.light_state == L_MAINT:
            self._step_light("s:early")

    def _exit_force_idle(self) -> None:
        if self.force_idle:
            self.force_idle = False
            if self.screen_on or self.charging:
                self._become_active("exit-force", self.c["inactive_to"], change_light=True)

    def _motion(self) -> None:
        become_inactive = self.state != ACTIVE or self.light_state == L_OVERRIDE
        self._become_active(
            "motion", self.c["motion_inactive_to"], change_light=self.light_state == L_OVERRIDE
        )
        if become_inactive:
            self._become_inactive_if_appropriate()

    # ====================================================== shell operations
    def step(self, which: str = "deep") -> str:
        if which == "light":
            self._step_light("s:shell")
        else:
            self._step_deep("s:shell")
        self._publish()
        return self.light_state if which == "light" else self.state

    def force_idle_deep(self) -> tuple[bool, str]:
        """``force-idle``: (ok, message) with the exact text the shell prints."""
        return self._force_idle("deep")

    def force_idle_light(self) -> tuple[bool, str]:
        return self._force_idle("light")

    def _force_idle(self, which: str) -> tuple[bool, str]:
        """Step the deep or light machine until IDLE, as forceIdleInternal does; give up when
        a step makes no progress (the force flag is then cleared again)."""
        deep = which == "deep"
        if not (self.deep_enabled if deep else self.light_enabled):
            return False, f"Unable to go {which} idle; not enabled"
        self.force_idle = True
        self._become_inactive_if_appropriate()
        current = self.state if deep else self.light_state
        target = IDLE if deep else L_IDLE
        while current != target:
            if deep:
                self._step_deep("s:shell")
            else:
                self._step_light("s:shell")
            now = self.state if deep else self.light_state
            if now == current:
                self._exit_force_idle()
                self._publish()
                return False, f"Unable to go {which} idle; stopped at {now}"
            current = now
        self._publish()
        return True, f"Now forced in to {which} idle mode"

    def force_inactive(self) -> None:
        self.force_idle = True
        self._become_inactive_if_appropriate()
        self._publish()

    def unforce(self) -> None:
        self._exit_force_idle()
        self._publish()

    def motion(self) -> None:
        self._motion()
        self._publish()

    def state_line(self) -> str:
        return f"Light state: {self.light_state}, deep state: {self.state}"

    def disable(self, which: str | None) -> list[str]:
        out: list[str] = []
        if which in (None, "deep", "all") and self.deep_enabled:
            self.deep_enabled = False
            out.append("Deep idle mode disabled")
        if which in (None, "light", "all") and self.light_enabled:
            self.light_enabled = False
            out.append("Light idle mode disabled")
        if out:
            self._become_active(f"{which or 'all'}-disabled", self.c["inactive_to"], change_light=True)
            self._publish()
        return out

    def enable(self, which: str | None) -> list[str]:
        out: list[str] = []
        if which in (None, "deep", "all") and not self.deep_enabled:
            self.deep_enabled = True
            out.append("Deep idle mode enabled")
        if which in (None, "light", "all") and not self.light_enabled:
            self.light_enabled = True
            out.append("Light idle mode enable")
        if out:
            self._become_inactive_if_appropriate()
            self._publish()
        return out

    def add_user_whitelist(self, package: str) -> bool:
        app_id = self._app_id(package)
        if app_id is None:
            return False
        self.user_whitelist[package] = app_id
        self.device.bus.publish("constraints")
        return True

    def remove_user_whitelist(self, package: str) -> bool:
        if self.user_whitelist.pop(package, None) is None:
            return False
        self.device.bus.publish("constraints")
        return True

    def add_temp_whitelist(self, package: str, duration_ms: int, reason: str = "shell") -> None:
        """Temp-allow an app (max ``max_temp_app_allowlist_duration_ms``); raises KeyError if unknown."""
        app_id = self._app_id(package)
        if app_id is None:
            raise KeyError(package)
        duration_ms = min(duration_ms, int(self.c["max_temp_app_allowlist_duration_ms"]))
        end = self._now() + duration_ms
        old = self.temp_whitelist.get(app_id)
        self.temp_whitelist[app_id] = (max(end, old[0]) if old else end, reason)
        self._arm_temp_expiry()
        self.device.bus.publish("constraints")

    def remove_temp_whitelist(self, package: str) -> None:
        app_id = self._app_id(package)
        if app_id is None:
            raise KeyError(package)
        if self.temp_whitelist.pop(app_id, None) is not None:
            self._arm_temp_expiry()
            self.device.bus.publish("constraints")

    def _arm_temp_expiry(self) -> None:
        if self._temp_timer is not None:
            self._temp_timer.cancel()
            self._temp_timer = None
        if self.temp_whitelist:
            first = min(end for end, _ in self.temp_whitelist.values())
            self._temp_timer = self.device.clock.schedule_at(first, self._expire_temp, "deviceidle:temp")

    def _expire_temp(self) -> None:
        self._temp_timer = None
        now = self._now()
        expired = [a for a, (end, _) in self.temp_whitelist.items() if end <= now]
        for app_id in expired:
            del self.temp_whitelist[app_id]
        self._arm_temp_expiry()
        if expired:
            self.device.bus.publish("constraints")

    # ================================================================ dump
    def temp_lines(self, prefix: str = "") -> list[str]:
        now = self._now()
        return [
            f"{prefix}UID={a}: {format_duration(end - now)} - {reason}"
            for a, (end, reason) in sorted(self.temp_whitelist.items())
        ]

    def dump(self) -> str:
        now = self._now()
        lines = ["  Settings:"]
        for key, value in self.c.items():
            if isinstance(value, bool):
                text = _b(value)
            elif key == "location_accuracy":
                text = f"{float(value)}m"
            elif key in _NOT_DURATIONS:
                text = str(float(value))
            else:
                text = format_duration(value)
            lines.append(f"    {key}={text}")
        if self.events:
            lines.append("  Idling history:")
            labels = {
                "normal": "     normal",
                "light-idle": " light-idle",
                "light-maint": "light-maint",
                "deep-idle": "  deep-idle",
                "deep-maint": " deep-maint",
            }
            for kind, at, reason in reversed(self.events):
                lines.append(f"    {labels[kind]}: {format_duration(at - now)} ({reason})")
        except_idle = {**SYSTEM_EXCEPT_IDLE, **self.user_except_idle}
        except_idle = {p: a for p, a in except_idle.items() if p not in self.removed_system}
        system = {p: a for p, a in SYSTEM_WHITELIST.items() if p not in self.removed_system}
        if except_idle:
            lines.append("  Whitelist (except idle) system apps:")
            lines += [f"    {p}" for p in except_idle]
        if system:
            lines.append("  Whitelist system apps:")
            lines += [f"    {p}" for p in system]
        if self.removed_system:
            lines.append("  Removed from whitelist system apps:")
            lines += [f"    {p}" for p in self.removed_system]
        if self.user_whitelist:
            lines.append("  Whitelist user apps:")
            lines += [f"    {p}" for p in self.user_whitelist]
        all_except = sorted(set(except_idle.values()) | set(self.user_whitelist.values()))
        if all_except:
            lines.append("  Whitelist (except idle) all app ids:")
            lines += [f"    {a}" for a in all_except]
        if self.user_whitelist:
            lines.append("  Whitelist user app ids:")
            lines += [f"    {a}" for a in sorted(set(self.user_whitelist.values()))]
        all_ids = sorted(set(system.values()) | set(self.user_whitelist.values()))
        if all_ids:
            lines.append("  Whitelist all app ids:")
            lines += [f"    {a}" for a in all_ids]
        if self.temp_whitelist:
            lines.append("  Temp whitelist schedule:")
            lines += self.temp_lines("    ")
            lines.append("  Temp whitelist app ids:")
            lines += [f"    {a}" for a in sorted(self.temp_whitelist)]
        lines += [
            f"  mLightEnabled={_b(self.light_enabled)}  mDeepEnabled={_b(self.deep_enabled)}",
            f"  mForceIdle={_b(self.force_idle)}",
            '  mUseMotionSensor=true mMotionSensor={Sensor name="Significant motion", vendor="bgtest", '
            "version=1, type=17, maxRange=1.0, resolution=1.0, power=0.5, minDelay=-1}",
            f"  mScreenOn={_b(self.screen_on)}",
            "  mScreenLocked=false",
            f"  mNetworkConnected={_b(self.network_connected)}",
            f"  mCharging={_b(self.charging)}",
            f"  mMotionActive={_b(self.motion_active)}",
            f"  mNotMoving={_b(self.not_moving)}",
            "  mMotionListener.activatedTimeElapsed=0",
            "  mLastMotionEventElapsed=0",
            "  0 stationary listeners registered",
            f"  mLocating={_b(self.locating)} mHasGps=false mHasNetwork=true mLocated={_b(self.located)}",
            f"  mState={self.state} mLightState={self.light_state}",
            f"  mInactiveTimeout={format_duration(self.inactive_timeout)}",
        ]
        if self.next_alarm_time:
            lines.append(f"  mNextAlarmTime={format_duration(self.next_alarm_time - now)}")
        if self.next_idle_pending_delay:
            lines.append(f"  mNextIdlePendingDelay={format_duration(self.next_idle_pending_delay)}")
        if self.next_idle_delay:
            lines.append(f"  mNextIdleDelay={format_duration(self.next_idle_delay)}")
        if self.next_light_idle_delay:
            lines.append(
                f"  mNextIdleDelay={format_duration(self.next_light_idle_delay)} (flex="
                f"{format_duration(self.c['light_idle_to_initial_flex'])})"
            )
        if self.next_light_alarm_time:
            lines.append(f"  mNextLightAlarmTime={format_duration(self.next_light_alarm_time - now)}")
        if self.cur_light_budget:
            lines.append(f"  mCurLightIdleBudget={format_duration(self.cur_light_budget)}")
        if self.maintenance_start:
            lines.append(f"  mMaintenanceStartTime={format_duration(self.maintenance_start - now)}")
        if self.jobs_active:
            lines.append("  mJobsActive=true")
        return "\n".join(lines)
