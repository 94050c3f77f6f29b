"""The process table behind ``pidof``, ``ps -A``, log pids and app processes.

System processes are created on ``boot`` with the pids a Pixel typically shows (init is 1,
system_server a few hundred later) and all die on ``shutdown``; a new boot gives new pids,
as on a phone, so a test can tell an app process from before a reboot from one after it.
Pids are deterministic: same boots, same pids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .fs import user_name

if TYPE_CHECKING:
    from .context import SystemContext


@dataclass
class Proc:
    pid: int
    ppid: int
    uid: int
    user: str
    name: str
    start_ms: int
    rss_kb: int
    state: str = "S"
    vsz_kb: int = 0
    wchan: str = "do_epoll_wait"
    #: Threads besides the main one (whose tid is the pid), by tid: their names.
    threads: dict[int, str] = field(default_factory=dict)


#: (name, user, uid, parent name, rss KiB, vsz KiB, wchan) for each system process, in boot order.
_SYSTEM = (
    ("init", "root", 0, None, 11780, 10894496, "do_epoll_wait"),
    ("[kthreadd]", "root", 0, "", 0, 0, "kthreadd"),
    ("ueventd", "root", 0, "init", 3824, 10850560, "do_sys_poll"),
    ("logd", "logd", 1036, "init", 8920, 10911232, "sigsuspend"),
    ("servicemanager", "system", 1000, "init", 5512, 10859520, "do_epoll_wait"),
    ("hwservicemanager", "system", 1000, "init", 5120, 10859392, "do_epoll_wait"),
    ("vold", "root", 0, "init", 9100, 10967040, "binder_ioctl"),
    ("lmkd", "lmkd", 1069, "init", 3200, 10835968, "do_epoll_wait"),
    ("surfaceflinger", "system", 1000, "init", 32400, 11302912, "do_epoll_wait"),
    ("netd", "root", 0, "init", 7420, 10920192, "do_sys_poll"),
    ("zygote64", "root", 0, "init", 120400, 16093952, "do_sys_poll"),
    ("zygote", "root", 0, "init", 98000, 1784320, "do_sys_poll"),
    ("installd", "root", 0, "init", 6800, 10899456, "binder_ioctl"),
    ("adbd", "shell", 2000, "init", 7900, 10984960, "do_epoll_wait"),
    ("system_server", "system", 1000, "zygote64", 312000, 21504000, "do_epoll_wait"),
    ("com.android.systemui", "u0_a200", 10200, "zygote64", 198000, 17825792, "do_epoll_wait"),
    ("com.android.phone", "radio", 1001, "zygote64", 96000, 16777216, "do_epoll_wait"),
    ("com.google.android.gms.persistent", "u0_a150", 10150, "zygote64", 150000, 17301504,
     "do_epoll_wait"),
)


class ProcessTable:
    """Live processes by pid. Subscribes to ``boot`` and ``shutdown`` on the device bus."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self._procs: dict[int, Proc] = {}
        self._next_pid = 1
        self.system_server_pid = 0
        device.bus.subscribe("boot", self._on_boot)
        device.bus.subscribe("shutdown", self._on_shutdown)
        self._on_boot()

    # ---------------------------------------------------------------- lifecycle
    def _on_shutdown(self) -> None:
        self._procs.clear()

    def _on_boot(self) -> None:
        """init and the system services, with pids spread as a real boot spreads them."""
        self._procs.clear()
        boot = getattr(self.device, "boot_count", 0)
        now = self.device.clock.now_ms()
        # a little boot-to-boot variation in how many kernel threads ran first
        pid = 300 + (boot * 37) % 61
        by_name: dict[str, int] = {}
        for name, user, uid, parent, rss, vsz, wchan in _SYSTEM:
            if name == "init":
                this = 1
            elif name == "[kthreadd]":
                this = 2
            else:
                step = 240 if name in ("zygote64", "system_server") else 17 + len(name) % 11
                pid += step
                this = pid
            ppid = 0 if parent in (None, "") else by_name.get(parent, 1)
            proc = Proc(this, ppid, uid, user, name, now, rss, "S", vsz, wchan)
            self._procs[this] = proc
            by_name[name] = this
        self.system_server_pid = by_name["system_server"]
        self._next_pid = pid + 400

    # ---------------------------------------------------------------- API
    def spawn(self, name: str, uid: int, user: str | None = None, ppid: int | None = None) -> Proc:
        """A new process (an app forked from zygote64 unless ``ppid`` says otherwise)."""
        pid = self._next_pid
        while pid in self._procs:
            pid += 1
        self._next_pid = pid + 1
        if ppid is None:
            zygote = self.by_name("zygote64")
            ppid = zygote[0].pid if zygote and uid >= 10000 else 1
        app = uid >= 10000
        proc = Proc(
            pid=pid,
            ppid=ppid,
            uid=uid,
            user=user or user_name(uid),
            name=name,
            start_ms=self.device.clock.now_ms(),
            rss_kb=95000 if app else 4200,
            state="S",
            vsz_kb=16500000 if app else 10800000,
            wchan="do_epoll_wait" if app else "do_wait",
        )
        self._procs[pid] = proc
        return proc

    def new_thread(self, pid: int, name: str) -> int:
        """A thread of process ``pid``; Linux takes its tid from the same counter as pids.

        That is why a phone's tids for a new thread are larger than every pid started before
        it, and why logcat can tell two threads of one process apart.
        """
        tid = self._next_pid
        while tid in self._procs:
            tid += 1
        self._next_pid = tid + 1
        proc = self._procs.get(pid)
        if proc is not None:
            proc.threads[tid] = name
        return tid

    def kill(self, pid: int) -> Proc | None:
        return self._procs.pop(pid, None)

    def get(self, pid: int) -> Proc | None:
        return self._procs.get(pid)

    def by_name(self, name: str) -> list[Proc]:
        return [p for p in self._procs.values() if p.name == name]

    def all(self) -> list[Proc]:
        return sorted(self._procs.values(), key=lambda p: p.pid)
