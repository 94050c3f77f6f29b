"""Start the virtual iPhone for people and for the embedded default: world, clock mode, WDA server.

``start_ios()`` makes sure the sim home holds a booted iPhone of the asked kind, sets the clock
mode, starts the WebDriverAgent-compatible server in a thread and says which environment a
harness needs (``BGTEST_XCRUN``, ``BGTEST_SIM_HOME``, ``BGTEST_WDA_URL``/``DEVICE_URL``).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .device import new_state, open_world
from .state import SimHome
from .wda import WdaServer

if TYPE_CHECKING:
    from .facts import Kind


def xcrun_path() -> str:
    """The installed ``bgtest-xcrun`` console script (next to this Python when not on PATH)."""
    found = shutil.which("bgtest-xcrun")
    if found:
        return found
    return str(Path(sys.executable).with_name("bgtest-xcrun"))


class RunningIos:
    def __init__(self, home: SimHome, udid: str, name: str, server: WdaServer, clock: str) -> None:
        self.home = home
        self.udid = udid
        self.device_name = name
        self.server = server
        self.clock = clock

    @property
    def url(self) -> str:
        return self.server.url

    def env_lines(self) -> list[str]:
        return [
            f"BGTEST_XCRUN={xcrun_path()}",
            f"BGTEST_SIM_HOME={self.home.path}",
            f"BGTEST_WDA_URL={self.url}",
            f"DEVICE_URL={self.url}",
        ]

    def tick(self) -> None:
        """Let realtime device time run the due events even when no client is asking."""
        if self.clock != "manual":
            with open_world(self.home):
                pass

    def stop(self) -> None:
        self.server.stop()


def start_ios(
    kind: Kind = "simulator",
    wda_port: int = 8100,
    clock: str = "realtime",
    scale: float = 60.0,
    reset: bool = False,
    home: SimHome | None = None,
    host: str = "127.0.0.1",
    profile: str | None = None,
    app_models: Sequence[Path] = (),
) -> RunningIos:
    """Serve the virtual iPhone of ``home``; a fresh world when asked, or when the booted one is
    of another kind or another device profile than ``profile`` (``harness/profiles.py``).

    ``app_models`` are validated here, in this process, for the home's ``simctl install``
    (``installed.to_install``): each ``bgtest-xcrun`` that installs one then takes it as
    validated instead of importing pydantic to validate it again.
    """
    home = home or SimHome()
    _validate_ahead(home, app_models)
    with open_world(home, kind=kind) as world:
        booted = [d for d in world.devices() if d.booted]
        other_profile = profile is not None and booted and booted[0].d.get("profile") != profile
        if reset or not booted or booted[0].kind != kind or other_profile:
            world.state.clear()
            world.state.update(new_state(kind, home, profile))
            world.clock = type(world.clock)(start_ms=int(world.state["clock"]["ms"]))
            booted = [d for d in world.devices() if d.booted]
        world.set_clock_mode(clock, scale)
        udid, name = booted[0].udid, str(booted[0].d["name"])
    server = WdaServer(home, udid, host=host, port=wda_port).start()
    return RunningIos(home, udid, name, server, clock)


def _validate_ahead(home: SimHome, app_models: Sequence[Path]) -> None:
    from .installed import to_install

    for path in app_models:
        try:
            to_install(Path(path), home.installed_sources())
        except Exception:  # no iOS side, or a bad file: its install says so, as before
            continue
