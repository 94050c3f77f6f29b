"""The virtual Android device: its clock, system services and boot lifecycle.

The device knows nothing of adb; ``adbd.py`` serves it over the real protocol. All of its
state lives on one asyncio loop thread, so services need no locks.

Services talk to each other through :class:`EventBus` topics (``bus.py``) and a few typed
queries (``device.idle.restricts(uid)``, ``device.net.available(...)``), never by reaching
into each other's fields.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..clock import VirtualClock
from .os.bus import EventBus
from .procio import InputSource
from .registry import COMMANDS

if TYPE_CHECKING:
    from ..clock import ClockMode  # a name for type checkers only (sim/clock.py)

_loaded = False


def load_all_commands() -> None:
    """Import every module of this package once so their declarations register."""
    global _loaded
    if _loaded:
        return
    package = __name__.rsplit(".", 1)[0]
    for info in pkgutil.walk_packages([str(Path(__file__).parent)], prefix=package + "."):
        importlib.import_module(info.name)
    _loaded = True


class LoopbackSocket(Protocol):
    """A connected device-side TCP socket: what arrives is in ``inbox``; ``write`` sends."""

    inbox: InputSource

    async def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class VirtualAndroidDevice:
    """One phone: identity, clock, services. Serve it with ``adbd.AdbDaemon``."""

    #: Wall-clock seconds a reboot keeps the device away from adb (the CNXN is held).
    BOOT_WALL_S = 0.15
    #: Device time a boot takes (the gap a phone shows in its logs between two boots).
    BOOT_DEVICE_MS = 20_000

    def __init__(
        self,
        serial: str = "bgtest-0001",
        model: str | None = None,
        clock: VirtualClock | None = None,
        clock_mode: ClockMode = "manual",
        app_models: list[Path] | None = None,
        profile: str | None = None,
        log_chatter: bool = False,
    ) -> None:
        from harness.profiles import DEFAULT_PROFILE, get_profile

        load_all_commands()
        from .os.activity import ActivityManager
        from .os.alarms import AlarmManager
        from .os.battery import BatteryService
        from .os.batterystats import BatteryStats
        from .os.build import apply_profile
        from .os.chatter import LogChatter
        from .os.connectivity import Connectivity
        from .os.deviceidle import DeviceIdleController
        from .os.fs import FileSystem
        from .os.httpclient import HttpClient
        from .os.jobscheduler import JobScheduler
        from .os.logd import Logd
        from .os.memory import MemoryModel
        from .os.packages import PackageManager
        from .os.power import PowerManager
        from .os.processes import ProcessTable
        from .os.procstats import ProcStats
        from .os.props import Properties
        from .os.settings import Settings
        from .os.standby import AppStandby
        from .os.workload import Workload

        self.serial = serial
        #: The device profile (``harness/profiles.py``): identity, RAM, API level, scheduler limits.
        self.profile = get_profile(profile or DEFAULT_PROFILE["android"], "android")
        self.model = model or self.profile.model
        self.clock = clock or VirtualClock(mode=clock_mode)
        self.bus = EventBus()
        self.boot_count = 0
        self.boot_time_ms = self.clock.now_ms()
        # Order matters: later services subscribe to earlier ones' topics.
        self.props = Properties(self)
        apply_profile(self.props, self.profile)
        self.procs = ProcessTable(self)
        self.fs = FileSystem(self, programs=COMMANDS)
        self.logd = Logd(self)
        self.settings = Settings(self)
        self.battery = BatteryService(self)
        self.power = PowerManager(self)
        self.net = Connectivity(self)
        #: apps' HTTP calls through the global proxy, when one is set (os/httpclient.py)
        self.http = HttpClient(self.settings, self.connect_loopback)
        self.idle = DeviceIdleController(self)
        self.standby = AppStandby(self)
        self.alarms = AlarmManager(self)
        self.packages = PackageManager(self)
        self.jobs = JobScheduler(self)
        self.activity = ActivityManager(self)
        self.workload = Workload(self)
        self.memory = MemoryModel(self, self.workload)
        self.batterystats = BatteryStats(self, self.workload)
        self.procstats = ProcStats(self, self.workload, self.memory)
        #: The background lines of an idle phone (served devices have them; see os/chatter.py).
        self.chatter = LogChatter(self) if log_chatter else None
        for path in app_models or []:
            self.packages.install_model_file(path)
        self.power_on()
        self.finish_boot()

    # ------------------------------------------------------------------ helpers
    def now_ms(self) -> int:
        return self.clock.now_ms()

    def uptime_ms(self) -> int:
        return self.clock.now_ms() - self.boot_time_ms

    def log(
        self,
        level: str,
        tag: str,
        message: str,
        pid: int | None = None,
        tid: int | None = None,
        uid: int = 1000,
        buffer: str = "main",
    ) -> None:
        """Write one record to logd, stamped with device time (``level`` is V/D/I/W/E/F).

        ``pid`` defaults to system_server, where most system services log from.
        """
        if pid is None:
            pid = self.procs.system_server_pid
        self.logd.append(
            buffer=buffer,
            time_ns=self.clock.now_ns(),
            pid=pid,
            tid=pid if tid is None else tid,
            uid=uid,
            level=level,
            tag=tag,
            message=message,
        )

    # ---------------------------------------------------------------- lifecycle
    @property
    def booted(self) -> bool:
        return self.props.get("sys.boot_completed") == "1"

    def power_off(self) -> None:
        """Everything volatile dies: processes, logd buffers, non-persisted jobs."""
        self.bus.publish("shutdown")
        self.props.set("sys.boot_completed", "")
        self.props.set("dev.bootcomplete", "")

    def power_on(self) -> None:
        """Kernel and init up: fresh log buffers, system services reset, not yet completed."""
        self.boot_count += 1
        self.boot_time_ms = self.clock.now_ms()
        self.props.set("init.svc.bootanim", "running")
        self.bus.publish("boot")

    def finish_boot(self) -> None:
        """``sys.boot_completed=1`` and ACTION_BOOT_COMPLETED to apps that are not stopped."""
        self.props.set("init.svc.bootanim", "stopped")
        self.props.set("dev.bootcomplete", "1")
        self.props.set("sys.boot_completed", "1")
        self.log("I", "ActivityManager", "System now ready")
        self.bus.publish("boot_completed")

    #: Set by the adbd serving this device (``adbd.AdbDaemon.connect_reverse``): a device-side
    #: TCP connection to a loopback port that ``adb reverse`` leads to the host.
    reverse_connect: Callable[[int], Awaitable[LoopbackSocket | None]] | None = None

    async def connect_loopback(self, port: int) -> LoopbackSocket | None:
        """A device-side connection to ``127.0.0.1:port``: only ``adb reverse`` listens there."""
        return await self.reverse_connect(port) if self.reverse_connect is not None else None

    #: Set by the adbd serving this device (``adbd.AdbDaemon.request_reboot``).
    reboot_hook: Callable[[str], None] | None = None

    def request_reboot(self, target: str = "") -> bool:
        """A reboot asked from inside the device (the ``reboot`` command, the ``reboot:`` service).

        With an adbd attached it is a phone's reboot: the adb connection drops and comes back
        after the boot; True says it is still to come, so the caller never returns (as
        ``/system/bin/reboot`` does not). Without one the whole reboot happens at once in
        device time and the answer is False.
        """
        if self.reboot_hook is not None:
            self.reboot_hook(target)
            return True
        self.reboot_now()
        return False

    def reboot_now(self, shutdown_ms: int = 3_000) -> None:
        """A whole reboot in device time, without the adb side (the adbd adds that)."""
        self.power_off()
        self.clock.advance(shutdown_ms)
        self.power_on()
        self.clock.advance(self.BOOT_DEVICE_MS)
        self.finish_boot()
