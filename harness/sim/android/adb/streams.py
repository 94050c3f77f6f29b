"""One adb stream as a service sees it: an inbox of what the host wrote, and flow-controlled writes.

A service (``services.py``, ``syncsvc.py``) only ever holds an :class:`AdbStream`; the
connection underneath is a :class:`Link`, so the services do not depend on the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from ..procio import InputSource
from .packets import A_CLSE, A_OKAY, A_WRTE

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice


class Link(Protocol):
    """The connection a stream lives on (``adbd.AdbConnection``)."""

    @property
    def device(self) -> VirtualAndroidDevice: ...

    @property
    def max_payload(self) -> int: ...

    async def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None: ...

    def send_nowait(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None: ...

    def forget(self, stream: AdbStream) -> None: ...

    def abort(self) -> None: ...


#: Host data a stream holds unread before it stops acknowledging: the host sends one WRTE
#: and waits for our OKAY, so a command that does not read its stdin holds this much, not
#: everything the host has (adbd acks only after writing into the subprocess's pipe).
INBOX_HIGH_WATER = 256 * 1024


class StreamClosed(BrokenPipeError):
    """The host closed the stream (or the connection went) while the device was writing."""


class AdbStream:
    """One OPENed service on one connection, seen from the device.

    ``inbox`` holds what the host WRTE'd (end of file when the host closes the stream);
    ``write`` sends data honouring the one-WRTE-in-flight rule.
    """

    def __init__(self, conn: Link, local_id: int, remote_id: int, service: str) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self.inbox = InputSource(eof=False)
        self.inbox.on_read = self._on_inbox_read
        self._owe_okay = False
        self.closed = False
        # An OPEN counts as a READY: the first WRTE may follow our OKAY at once.
        self._window = asyncio.Event()
        self._window.set()
        self.task: asyncio.Task[None] | None = None

    @property
    def device(self) -> VirtualAndroidDevice:
        return self.conn.device

    @property
    def max_payload(self) -> int:
        return self.conn.max_payload

    async def write(self, data: bytes) -> None:
        """Send ``data`` in WRTEs of at most the negotiated payload, each after the host's OKAY."""
        view = memoryview(data)
        step = self.conn.max_payload
        for start in range(0, len(view), step):
            while not self._window.is_set():
                if self.closed:
                    raise StreamClosed("stream closed by the host")
                await self._window.wait()
            if self.closed:
                raise StreamClosed("stream closed by the host")
            self._window.clear()
            await self.conn.send(A_WRTE, self.local_id, self.remote_id, bytes(view[start:start + step]))

    def close(self) -> None:
        """Close from the device side (service finished): CLSE once, forget the stream."""
        if self.closed:
            return
        self.closed = True
        self._window.set()
        self.inbox.feed_eof()
        self.conn.forget(self)
        self.conn.send_nowait(A_CLSE, self.local_id, self.remote_id)

    # ----------------------------------------------------------- from the host
    def _on_okay(self) -> None:
        self._window.set()

    def _on_data(self, data: bytes) -> None:
        if self._owe_okay:
            # A WRTE while we still owe the OKAY for the last one: a peer that ignores flow
            # control loses its connection (the adb server never does this).
            self.conn.abort()
            return
        self.inbox.feed(data)
        if self.inbox.buffered <= INBOX_HIGH_WATER:
            self.conn.send_nowait(A_OKAY, self.local_id, self.remote_id)
        else:
            self._owe_okay = True

    def _on_inbox_read(self) -> None:
        if self._owe_okay and not self.closed and self.inbox.buffered <= INBOX_HIGH_WATER:
            self._owe_okay = False
            self.conn.send_nowait(A_OKAY, self.local_id, self.remote_id)

    def _on_host_close(self, answer: bool = False) -> None:
        """The host said CLSE (``answer``: reply with our own) or the connection went: stop the service.

        adbd answers a CLSE with a CLSE (adb.cpp A_CLSE → local_socket_close →
        remote_socket_shutdown sends A_CLSE): clients that speak the protocol directly wait
        for it before they count the stream as gone. The adb server ignores it.

        A service that still has unread input (``adb exec-in 'cat > f' < file`` closes right
        after writing) first gets to read it to its end of file, as a process keeps its stdin
        pipe's data after adbd closes the socket; its next write then fails.
        """
        if self.closed:
            return
        self.closed = True
        self._window.set()
        self.inbox.feed_eof()
        self.conn.forget(self)
        if answer:
            self.conn.send_nowait(A_CLSE, self.local_id, self.remote_id)
        if self.inbox.at_eof:
            self.cancel()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done() and self.task is not asyncio.current_task():
            self.task.cancel()


#: A service: runs with its stream; the stream is closed (CLSE) when it returns.
ServiceFn = Callable[[AdbStream], Awaitable[None]]
#: Resolves an OPEN's service string to a service, or None to refuse it with CLSE(0, id).
ServiceResolver = Callable[[str], "ServiceFn | None"]


