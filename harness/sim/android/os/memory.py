"""Memory of the virtual phone: each process's PSS, the RAM totals, and the low-memory killer.

The figures are a model, driven by the device profile (RAM, low-RAM build) and the app model
(the process's idle PSS, each worker's memory and engine), so that ``dumpsys meminfo``,
``dumpsys procstats`` and ``/proc/meminfo`` agree with each other and move when work runs:

- a system process's PSS is its resident size (``processes.py``) times a sharing factor (a
  low-RAM build's services are trimmed and share more);
- an app process is its idle PSS, plus its UI while it is on top, plus every running worker's
  own memory and, for a Dart worker, the FlutterEngine it boots (``workload.py``);
- the kernel, page cache and graphics keep a fixed share of RAM.

The killer follows lmkd's minfree levels (AOSP ``ProcessList``: ``mOomAdj`` =
0/100/200/250/900/950, ``mOomMinFreeHigh`` = 73728…184320 kB for a 1 GB phone, scaled up on
bigger ones — the ``oom 184,320K`` of a low-RAM ``dumpsys meminfo`` Tuning line): when free
memory falls below a level, processes at or above that level's adj die, cached ones first,
biggest first. A process running a job sits at PERCEPTIBLE_LOW_APP_ADJ (250): JobScheduler
binds the job's service with BIND_NOT_PERCEPTIBLE, so OomAdjuster clamps it there (believed
from OomAdjuster, not re-read) — it outlives cached apps but not real pressure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .workload import MetricsContext, RunningWorker, Workload

if TYPE_CHECKING:
    from .processes import Proc

#: (oom adj, minfree kB) of a 1 GB phone (ProcessList.mOomMinFreeHigh); bigger phones × 1.75.
MINFREE_1GB = ((0, 73_728), (100, 92_160), (200, 110_592), (250, 129_024), (900, 147_456), (950, 184_320))
#: lmkd acts on the pressure event that follows an allocation, not in the same instant.
LMKD_REACTION_MS = 500

#: Idle PSS of a small app's background process, and what its UI adds while it is on top.
APP_IDLE_KB = 30 * 1024
FLUTTER_APP_IDLE_KB = 34 * 1024  # libflutter.so and the plugin registrant are loaded
UI_KB = 24 * 1024

NATIVE_ADJ, SYSTEM_ADJ, PERSISTENT_ADJ = -1000, -900, -800
FOREGROUND_ADJ, PERCEPTIBLE_LOW_ADJ, CACHED_ADJ = 0, 250, 900
_PERSISTENT = {"com.android.systemui", "com.android.phone", "com.google.android.gms.persistent"}


@dataclass(frozen=True)
class ProcMemory:
    """One process's memory as ``dumpsys meminfo`` reports it (kB)."""

    pid: int
    name: str
    uid: int
    pss_kb: int
    private_dirty_kb: int
    private_clean_kb: int
    swap_pss_kb: int
    rss_kb: int
    adj: int
    #: ``dumpsys meminfo``'s OOM bucket: Native, System, Persistent, Foreground, Perceptible Low, Cached.
    category: str
    #: The app's share by kind (Java heap, native heap, code, stack, graphics, other), PSS kB.
    java_heap_kb: int = 0
    native_heap_kb: int = 0
    code_kb: int = 0
    stack_kb: int = 0
    graphics_kb: int = 0
    other_kb: int = 0

    @property
    def uss_kb(self) -> int:
        return self.private_dirty_kb + self.private_clean_kb


class MemoryModel:
    """PSS per process, free memory and the low-memory killer of one virtual phone."""

    def __init__(self, device: MetricsContext, workload: Workload) -> None:
        self.device = device
        self.workload = workload
        profile = device.profile
        self.total_kb: int = profile.ram_kb
        self.low_ram: bool = profile.low_ram
        self.kernel_kb = int(self.total_kb * (0.26 if self.low_ram else 0.20))
        self._system_share = 0.3 if self.low_ram else 0.6
        scale = 1.0 if self.total_kb <= 1024 * 1024 else 1.75
        self.minfree: tuple[tuple[int, int], ...] = tuple((adj, int(kb * scale)) for adj, kb in MINFREE_1GB)
        self._background: dict[int, tuple[int, int]] = {}  # pid -> (pss kB, adj)
        self.kills = 0
        self._check_pending = False
        workload.on_start(self._on_worker_started)
        device.bus.subscribe("boot", self._on_boot)
        device.fs.dynamic["/proc/meminfo"] = self._proc_meminfo
        self._on_boot()

    # ------------------------------------------------------------------ lifecycle
    def _on_boot(self) -> None:
        """The apps a user left open come back as cached processes after every boot."""
        self._background.clear()
        for i, (name, pss_kb) in enumerate(self.device.profile.background_apps):
            proc = self.device.procs.spawn(name, 10_300 + i)
            self._background[proc.pid] = (pss_kb, 950 + 5 * i)

    # ------------------------------------------------------------------ per process
    def processes(self) -> list[ProcMemory]:
        """Every live process's memory, largest PSS first (as ``Total PSS by process`` lists them)."""
        apps = self._app_runtimes()
        out = [self.process(p, apps.get(p.pid)) for p in self.device.procs.all() if p.rss_kb > 0]
        return sorted(out, key=lambda m: (-m.pss_kb, m.pid))

    def app_process(self, package: str) -> ProcMemory | None:
        """The memory of ``package``'s running process, or None when it does not run."""
        for runtime in self.device.activity.running():
            if runtime.package == package:
                return self._app(runtime.proc, runtime)
        return None

    def app_sizes(self, package: str) -> tuple[int, int, int] | None:
        """(PSS, USS, RSS) kB of ``package``'s process — what procstats samples, without the details."""
        for runtime in self.device.activity.running():
            if runtime.package == package:
                pss = sum(self._parts(runtime)[:4])
                return pss, int(pss * 0.78) + int(pss * 0.07), int(pss * 1.3) + 22_000
        return None

    def process(self, proc: Proc, runtime: Any = None) -> ProcMemory:
        if runtime is not None:
            return self._app(proc, runtime)
        background = self._background.get(proc.pid)
        if background is not None:
            pss, adj = background
            return self._shape(proc, pss, adj, "Cached")
        adj, category = self._system_adj(proc)
        return self._shape(proc, int(proc.rss_kb * self._system_share), adj, category)

    def _parts(self, runtime: Any) -> tuple[int, int, int, int, list[RunningWorker], bool]:
        """(idle, UI, workers', engines' kB, the running workers, on top) of an app process."""
        model = runtime.model
        idle = model.memory_kb
        if idle is None:
            idle = APP_IDLE_KB if model.library == "androidx.work" else FLUTTER_APP_IDLE_KB
        workers = self.workload.running(runtime.package)
        top = self._is_top(runtime.package)
        ui = UI_KB if top and getattr(runtime, "activity_alive", False) else 0
        engines = self._engines_kb(model.library, workers)
        return idle, ui, sum(w.memory_kb for w in workers), engines, workers, top

    def _app(self, proc: Proc, runtime: Any) -> ProcMemory:
        idle, ui, worker_kb, engine_kb, workers, top = self._parts(runtime)
        pss = idle + ui + worker_kb + engine_kb
        if top:
            adj, category = FOREGROUND_ADJ, "Foreground"
        elif workers:
            adj, category = PERCEPTIBLE_LOW_ADJ, "Perceptible Low"
        else:
            adj, category = CACHED_ADJ + 5, "Cached"
        # The kinds an App Summary shows: the Dart VM and engine live in native memory and code.
        java = int(idle * 0.28) + int(worker_kb * 0.6)
        code = int(idle * 0.30) + int(engine_kb * 0.35)
        stack = int(idle * 0.03) + 64 * len(workers)
        graphics = int(ui * 0.5)
        native = int(idle * 0.22) + int(worker_kb * 0.4) + int(engine_kb * 0.55)
        other = max(0, pss - java - code - stack - graphics - native)
        return self._shape(proc, pss, adj, category, java, native, code, stack, graphics, other)

    @staticmethod
    def _engines_kb(library: str, workers: list[RunningWorker]) -> int:
        """flutter_workmanager's BackgroundWorker starts a FlutterEngine per run; native_workmanager
        keeps one engine for the process's Dart workers (its guide: keep the engine warm)."""
        engines = [w.engine_kb for w in workers if w.engine_kb]
        if library == "flutter_workmanager":
            return sum(engines)
        return max(engines, default=0)

    def _shape(self, proc: Proc, pss: int, adj: int, category: str, java: int = 0, native: int = 0,
               code: int = 0, stack: int = 0, graphics: int = 0, other: int = 0) -> ProcMemory:
        """RSS counts shared libraries whole (zygote's preloads), USS only the private pages."""
        shared = 22_000 if proc.uid >= 10_000 or proc.ppid > 1 else 2_000
        return ProcMemory(
            pid=proc.pid, name=proc.name, uid=proc.uid, pss_kb=pss,
            private_dirty_kb=int(pss * 0.78), private_clean_kb=int(pss * 0.07), swap_pss_kb=int(pss * 0.04),
            rss_kb=int(pss * 1.3) + shared, adj=adj, category=category, java_heap_kb=java,
            native_heap_kb=native, code_kb=code, stack_kb=stack, graphics_kb=graphics, other_kb=other,
        )

    def _system_adj(self, proc: Proc) -> tuple[int, str]:
        if proc.name == "system_server":
            return SYSTEM_ADJ, "System"
        if proc.name in _PERSISTENT:
            return PERSISTENT_ADJ, "Persistent"
        return NATIVE_ADJ, "Native"

    def _app_runtimes(self) -> dict[int, Any]:
        return {r.pid: r for r in self.device.activity.running()}

    def _is_top(self, package: str) -> bool:
        top = self.device.activity.top()
        return top is not None and top[0] == package

    # ------------------------------------------------------------------ totals
    def used_pss_kb(self) -> int:
        """Σ PSS of every process (the same figures as :meth:`processes`, without their details)."""
        apps = self._app_runtimes()
        total = 0
        for proc in self.device.procs.all():
            runtime = apps.get(proc.pid)
            if runtime is not None:
                total += sum(self._parts(runtime)[:4])
            elif proc.pid in self._background:
                total += self._background[proc.pid][0]
            else:
                total += int(proc.rss_kb * self._system_share)
        return total

    def available_kb(self) -> int:
        """What the kernel could hand out now: RAM minus the kernel's share minus every PSS."""
        return self.total_kb - self.kernel_kb - self.used_pss_kb()

    def status(self) -> str:
        """AMS's memory level as ``Total RAM: … (status X)`` prints it."""
        free = self.available_kb()
        top = self.minfree[-1][1]
        if free >= 2 * top:
            return "normal"
        if free >= top:
            return "moderate"
        if free >= dict(self.minfree)[PERCEPTIBLE_LOW_ADJ]:
            return "low"
        return "critical"

    def _proc_meminfo(self) -> bytes:
        free = max(0, self.available_kb())
        cached = int(self.kernel_kb * 0.45)
        return (
            f"MemTotal:       {self.total_kb:>8} kB\n"
            f"MemFree:        {int(free * 0.3):>8} kB\n"
            f"MemAvailable:   {free + cached:>8} kB\n"
            f"Cached:         {cached:>8} kB\n"
        ).encode()

    # ------------------------------------------------------------------ lmkd
    def _on_worker_started(self, worker: RunningWorker) -> None:
        if self._check_pending:
            return
        self._check_pending = True
        self.device.clock.schedule_in(LMKD_REACTION_MS, self._check_pressure, "lmkd")

    def _check_pressure(self) -> None:
        """Kill, one process at a time, until free memory is above the level that asked for it."""
        self._check_pending = False
        if not self.device.booted:
            return
        for _ in range(64):
            free = self.available_kb()
            levels = [adj for adj, minfree in self.minfree if free < minfree]
            if not levels:
                return
            min_adj = min(levels)
            victims = [m for m in self.processes() if m.adj >= min_adj]
            if not victims:
                return
            victim = max(victims, key=lambda m: (m.adj, m.pss_kb))
            self._kill(victim, min_adj)

    def _kill(self, victim: ProcMemory, min_adj: int) -> None:
        """lmkd's log line (the format of the profile's release), then AMS notices the death."""
        device = self.device
        sdk = int(device.props.get("ro.build.version.sdk", "34") or 34)
        lmkd = device.procs.by_name("lmkd")
        lmkd_pid = lmkd[0].pid if lmkd else None
        if sdk <= 29:  # lmkd.cpp, Android 10
            line = (f"Kill '{victim.name}' ({victim.pid}), uid {victim.uid}, oom_adj {victim.adj} "
                    f"to free {victim.rss_kb}kB")
        elif sdk <= 31:  # Android 11/12L: a reason after the size
            line = (f"Kill '{victim.name}' ({victim.pid}), uid {victim.uid}, oom_adj {victim.adj} "
                    f"to free {victim.rss_kb}kB; reason: low watermark is breached")
        else:  # Android 13+: rss and swap, oom_score_adj
            line = (f"Kill '{victim.name}' ({victim.pid}), uid {victim.uid}, oom_score_adj {victim.adj} "
                    f"to free {victim.rss_kb}kB rss, {victim.swap_pss_kb}kB swap; "
                    "reason: low watermark is breached")
        device.log("I", "lmkd", line, pid=lmkd_pid, uid=1069)
        self.kills += 1
        device.procs.kill(victim.pid)
        if self._background.pop(victim.pid, None) is not None:
            device.log("I", "ActivityManager",
                       f"Process {victim.name} (pid {victim.pid}) has died: cch+75 CEM")
            return
        device.activity.process(victim.name)  # AMS's death link: logs the death, publishes process_died
