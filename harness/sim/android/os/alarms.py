"""AlarmManager: exact, inexact and allow-while-idle alarms on the device clock; ``dumpsys alarm``.

An alarm fires at its time unless a policy defers it, as AlarmManagerService's
``policyWhenElapsed`` does:
- Deep Doze (IDLE): alarms without allow-while-idle wait for the next maintenance window (or
  for Doze to end) — for every app, whitelisted or not, as the Doze docs say ("its regular
  AlarmManager alarms do not fire"); allow-while-idle alarms fire, rate-limited per app —
  inexact ones to 1 per 9 minutes, exact ones to 72 per hour. Light Doze does not defer alarms.
- Battery saver (app not whitelisted, not on top): alarms without allow-while-idle wait until
  saver ends.
Inexact alarms get no window here (they fire at their nominal time); repeating alarms are the
caller's business (schedule the next one from the callback). Alarms do not survive reboot or
force-stop, as on Android.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .timeutils import format_duration

if TYPE_CHECKING:
    from ...clock import Timer
    from .context import SystemContext

FLAG_STANDALONE = 0x1
FLAG_WAKE_FROM_IDLE = 0x2
FLAG_ALLOW_WHILE_IDLE = 0x4
#: AlarmManagerService constants: allow_while_idle_window / quotas.
ALLOW_WHILE_IDLE_INEXACT_GAP_MS = 9 * 60_000
ALLOW_WHILE_IDLE_EXACT_QUOTA = 72
ALLOW_WHILE_IDLE_WINDOW_MS = 60 * 60_000


@dataclass
class Alarm:
    alarm_id: int
    package: str
    uid: int
    when_ms: int
    callback: Callable[[], object] = field(repr=False)
    exact: bool
    allow_while_idle: bool
    tag: str
    alarm_clock: bool = False
    deferred_by: str = ""  # "", "device_idle" or "battery_saver"
    timer: Timer | None = field(default=None, repr=False)

    @property
    def flags(self) -> int:
        f = FLAG_STANDALONE if self.exact or self.alarm_clock else 0
        if self.alarm_clock:
            f |= FLAG_WAKE_FROM_IDLE
        elif self.allow_while_idle:
            f |= FLAG_ALLOW_WHILE_IDLE
        return f


class AlarmManager:
    """Pending alarms by id; deferred ones wait in ``_deferred`` until the policy lifts."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self._ids = itertools.count(1)
        self._alarms: dict[int, Alarm] = {}
        self._deferred: dict[int, Alarm] = {}
        self._while_idle_history: dict[str, deque[int]] = {}
        self.delivered = 0
        bus = device.bus
        bus.subscribe("deviceidle", self._on_policy_change)
        bus.subscribe("power_save", self._on_power_save)
        bus.subscribe("package_stopped", self.cancel_package)
        bus.subscribe("package_removed", self.cancel_package)
        bus.subscribe("shutdown", self._on_shutdown)

    # ---------------------------------------------------------------- API
    def set(
        self,
        package: str,
        uid: int,
        when_ms: int,
        callback: Callable[[], object],
        *,
        exact: bool = False,
        allow_while_idle: bool = False,
        tag: str = "",
        alarm_clock: bool = False,
    ) -> int:
        """Schedule ``callback`` at device time ``when_ms`` (RTC_WAKEUP); returns the alarm id.

        ``alarm_clock`` is ``setAlarmClock``: it wakes the device from Doze, and while one is due
        within ``min_time_to_alarm`` (30 min) Doze will not go deeper.
        """
        alarm = Alarm(
            next(self._ids),
            package,
            uid,
            int(when_ms),
            callback,
            exact,
            allow_while_idle,
            tag,
            alarm_clock=alarm_clock,
        )
        self._alarms[alarm.alarm_id] = alarm
        self._arm(alarm, alarm.when_ms)
        return alarm.alarm_id

    def cancel(self, alarm_id: int) -> bool:
        alarm = self._alarms.pop(alarm_id, None)
        if alarm is None:
            return False
        self._deferred.pop(alarm_id, None)
        if alarm.timer is not None:
            alarm.timer.cancel()
        return True

    def cancel_package(self, package: str) -> int:
        ids = [a.alarm_id for a in self._alarms.values() if a.package == package]
        for alarm_id in ids:
            self.cancel(alarm_id)
        return len(ids)

    def next_wake_from_idle_ms(self) -> int | None:
        """AlarmManager.getNextWakeFromIdleTime: the next alarm-clock alarm, or None."""
        clocks = [a.when_ms for a in self._alarms.values() if a.alarm_clock]
        return min(clocks) if clocks else None

    def pending(self, package: str | None = None) -> list[Alarm]:
        alarms = sorted(self._alarms.values(), key=lambda a: (a.when_ms, a.alarm_id))
        return [a for a in alarms if package is None or a.package == package]

    # -------------------------------------------------------------- firing
    def _arm(self, alarm: Alarm, when_ms: int) -> None:
        alarm.timer = self.device.clock.schedule_at(
            when_ms, lambda: self._due(alarm), f"alarm:{alarm.package}"
        )

    def _deferral(self, alarm: Alarm) -> str:
        dev = self.device
        if alarm.allow_while_idle or alarm.alarm_clock:
            return ""
        if dev.idle.deep_idle():
            return "device_idle"
        if dev.power.saver_restricts(alarm.package) and not _foreground(dev, alarm.package):
            return "battery_saver"
        return ""

    def _due(self, alarm: Alarm) -> None:
        alarm.timer = None
        if alarm.alarm_id not in self._alarms:
            return
        reason = self._deferral(alarm)
        if reason:
            alarm.deferred_by = reason
            self._deferred[alarm.alarm_id] = alarm
            return
        if alarm.allow_while_idle and not alarm.alarm_clock and self.device.idle.deep_idle():
            later = self._while_idle_slot(alarm)
            if later is not None:
                self._arm(alarm, later)
                return
        self._deliver(alarm)

    def _while_idle_slot(self, alarm: Alarm) -> int | None:
        """The earliest time this while-idle alarm may fire under the idle rate limits, or None for now."""
        now = self.device.clock.now_ms()
        history = self._while_idle_history.get(alarm.package)
        if not history:
            return None
        if alarm.exact:
            recent = [t for t in history if t > now - ALLOW_WHILE_IDLE_WINDOW_MS]
            if len(recent) >= ALLOW_WHILE_IDLE_EXACT_QUOTA:
                return recent[-ALLOW_WHILE_IDLE_EXACT_QUOTA] + ALLOW_WHILE_IDLE_WINDOW_MS
            return None
        last = history[-1]
        return (
            last + ALLOW_WHILE_IDLE_INEXACT_GAP_MS if now - last < ALLOW_WHILE_IDLE_INEXACT_GAP_MS else None
        )

    def _deliver(self, alarm: Alarm) -> None:
        self._alarms.pop(alarm.alarm_id, None)
        self._deferred.pop(alarm.alarm_id, None)
        if alarm.allow_while_idle:
            history = self._while_idle_history.setdefault(
                alarm.package, deque(maxlen=ALLOW_WHILE_IDLE_EXACT_QUOTA)
            )
            history.append(self.device.clock.now_ms())
        self.delivered += 1
        alarm.callback()

    def _release_deferred(self) -> None:
        if not self._deferred:
            return
        for alarm in sorted(self._deferred.values(), key=lambda a: (a.when_ms, a.alarm_id)):
            if alarm.alarm_id in self._deferred and not self._deferral(alarm):
                alarm.deferred_by = ""
                self._deliver(alarm)

    def _on_policy_change(self, deep: str, light: str) -> None:
        self._release_deferred()

    def _on_power_save(self, enabled: bool) -> None:
        if not enabled:
            self._release_deferred()

    def _on_shutdown(self) -> None:
        for alarm_id in list(self._alarms):
            self.cancel(alarm_id)
        self._while_idle_history.clear()

    # ---------------------------------------------------------------- dump
    def dump(self) -> str:
        dev = self.device
        now = dev.clock.now_ms()
        elapsed = dev.uptime_ms()
        lines = [
            "Current Alarm Manager state:",
            f"  nowRTC={now}={_date(now)} nowELAPSED={elapsed}",
        ]
        pending = self.pending()
        wake = [a for a in pending if not a.deferred_by]
        if wake:
            nxt = wake[0].when_ms
            lines.append(f"  Next wakeup alarm: {format_duration(nxt - now)} = {_date(nxt)}")
        idle = dev.idle
        lines.append(
            f"  Device idle: {'deep' if idle.deep_idle() else ('light' if idle.light_idle() else 'no')}"
            f"  (mState={idle.state} mLightState={idle.light_state})"
        )
        lines.append("")
        lines.append(f"  Pending alarms: {len(pending)}")
        for i, a in enumerate(pending):
            lines.append(
                f"    RTC_WAKEUP #{i}: Alarm{{{a.alarm_id:07x} type 0 origWhen {a.when_ms} "
                f"whenElapsed {elapsed + a.when_ms - now} {a.package}}}"
            )
            lines.append(f"      tag=*walarm*:{a.tag or a.package}")
            lines.append(
                f"      type=RTC_WAKEUP origWhen={_date(a.when_ms)} window=0 repeatInterval=0 count=0 "
                f"flags=0x{a.flags:x}"
            )
            policy = f"requester={format_duration(a.when_ms - now)}"
            if a.deferred_by:
                policy += f" {a.deferred_by}=deferred"
            lines.append(f"      policyWhenElapsed: {policy}")
        per_pkg: dict[str, int] = {}
        for a in pending:
            per_pkg[a.package] = per_pkg.get(a.package, 0) + 1
        lines.append("")
        lines.append("  Pending alarms per package:")
        for pkg, n in sorted(per_pkg.items()):
            lines.append(f"    {pkg}: {n}")
        lines.append(f"  Deferred alarms: {len(self._deferred)}")
        lines.append(f"  Delivered alarms: {self.delivered}")
        return "\n".join(lines)


def _date(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def _foreground(device: SystemContext, package: str) -> bool:
    probe = getattr(getattr(device, "activity", None), "is_foreground", None)
    return bool(probe(package)) if callable(probe) else False
