"""A lean client of the adb server's host protocol, for the commands bgtest sends all the time.

Why not adbutils for these: adbutils opens a connection per call (fine) but sleeps 10 ms in
every ``close()`` and has no exit codes on ``shell()``. bgtest sends hundreds of short
commands per scenario, so this module does exactly one thing better: one connection per
command, shell protocol v2 (separate stdout/stderr and a real exit status), no sleeps.
Everything else (sync, install, device listing) stays with adbutils.

It speaks the same protocol to a phone as to a virtual device: a request is four hex
digits of length plus the service string; the server answers ``OKAY`` or ``FAIL`` + hex4 +
message.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_V2_STDIN, _V2_STDOUT, _V2_STDERR, _V2_EXIT, _V2_CLOSE_STDIN = 0, 1, 2, 3, 4


class AdbWireError(RuntimeError):
    """The adb server refused a request (``FAIL``) or the connection broke."""


@dataclass(frozen=True)
class ShellResult:
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


#: Linux only (``tcp(7)``); elsewhere delayed ACKs stay as the system has them
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class _Conn:
    def __init__(self, host: str, port: int, timeout: float | None) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise AdbWireError(f"cannot reach the adb server at {host}:{port}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def request(self, service: str) -> None:
        data = service.encode()
        self.sock.sendall(b"%04x" % len(data) + data)
        self.status()

    def status(self) -> None:
        """``OKAY``, or ``FAIL`` + hex4 + message raised as an error."""
        status = self.read_exact(4)
        if status == b"OKAY":
            return
        if status == b"FAIL":
            length = int(self.read_exact(4), 16)
            raise AdbWireError(self.read_exact(length).decode("utf-8", "replace"))
        raise AdbWireError(f"unexpected reply from the adb server: {status!r}")

    def fill(self) -> bool:
        chunk = self.sock.recv(262144)
        if not chunk:
            return False
        if _QUICKACK is not None:
            # ACK what came at once. The adb server writes to its clients without TCP_NODELAY:
            # a second small write (a logcat stream's next lines) waits for the ACK of the first,
            # which Linux delays up to 40 ms — every scenario's first barrier waited that long
            # (43 ms, then 0.4 ms). The flag does not stick: Linux clears it, so each read sets it.
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self.buf += chunk
        return True

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise AdbWireError("the adb server closed the connection")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data


#: What the adb server answers while a device is briefly gone (a USB hiccup, adbd restarting,
#: a TCP device being redialled): the request never reached the device, so it can be retried.
_GONE = ("offline", "not found", "connecting", "closed")


class AdbWire:
    """Shell commands on one device through an adb server, one short connection each.

    A device that drops off for a moment is waited for (Mobly retries adb commands the same
    way): a request the server refuses with "device offline" / "not found" — or a connection
    it closes before it accepted the service — never reached the device, so it is sent again
    once ``get-state`` says ``device``. Only a device gone longer than ``reconnect_timeout``
    is an error, and it names the device and how long it was waited for.
    """

    #: seconds a device may be gone before a command fails
    reconnect_timeout = 30.0

    def __init__(
        self,
        serial: str,
        host: str = "127.0.0.1",
        port: int = 5037,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.serial = serial
        self.host = host
        self.port = port
        self.on_request = on_request  # counts round trips (the driver's RoundTrips)
        #: set once a device was waited for in vain: later commands (the restore's) fail at once
        self._given_up = False

    def state(self, timeout: float = 5.0) -> str:
        """The server's view of the device: ``device``, ``offline``, ``unauthorized`` or ``missing``."""
        if self.on_request is not None:
            self.on_request()
        conn = _Conn(self.host, self.port, timeout)
        try:
            conn.request(f"host-serial:{self.serial}:get-state")
            length = int(conn.read_exact(4), 16)
            return conn.read_exact(length).decode()
        except AdbWireError as exc:
            text = str(exc)
            if "not found" in text:
                return "missing"
            if "offline" in text:
                return "offline"
            if "unauthorized" in text:
                return "unauthorized"
            raise
        finally:
            conn.close()

    def wait_for(self, state: str, timeout: float) -> None:
        """Block until the server sees the device in ``state`` (``device``, ``disconnect``…):
        ``adb wait-for-…`` as one request instead of a polling loop."""
        if self.on_request is not None:
            self.on_request()
        conn = _Conn(self.host, self.port, timeout)
        try:
            conn.request(f"host-serial:{self.serial}:wait-for-any-{state}")
            status = conn.read_exact(4)  # the second OKAY comes when the state is reached
            if status != b"OKAY":
                raise AdbWireError(f"wait-for-{state}: unexpected reply {status!r}")
        except TimeoutError as exc:
            raise AdbWireError(f"wait-for-{state}: not within {timeout:.0f} s") from exc
        finally:
            conn.close()

    def _open(self, service: str, timeout: float | None) -> _Conn:
        if self.on_request is not None:
            self.on_request()
        deadline: float | None = None
        while True:
            conn = _Conn(self.host, self.port, timeout)
            try:
                conn.request(f"host:transport:{self.serial}")
                conn.request(service)
                self._given_up = False
                return conn
            except AdbWireError as exc:
                conn.close()
                if not any(word in str(exc) for word in _GONE):
                    raise
                if self._given_up:
                    raise AdbWireError(f"the device is still gone ({exc})") from exc
                deadline = deadline or time.monotonic() + self.reconnect_timeout
                self._wait_back(deadline, exc)
            except BaseException:
                conn.close()
                raise

    def _wait_back(self, deadline: float, why: AdbWireError) -> None:
        """Until the server sees the device again (then the caller retries), or the deadline."""
        delay = 0.01
        while time.monotonic() < deadline:
            try:
                if self.state() == "device":
                    return
            except AdbWireError:
                pass
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        self._given_up = True
        raise AdbWireError(f"the device was gone for more than {self.reconnect_timeout:.0f} s ({why})")

    def shell(self, command: str, stdin: bytes = b"", timeout: float | None = 60.0) -> ShellResult:
        """Run ``command`` with ``/system/bin/sh -c`` over shell v2; return exit code and output."""
        conn = self._open(f"shell,v2,raw:{command}", timeout)
        try:
            if stdin:
                conn.sock.sendall(struct.pack("<BI", _V2_STDIN, len(stdin)) + stdin)
            conn.sock.sendall(struct.pack("<BI", _V2_CLOSE_STDIN, 0))
            out, err = bytearray(), bytearray()
            while True:
                head = conn.read_exact(5)
                kind, length = head[0], struct.unpack("<I", head[1:])[0]
                payload = conn.read_exact(length)
                if kind == _V2_STDOUT:
                    out += payload
                elif kind == _V2_STDERR:
                    err += payload
                elif kind == _V2_EXIT:
                    return ShellResult(payload[0] if payload else 0, bytes(out), bytes(err))
        except TimeoutError as exc:
            raise AdbWireError(f"`{command}` gave no answer in {timeout} s") from exc
        except AdbWireError as exc:
            raise AdbWireError(f"`{command}`: {exc}") from exc
        finally:
            conn.close()

    def reverse(self, command: str, timeout: float = 10.0) -> None:
        """One ``adb reverse`` request on the device's transport (``forward:tcp:P;tcp:Q``,
        ``killforward:tcp:P``): the server accepts the service, then the device answers in the
        stream, ``OKAY`` or ``FAIL`` + message (adb commandline.cpp: ``adb_command`` reads two
        statuses; daemon services.cpp ``reverse_service``)."""
        conn = self._open(f"reverse:{command}", timeout)
        try:
            conn.status()
        except TimeoutError as exc:
            raise AdbWireError(f"reverse:{command}: no answer in {timeout} s") from exc
        finally:
            conn.close()

    def open_stream(
        self, command: str, on_stderr: Callable[[bytes], None] | None = None, timeout: float | None = None
    ) -> ShellStream:
        """Start a long-running command (``logcat``); read it with ``chunks()``, end it with ``close()``.

        Its stderr goes to ``on_stderr`` (shell v2 keeps the two apart): a command may say
        something to bgtest there without mixing it into the log it streams. ``timeout``:
        seconds a read may wait for data before it fails (``TimeoutError``); None, a logcat's
        case, waits as long as the command runs.
        """
        return ShellStream(self._open(f"shell,v2,raw:{command}", timeout), on_stderr)


class ShellStream:
    """A shell v2 stream whose stdout is read chunk by chunk; ``close()`` works from any thread."""

    def __init__(self, conn: _Conn, on_stderr: Callable[[bytes], None] | None = None) -> None:
        self._conn = conn
        self._closed = False
        self._on_stderr = on_stderr
        conn.sock.sendall(struct.pack("<BI", _V2_CLOSE_STDIN, 0))

    def chunks(self) -> Iterator[bytes]:
        """stdout bytes as they arrive, until the command exits or the link drops (then OSError)."""
        conn = self._conn
        try:
            while True:
                head = conn.read_exact(5)
                kind, length = head[0], struct.unpack("<I", head[1:])[0]
                payload = conn.read_exact(length)
                if kind == _V2_STDOUT and payload:
                    yield payload
                elif kind == _V2_STDERR and payload and self._on_stderr is not None:
                    self._on_stderr(payload)
                elif kind == _V2_EXIT:
                    return
        except AdbWireError as exc:
            if not self._closed:
                raise ConnectionError(str(exc)) from exc

    def close(self) -> None:
        self._closed = True
        try:
            self._conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._conn.close()
