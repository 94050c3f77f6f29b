"""Run virtual Android devices in the background and attach them to a real adb server.

``VirtualAndroidFarm`` is what tests, ``bgtest sim android`` and the embedded default use.
Each device runs with its adbd and its clock on a thread of its own, with its own asyncio
loop: a device's state is single-threaded by design (CONTRACTS.md), and a device that is busy
(advancing its clock through a 24-hour day) must not stall another one's ``adb shell`` — with
one shared loop it did, for as long as the busy one worked. The caller's thread talks to a
device only through ``call()`` or through adb itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .adb.adbd import AdbDaemon
from .device import VirtualAndroidDevice, load_all_commands

if TYPE_CHECKING:
    from ..clock import ClockMode  # a name for type checkers only (sim/clock.py)

T = TypeVar("T")

#: Ports a virtual device never takes: the adb server's default (5037) and the range it
#: probes for emulators at start-up, 5554-5585 (AOSP client/transport_emulator.cpp): a
#: device there would show up twice, once as ``emulator-N``.
FORBIDDEN_PORTS = {5037, *range(5554, 5586)}

#: Seconds one device may take to build and listen (a loaded CI machine builds 32 at once).
START_TIMEOUT_S = 120.0


class AdbHost(Protocol):
    """The host-side adb server the farm announces its devices to (``harness.devices.adb_server``)."""

    def connect(self, address: str, /) -> object: ...

    def disconnect(self, address: str, /) -> object: ...


class _DeviceThread:
    """One virtual device, its adbd and its clock driver on a thread with its own event loop."""

    def __init__(self, build: Callable[[], VirtualAndroidDevice], host: str,
                 configure: Callable[[VirtualAndroidDevice, AdbDaemon], None], name: str) -> None:
        self._build, self._host, self._configure = build, host, configure
        self.device: VirtualAndroidDevice | None = None
        self.daemon: AdbDaemon | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._driver: asyncio.Task[None] | None = None
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        if self.loop is None:
            raise RuntimeError("the device is not running")
        if threading.current_thread() is self.thread:
            raise RuntimeError("call() from the device's own thread would deadlock; call fn directly")

        async def run() -> T:
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self) -> None:
        """Close the adbd (its connections drop, as when the device dies) and end the thread."""
        loop = self.loop
        if loop is not None and self.thread.is_alive():
            with _suppress_closed_loop():
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(30)
            with _suppress_closed_loop():
                loop.call_soon_threadsafe(loop.stop)
            self.thread.join(30)
        self.loop = None

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            self.started.set_exception(exc)
            loop.close()
            self.loop = None
            return
        self.started.set_result(None)
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _startup(self) -> None:
        device = self._build()
        daemon = await _listen(device, self._host)
        self._configure(device, daemon)
        self.device, self.daemon = device, daemon
        self._driver = asyncio.get_running_loop().create_task(device.clock.drive())

    async def _shutdown(self) -> None:
        if self.daemon is not None:
            await self.daemon.stop()
        if self._driver is not None:
            self._driver.cancel()
            await asyncio.gather(self._driver, return_exceptions=True)
            self._driver = None


class VirtualAndroidFarm:
    """N virtual devices, each with its adbd on a free loopback port, connected to ``adb_server``.

    ``with VirtualAndroidFarm(count=2, adb_server=server) as farm: farm.serials`` — the
    serials are what adb calls them (``127.0.0.1:PORT``). With ``adb_server=None`` the devices
    run but nobody is told about them (in-process use, benchmarks).
    """

    def __init__(
        self,
        count: int = 1,
        adb_server: AdbHost | None = None,
        clock_mode: ClockMode = "manual",
        app_models: list[Path | str] | None = None,
        scale: float = 1.0,
        model: str | None = None,
        host: str = "127.0.0.1",
        profile: str | None = None,
        host_keys: list[str] | None = None,
        allow_new_keys: bool = True,
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count = count
        self.adb_server = adb_server
        self.clock_mode: ClockMode = clock_mode
        self.scale = scale
        self.app_models = [Path(p) for p in app_models or []]
        self.model = model
        self.host = host
        #: Device profile name (``harness/profiles.py``); None is the default flagship.
        self.profile = profile
        #: adb public keys the devices already trust ("Always allow from this computer"):
        #: given, or the adb server's own ``$HOME/.android/adbkey.pub``. With any, the
        #: devices are secure (``ro.adb.secure=1``: AUTH on every connection); without, they
        #: let any host in, as ``ro.adb.secure=0``.
        self.host_keys = host_keys if host_keys is not None else _server_keys(adb_server)
        #: Whether a device allows a key it does not know when the host offers it (the user
        #: taps "Allow"), or stays unauthorized to that host.
        self.allow_new_keys = allow_new_keys
        self._threads: list[_DeviceThread] = []
        self._connected: list[str] = []

    # ----------------------------------------------------------------- access
    @property
    def devices(self) -> list[VirtualAndroidDevice]:
        return [t.device for t in self._threads if t.device is not None]

    @property
    def daemons(self) -> list[AdbDaemon]:
        return [t.daemon for t in self._threads if t.daemon is not None]

    @property
    def serials(self) -> list[str]:
        """adb's names for the devices: ``host:port`` as connected."""
        return [d.address for d in self.daemons]

    @property
    def ports(self) -> list[int]:
        return [d.port for d in self.daemons]

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0, on: int = 0) -> T:
        """Run ``fn(*args)`` on device ``on``'s thread and return its result (awaited if async).

        A device's objects belong to its thread: touch ``farm.devices[i]`` only through
        ``call(..., on=i)``."""
        if not self._threads:
            raise RuntimeError("the farm is not running")
        return self._threads[on].call(fn, *args, timeout=timeout)

    def unplug(self, index: int) -> None:
        """Device ``index`` dies: its adbd closes every connection and stops answering (adb
        shows it offline, then gone). The others run on; ``stop()`` still disconnects it."""
        self._threads[index].stop()

    # -------------------------------------------------------------- lifecycle
    def start(self) -> VirtualAndroidFarm:
        load_all_commands()  # once, here: the device threads would all race to import them
        self._threads = [
            _DeviceThread(self._builder(index), self.host, self._configure, f"bgtest-android-{index + 1}")
            for index in range(self.count)
        ]
        try:
            for thread in self._threads:
                thread.start()
            for thread in self._threads:
                thread.started.result(START_TIMEOUT_S)
            if self.adb_server is not None:
                for serial in self.serials:
                    self.adb_server.connect(serial)
                    self._connected.append(serial)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Disconnect from the adb server (so it does not redial for a minute), then stop."""
        if self.adb_server is not None:
            for serial in self._connected:
                self.adb_server.disconnect(serial)
        self._connected.clear()
        for thread in self._threads:
            thread.stop()
        self._threads = []

    def __enter__(self) -> VirtualAndroidFarm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --------------------------------------------------------- on a device thread
    def _builder(self, index: int) -> Callable[[], VirtualAndroidDevice]:
        def build() -> VirtualAndroidDevice:
            device = VirtualAndroidDevice(
                serial=f"bgtest-{index + 1:04d}",
                model=self.model,
                clock_mode=self.clock_mode,
                app_models=list(self.app_models),
                profile=self.profile,
                log_chatter=True,  # a phone on adb is never silent
            )
            if self.clock_mode == "scaled":
                device.clock.set_mode("scaled", self.scale)
            return device

        return build

    def _configure(self, device: VirtualAndroidDevice, daemon: AdbDaemon) -> None:
        daemon.allow_new_keys = self.allow_new_keys
        if self.host_keys:
            device.props.set("ro.adb.secure", "1")
            for key in self.host_keys:
                daemon.allow_key(key)


def _server_keys(adb_server: AdbHost | None) -> list[str]:
    """The public key an adb server signs with: ``adbkey.pub`` in the ``.android`` of its HOME.

    Read from the environment the server runs in (``AdbServer.env``), where ``adb
    start-server`` creates the pair; an unknown server gives none.
    """
    env = getattr(adb_server, "env", None)
    home = env.get("HOME") if isinstance(env, dict) else None
    if not home:
        return []
    path = Path(home) / ".android" / "adbkey.pub"
    try:
        return [path.read_text()] if path.is_file() else []
    except OSError:
        return []


async def _listen(device: VirtualAndroidDevice, host: str) -> AdbDaemon:
    """An adbd on a free port outside the ranges adb itself uses."""
    for _ in range(100):
        daemon = AdbDaemon(device, host=host, port=0)
        await daemon.start()
        if daemon.port not in FORBIDDEN_PORTS:
            return daemon
        await daemon.stop()
    raise OSError("no free loopback port outside 5037 and 5554-5585")


class _suppress_closed_loop:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> bool:
        return exc_type is not None and issubclass(exc_type, (RuntimeError, concurrent.futures.TimeoutError))
