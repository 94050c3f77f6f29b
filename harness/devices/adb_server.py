"""The adb server bgtest talks through: find the binary, start a private one, connect devices.

bgtest uses the ``adb`` binary that ships inside adbutils (a known version, 36) unless told
otherwise. A private server on a free port keeps tests and embedded runs away from a user's
own server on 5037 and from the emulator probe on 5555–5585.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BgtestError
from harness.own_folder import own_folder

EMULATOR_PORTS = range(5554, 5586)


class AdbServerError(BgtestError):
    """The adb server could not be started or reached."""


def adb_binary(configured: str | None = None) -> str:
    """Path of the adb binary: ``configured`` (Settings.adb, $BGTEST_ADB), then the one bundled
    with adbutils, then $PATH."""
    if configured:
        return configured
    # where adbutils keeps its bundled adb, found without importing it (a second of start-up)
    spec = importlib.util.find_spec("adbutils")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "binaries" / "adb"
        if bundled.exists():
            if not os.access(bundled, os.X_OK):
                bundled.chmod(0o755)
            return str(bundled)
    found = shutil.which("adb")
    if found:
        return found
    raise AdbServerError("no adb binary found: install adbutils or set BGTEST_ADB=/path/to/adb")


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port on loopback that is not one adb probes for emulators."""
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in EMULATOR_PORTS and port != 5037:
            return port


@dataclass
class AdbServer:
    """An adb server on ``host:port`` (ours, started here, or someone else's)."""

    port: int = 5037
    host: str = "127.0.0.1"
    binary: str = ""
    owned: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.binary:
            self.binary = adb_binary()

    @property
    def env(self) -> dict[str, str]:
        """Environment for adb/adbutils calls aimed at this server."""
        env = dict(os.environ)
        env["ANDROID_ADB_SERVER_PORT"] = str(self.port)
        env["ANDROID_ADB_SERVER_HOST"] = self.host
        env["ADB_EMU"] = "0"
        if self.owned:
            # A private server serves bgtest's virtual devices only. With USB and mDNS discovery
            # on it would claim a plugged-in phone from the user's own server on 5037, and it
            # accepts no client until its first USB scan is done — which on a machine without
            # USB access is never, so every first request waited out the 3 s fallback
            # (AOSP client/main.cpp adb_server_main: the smart socket stays disabled until
            # adb_wait_for_device_initialization(), adb.cpp: init_cv.wait_for(lock, 3s, …);
            # ADB_USB=0 reports the scan complete at once).
            env["ADB_USB"] = "0"
            env["ADB_MDNS"] = "0"
        if self.owned and not _can_make(Path(env.get("HOME", "/nonexistent")) / ".android"):
            # adb keeps its keys in $HOME/.android and refuses to start without it; a private
            # server can live in a home of its own.
            # (its keys are kept there: only in a folder of this user's own, else a fresh one)
            private = own_folder(Path(tempfile.gettempdir()) / f"bgtest-adb-home-{os.getuid()}")
            private = private or Path(tempfile.mkdtemp(prefix="bgtest-adb-home-"))
            (private / ".android").mkdir(exist_ok=True)
            env["HOME"] = str(private)
        return env

    def adb(self, *args: str, timeout: float = 30.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the adb command line against this server."""
        proc = subprocess.run(
            [self.binary, "-P", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise AdbServerError(
                f"adb {' '.join(args)} (server {self.host}:{self.port}) exited {proc.returncode}: "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc

    def client(self):  # -> adbutils.AdbClient
        import adbutils

        return adbutils.AdbClient(host=self.host, port=self.port)

    def _ask(self, service: str) -> str:
        """One host service's answer, asked of the server directly (what the adb command line
        sends for ``adb connect`` / ``disconnect``) instead of starting an adb client for it."""
        from harness.devices.adbwire import AdbWireError, _Conn

        try:
            conn = _Conn(self.host, self.port, timeout=30)
            try:
                conn.request(service)
                return conn.read_exact(int(conn.read_exact(4), 16)).decode("utf-8", "replace").strip()
            finally:
                conn.close()
        except (AdbWireError, OSError, ValueError) as exc:
            raise AdbServerError(f"adb {service} (server {self.host}:{self.port}): {exc}") from exc

    def connect(self, address: str) -> str:
        out = self._ask(f"host:connect:{address}")
        if not out.startswith(("connected to", "already connected to")):
            raise AdbServerError(f"adb connect {address}: {out}")
        return out

    def disconnect(self, address: str) -> None:
        try:
            self._ask(f"host:disconnect:{address}")
        except AdbServerError:
            pass  # gone already: what was wanted

    @classmethod
    def start_private(
        cls, port: int | None = None, timeout: float = 30.0, binary: str | None = None
    ) -> AdbServer:
        """Start a fresh server on a free (or given) private port; ``stop()`` kills it.

        ``adb start-server`` forks a daemon that outlives bgtest if bgtest is stopped while it
        starts (SIGTERM during the embedded start-up leaked it every time). ``adb nodaemon
        server`` stays bgtest's child instead: a signal during start-up kills it, and on Linux
        it is told to die with bgtest (``PR_SET_PDEATHSIG``), so even a SIGKILL leaks nothing.
        """
        server = cls.spawn_private(port, binary)
        try:
            server.wait_listening(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    @classmethod
    def spawn_private(cls, port: int | None = None, binary: str | None = None) -> AdbServer:
        """The first half of :meth:`start_private`: the server's process, not yet waited for.

        Spawned from the main thread it dies with bgtest, so a caller may wait for it on
        another thread (:meth:`wait_listening`) while bgtest goes on starting up.
        """
        server = cls(port=port or free_port(), binary=adb_binary(binary), owned=True)
        argv = [server.binary, "-P", str(server.port), "nodaemon", "server"]
        try:
            server.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=server.env,
                preexec_fn=_die_with_parent(),
                start_new_session=True,  # a terminal's Ctrl-C is for bgtest, which still needs adb to restore
            )
        except OSError as exc:
            raise AdbServerError(f"cannot start adb server on port {server.port}: {exc}") from exc
        return server

    def wait_listening(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AdbServerError(
                    f"cannot start adb server on port {self.port}: it exited {self.process.returncode}",
                    hint="is the port taken? `adb -P PORT kill-server`, or set BGTEST_ADB to another adb",
                )
            try:
                socket.create_connection((self.host, self.port), timeout=1.0).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AdbServerError(
                        f"cannot start adb server on port {self.port}: not listening after {timeout:.0f} s"
                    ) from None
                time.sleep(0.01)

    def stop(self) -> None:
        process, self.process = self.process, None  # taken once: a second stop (another thread) skips it
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        elif self.owned:
            try:
                self.adb("kill-server", timeout=10, check=False)
            except (OSError, subprocess.TimeoutExpired):
                pass


def _die_with_parent() -> Callable[[], None] | None:
    """For ``preexec_fn``: the child gets SIGKILL when bgtest dies (Linux ``prctl``).

    Only from the main thread: the signal follows the *thread* that started the child.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # bgtest died before prctl: do not outlive it
            os._exit(1)

    return preexec


def _can_make(folder: Path) -> bool:
    """Whether adb's own folder exists or can be made (never creating a missing home)."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)
