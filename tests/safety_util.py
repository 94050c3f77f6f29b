"""Helpers for the safety attacks: run bgtest as a real subprocess and meet it at known points.

No sleeps: a test learns that bgtest reached a point from something bgtest itself does — a log
line the scenario writes (read with a blocking ``adb logcat``), a connection to a socket the
test holds — and only then sends its signal.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.devices.adb_server import AdbServer, free_port

ROOT = Path(__file__).resolve().parents[1]
BGTEST = [sys.executable, "-m", "harness.cli"]


def env(**extra: str) -> dict[str, str]:
    """The test's environment with no adb server where bgtest looks first (never the user's 5037)."""
    out = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    out.update(extra)
    return out


def start(*args: str, cwd: Path = ROOT, environ: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BGTEST, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        env=environ or env(),
    )


def run(
    *args: str, cwd: Path = ROOT, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BGTEST, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ or env(),
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


def sync_tag() -> str:
    return f"SYNC{uuid.uuid4().hex[:10]}"


def wait_for_log(server: AdbServer, serial: str, tag: str, timeout: float = 120) -> str:
    """Block until the device logs a line with ``tag`` (a blocking ``adb logcat``, no polling)."""
    proc = subprocess.Popen(
        [server.binary, "-P", str(server.port), "-s", serial, "logcat", "-v", "brief", "-s", f"{tag}:*"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=server.env,
    )
    timer = threading.Timer(timeout, proc.kill)  # a guard against a hang, not a wait
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if tag in line:
                return line
        raise AssertionError(f"logcat ended before {tag}")
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def keep_talking(server: AdbServer, serial: str, every: float = 10.0) -> Iterator[None]:
    """The device logs a line every ``every`` s while the block runs.

    A scenario that "hangs" on ``shell: [logcat]`` hangs only while logcat has something to
    say now and then: bgtest's shell read gives up after 60 s of silence. On a loaded machine
    two xdist workers can reach their hanging steps more than that apart; without this the
    first one's step ends on its own, and its worker rightly starts its next scenario before
    the test has sent its signal.
    """
    stop = threading.Event()

    def talk() -> None:
        while not stop.wait(every):
            adb = [server.binary, "-P", str(server.port), "-s", serial]
            subprocess.run(
                [*adb, "shell", "log", "-t", "KEEPALIVE", "tick"],
                capture_output=True,
                env=server.env,
                timeout=60,
                check=False,
            )

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class SignalAtCommand:
    """A TCP relay between bgtest and the adb server that sends ``sig`` to bgtest just before
    it forwards bgtest's ``at``-th shell command (0: never) — a signal at an exact point of
    the run, restore included. It also records every shell command it relays.
    """

    def __init__(
        self, server: AdbServer, at: int = 0, sig: int = 0, before: Callable[[int], None] | None = None
    ) -> None:
        self.server, self.at, self.sig, self.before = server, at, sig, before
        self.pid = 0
        self.commands: list[str] = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.server.host, self.server.port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _seen(self, service: str) -> None:
        if not service.startswith("shell") or service.endswith(":logcat") or " logcat " in service:
            return  # the journal's stream runs in a thread: counting it would make points move
        with self._lock:
            self.commands.append(service.split(":", 1)[1])
            n = len(self.commands)
        if n == self.at and self.pid:
            os.kill(self.pid, self.sig)
        if self.before is not None:
            self.before(n)  # e.g. drop the device's connection before this command reaches it

    def _pump(self, src: socket.socket, dst: socket.socket, requests: bool) -> None:
        buf = b""
        parsing = requests
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if parsing:
                    buf += data
                    while len(buf) >= 4:
                        length = int(buf[:4], 16)
                        if len(buf) < 4 + length:
                            break
                        service = buf[4 : 4 + length].decode("utf-8", "replace")
                        buf = buf[4 + length :]
                        self._seen(service)
                        if not service.startswith("host:transport"):
                            parsing = False  # the rest is the service's own stream
                            break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
