"""The embedded default: a virtual Android device and virtual iPhones for when nothing real is
attached.

This is the one place in the harness core that imports ``harness.sim`` (DESIGN.md): the rest
of bgtest reaches the virtual devices only through their protocols (adb; ``xcrun`` and WDA),
as it would a phone or a simulator.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.devices.adb_server import AdbServer
from harness.errors import BgtestError


@dataclass
class EmbeddedAndroid:
    """A private adb server plus one virtual device on it; ``stop()`` ends both.

    Given ``joins`` (another embedded device's server), the device joins that one instead and
    leaves it running on ``stop()``: a run that also needs a device of another profile
    (``device: {profile: android-go}``) would otherwise start a second server (a second or more).
    """

    app_models: list[Path] = field(default_factory=list)
    server: AdbServer | None = None
    serial: str = ""
    #: the device profile it is built as (harness/profiles.py); None: the default flagship
    profile: str | None = None
    joins: AdbServer | None = None
    adb: str | None = None  # Settings.adb: the binary of its private server (None: the bundled one)
    _farm: object = None

    def start(self, server: AdbServer | None = None) -> EmbeddedAndroid:
        """Start the device on ``server`` (a private one spawned by :meth:`AdbServer.spawn_private`,
        waited for here and stopped with the device), on the server it ``joins``, else on a
        private server started now."""
        from harness.sim.android.launcher import VirtualAndroidFarm

        if self.joins is not None:
            self.server = self.joins
        elif server is None:
            self.server = AdbServer.start_private(binary=self.adb)
        else:
            self.server = server
            try:
                server.wait_listening()
            except BaseException:
                server.stop()
                raise
        try:
            farm = VirtualAndroidFarm(count=1, adb_server=self.server, app_models=list(self.app_models),
                                      profile=self.profile)
            farm.start()
        except BaseException:
            if self.joins is None:
                self.server.stop()
            raise
        self._farm = farm
        self.serial = farm.serials[0]
        return self

    def stop(self) -> None:
        if self._farm is not None:
            self._farm.stop()  # type: ignore[attr-defined]
            self._farm = None
        if self.server is not None and self.joins is None:
            self.server.stop()
        self.server = None


def bytecode_cache() -> Path | None:
    """bgtest's own cache of compiled modules for the Python processes it starts (the ``xcrun``
    stand-in, the xdist workers of a run in lanes): used even where ``PYTHONDONTWRITEBYTECODE``
    is set, so that such a process does not compile every module again at every start. Nothing
    is written next to the sources; Python checks each cached file against its source.

    None (no cache) unless the folder is this user's own (:func:`own_folder`): a compiled module
    someone else planted there would run as us."""
    import os
    import tempfile

    from harness.own_folder import own_folder

    return own_folder(Path(tempfile.gettempdir()) / f"bgtest-pycache-{os.getuid()}")


def _stand_in_pycache() -> dict[str, str]:
    """The ``xcrun`` stand-in is a Python process per call (a few hundred per run): half its CPU
    time was compiling modules (:func:`bytecode_cache`)."""
    cache = bytecode_cache()
    return {} if cache is None else {"PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": ""}


@dataclass
class _Prestart:
    app_models: list[Path]
    profile: str | None
    server: AdbServer | None = None
    thread: threading.Thread | None = None
    device: EmbeddedAndroid | None = None
    #: set when the device may be built: at once, or for a device lent to a lane once the run's
    #: workers are started (:func:`release_prestarted`)
    go: threading.Event = field(default_factory=threading.Event)
    #: the run ended without it (:func:`discard_prestarted`): build nothing
    dropped: bool = False


_prestarted: _Prestart | None = None
#: how long a run that is ending waits for a prestart nobody took
_DISCARD_WAIT_S = 10.0
#: how long a held prestart waits for its release before it builds anyway (the worker that
#: borrows it waits up to a minute for it: run/session.py, lent_android)
_HOLD_MAX_S = 20.0
_prestart_lock = threading.Lock()


def prestart_android(app_models: list[Path], profile: str | None, needed: Callable[[], bool],
                     adb: str | None = None, held: bool = False) -> None:
    """Start the embedded Android device on a thread now, while the run still loads and collects
    its scenarios (issue 17: its adb server and ``adb connect`` are processes to wait for —
    seconds before the first step when started on first use).

    ``needed`` runs on that thread first (is no real device attached?): when it says no, or
    fails, nothing starts and the session decides as it always did. :func:`take_android`
    hands the device over; :func:`discard_prestarted` stops one nobody took.

    ``held``: the adb server starts now, the device once :func:`release_prestarted` says so. A
    run in lanes lends the device to a worker that needs it only after its own start of a second
    or so; built at once, its modules and its build (a third of a second of CPU) shared this
    process's interpreter lock with pytest's start and delayed the workers' start by as much.
    """
    global _prestarted
    job = _Prestart(list(app_models), profile)
    if not held:
        job.go.set()
    try:  # its process from this (the main) thread: it dies with bgtest, even on a SIGKILL
        server = job.server = AdbServer.spawn_private(binary=adb)
    except BgtestError:
        return  # the session starts one itself, and reports what is wrong

    def start() -> None:
        try:
            wanted = needed()
        except Exception:  # the session asks again and reports it
            wanted = False
        if not wanted:
            server.stop()
            return
        job.go.wait(_HOLD_MAX_S)
        if job.dropped:
            return  # (discard_prestarted stopped its server)
        try:
            job.device = EmbeddedAndroid(app_models=job.app_models, profile=job.profile).start(server)
        except Exception:  # (start stopped its server) take_android starts again; the run sees why
            job.device = None

    with _prestart_lock:
        if _prestarted is not None:
            server.stop()
            return
        job.thread = threading.Thread(target=start, name="bgtest-prestart-android", daemon=True)
        _prestarted = job
    job.thread.start()


def take_android(app_models: list[Path], profile: str | None, adb: str | None = None) -> EmbeddedAndroid:
    """The embedded Android device for the session: the prestarted one when it was built with
    (at least) these app models and this profile, else one started now."""
    global _prestarted
    with _prestart_lock:
        job, _prestarted = _prestarted, None
    if job is not None and job.thread is not None:
        job.go.set()  # wanted here and now
        job.thread.join()
        fits = job.profile == profile and set(app_models) <= set(job.app_models)
        if job.device is not None and fits:
            return job.device
        if job.device is not None:
            job.device.stop()
    # (a prestart that failed is tried again here, so its error reaches the run as usual)
    return EmbeddedAndroid(app_models=list(app_models), profile=profile, adb=adb).start()


def release_prestarted() -> None:
    """A held prestart (``prestart_android(held=True)``) may build its device now: the run's
    workers are started."""
    with _prestart_lock:
        job = _prestarted
    if job is not None:
        job.go.set()


def prestarted_server() -> tuple[str, int] | None:
    """Where the prestarted device's adb server listens (None: none was started): a run in lanes
    (run/lanes.py) lends that device to the worker that runs the Android scenarios."""
    with _prestart_lock:
        server = _prestarted.server if _prestarted is not None else None
    return (server.host, server.port) if server is not None else None


def lent_android(host: str, port: int, profile: str | None, timeout: float = 60.0) -> EmbeddedAndroid | None:
    """The embedded device another bgtest process started on its adb server at ``host:port`` (the
    run's controller, which prestarted it while the workers started): waited for until it is
    online; ``stop()`` leaves it to its owner. None when that server does not answer or no device
    came online in time (the owner's start failed): the caller starts its own."""
    import time

    from harness.devices.pool import list_devices

    server = AdbServer(port=port, host=host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            online = [d.serial for d in list_devices(host, port, required=True) if d.state == "device"]
        except BgtestError:
            return None
        if online:
            return EmbeddedAndroid(server=server, serial=online[0], profile=profile, joins=server)
        time.sleep(0.02)
    return None


def discard_prestarted() -> None:
    """Stop a prestarted device the run never took (its scenarios were all deselected, or a
    real device turned up); never raises."""
    global _prestarted
    with _prestart_lock:
        job, _prestarted = _prestarted, None
    if job is None or job.thread is None:
        return
    job.dropped = True
    job.go.set()  # a held one ends without building
    if job.server is not None and job.device is None:
        job.server.stop()  # a start still under way ends at once (its adb server is gone)
    # Bounded: a signal raised in the main thread in the middle of an import can leave that
    # module's import lock to a thread that never gets it back (seen: bgtest hung here for good
    # after a SIGTERM during start-up). The thread is a daemon and its adb server is stopped
    # above; a device it might still finish lives in this process and ends with it.
    job.thread.join(timeout=_DISCARD_WAIT_S)
    if job.device is not None:
        try:
            job.device.stop()
        except Exception:  # cleanup of a device nobody used
            pass


@dataclass
class EmbeddedIphone:
    """Virtual iPhones for iOS scenarios when no simulator is booted (or there is no Mac).

    One private CoreSimulator home per kind (``simulator``, ``device``), each with its WDA
    server, in manual virtual time. The harness reaches them like real ones: ``bgtest-xcrun``
    (with ``BGTEST_SIM_HOME``) and the WDA URL.
    """

    app_models: list[Path] = field(default_factory=list)
    root: Path | None = None
    _devices: dict[str, object] = field(default_factory=dict)
    _running: list[object] = field(default_factory=list)

    def start(self) -> EmbeddedIphone:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="bgtest-iphone-"))
        return self

    def device(self, kind: str = "simulator", profile: str | None = None) -> object:
        """The booted virtual iPhone of ``kind`` (and device ``profile``), started on first use."""
        from harness.devices.ios import IosDevice, Xcrun
        from harness.sim.ios.launcher import start_ios, xcrun_path
        from harness.sim.ios.state import SimHome

        key = f"{kind}-{profile}" if profile else kind
        if key in self._devices:
            return self._devices[key]
        assert self.root is not None, "start() first"
        home = SimHome(self.root / key)
        running = start_ios(kind=kind, wda_port=0, clock="manual", reset=True, home=home,  # type: ignore[arg-type]
                            profile=profile, app_models=self.app_models)
        self._running.append(running)
        xcrun = Xcrun(xcrun_path(), env={"BGTEST_SIM_HOME": str(home.path), **_stand_in_pycache()})
        device = IosDevice(running.udid, xcrun, wda_url=running.url, kind=kind)
        self._devices[key] = device
        return device

    def stop(self) -> None:
        import shutil

        for running in self._running:
            running.stop()  # type: ignore[attr-defined]
        self._running.clear()
        self._devices.clear()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
