"""The narrow view of the phone that a system service gets: time, events, the log and queries.

``device.py`` builds the services and passes itself as this context; a service never imports
the device. Each ``*Queries`` protocol lists exactly what other services ask of that service —
the calls that cross a service boundary — so a reader sees the coupling in one page, and the
services stay out of one big import circle (they used to import the device for its type,
which imports them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from ...clock import VirtualClock
from .bus import EventBus

if TYPE_CHECKING:
    from harness.profiles import DeviceProfile


class IdleQueries(Protocol):
    """DeviceIdleController, as alarms, power, connectivity and standby ask it."""

    @property
    def state(self) -> str: ...

    @property
    def light_state(self) -> str: ...

    def deep_idle(self) -> bool: ...

    def light_idle(self) -> bool: ...

    def restricts(self, package: str) -> bool: ...

    def is_power_save_whitelisted(self, package: str) -> bool: ...


class PowerQueries(Protocol):
    """PowerManagerService: the screen and battery saver."""

    @property
    def interactive(self) -> bool: ...

    @property
    def saver_enabled(self) -> bool: ...

    def saver_restricts(self, package: str) -> bool: ...


class BatteryQueries(Protocol):
    """BatteryService: what the charger and the level say."""

    @property
    def plugged(self) -> bool: ...

    @property
    def plug_type(self) -> str | None: ...

    @property
    def level(self) -> int: ...

    @property
    def low(self) -> bool: ...


class NetQueries(Protocol):
    """ConnectivityService: is there a network (of this kind) at all."""

    def active_network(self) -> object | None: ...

    def network_for(self, requirement: str) -> object | None: ...


class SettingsQueries(Protocol):
    """The settings provider."""

    def get_int(self, ns: str, key: str, default: int = 0) -> int: ...

    def put(self, ns: str, key: str, value: str) -> None: ...

    def set_quiet(self, ns: str, key: str, value: str) -> None: ...

    def observe(self, ns: str, key: str, fn: Callable[[str | None], object]) -> None: ...


class PropsQueries(Protocol):
    """System properties."""

    def get(self, key: str, default: str = "") -> str: ...

    def items(self) -> Iterator[tuple[str, str]]: ...


class ProcInfo(Protocol):
    """A process as another service sees it."""

    @property
    def pid(self) -> int: ...

    @property
    def uid(self) -> int: ...


class ProcessQueries(Protocol):
    """The kernel's process table, as an app runtime and the log chatter ask it."""

    def by_name(self, name: str) -> Sequence[ProcInfo]: ...

    def new_thread(self, pid: int, name: str) -> int: ...

    def kill(self, pid: int) -> object | None: ...


class ActivityQueries(Protocol):
    """ActivityManagerService, as JobScheduler's service binding asks it."""

    def ensure_process(
        self, package: str, hosting: str = "service", component: str | None = None
    ) -> object: ...

    def app(self, package: str) -> object: ...


class SystemContext(Protocol):
    """What every system service may use: the phone's clock, bus, log and the other services' queries."""

    @property
    def clock(self) -> VirtualClock: ...

    @property
    def bus(self) -> EventBus: ...

    @property
    def serial(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def boot_count(self) -> int: ...

    @property
    def profile(self) -> DeviceProfile: ...

    @property
    def booted(self) -> bool: ...

    def now_ms(self) -> int: ...

    def uptime_ms(self) -> int: ...

    def log(
        self, level: str, tag: str, message: str, pid: int | None = None, tid: int | None = None,
        uid: int = 1000, buffer: str = "main",
    ) -> None: ...

    @property
    def idle(self) -> IdleQueries: ...

    @property
    def power(self) -> PowerQueries: ...

    @property
    def battery(self) -> BatteryQueries: ...

    @property
    def net(self) -> NetQueries: ...

    @property
    def settings(self) -> SettingsQueries: ...

    @property
    def activity(self) -> ActivityQueries: ...

    @property
    def procs(self) -> ProcessQueries: ...

    @property
    def props(self) -> PropsQueries: ...
