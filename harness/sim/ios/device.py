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
from collections.abc import Iterator
from pathlib import Path

from ..clock import DEFAULT_EPOCH_MS, VirtualClock
from .bgtasks import BGTaskScheduler
from .facts import DEVICE_TYPES, RUNTIME_15_ID, RUNTIME_ID, SimError, seeded_uuid, sim_error
from .phone import Phone
from .power import Power
from .springboard import SpringBoard
from .state import SimHome, wall_now

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

    from harness.apps.ios import IosAppModel  # (pydantic: imported when a hook is matched)

    from .facts import Kind
    from .installed import InstalledApp

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


#: What ``simctl clone`` copies besides the data directory: installed apps and the user's settings
#: (a clone of a shut-down device has no processes, tasks or status-bar overrides to copy).
_CLONED = ("apps", "privacy", "media", "appearance", "log_verbose", "pasteboard", "notify", "network",
           "location", "keychain")


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
        self._models: dict[tuple[str, bool], IosAppModel | InstalledApp] = {}
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
                      runtime: str = RUNTIME_ID, type_id: str | None = None) -> Device:
        """A new device (``simctl create``): shut down, no apps; ``type_id`` defaults from the name."""
        n = int(self.state.get("device_seq", len(self.state["devices"])))
        self.state["device_seq"] = n + 1  # never reuse a seed: a deleted device's UDID stays unique
        udid = seeded_uuid(f"{self.home.path}:{name}:{n}:{kind}")
        d = {
            "udid": udid,
            "name": name,
            "type": type_id or DEVICE_TYPES.get(name, DEVICE_TYPES["iPhone 15"]),
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

    def delete_device(self, dev: Device) -> None:
        """``simctl delete``: a booted device is shut down first; its data and logs go with it."""
        import shutil  # here and in clone: few calls delete or copy a tree

        if dev.booted:
            dev.shutdown()
        del self.state["devices"][dev.udid]
        shutil.rmtree(self.home.device_dir(dev.udid), ignore_errors=True)
        shutil.rmtree(self.home.path / "Logs" / dev.udid, ignore_errors=True)

    def clone_device(self, src: Device, name: str) -> Device:
        """``simctl clone``: a shut-down copy with the source's apps, settings and data, a new UDID."""
        import copy
        import shutil

        dev = self.create_device(
            name, kind="simulator", runtime=str(src.d["runtime"]), type_id=str(src.d["type"])
        )
        for key in _CLONED:
            if key in src.d:
                dev.d[key] = copy.deepcopy(src.d[key])
        shutil.copytree(src.data_path, dev.data_path, dirs_exist_ok=True)
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
        """The validated model of the app installed at ``path`` (what matches its hooks)."""
        return self._model(path, True)  # type: ignore[return-value]

    def installed(self, path: str) -> InstalledApp:
        """The plain form of the app installed at ``path`` (what its code reads)."""
        return self._model(path, False)  # type: ignore[return-value]

    def _model(self, path: str, full: bool) -> IosAppModel | InstalledApp:
        if (path, full) not in self._models:
            self._models[path, full] = _cached_model(path, full)
        return self._models[path, full]

    def forget_model(self, path: str) -> None:
        """An app was installed over ``path``: read it again next time."""
        self._models.pop((path, True), None)
        self._models.pop((path, False), None)

    # ------------------------------------------------------------------- output
    def log(
        self,
        dev: Phone,
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
            "uuid": seeded_uuid(path),
        }
        if sender:
            rec["sender"] = sender
        if fmt:
            rec["fmt"] = fmt
        self.logs.append(rec)

    def print(self, pid: int, line: str) -> None:
        self.stdout.setdefault(pid, []).append(line)


_MODEL_CACHE: dict[tuple[str, int, int, bool], IosAppModel | InstalledApp] = {}


def _cached_model(path: str, full: bool) -> IosAppModel | InstalledApp:
    """Load an installed app model once per process (and again only when its file changes)."""
    from .installed import load_installed, load_model

    load = load_model if full else load_installed
    try:
        st = Path(path).stat()
        key = (path, st.st_mtime_ns, st.st_size, full)
    except OSError:
        return load(path)  # raises the AppModelError that names the file
    model = _MODEL_CACHE.get(key)
    if model is None:
        model = _MODEL_CACHE[key] = load(path)
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
class Device(Phone):
    """One virtual iPhone assembled from its parts: ``springboard``, ``power``, ``bgtasks``."""

    bgtasks: BGTaskScheduler

    def __init__(self, world: World, d: dict[str, Any]) -> None:
        super().__init__(world, d)
        self.springboard = SpringBoard(self)
        self.power = Power(self)
        self.bgtasks = BGTaskScheduler(self, self.springboard, self.power)

    def shutdown(self) -> None:
        if not self.booted:
            raise sim_error(
                "com.apple.CoreSimulator.SimError",
                405,
                "Unable to shutdown device in current state: Shutdown",
                149,
            )
        for bid in list(self.d["procs"]):
            self.springboard.kill(bid)
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
            self.springboard.remove_app(bid)
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
                if self.bgtasks.blocked_reason(req) is None:
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
                self.bgtasks.expire_task(task)
                return True
            if ends:
                self.bgtasks.complete_task(task, bool(task.get("success", True)))
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
                if when <= now and self.bgtasks.blocked_reason(req) is None:
                    self.bgtasks.dasd_launch(req)
                    return True
        for bid, proc in list(self.d["procs"].items()):
            if proc["state"] == "background" and proc["suspend_at"] is not None and proc["suspend_at"] <= now:
                if any(t["bid"] == bid for t in self.d["running"]):
                    proc["suspend_at"] = None
                    continue
                self.springboard.suspend(bid)
                return True
        return False
