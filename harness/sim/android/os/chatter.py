"""The background log of an idle phone: system processes that keep saying something.

A real device is never silent — ``logcat`` always has a next line within seconds — and
clients rely on it (a reader stopped by "the next line" would otherwise block). These lines
are the humdrum of an idle Pixel: Wi-Fi scans, netd answering config queries, DropBox,
SurfaceFlinger, Play services. None of them is a task event of any vocabulary.

Cost: one timer at a time. With a realtime clock a line comes every 1-4 s (what a person at
``adb logcat`` expects); when device time is moved by ``clock advance`` lines come every
20-60 s of device time, so a simulated night adds a few hundred records, not a flood.
Deterministic per device and boot.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...clock import Timer
    from .context import SystemContext

#: (process, level, tag, message): the lines an idle phone repeats.
LINES = (
    ("system_server", "D", "WifiNl80211Manager", "Scan result ready event"),
    ("system_server", "D", "WifiScoringParams", "Expid 0, score 60"),
    ("netd", "I", "netd", 'interfaceGetCfg("wlan0") <0.04ms>'),
    ("system_server", "I", "DropBoxManagerService",
     "add tag=system_server_strictmode isTagEnabled=true flags=0x2"),
    ("surfaceflinger", "D", "SurfaceFlinger", "Finished setting power mode 1 on display 4619827259835644672"),
    ("com.google.android.gms.persistent", "I", "NearbyDiscovery", "BLE scan stopped: no subscribers"),
    ("system_server", "D", "ConnectivityService", "NetReassign [no changes]"),
    ("system_server", "I", "KernelCpuUidFreqTimeReader", "Reading uid cpu freq times"),
    ("com.android.systemui", "D", "KeyguardUpdateMonitor", "handleBatteryUpdate"),
    ("system_server", "D", "BatteryStatsImpl", "Reading cpu stats took 3ms"),
)


class LogChatter:
    """Schedules the next background line on the device clock while the device is up."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self._timer: Timer | None = None
        self._rng = random.Random()
        device.bus.subscribe("boot_completed", self.start)
        device.bus.subscribe("shutdown", self.stop)

    def start(self) -> None:
        self.stop()
        self._rng.seed(f"{self.device.serial}/{self.device.boot_count}")
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        low, high = (1_000, 4_000) if self.device.clock.mode == "realtime" else (20_000, 60_000)
        self._timer = self.device.clock.schedule_in(self._rng.randint(low, high), self._say, "log-chatter")

    def _say(self) -> None:
        name, level, tag, message = self._rng.choice(LINES)
        found = self.device.procs.by_name(name)
        pid = found[0].pid if found else None
        uid = found[0].uid if found else 1000
        self.device.log(level, tag, message, pid=pid, uid=uid)
        self._schedule()
