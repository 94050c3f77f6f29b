"""The embedded default: a virtual Android device for when nothing real is attached.

This is the one place in the harness core that imports ``harness.sim`` (DESIGN.md): the
rest of bgtest reaches the virtual device only through adb, as it would a phone.
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
    _farm: object = None

    def start(self) -> EmbeddedAndroid:
        from harness.sim.android.launcher import VirtualAndroidFarm

        self.server = AdbServer.start_private()
        try:
            farm = VirtualAndroidFarm(count=1, adb_server=self.server, app_models=list(self.app_models))
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
