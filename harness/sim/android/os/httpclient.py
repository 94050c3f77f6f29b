"""An app's HTTP client on the virtual device, when the device has a global HTTP proxy.

On a phone, ``settings put global http_proxy 127.0.0.1:8080`` makes ConnectivityService hand
every app a default ProxyInfo (AOSP ``ConnectivityService.handleDeprecatedGlobalHttpProxy``
reads ``Settings.Global.HTTP_PROXY`` into ``ProxyTracker``), and
OkHttp / HttpURLConnection send their requests to it; ``adb reverse tcp:8080 tcp:8080`` carries
the device's loopback port to the developer's machine. The virtual device does the same for
real: a worker's request is written, in absolute form, on a device-side TCP connection to the
proxy's port, which adbd opens *through the adb server* only if a reverse rule covers it
(``AdbDaemon.connect_reverse``). Without such a rule the connection is refused; a proxy host
that is not loopback is unreachable (the virtual device has no other network).

Time: the request carries the device's clock (``virtual_time.DEVICE_TIME_HEADER``); the proxy
answers at once and says how much device time the exchange took, or that the answer never
comes. The client's timeout then decides, in device time. While the exchange is on the wire the
device's clock is held (``VirtualClock.hold``), so no later event runs before its answer.

HTTPS is written as an absolute ``https://`` URL to the proxy instead of a CONNECT tunnel with
TLS inside: the proxy answers it the same way (rules, records), and the virtual device carries
no TLS stack. A phone does CONNECT + TLS and must trust the proxy's CA (docs/network.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from harness.network.virtual_time import DELAY_HEADER, DEVICE_TIME_HEADER, parse_delay

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "ip6-localhost")
#: Wall seconds an exchange may take before the device calls it lost: the proxy answers a
#: stamped request at once, so this only bounds a broken tunnel, never a rule's latency.
_WALL_LIMIT_S = 30.0
_USER_AGENT = "okhttp/4.12.0"


class _Settings(Protocol):
    def get(self, ns: str, key: str) -> str | None: ...


class _Inbox(Protocol):
    async def read(self) -> bytes: ...


class Socket(Protocol):
    """A device-side TCP connection (``device.Socket``, seen from the OS layer)."""

    inbox: _Inbox

    async def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Answer:
    """What one call came back with: a status, or the exception a client throws instead."""

    status: int | None
    elapsed_ms: int  # device time the exchange took
    error: str = ""  # "timeout", "reset", "refused", "unreachable" when no status came back

    @property
    def message(self) -> str:
        """The text the worker logs, as an OkHttp-based worker reports it."""
        if self.status is not None:
            return f"HTTP {self.status}"
        return _EXCEPTIONS.get(self.error, self.error)


_EXCEPTIONS = {
    "timeout": "java.net.SocketTimeoutException: timeout",
    "reset": "java.net.SocketException: Connection reset",
    "refused": "java.net.ConnectException: Failed to connect to the proxy (connection refused)",
    "unreachable": "java.net.ConnectException: Network is unreachable",
}


def proxy_address(value: str | None) -> tuple[str, int] | None:
    """``host:port`` of ``settings global http_proxy``; None when unset or cleared (``:0``)."""
    if not value or value == "null":
        return None
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) == 0:
        return None
    return host, int(port)


class HttpClient:
    """The device's proxy route for apps' HTTP calls (see the module docstring)."""

    def __init__(self, settings: _Settings,
                 connect: Callable[[int], Awaitable[Socket | None]] | None) -> None:
        self.settings = settings
        self.connect = connect

    def proxy(self) -> tuple[str, int] | None:
        return proxy_address(self.settings.get("global", "http_proxy"))

    async def call(self, method: str, url: str, now_ms: int, timeout_ms: int, body: bytes = b"") -> Answer:
        """One request through the proxy; the answer, or the error a client would throw."""
        address = self.proxy()
        if address is None:
            raise RuntimeError("no proxy set")  # the caller asks proxy() first
        host, port = address
        if host not in _LOOPBACK:
            return Answer(None, 0, "unreachable")
        sock = await self.connect(port) if self.connect is not None else None
        if sock is None:
            return Answer(None, 0, "refused")
        try:
            reply = await asyncio.wait_for(self._exchange(sock, method, url, now_ms, body), _WALL_LIMIT_S)
        except (TimeoutError, asyncio.TimeoutError):
            return Answer(None, timeout_ms, "timeout")
        finally:
            sock.close()
        if reply is None:
            return Answer(None, 0, "reset")
        status, delay = reply
        if delay is None or delay > timeout_ms:
            return Answer(None, timeout_ms, "timeout")
        return Answer(status, delay)

    @staticmethod
    async def _exchange(sock: Socket, method: str, url: str, now_ms: int,
                        body: bytes) -> tuple[int, int | None] | None:
        """Write the request, read to EOF; (status, device ms or None: never) or None: reset."""
        host = urlsplit(url).netloc.rsplit("@", 1)[-1]
        head = [f"{method} {url} HTTP/1.1", f"Host: {host}", f"User-Agent: {_USER_AGENT}",
                f"{DEVICE_TIME_HEADER}: {now_ms}", f"Content-Length: {len(body)}", "Connection: close"]
        await sock.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = bytearray()
        while chunk := await sock.inbox.read():
            data += chunk
            if b"\r\n\r\n" in data:
                break  # the head is all the device needs; the body's size was charged by the proxy
        head_text, sep, _ = bytes(data).partition(b"\r\n\r\n")
        lines = head_text.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if not sep or len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            return None
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(parts[1]), parse_delay(headers.get(DELAY_HEADER.lower()))
