"""ProcessStats of the virtual phone: how long each app process ran in which state, and its PSS samples.

The real service (``com.android.server.am.ProcessStatsService``) records time per process state
and samples PSS now and then; ``dumpsys procstats`` then prints, per package, the share of time
in each state and ``min-avg-max`` of PSS, USS and RSS over the samples. Here a sample is taken
whenever a worker starts or ends (the moments memory changes) and when someone dumps, so the
maximum over a period includes every worker that ran in it — what a memory metric needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .memory import MemoryModel
from .workload import MetricsContext, Workload

#: Process states as procstats labels them (ProcessStats.STATE_NAMES); Service is a job's process.
STATES = ("Top", "Service", "Cached")


@dataclass
class Samples:
    """min / sum / max of PSS, USS and RSS over the samples taken (kB), as procstats keeps them."""

    count: int = 0
    low: list[int] = field(default_factory=lambda: [0, 0, 0])
    total: list[int] = field(default_factory=lambda: [0, 0, 0])
    high: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, values: tuple[int, int, int]) -> None:
        for i, v in enumerate(values):
            self.low[i] = v if self.count == 0 else min(self.low[i], v)
            self.high[i] = max(self.high[i], v)
            self.total[i] += v
        self.count += 1

    def triple(self, i: int) -> tuple[float, float, float]:
        """(min, avg, max) of PSS (0), USS (1) or RSS (2)."""
        return self.low[i], self.total[i] / max(self.count, 1), self.high[i]


@dataclass
class PackageStats:
    package: str
    uid: int
    version: int
    state_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STATES, 0.0))
    by_state: dict[str, Samples] = field(default_factory=lambda: {s: Samples() for s in STATES})
    overall: Samples = field(default_factory=Samples)

    @property
    def total_ms(self) -> float:
        return sum(self.state_ms.values())

    def max_pss_kb(self) -> int:
        return self.overall.high[0]


class ProcStats:
    """Per-package process-state time and PSS samples since the last reset."""

    def __init__(self, device: MetricsContext, workload: Workload, memory: MemoryModel) -> None:
        self.device = device
        self.workload = workload
        self.memory = memory
        self.packages: dict[str, PackageStats] = {}
        self.start_ms = device.now_ms()
        self._last_ms = self.start_ms
        self.screen_on_ms = 0.0
        self.screen_off_ms = 0.0
        workload.add_listener(self._before_change)  # settles before every change
        workload.on_start(lambda worker: self.sample(worker.package))

    def reset(self) -> None:
        self.packages.clear()
        self.start_ms = self._last_ms = self.device.now_ms()
        self.screen_on_ms = self.screen_off_ms = 0.0

    def _before_change(self, now: int) -> None:
        """A worker is about to start or end: close the interval the old state held.

        Memory only grows when a worker starts, so the sample taken right after each start (and
        at each dump) holds every peak."""
        self.settle(now)

    def settle(self, now: int) -> None:
        dt = now - self._last_ms
        self._last_ms = now
        if dt <= 0:
            return
        if self.device.power.interactive:
            self.screen_on_ms += dt
        else:
            self.screen_off_ms += dt
        for runtime in self.device.activity.running():
            stats = self._stats(runtime.package)
            if stats is not None:
                stats.state_ms[self._state(runtime.package)] += dt

    def sample(self, package: str) -> None:
        values = self.memory.app_sizes(package)
        stats = self._stats(package)
        if values is None or stats is None:
            return
        stats.by_state[self._state(package)].add(values)
        stats.overall.add(values)

    def snapshot(self) -> list[PackageStats]:
        """Settled to now, with a sample of every running app, biggest users first."""
        self.settle(self.device.now_ms())
        for runtime in self.device.activity.running():
            self.sample(runtime.package)
        return sorted(self.packages.values(), key=lambda s: (-s.total_ms, s.package))

    def _state(self, package: str) -> str:
        top = self.device.activity.top()
        if top is not None and top[0] == package:
            return "Top"
        return "Service" if self.workload.running(package) else "Cached"

    def _stats(self, package: str) -> PackageStats | None:
        stats = self.packages.get(package)
        if stats is None:
            installed = self.device.packages.get(package)
            if installed is None:
                return None
            version = int(getattr(installed.model, "version_code", 1))
            stats = self.packages[package] = PackageStats(package, installed.uid, version)
        return stats
