"""The embedded default: a virtual Android device and virtual iPhones for when nothing real is
attached.

This is the one place in the harness core that imports ``harness.sim`` (DESIGN.md): the rest
of bgtest reaches the virtual devices only through their protocols (adb; ``xcrun`` and WDA),
as it would a phone or a simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.devices.adb_server import AdbServer


@dataclass
class EmbeddedAndroid:
    """A private adb server plus one virtual device on it; ``stop()`` ends both."""

    app_models: list[Path] = field(default_factory=list)
    server: AdbServer | None = None
    serial: str = ""
    #: the device profile it is built as (harness/profiles.py); None: the default flagship
    profile: str | None = None
    _farm: object = None

    def start(self) -> EmbeddedAndroid:
        from harness.sim.android.launcher import VirtualAndroidFarm

        self.server = AdbServer.start_private()
        try:
            farm = VirtualAndroidFarm(count=1, adb_server=self.server, app_models=list(self.app_models),
                                      profile=self.profile)
            farm.start()
        except BaseException:
            self.server.stop()
            raise
        self._farm = farm
        self.serial = farm.serials[0]
        return self

    def stop(self) -> None:
        if self._farm is not None:
            self._farm.stop()  # type: ignore[attr-defined]
            self._farm = None
        if self.server is not None:
            self.server.stop()
            self.server = None


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
                            profile=profile)
        self._running.append(running)
        xcrun = Xcrun(xcrun_path(), env={"BGTEST_SIM_HOME": str(home.path)})
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
