"""Which workers run in which app process right now: the one record memory, battery and procstats read.

The WorkManager runtime publishes ``worker_started`` / ``worker_stopped`` on the bus; a process
death ends every worker of that process (nobody is told: the process is simply gone, as
``lmkd`` or a crash leaves it). Services that integrate over time (batterystats, procstats)
register a listener that runs *before* the set changes, so they can close the interval that
just ended with the old set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .context import SystemContext

if TYPE_CHECKING:
    from .activity import ActivityManager
    from .fs import FileSystem
    from .packages import PackageManager
    from .processes import ProcessTable

#: What a worker costs when its app model says nothing (deployment guide, "Performance
#: Optimization": a native worker 2-5 MB and <50 ms to start; a DartWorker 30-50 MB and
#: 500-1000 ms, the FlutterEngine it boots). CPU in cores while it runs.
NATIVE_WORKER_KB = 3 * 1024
DART_WORKER_KB = 2 * 1024
DART_ENGINE_KB = 40 * 1024
NATIVE_START_CPU_MS = 40
DART_START_CPU_MS = 750
NATIVE_CPU = 0.15
DART_CPU = 0.35


@dataclass(frozen=True)
class RunningWorker:
    """One doWork() in flight: whose, which worker, on what engine, since when, and its cost."""

    package: str
    uid: int
    spec_id: str
    worker: str
    engine: str  # "native" | "dart"
    started_ms: int
    memory_kb: int  # the worker's own allocation, engine excluded
    cpu: float  # cores busy while it runs
    start_cpu_ms: int  # one-off CPU to start it (engine boot for Dart)
    network: bool  # makes HTTP calls (keeps a radio up)

    @property
    def engine_kb(self) -> int:
        return DART_ENGINE_KB if self.engine == "dart" else 0


Listener = Callable[[int], None]


class MetricsContext(SystemContext, Protocol):
    """Memory, procstats and batterystats read the whole process picture: apps, processes, files."""

    @property
    def packages(self) -> PackageManager: ...

    @property
    def procs(self) -> ProcessTable: ...

    @property
    def fs(self) -> FileSystem: ...

    @property
    def activity(self) -> ActivityManager: ...


class Workload:
    """Running workers by package; listeners hear of every change just before it happens."""

    def __init__(self, device: MetricsContext) -> None:
        self.device = device
        self._running: dict[str, dict[str, RunningWorker]] = {}
        self._listeners: list[Listener] = []
        self._watchers: list[Callable[[RunningWorker], None]] = []
        bus = device.bus
        bus.subscribe("worker_started", self._on_started)
        bus.subscribe("worker_stopped", self._on_stopped)
        bus.subscribe("process_died", self._on_process_died)
        bus.subscribe("shutdown", self._on_shutdown)

    # ------------------------------------------------------------------ queries
    def running(self, package: str | None = None) -> list[RunningWorker]:
        if package is not None:
            return list(self._running.get(package, {}).values())
        return [w for per in self._running.values() for w in per.values()]

    def add_listener(self, fn: Listener) -> None:
        """``fn(now_ms)`` runs before the set of running workers changes."""
        self._listeners.append(fn)

    def on_start(self, fn: Callable[[RunningWorker], None]) -> None:
        """``fn(worker)`` runs after a worker started (the low-memory killer watches this)."""
        self._watchers.append(fn)

    # ------------------------------------------------------------------ events
    def _changing(self) -> None:
        now = self.device.now_ms()
        for fn in self._listeners:
            fn(now)

    def _on_started(self, package: str, uid: int, spec_id: str, worker: str) -> None:
        running = self._describe(package, uid, spec_id, worker)
        if running is None:
            return
        self._changing()
        self._running.setdefault(package, {})[spec_id] = running
        for fn in self._watchers:
            fn(running)

    def _on_stopped(self, package: str, spec_id: str) -> None:
        if spec_id not in self._running.get(package, {}):
            return
        self._changing()
        del self._running[package][spec_id]

    def _on_process_died(self, package: str, pid: int) -> None:
        if self._running.get(package):
            self._changing()
            self._running[package].clear()

    def _on_shutdown(self) -> None:
        if any(self._running.values()):
            self._changing()
        self._running.clear()

    def _describe(self, package: str, uid: int, spec_id: str, worker: str) -> RunningWorker | None:
        installed = self.device.packages.get(package)
        model: Any = getattr(installed, "model", None)
        spec = getattr(model, "workers", {}).get(worker) if model is not None else None
        if spec is None:
            return None  # WorkManager's own DiagnosticsWorker: no model figures, negligible
        engine = model.worker_engine(spec)
        dart = engine == "dart"
        default_kb = DART_WORKER_KB if dart else NATIVE_WORKER_KB
        return RunningWorker(
            package=package,
            uid=uid,
            spec_id=spec_id,
            worker=worker,
            engine=engine,
            started_ms=self.device.now_ms(),
            memory_kb=spec.memory_kb if spec.memory_kb is not None else default_kb,
            cpu=spec.cpu if spec.cpu is not None else (DART_CPU if dart else NATIVE_CPU),
            start_cpu_ms=DART_START_CPU_MS if dart else NATIVE_START_CPU_MS,
            network=bool(spec.http),
        )
