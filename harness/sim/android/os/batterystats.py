"""BatteryStats of the virtual phone: time on battery, screen, and each uid's CPU, wakelocks and radio.

Like the real service it tracks *time in states* and turns it into charge with a power profile
(AOSP ``BatteryUsageStatsProvider`` and the ``*PowerCalculator`` classes: component time ×
the profile's mA): a worker keeps CPU cores busy (its app model's ``cpu``, or the OS model's
figure for its engine, plus the engine's start-up), JobScheduler holds a partial wakelock for
the job (``*job*/<component>``), an HTTP worker keeps the Wi-Fi or the cellular radio up, and the
screen is charged to the app on top. Only time **on battery** counts (``BatteryStatsImpl``
accumulates nothing while plugged in), and ``--reset`` starts a new period — so a scenario that
stays on the charger has nothing to report.

Figures are integrated between events (worker start/stop, screen, plug, boot), never sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

from .workload import MetricsContext, Workload

#: A power profile's currents, mA (orders of magnitude of ``power_profile.xml`` on phones of the
#: Pixel class: cpu.core_power for a busy big core, cpu.idle, screen.on, radio.active, wifi.active).
CPU_CORE_MA = 180.0
WAKELOCK_MA = 12.0
SCREEN_MA = 160.0
MOBILE_RADIO_MA = 190.0
WIFI_MA = 60.0
IDLE_MA = 6.0
#: system_server and the daemons keep about this much of one core busy while the phone is awake.
SYSTEM_CPU = 0.02
SYSTEM_UID = 1000


@dataclass
class UidStats:
    """What one uid used since the last reset, on battery (ms)."""

    cpu_ms: float = 0.0
    wakelock_ms: float = 0.0
    wakelock_count: int = 0
    max_wakelock_ms: float = 0.0
    mobile_radio_ms: float = 0.0
    wifi_ms: float = 0.0
    fg_ms: float = 0.0
    bg_ms: float = 0.0
    screen_ms: float = 0.0
    job_count: int = 0

    def power(self) -> dict[str, float]:
        """mAh per power component, in BatteryConsumer's component order."""
        return {
            "screen": _mah(self.screen_ms, SCREEN_MA),
            "cpu": _mah(self.cpu_ms, CPU_CORE_MA),
            "mobile_radio": _mah(self.mobile_radio_ms, MOBILE_RADIO_MA),
            "wifi": _mah(self.wifi_ms, WIFI_MA),
            "wakelock": _mah(self.wakelock_ms, WAKELOCK_MA),
        }

    def total_mah(self) -> float:
        return sum(self.power().values())


def _mah(ms: float, ma: float) -> float:
    return ms * ma / 3_600_000.0


class BatteryStats:
    """Accumulates per-uid usage while the phone is on battery; ``reset()`` starts a new period."""

    def __init__(self, device: MetricsContext, workload: Workload) -> None:
        self.device = device
        self.workload = workload
        self.capacity_mah = device.profile.battery_mah
        self.system_starts = 0
        self._reset_state()
        workload.add_listener(self._settle)
        workload.on_start(self._on_worker_started)
        bus = device.bus
        bus.subscribe("screen", lambda interactive: self._settle(device.now_ms()))
        bus.subscribe("power_source", lambda plugged: self._settle(device.now_ms()))
        bus.subscribe("boot", self._on_boot)

    # ------------------------------------------------------------------ period
    def _reset_state(self) -> None:
        now = self.device.now_ms()
        self.start_ms = now
        self._last_ms = now
        self.realtime_ms = 0.0
        self.on_battery_ms = 0.0
        self.screen_off_battery_ms = 0.0
        self.screen_on_battery_ms = 0.0
        self.screen_on_count = 0
        self.uids: dict[int, UidStats] = {}
        self.start_level = self.device.battery.level
        self._on_battery = not self.device.battery.plugged
        self._screen_on = bool(self.device.power.interactive)

    def reset(self) -> None:
        """``dumpsys batterystats --reset``: forget everything; a new period starts now."""
        self._reset_state()
        self.system_starts = 0

    def _on_boot(self) -> None:
        self.system_starts += 1
        self._settle(self.device.now_ms())

    # ------------------------------------------------------------------ integration
    def _settle(self, now: int) -> None:
        """Charge the interval since the last event to the state that held during it."""
        dt = now - self._last_ms
        if dt > 0:
            self.realtime_ms += dt
            if self._on_battery:
                self._charge_interval(dt)
        self._last_ms = now
        battery, power = self.device.battery, self.device.power
        screen_on = bool(power.interactive)
        if screen_on and not self._screen_on and not battery.plugged:
            self.screen_on_count += 1
        self._on_battery = not battery.plugged
        self._screen_on = screen_on

    def _charge_interval(self, dt: int) -> None:
        self.on_battery_ms += dt
        if self._screen_on:
            self.screen_on_battery_ms += dt
        else:
            self.screen_off_battery_ms += dt
        top = self.device.activity.top()
        if top is not None:
            app = self.device.packages.get(top[0])
            if app is not None:
                stats = self._uid(app.uid)
                stats.fg_ms += dt
                if self._screen_on:
                    stats.screen_ms += dt
        system = self._uid(SYSTEM_UID)
        system.cpu_ms += dt * SYSTEM_CPU * (1.0 if self._screen_on or self.workload.running() else 0.25)
        wifi = self._on_wifi()
        for worker in self.workload.running():
            stats = self._uid(worker.uid)
            stats.cpu_ms += dt * worker.cpu
            stats.wakelock_ms += dt
            if top is None or top[0] != worker.package:
                stats.bg_ms += dt
            if worker.network:
                if wifi:
                    stats.wifi_ms += dt
                else:
                    stats.mobile_radio_ms += dt

    def _on_worker_started(self, worker: object) -> None:
        if not self._on_battery:
            return
        uid = getattr(worker, "uid", 0)
        stats = self._uid(uid)
        stats.cpu_ms += getattr(worker, "start_cpu_ms", 0)
        stats.wakelock_count += 1
        stats.job_count += 1

    def _on_wifi(self) -> bool:
        net = self.device.net.active_network()
        return net is not None and getattr(net, "kind", "") == "WIFI"

    def _uid(self, uid: int) -> UidStats:
        stats = self.uids.get(uid)
        if stats is None:
            stats = self.uids[uid] = UidStats()
        return stats

    # ------------------------------------------------------------------ results
    def snapshot(self) -> BatterySnapshot:
        """The period so far (settled to now), for the dump."""
        self._settle(self.device.now_ms())
        device_power = {
            "screen": _mah(self.screen_on_battery_ms, SCREEN_MA),
            "cpu": sum(_mah(s.cpu_ms, CPU_CORE_MA) for s in self.uids.values()),
            "mobile_radio": sum(_mah(s.mobile_radio_ms, MOBILE_RADIO_MA) for s in self.uids.values()),
            "wifi": sum(_mah(s.wifi_ms, WIFI_MA) for s in self.uids.values()),
            "wakelock": sum(_mah(s.wakelock_ms, WAKELOCK_MA) for s in self.uids.values()),
            "idle": _mah(self.screen_off_battery_ms, IDLE_MA),
        }
        apps_power = {k: sum(s.power()[k] for s in self.uids.values()) for k in device_power if k != "idle"}
        apps_power["idle"] = 0.0
        drop = max(0, self.start_level - self.device.battery.level)
        return BatterySnapshot(
            capacity_mah=self.capacity_mah,
            on_battery=self._on_battery,
            realtime_ms=self.realtime_ms,
            on_battery_ms=self.on_battery_ms,
            screen_off_battery_ms=self.screen_off_battery_ms,
            screen_on_battery_ms=self.screen_on_battery_ms,
            screen_on_count=self.screen_on_count,
            start_ms=self.start_ms,
            discharge_low_mah=drop * self.capacity_mah / 100.0,
            discharge_high_mah=(drop + (1 if self.on_battery_ms else 0)) * self.capacity_mah / 100.0,
            device_power=device_power,
            apps_power=apps_power,
            uids=dict(self.uids),
            system_starts=self.system_starts,
        )


@dataclass
class BatterySnapshot:
    capacity_mah: int
    on_battery: bool
    realtime_ms: float
    on_battery_ms: float
    screen_off_battery_ms: float
    screen_on_battery_ms: float
    screen_on_count: int
    start_ms: int
    discharge_low_mah: float
    discharge_high_mah: float
    device_power: dict[str, float]
    apps_power: dict[str, float]
    uids: dict[int, UidStats]
    system_starts: int

    @property
    def computed_drain_mah(self) -> float:
        return sum(self.device_power.values())
