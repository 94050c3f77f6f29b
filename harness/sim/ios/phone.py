"""One virtual iPhone's core: identity, paths, the unified log, booting — what every part uses.

The parts (``springboard.py``, ``power.py``, ``bgtasks.py``) and the in-app behaviour
(``apps.py``) get this core, never the whole :class:`~.device.Device`; the device assembles
them. State is the device's dict in the world's JSON state (``d``); ``w`` is the world.
"""

from __future__ import annotations

from pathlib import Path

from .facts import (
    BACKGROUND_TASKS,
    DASD,
    FOUNDATION,
    RUNTIME_ID,
    RUNTIME_ROOT,
    RUNTIMES,
    SPRINGBOARD_PATH,
    SYSTEM_APPS,
    seeded_uuid,
    sim_error,
)

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any, Protocol

    from harness.apps.ios import IosAppModel

    from .installed import InstalledApp
    from .state import SimHome

    class WorldView(Protocol):
        """What a phone asks of its world (``device.World``): time, pids, output, app models."""

        home: SimHome
        state: dict[str, Any]

        def now(self) -> int: ...

        def new_pid(self) -> int: ...

        def model(self, path: str) -> IosAppModel: ...

        def installed(self, path: str) -> InstalledApp: ...

        def log(self, dev: Phone, path: str, pid: int, msg: str, *, subsystem: str = "", category: str = "",
                type: str = "Default", sender: str | None = None, fmt: str | None = None) -> None: ...

        def forget_model(self, path: str) -> None: ...

        def print(self, pid: int, line: str) -> None: ...

    class Scheduler(Protocol):
        """BGTaskScheduler as the app's code calls it (``bgtasks.BGTaskScheduler``)."""

        def submit(self, bid: str, kind: str, ident: str, earliest_ms: int | None, power: bool = False,
                   network: bool = False) -> int | None: ...


class Phone:
    """One virtual iPhone (a view over its dict in the world state)."""

    #: Set by the device that assembles the parts: what the app's code submits to.
    bgtasks: Scheduler

    def __init__(self, world: WorldView, d: dict[str, Any]) -> None:
        self.w = world
        self.d = d
    @property
    def udid(self) -> str:
        return str(self.d["udid"])
    @property
    def kind(self) -> str:
        return str(self.d["kind"])
    @property
    def booted(self) -> bool:
        return self.d["state"] == "Booted"
    @property
    def os_version(self) -> str:
        """The runtime's iOS version (``17.2``; ``15.5`` for an iphone-7 profile)."""
        return RUNTIMES.get(str(self.d.get("runtime")), RUNTIMES[RUNTIME_ID])[1]
    @property
    def data_path(self) -> Path:
        return self.w.home.device_dir(self.udid) / "data"
    def sys_path(self, path: str) -> str:
        return RUNTIME_ROOT + path if self.kind == "simulator" else path
    def app_bundle_dir(self, bid: str) -> str:
        app = self.d["apps"][bid]
        exe = app["exe"]
        if self.kind == "simulator":
            return f"{self.data_path}/Containers/Bundle/Application/{app['bundle_uuid']}/{exe}.app"
        return f"/private/var/containers/Bundle/Application/{app['bundle_uuid']}/{exe}.app"
    def app_data_dir(self, bid: str) -> str:
        app = self.d["apps"][bid]
        if self.kind == "simulator":
            return f"{self.data_path}/Containers/Data/Application/{app['data_uuid']}"
        return f"/private/var/mobile/Containers/Data/Application/{app['data_uuid']}"
    def app_exe_path(self, bid: str) -> str:
        if bid in SYSTEM_APPS:
            _, bundle, exe = SYSTEM_APPS[bid]
            return self.sys_path(f"{bundle}/{exe}")
        return f"{self.app_bundle_dir(bid)}/{self.d['apps'][bid]['exe']}"
    def syslog(self, who: str, msg: str, **kw: Any) -> None:
        """A line from a system process (``dasd``, ``SpringBoard``)."""
        path = self.sys_path(who)
        pid = self.d.get("sys_pids", {}).get(who, 1)
        self.w.log(self, path, pid, msg, **kw)
    def applog(self, bid: str, msg: str, **kw: Any) -> None:
        proc = self.d["procs"].get(bid)
        if proc is None:
            return
        self.w.log(self, self.app_exe_path(bid), proc["pid"], msg, **kw)
    def bglog(self, bid: str, msg: str, type: str = "Default") -> None:
        """BackgroundTasks.framework inside the app: subsystem ``com.apple.BackgroundTasks``."""
        self.applog(
            bid,
            msg,
            subsystem="com.apple.BackgroundTasks",
            category="Framework",
            type=type,
            sender=self.sys_path(BACKGROUND_TASKS),
        )
    def nslog(self, bid: str, msg: str) -> None:
        self.applog(bid, msg, sender=self.sys_path(FOUNDATION))
    def out(self, bid: str, line: str) -> None:
        proc = self.d["procs"].get(bid)
        if proc is not None:
            self.w.print(proc["pid"], line)
    def require_booted(self, what: str = "lookup") -> None:
        if not self.booted:
            raise sim_error(
                "com.apple.CoreSimulator.SimError",
                405,
                f"Unable to {what} in current state: {self.d['state']}",
                149,
            )
    def boot(self) -> None:
        if self.booted:
            raise sim_error(
                "com.apple.CoreSimulator.SimError", 405, "Unable to boot device in current state: Booted", 149
            )
        self.d["state"] = "Booted"
        self.d["boot_n"] += 1
        self.d["boot_uuid"] = seeded_uuid(f"{self.udid}:boot:{self.d['boot_n']}")
        self.d["last_booted"] = self.w.now()
        self.d["sys_pids"] = {DASD: self.w.new_pid(), SPRINGBOARD_PATH: self.w.new_pid()}
        self.d["front"] = None
        self.d["screen"] = "home"
        self.syslog(
            SPRINGBOARD_PATH,
            "SpringBoard finished launching",
            subsystem="com.apple.SpringBoard",
            category="Common",
        )
    def app_model(self, bid: str) -> IosAppModel:
        """The app's validated model: what matches a deep link to its hooks and applies them."""
        return self.w.model(self.d["apps"][bid]["path"])

    def installed_app(self, bid: str) -> InstalledApp:
        """The app as its code reads it (identity, Info.plist facts, work, workers), pydantic-free."""
        return self.w.installed(self.d["apps"][bid]["path"])
