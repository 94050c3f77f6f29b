"""The virtual iPhones: SpringBoard app lifecycle, BGTaskScheduler + dasd, power, unified log.

State is plain JSON (``state.json`` in the sim home, see ``state.py``) so that the separate
``bgtest-xcrun`` processes and the WDA server share one world. Each command opens the world
(:func:`open_world`), which lets virtual time catch up first: :class:`World` keeps ONE
:class:`~harness.sim.clock.VirtualClock` timer at the next thing due in the state (a pending
request becoming eligible, a task ending or expiring, an app being suspended) and advances the
clock to "now" — the saved device time in manual mode, the wall clock in realtime/scaled mode.
Simulators share the Mac's clock, so the whole home has one clock.

``kind: simulator`` behaves like Xcode's Simulator (``submit`` fails with
``BGTaskSchedulerErrorDomain Code=1``); ``kind: device`` behaves like an iPhone with dasd
deciding when requests run (research ios.md §3, native_workmanager.md §1f).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..clock import DEFAULT_EPOCH_MS, VirtualClock
from .state import SimHome, wall_now

if TYPE_CHECKING:  # the app-model format pulls in pydantic: imported when an app is touched
    from harness.apps.ios import IosAppModel

Kind = Literal["simulator", "device"]

RUNTIME_ID = "com.apple.CoreSimulator.SimRuntime.iOS-17-2"
RUNTIME_NAME = "iOS 17.2"
RUNTIME_VERSION = "17.2"
RUNTIME_BUILD = "21C62"
RUNTIME_ROOT = (
    "/Library/Developer/CoreSimulator/Volumes/iOS_21C62/Library/Developer/CoreSimulator/Profiles/"
    "Runtimes/iOS 17.2.simruntime/Contents/Resources/RuntimeRoot"
)
#: iOS 15.5 (Xcode 13.4's simulator runtime), what the iphone-7 profile runs: an iPhone 7's last
#: iOS is 15, and 15.5 is the newest iOS 15 runtime Xcode ships for the simulator.
RUNTIME_15_ID = "com.apple.CoreSimulator.SimRuntime.iOS-15-5"
#: Every runtime the virtual CoreSimulator has: identifier -> (name, version, build).
RUNTIMES = {
    RUNTIME_ID: (RUNTIME_NAME, RUNTIME_VERSION, RUNTIME_BUILD),
    RUNTIME_15_ID: ("iOS 15.5", "15.5", "19F70"),
}
DEVICE_TYPES = {
    "iPhone 7": "com.apple.CoreSimulator.SimDeviceType.iPhone-7",
    "iPhone 15": "com.apple.CoreSimulator.SimDeviceType.iPhone-15",
    "iPhone 15 Pro": "com.apple.CoreSimulator.SimDeviceType.iPhone-15-Pro",
    "iPad (10th generation)": "com.apple.CoreSimulator.SimDeviceType.iPad-10th-generation",
}

#: Seconds an app keeps running after it leaves the screen before it is suspended [A, archive].
SUSPEND_AFTER_MS = 5_000
#: Budget of a BGAppRefreshTask (WWDC19 707) and of a BGProcessingTask ("several minutes" [U]).
REFRESH_BUDGET_MS = 30_000
PROCESSING_BUDGET_MS = 300_000
MAX_PROCESSING_REQUESTS = 10
#: Below this charge (and unplugged) dasd runs essential work only (WWDC20 10063).
LOW_BATTERY = 0.20
#: native_workmanager's in-process attempts before "failed after n attempt(s)" [U].
INPROC_MAX_ATTEMPTS = 3

SPRINGBOARD = "com.apple.springboard"
PREFERENCES = "com.apple.Preferences"
SYSTEM_APPS = {
    PREFERENCES: ("Settings", "/Applications/Preferences.app", "Preferences"),
    "com.apple.mobilesafari": ("Safari", "/Applications/MobileSafari.app", "MobileSafari"),
}

_BG = "/System/Library/Frameworks/BackgroundTasks.framework/BackgroundTasks"
_FOUNDATION = "/System/Library/Frameworks/Foundation.framework/Foundation"
_DASD = "/usr/libexec/dasd"
_SPRINGBOARD = "/System/Library/CoreServices/SpringBoard.app/SpringBoard"


class SimError(Exception):
    """What CoreSimulator (or the tool) answers: stderr text and exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def sim_error(domain: str, code: int, message: str, exit_code: int | None = None) -> SimError:
    return SimError(
        f"An error was encountered processing the command (domain={domain}, code={code}):\n{message}",
        code if exit_code is None else exit_code,
    )


def _hex(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:8].upper()


def _uuid(seed: str) -> str:
    return str(uuid.UUID(hashlib.md5(seed.encode()).hexdigest())).upper()


def date_text(ms: float) -> str:
    """``2026-01-05 10:00:00 +0000`` — how an NSDate prints in a request's description."""
    dt = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S +0000")


def new_state(kind: Kind = "simulator", home: SimHome | None = None, profile: str | None = None
              ) -> dict[str, Any]:
    """A fresh world: one booted iPhone of ``kind`` and one shut-down iPad, clock in manual mode.

    The iPhone is the device profile's (``harness/profiles.py``): an iPhone 15 on iOS 17.2 by
    default, an iPhone 7 on iOS 15.5 for ``iphone-7``.
    """
    from harness.profiles import DEFAULT_PROFILE, get_profile
    state: dict[str, Any] = {
        "clock": {"ms": DEFAULT_EPOCH_MS, "mode": "manual", "scale": 1.0, "wall": wall_now()},
        "next_pid": 41000,
        "seq": 0,
        "devices": {},
    }
    world = World(home or SimHome(), state)
    chosen = get_profile(profile or DEFAULT_PROFILE["ios"], "ios")
    runtime = RUNTIME_15_ID if chosen.os_version.startswith("15") else RUNTIME_ID
    phone = world.create_device(str(chosen.ios_device_type), kind=kind, boot=True, runtime=runtime)
    phone.d["profile"] = chosen.name
    world.create_device("iPad (10th generation)", kind="simulator", boot=False)
    return state


# =============================================================================== world
class World:
    """Every virtual device of one sim home, the clock, and the log/stdout written this command."""

    def __init__(self, home: SimHome, state: dict[str, Any]) -> None:
        self.home = home
        self.state = state
        c = state["clock"]
        self.clock = VirtualClock(start_ms=int(c["ms"]), mode="manual")
        self._timer: Any = None
        self.logs: list[dict[str, Any]] = []
        self.stdout: dict[int, list[str]] = {}
        self._models: dict[str, IosAppModel] = {}
        #: Device events run (a task ending, a request launched, an app suspended …), for reports.
        self.events_run = 0

    # ------------------------------------------------------------------ time
    def target_ms(self) -> float:
        c = self.state["clock"]
        if c["mode"] == "manual":
            return float(c["ms"])
        return float(c["ms"]) + (wall_now() - float(c["wall"])) * 1000.0 * float(c["scale"])

    def catch_up(self) -> None:
        """Run everything due between the last saved device time and now."""
        self.reschedule()
        self.clock.advance_to(self.target_ms())

    def now(self) -> int:
        return self.clock.now_ms()

    def advance(self, delta_ms: int) -> int:
        """Move device time on, running what falls due; returns how many device events ran."""
        before = self.events_run
        self.reschedule()
        self.clock.advance(delta_ms)
        return self.events_run - before

    def set_clock_mode(self, mode: str, scale: float = 1.0) -> None:
        c = self.state["clock"]
        c["mode"] = mode
        c["scale"] = scale if mode == "scaled" else 1.0

    def reschedule(self) -> None:
        """Keep one clock timer at the next moment something in the state is due."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = [d.next_due() for d in self.devices()]
        times = [t for t in due if t is not None]
        if times:
            self._timer = self.clock.schedule_at(min(times), self._tick, "ios-tick")

    def _tick(self) -> None:
        self._timer = None
        now = self.now()
        for _ in range(10_000):
            progressed = False
            for dev in self.devices():
                if dev.run_due(now):
                    progressed = True
                    self.events_run += 1
            if not progressed:
                break
        self.reschedule()

    def save(self) -> None:
        c = self.state["clock"]
        c["ms"] = self.clock.now_exact_ms()
        c["wall"] = wall_now()
        self.home.write_state(self.state)
        self.home.append_log(self.logs)
        self.logs = []
        for pid, lines in self.stdout.items():
            extra = self.stdout_targets(pid)
            self.home.append_stdout(pid, lines, extra)
        self.stdout = {}

    def stdout_targets(self, pid: int) -> list[str]:
        for dev in self.devices():
            for proc in dev.d["procs"].values():
                if proc["pid"] == pid:
                    return list(proc.get("stdout_paths", []))
        return list(self.state.get("dead_stdout", {}).get(str(pid), []))

    # ----------------------------------------------------------------- devices
    def devices(self) -> list[Device]:
        return [Device(self, d) for d in self.state["devices"].values()]

    def create_device(self, name: str, kind: Kind = "simulator", boot: bool = False,
                      runtime: str = RUNTIME_ID) -> Device:
        n = len(self.state["devices"])
        udid = _uuid(f"{self.home.path}:{name}:{n}:{kind}")
        d = {
            "udid": udid,
            "name": name,
            "type": DEVICE_TYPES.get(name, DEVICE_TYPES["iPhone 15"]),
            "runtime": runtime,
            "kind": kind,
            "state": "Shutdown",
            "last_booted": None,
            "boot_n": 0,
            "apps": {},
            "procs": {},
            "force_quit": [],
            "requests": [],
            "running": [],
            "inproc": [],
            "nwm_pending": {},
            "lpm": False,
            "battery": 0.8 if kind == "device" else -1.0,
            "charging": False,
            "network": True,
            "locked": False,
            "status_bar": {},
            "notify": {},
            "front": None,
            "screen": "home",
            "appearance": "light",
            "attached": [],
        }
        self.state["devices"][udid] = d
        self.home.device_dir(udid).joinpath("data").mkdir(parents=True, exist_ok=True)
        (self.home.path / "Logs" / udid).mkdir(parents=True, exist_ok=True)
        dev = Device(self, d)
        if boot:
            dev.boot()
        return dev

    def find(self, ref: str) -> Device:
        """``UDID`` or ``booted`` -> the device; the real error texts otherwise."""
        if ref == "booted":
            for dev in self.devices():
                if dev.d["state"] == "Booted":
                    return dev
            raise SimError("No devices are booted.", 148)
        d = self.state["devices"].get(ref.upper())
        if d is None:
            raise SimError(f"Invalid device: {ref}", 148)
        return Device(self, d)

    def find_pid(self, pid: int) -> tuple[Device, str] | None:
        for dev in self.devices():
            for bid, proc in dev.d["procs"].items():
                if proc["pid"] == pid:
                    return dev, bid
        return None

    def new_pid(self) -> int:
        self.state["next_pid"] += 1
        return int(self.state["next_pid"])

    def model(self, path: str) -> IosAppModel:
        if path not in self._models:
            self._models[path] = _cached_model(path)
        return self._models[path]

    # ------------------------------------------------------------------- output
    def log(
        self,
        dev: Device,
        path: str,
        pid: int,
        msg: str,
        *,
        subsystem: str = "",
        category: str = "",
        type: str = "Default",
        sender: str | None = None,
        fmt: str | None = None,
    ) -> None:
        self.state["seq"] += 1
        seq = self.state["seq"]
        rec = {
            "seq": seq,
            "t": self.clock.now_exact_ms(),
            "udid": dev.udid,
            "boot": dev.d.get("boot_uuid", ""),
            "up": max(0.0, self.clock.now_exact_ms() - float(dev.d.get("last_booted") or 0)),
            "pid": pid,
            "tid": 0x1A000 + pid * 7 % 0x3000,
            "path": path,
            "msg": msg,
            "type": type,
            "subsystem": subsystem,
            "category": category,
            "uuid": _uuid(path),
        }
        if sender:
            rec["sender"] = sender
        if fmt:
            rec["fmt"] = fmt
        self.logs.append(rec)

    def print(self, pid: int, line: str) -> None:
        self.stdout.setdefault(pid, []).append(line)


_MODEL_CACHE: dict[tuple[str, int, int], IosAppModel] = {}


def _cached_model(path: str) -> IosAppModel:
    """Parse an installed app model once per process (and again only when its file changes)."""
    from harness.apps.ios import load_ios_app

    try:
        st = Path(path).stat()
        key = (path, st.st_mtime_ns, st.st_size)
    except OSError:
        return load_ios_app(path)  # raises the AppModelError that names the file
    model = _MODEL_CACHE.get(key)
    if model is None:
        model = _MODEL_CACHE[key] = load_ios_app(path)
    return model


@contextlib.contextmanager
def open_world(home: SimHome | None = None, kind: Kind = "simulator") -> Iterator[World]:
    """Lock the home, load (or create) the world, catch up virtual time; save on the way out."""
    home = home or SimHome()
    with home.locked():
        state = home.read_state()
        if state is None:
            state = new_state(kind, home)
        world = World(home, state)
        world.catch_up()
        try:
            yield world
        finally:
            world.save()


# ============================================================================== device
class Device:
    """One virtual iPhone (a view over its dict in the world state)."""

    def __init__(self, world: World, d: dict[str, Any]) -> None:
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

    # ---------------------------------------------------------------- paths
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

    # ------------------------------------------------------------- logging
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
            sender=self.sys_path(_BG),
        )

    def nslog(self, bid: str, msg: str) -> None:
        self.applog(bid, msg, sender=self.sys_path(_FOUNDATION))

    def out(self, bid: str, line: str) -> None:
        proc = self.d["procs"].get(bid)
        if proc is not None:
            self.w.print(proc["pid"], line)

    # ------------------------------------------------------------ lifecycle
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
        self.d["boot_uuid"] = _uuid(f"{self.udid}:boot:{self.d['boot_n']}")
        self.d["last_booted"] = self.w.now()
        self.d["sys_pids"] = {_DASD: self.w.new_pid(), _SPRINGBOARD: self.w.new_pid()}
        self.d["front"] = None
        self.d["screen"] = "home"
        self.syslog(
            _SPRINGBOARD,
            "SpringBoard finished launching",
            subsystem="com.apple.SpringBoard",
            category="Common",
        )

    def shutdown(self) -> None:
        if not self.booted:
            raise sim_error(
                "com.apple.CoreSimulator.SimError",
                405,
                "Unable to shutdown device in current state: Shutdown",
                149,
            )
        for bid in list(self.d["procs"]):
            self._kill(bid)
        self.d["state"] = "Shutdown"
        self.d["status_bar"] = {}  # overrides do not survive a shutdown
        self.d["running"] = []
        self.d["inproc"] = []
        self.d["front"] = None
        # BGTaskScheduler requests survive a reboot on a device; the simulator has none anyway.

    def erase(self) -> None:
        if self.booted:
            raise sim_error(
                "com.apple.CoreSimulator.SimError",
                405,
                "Unable to erase contents and settings in current state: Booted",
                149,
            )
        for bid in list(self.d["apps"]):
            self._remove_app(bid)
        self.d.update(
            {
                "requests": [],
                "force_quit": [],
                "nwm_pending": {},
                "lpm": False,
                "notify": {},
                "status_bar": {},
            }
        )

    # ------------------------------------------------------------------ apps
    def install(self, source: str) -> str:
        self.require_booted("install")
        src = Path(source)
        if not src.exists():
            raise sim_error(
                "NSPOSIXErrorDomain",
                2,
                "Simulator device failed to install the application.\n"
                f"Underlying error (domain=NSPOSIXErrorDomain, code=2):\n\tlstat of {source} failed: "
                "No such file or directory",
                2,
            )
        from harness.apps.ios import load_ios_app

        try:
            model = load_ios_app(src)
        except Exception as exc:
            raise sim_error(
                "IXUserPresentableErrorDomain",
                1,
                # what a bundle without a readable Info.plist gets; the model's own problem follows
                "This app could not be installed at this time.\n"
                f"Failed to load Info.plist from bundle at path {source}\n"
                f"Underlying error (domain=MIInstallerErrorDomain, code=35):\n\t{exc}",
                1,
            ) from None
        bid = model.bundle_id
        target = self.w.home.apps_dir(self.udid)
        target.mkdir(parents=True, exist_ok=True)
        copy = target / f"{bid}.yaml"
        shutil.copyfile(src, copy)
        self.w._models.pop(str(copy), None)
        if bid in self.d["procs"]:
            self._kill(bid)  # installing over a running app terminates it
        old = self.d["apps"].get(bid)
        self.d["apps"][bid] = {
            "path": str(copy),
            "exe": model.ios.executable,
            "name": model.display_name,
            "version": model.ios.version or model.model.version_name,
            "bundle_uuid": _uuid(f"{self.udid}:{bid}:bundle:{self.w.now()}"),
            "data_uuid": old["data_uuid"] if old else _uuid(f"{self.udid}:{bid}:data"),
        }
        if self.kind == "simulator":  # real directories: get_app_container's answer can be read and written
            Path(self.app_data_dir(bid), "Documents").mkdir(parents=True, exist_ok=True)
            Path(self.app_bundle_dir(bid)).mkdir(parents=True, exist_ok=True)
        return bid

    def _remove_app(self, bid: str) -> None:
        if bid in self.d["procs"]:
            self._kill(bid)
        self.d["apps"].pop(bid, None)
        self.d["requests"] = [r for r in self.d["requests"] if r["bid"] != bid]
        self.d["nwm_pending"].pop(bid, None)
        if bid in self.d["force_quit"]:
            self.d["force_quit"].remove(bid)

    def uninstall(self, bid: str) -> None:
        self.require_booted("uninstall")
        if bid not in self.d["apps"]:
            raise sim_error(
                "IXErrorDomain",
                5,
                f"Failed to uninstall {bid}.\nUnderlying error (domain=IXErrorDomain, code=5):\n"
                f"\tNo app with bundle ID {bid} is installed",
                1,
            )
        self._remove_app(bid)

    def app_model(self, bid: str) -> IosAppModel:
        return self.w.model(self.d["apps"][bid]["path"])

    def known_app(self, bid: str) -> bool:
        return bid in self.d["apps"] or bid in SYSTEM_APPS

    def is_running(self, bid: str) -> bool:
        return bid in self.d["procs"]

    def app_state(self, bid: str) -> int:
        """XCUIApplicationState: 0 unknown, 1 not running, 2 suspended, 3 background, 4 foreground."""
        if not self.known_app(bid):
            return 0
        proc = self.d["procs"].get(bid)
        if proc is None:
            return 1
        return {"suspended": 2, "background": 3, "foreground": 4}[proc["state"]]

    def launch(
        self,
        bid: str,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        terminate_running: bool = False,
        stdout_path: str | None = None,
        user: bool = True,
    ) -> int:
        """What ``simctl launch`` / a tap on the icon does; returns the pid."""
        self.require_booted("lookup")
        if not self.known_app(bid):
            raise sim_error(
                "FBSOpenApplicationServiceErrorDomain",
                4,
                f"Simulator device failed to launch {bid}.\n"
                "Underlying error (domain=FBSOpenApplicationServiceErrorDomain, code=4):\n"
                f'\tThe request to open "{bid}" failed.',
                4,
            )
        if terminate_running and bid in self.d["procs"]:
            self._kill(bid)
        if user and bid in self.d["force_quit"]:
            self.d["force_quit"].remove(bid)  # the next user launch lifts a force-quit
        proc = self.d["procs"].get(bid)
        fresh = proc is None
        if fresh:
            proc = self._spawn(bid, args or [], env or {}, "foreground")
        if stdout_path:
            proc.setdefault("stdout_paths", []).append(stdout_path)
        self._to_front(bid)
        if fresh and bid in self.d["apps"]:
            from .apps import runtime

            runtime(self, bid).on_launch(proc["args"], user=True)
        return int(proc["pid"])

    def _spawn(self, bid: str, args: list[str], env: dict[str, str], state: str) -> dict[str, Any]:
        pid = self.w.new_pid()
        proc = {
            "pid": pid,
            "state": state,
            "since": self.w.now(),
            "args": list(args),
            "env": dict(env),
            "stdout_paths": [],
            "suspend_at": None,
        }
        self.d["procs"][bid] = proc
        return proc

    def _to_front(self, bid: str | None) -> None:
        old = self.d["front"]
        if old and old != bid and old in self.d["procs"]:
            self._to_background(old)
        self.d["front"] = bid
        if bid is None:
            self.d["screen"] = "home"
            return
        proc = self.d["procs"][bid]
        self.d["recent"] = int(self.d.get("recent", 0)) + 1
        proc["recent"] = self.d["recent"]
        was_suspended = proc["state"] == "suspended"
        proc["state"] = "foreground"
        proc["suspend_at"] = None
        if was_suspended:
            self._resume_inproc(bid)
        if bid == PREFERENCES and self.d["screen"] not in ("settings", "battery"):
            self.d["screen"] = "settings"
        elif bid != PREFERENCES:
            self.d["screen"] = "app"

    def _to_background(self, bid: str) -> None:
        proc = self.d["procs"][bid]
        proc["state"] = "background"
        proc["suspend_at"] = self.w.now() + SUSPEND_AFTER_MS

    def home_screen(self) -> None:
        self.require_booted("lookup")
        self._to_front(None)

    def open_switcher(self) -> None:
        """The app switcher (swipe up from the bottom edge and hold): the front app leaves the screen."""
        self.require_booted("lookup")
        self._to_front(None)
        self.d["screen"] = "switcher"

    def switcher_apps(self) -> list[str]:
        """Running apps as the switcher shows them, most recent first."""
        procs = self.d["procs"]
        return sorted(procs, key=lambda b: -int(procs[b].get("recent", 0)))

    def activate(self, bid: str) -> int:
        if bid in self.d["procs"]:
            self._to_front(bid)
            return int(self.d["procs"][bid]["pid"])
        return self.launch(bid)

    def terminate(self, bid: str) -> None:
        """``simctl terminate``: exit 3 "found nothing to terminate" when not running."""
        self.require_booted("lookup")
        if bid not in self.d["procs"]:
            raise sim_error(
                "NSPOSIXErrorDomain",
                3,
                f"Simulator device failed to terminate {bid}.\nfound nothing to terminate",
                3,
            )
        self._kill(bid)

    def force_quit(self, bid: str) -> bool:
        """The user swipes the app away in the app switcher: no background launches until the next launch."""
        self.require_booted("lookup")
        if not self.known_app(bid):
            return False
        if bid in self.d["procs"]:
            self._kill(bid)
        if bid not in self.d["force_quit"]:
            self.d["force_quit"].append(bid)
        return True

    def _kill(self, bid: str) -> None:
        proc = self.d["procs"].pop(bid, None)
        if proc is None:
            return
        if proc.get("stdout_paths"):
            dead = self.w.state.setdefault("dead_stdout", {})
            dead[str(proc["pid"])] = proc["stdout_paths"]
            for old in list(dead)[:-32]:  # lines printed while dying still reach the file; keep a few
                del dead[old]
        self.d["running"] = [t for t in self.d["running"] if t["bid"] != bid]
        self.d["inproc"] = [t for t in self.d["inproc"] if t["bid"] != bid]
        if self.d["front"] == bid:
            self.d["front"] = None
            self.d["screen"] = "home"

    # ----------------------------------------------------------------- urls
    def open_url(self, url: str) -> None:
        self.require_booted("lookup")
        scheme = url.partition(":")[0].lower()
        if scheme in ("http", "https"):
            self.activate("com.apple.mobilesafari")
            return
        if scheme in ("prefs", "app-settings"):
            self.launch(PREFERENCES) if PREFERENCES not in self.d["procs"] else self._to_front(PREFERENCES)
            return
        for bid in self.d["apps"]:
            model = self.app_model(bid)
            if model.handles_url(url):
                self.activate(bid)
                from .apps import runtime

                runtime(self, bid).on_url(url)
                return
        raise sim_error(
            "LSApplicationWorkspaceErrorDomain", 115, f"Simulator device failed to open {url}.", 115
        )

    def push(self, bid: str, payload: dict[str, Any]) -> None:
        """A remote notification reaches a running (or background-launchable) app."""
        if bid not in self.d["apps"]:
            return  # simctl answers "Notification sent" regardless
        from .apps import runtime

        if bid not in self.d["procs"]:
            if (
                bid in self.d["force_quit"]
                or "remote-notification" not in self.app_model(bid).ios.background_modes
            ):
                return
            proc = self._spawn(bid, [], {}, "background")
            proc["suspend_at"] = self.w.now() + REFRESH_BUDGET_MS
            runtime(self, bid).on_launch([], user=False)
        runtime(self, bid).on_push(payload)

    # ---------------------------------------------------------------- power
    def set_low_power(self, on: bool) -> None:
        if self.d["lpm"] != on:
            self.d["lpm"] = on
            self.syslog(
                _SPRINGBOARD,
                f"Low Power Mode {'enabled' if on else 'disabled'}",
                subsystem="com.apple.powerd",
                category="lowPowerMode",
            )
        self.d["notify"]["com.apple.system.lowpowermode"] = 1 if on else 0

    def set_battery(self, level: float | None = None, charging: bool | None = None) -> None:
        if level is not None:
            self.d["battery"] = level
        if charging is not None:
            self.d["charging"] = charging
        if self.d["lpm"] and self.d["charging"] and self.d["battery"] >= 0.8:
            self.set_low_power(False)  # LPM switches itself off once charged back up [A]

    def battery_ok(self) -> bool:
        level = float(self.d["battery"])
        return level < 0 or level >= LOW_BATTERY or bool(self.d["charging"])

    # ===================================================== BGTaskScheduler
    def submit(
        self,
        bid: str,
        kind: str,
        ident: str,
        earliest_ms: int | None,
        power: bool = False,
        network: bool = False,
    ) -> int | None:
        """``BGTaskScheduler.submit``: None when accepted, else the BGTaskSchedulerErrorDomain code."""
        desc = self.request_desc(kind, ident, earliest_ms, power, network)
        self.bglog(bid, f"submitTaskRequest: {desc}")
        model = self.app_model(bid)
        code: int | None = None
        mode = "fetch" if kind == "refresh" else "processing"
        if self.kind == "simulator":
            code = 1
        elif ident not in model.ios.bg_task_identifiers or mode not in model.ios.background_modes:
            code = 3
        elif self.d["lpm"] and kind == "refresh":
            code = 1  # Background App Refresh is off under Low Power Mode [U]
        else:
            mine = [r for r in self.d["requests"] if r["bid"] == bid and r["ident"] != ident]
            if kind == "refresh" and any(r["kind"] == "refresh" for r in mine):
                code = 2
            if (
                kind == "processing"
                and sum(r["kind"] == "processing" for r in mine) >= MAX_PROCESSING_REQUESTS
            ):
                code = 2
        if code is not None:
            self.bglog(
                bid,
                f"Error submitting task request: {desc}, error: Error Domain="
                f'BGTaskSchedulerErrorDomain Code={code} "(null)"',
                type="Error",
            )
            return code
        for old in [r for r in self.d["requests"] if r["bid"] == bid and r["ident"] == ident]:
            self.d["requests"].remove(old)
            self.syslog(
                _DASD,
                "Daemon Canceling Activities: {(\n    " + old["activity"] + "\n)}",
                subsystem="com.apple.duetactivityscheduler",
                category="scheduler",
            )
            self.syslog(
                _DASD,
                f"CANCELED: {old['activity']} at priority 10 <private>!",
                subsystem="com.apple.duetactivityscheduler",
                category="scheduler",
            )
        prefix = "bgRefresh" if kind == "refresh" else "bgProcessing"
        seed = f"{bid}{ident}{self.w.now()}{self.w.state['seq']}"
        activity = f"{prefix}-{ident}:{_hex(seed)}"
        now = self.w.now()
        req = {
            "bid": bid,
            "kind": kind,
            "ident": ident,
            "earliest": earliest_ms,
            "power": power,
            "network": network,
            "submitted": now,
            "activity": activity,
        }
        self.d["requests"].append(req)
        self.bglog(bid, f"Submitting task request activity: {activity}")
        start = earliest_ms if earliest_ms is not None else now
        end = start + (2 * 86_400_000 if kind == "processing" else 86_400_000)
        self.syslog(
            _DASD,
            f"Submitted Activity: {activity} at priority 10 ({date_text(start)} - {date_text(end)})",
            subsystem="com.apple.duetactivityscheduler",
            category="scheduler",
        )
        return None

    @staticmethod
    def request_desc(kind: str, ident: str, earliest_ms: int | None, power: bool, network: bool) -> str:
        date = date_text(earliest_ms) if earliest_ms is not None else "(null)"
        if kind == "refresh":
            return f"<BGAppRefreshTaskRequest: {ident}, earliestBeginDate: {date}>"
        return (
            f"<BGProcessingTaskRequest: {ident}, earliestBeginDate: {date}, "
            f"requiresExternalPower={int(power)}, requiresNetworkConnectivity={int(network)}>"
        )

    @staticmethod
    def task_desc(kind: str, ident: str) -> str:
        return f"<{'BGAppRefreshTask' if kind == 'refresh' else 'BGProcessingTask'}: {ident}>"

    def cancel_request(self, bid: str, ident: str | None) -> None:
        if ident is None:
            self.bglog(bid, "cancelAllTaskRequests")
            self.d["requests"] = [r for r in self.d["requests"] if r["bid"] != bid]
            return
        self.bglog(bid, f"cancelTaskRequestWithIdentifier: {ident}")
        self.d["requests"] = [r for r in self.d["requests"] if not (r["bid"] == bid and r["ident"] == ident)]

    def blocked_reason(self, req: dict[str, Any]) -> str | None:
        """Why dasd will not run ``req`` now (None = it may run once its earliest date has passed)."""
        if not self.booted:
            return "device is shut down"
        if req["bid"] not in self.d["apps"]:
            return "app not installed"
        if self.d["lpm"]:
            return "Low Power Mode"
        if not self.battery_ok():
            return "battery low"
        if req["power"] and not self.d["charging"]:
            return "requires external power"
        if req["network"] and not self.d["network"]:
            return "requires network connectivity"
        if req["bid"] in self.d["force_quit"] and req["kind"] == "refresh":
            return "app was force-quit by the user"
        if any(t["bid"] == req["bid"] and t["ident"] == req["ident"] for t in self.d["running"]):
            return "already running"
        return None

    def pending(self, bid: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.d["requests"] if bid is None or r["bid"] == bid]

    def _dasd_launch(self, req: dict[str, Any], simulated: bool = False) -> None:
        from .apps import runtime

        bid = req["bid"]
        self.d["requests"].remove(req)
        acts = "{(\n    " + req["activity"] + "\n)}"
        if not simulated:
            self.syslog(
                _DASD,
                f"STARTING: {req['activity']} at priority 10 <private>",
                subsystem="com.apple.duetactivityscheduler",
                category="scheduler",
            )
        if bid not in self.d["procs"]:
            self._spawn(bid, [], {}, "background")
            self.bglog(bid, f"Handling launch from daemon for activities: {acts}")
            runtime(self, bid).on_launch([], user=False)
            self.bglog(bid, f"Application launched for activities: {acts}")
        proc = self.d["procs"][bid]
        if proc["state"] == "suspended":
            proc["state"] = "background"
            self._resume_inproc(bid)
        proc["suspend_at"] = None
        desc = self.task_desc(req["kind"], req["ident"])
        if not simulated:
            self.bglog(bid, f"Calling handlers for activities: {acts}")
        self.bglog(bid, f"Running task: {desc}")
        self.bglog(bid, f"Starting simulated task: {desc}" if simulated else f"Starting task: {desc}")
        now = self.w.now()
        budget = REFRESH_BUDGET_MS if req["kind"] == "refresh" else PROCESSING_BUDGET_MS
        task = {
            "bid": bid,
            "kind": req["kind"],
            "ident": req["ident"],
            "started": now,
            "deadline": None if simulated else now + budget,
            "simulated": simulated,
            "end": None,
            "work": None,
        }
        self.d["running"].append(task)
        runtime(self, bid).on_bg_task(task)
        if task["end"] is None and task["work"] is None:  # nothing to do: the handler completes at once
            task["end"] = now

    def _complete_task(self, task: dict[str, Any], success: bool) -> None:
        from .apps import runtime

        self.d["running"].remove(task)
        bid = task["bid"]
        desc = self.task_desc(task["kind"], task["ident"])
        runtime(self, bid).on_bg_task_done(task, success)
        success = bool(task.get("success", success))  # what the handler passed to setTaskCompleted
        if task.get("hook"):
            pass  # the app's debug hook ran its handler code directly: BGTaskScheduler knows nothing
        elif task["simulated"]:
            self.bglog(bid, f"Marking simulated task complete: {desc}")
        else:
            self.bglog(bid, f"Marking task {desc} complete with success: {int(success)}")
        self._maybe_suspend(bid)

    def _expire_task(self, task: dict[str, Any]) -> None:
        from .apps import runtime

        bid = task["bid"]
        desc = self.task_desc(task["kind"], task["ident"])
        if task.get("hook"):
            pass
        elif task["simulated"]:
            self.bglog(bid, f"Expiring simulated task: {desc}")
        else:
            self.bglog(bid, "Will expire activities: {(\n    " + desc + "\n)}")
            self.bglog(bid, f"Expiring task: {desc}")
        runtime(self, bid).on_bg_task_expired(task)
        self._complete_task(task, False)

    def _maybe_suspend(self, bid: str) -> None:
        proc = self.d["procs"].get(bid)
        if proc is None or proc["state"] != "background":
            return
        if any(t["bid"] == bid for t in self.d["running"]):
            return
        if proc["suspend_at"] is None or proc["suspend_at"] > self.w.now():
            proc["suspend_at"] = self.w.now()

    # ------------------------------------------------------- lldb simulation
    def simulate_launch(self, bid: str, ident: str) -> None:
        """``_simulateLaunchForTaskWithIdentifier:`` inside the app (only fires for a pending request)."""
        self.bglog(bid, f"Simulating launch for task with identifier {ident}")
        if any(t["bid"] == bid and t["ident"] == ident for t in self.d["running"]):
            self.bglog(bid, f"Task with identifier {ident} is already running")
            return
        self.bglog(bid, "Getting pending task requests")
        mine = [r for r in self.d["requests"] if r["bid"] == bid]
        self.bglog(
            bid, "Found pending activities: {(" + "".join(f"\n    {r['activity']}" for r in mine) + "\n)}"
        )
        for req in mine:
            if req["ident"] == ident:
                self._dasd_launch(req, simulated=True)
                return

    def simulate_expiration(self, bid: str, ident: str) -> None:
        self.bglog(bid, f"Simulating expiration for task with identifier {ident}")
        for task in list(self.d["running"]):
            if task["bid"] == bid and task["ident"] == ident and task["simulated"]:
                self._expire_task(task)
                return

    # ---------------------------------------------------------- in-process
    def _resume_inproc(self, bid: str) -> None:
        now = self.w.now()
        for item in self.d["inproc"]:
            if item["bid"] == bid and item.get("frozen") is not None:
                if item["phase"] == "running":
                    item["end"] = now + item["frozen"]
                else:
                    item["due"] = max(now, now + item["frozen"])
                item["frozen"] = None

    def _suspend(self, bid: str) -> None:
        proc = self.d["procs"][bid]
        proc["state"] = "suspended"
        proc["suspend_at"] = None
        now = self.w.now()
        for item in self.d["inproc"]:
            if item["bid"] == bid and item.get("frozen") is None:
                ref = item["end"] if item["phase"] == "running" else item["due"]
                item["frozen"] = max(0, ref - now)

    # =================================================================== time
    def next_due(self) -> int | None:
        if not self.booted:
            return None
        times: list[int] = []
        for proc in self.d["procs"].values():
            if proc["state"] == "background" and proc["suspend_at"] is not None:
                times.append(int(proc["suspend_at"]))
        for task in self.d["running"]:
            if task["end"] is not None:
                times.append(int(task["end"]))
            if task["deadline"] is not None:
                times.append(int(task["deadline"]))
        for item in self.d["inproc"]:
            if item.get("frozen") is None:
                times.append(int(item["end"] if item["phase"] == "running" else item["due"]))
        if self.kind == "device":
            for req in self.d["requests"]:
                if self.blocked_reason(req) is None:
                    times.append(int(req["earliest"] if req["earliest"] is not None else req["submitted"]))
        return min(times) if times else None

    def run_due(self, now: int) -> bool:
        """Do the first thing due at or before ``now``; True if something happened."""
        if not self.booted:
            return False
        from .apps import runtime

        for task in list(self.d["running"]):
            ends = task["end"] is not None and task["end"] <= now
            expires = task["deadline"] is not None and task["deadline"] <= now
            if expires and (not ends or task["deadline"] < task["end"]):
                self._expire_task(task)
                return True
            if ends:
                self._complete_task(task, bool(task.get("success", True)))
                return True
        for item in list(self.d["inproc"]):
            if item.get("frozen") is not None:
                continue
            when = item["end"] if item["phase"] == "running" else item["due"]
            if when <= now:
                runtime(self, item["bid"]).on_inproc(item)
                return True
        if self.kind == "device":
            for req in sorted(
                self.d["requests"], key=lambda r: (r["earliest"] or r["submitted"], r["submitted"])
            ):
                when = req["earliest"] if req["earliest"] is not None else req["submitted"]
                if when <= now and self.blocked_reason(req) is None:
                    self._dasd_launch(req)
                    return True
        for bid, proc in list(self.d["procs"].items()):
            if proc["state"] == "background" and proc["suspend_at"] is not None and proc["suspend_at"] <= now:
                if any(t["bid"] == bid for t in self.d["running"]):
                    proc["suspend_at"] = None
                    continue
                self._suspend(bid)
                return True
        return False
