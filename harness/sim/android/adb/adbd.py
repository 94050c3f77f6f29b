"""The device side of the ADB transport: what the real ``adb`` server reaches over TCP.

One :class:`AdbDaemon` serves one :class:`~.device.VirtualAndroidDevice` on a loopback port.
Each TCP connection is an independent transport (the adb server may hold several: ``adb
connect`` plus a redial after a drop). The wire format, the handshake and the flow-control
rules are in ``research/adb_protocol.md``; the points that matter here:

- the host speaks first (CNXN); we answer CNXN without AUTH (``ro.adb.secure=0``), with
  ``min(version)`` and ``min(max payload)``, and never send a device-initiated OPEN (the
  server aborts on one unless a reverse forward exists, which we do not offer);
- packets are parsed as a byte stream: TCP splits and coalesces them arbitrarily;
- one WRTE in flight per stream until the host's OKAY (the host acks only after the bytes
  reached its client, which is the backpressure for an unread logcat);
- bad magic or an oversized payload drops that connection only, as adbd does; unknown
  commands and packets for unknown streams are ignored, as adbd does.

Services (what an OPEN names) live in ``services.py``; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..procio import InputSource

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

log = logging.getLogger(__name__)


def _cmd(name: bytes) -> int:
    return int.from_bytes(name, "little")


A_CNXN = _cmd(b"CNXN")
A_AUTH = _cmd(b"AUTH")
A_OPEN = _cmd(b"OPEN")
A_OKAY = _cmd(b"OKAY")
A_CLSE = _cmd(b"CLSE")
A_WRTE = _cmd(b"WRTE")
A_STLS = _cmd(b"STLS")

COMMAND_NAMES = {A_CNXN: "CNXN", A_AUTH: "AUTH", A_OPEN: "OPEN", A_OKAY: "OKAY", A_CLSE: "CLSE",
                 A_WRTE: "WRTE", A_STLS: "STLS"}

A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001
A_VERSION = A_VERSION_SKIP_CHECKSUM
#: What current adbd accepts per packet (1 MiB); the host's CNXN may ask for less.
MAX_PAYLOAD = 1 << 20
#: CNXN/AUTH must fit this before anything is negotiated.
MAX_PAYLOAD_V1 = 4096
#: Only what is implemented: a listed feature switches the host onto code paths we must serve.
FEATURES = ("shell_v2", "fixed_push_mkdir")

HEADER = struct.Struct("<6I")
HEADER_SIZE = HEADER.size

#: How long after acknowledging a reboot the TCP connections drop (a phone takes a moment).
REBOOT_DROP_S = 0.1
#: With nobody redialling (no adb server), a reboot completes this long after power-on.
UNATTENDED_BOOT_S = 1.0
#: Device time between power_off and power_on in a reboot (manual clock only).
SHUTDOWN_DEVICE_MS = 3_000


class ProtocolError(Exception):
    """The peer broke the framing; the whole connection goes (as adbd drops the transport)."""


@dataclass(slots=True)
class Packet:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return COMMAND_NAMES.get(self.command, f"{self.command:08x}")


def checksum(data: bytes) -> int:
    """The legacy ``data_check``: the unsigned 32-bit sum of the payload bytes (not a CRC)."""
    return sum(data) & 0xFFFFFFFF


def pack(command: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    """One packet on the wire. The checksum is always written (harmless) and never checked."""
    return HEADER.pack(command, arg0, arg1, len(data), checksum(data) if data else 0,
                       command ^ 0xFFFFFFFF) + data


class PacketReader:
    """Stream parser: feed it whatever TCP delivered, get back the whole packets it completes."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self._buf = bytearray()
        self.max_payload = max_payload

    def feed(self, data: bytes) -> list[Packet]:
        buf = self._buf
        buf += data
        out: list[Packet] = []
        while len(buf) >= HEADER_SIZE:
            command, arg0, arg1, length, _check, magic = HEADER.unpack_from(buf)
            if magic != command ^ 0xFFFFFFFF:
                raise ProtocolError(f"bad magic {magic:08x} for command {command:08x}")
            if length > self.max_payload:
                raise ProtocolError(f"payload of {length} bytes exceeds the maximum {self.max_payload}")
            end = HEADER_SIZE + length
            if len(buf) < end:
                break
            out.append(Packet(command, arg0, arg1, bytes(buf[HEADER_SIZE:end])))
            del buf[:end]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)


class StreamClosed(BrokenPipeError):
    """The host closed the stream (or the connection went) while the device was writing."""


class AdbStream:
    """One OPENed service on one connection, seen from the device.

    ``inbox`` holds what the host WRTE'd (end of file when the host closes the stream);
    ``write`` sends data honouring the one-WRTE-in-flight rule.
    """

    def __init__(self, conn: AdbConnection, local_id: int, remote_id: int, service: str) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self.inbox = InputSource(eof=False)
        self.closed = False
        # An OPEN counts as a READY: the first WRTE may follow our OKAY at once.
        self._window = asyncio.Event()
        self._window.set()
        self.task: asyncio.Task[None] | None = None

    @property
    def device(self) -> VirtualAndroidDevice:
        return self.conn.daemon.device

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
        self.inbox.feed(data)
        self.conn.send_nowait(A_OKAY, self.local_id, self.remote_id)

    def _on_host_close(self) -> None:
        """The host said CLSE (or the connection went): stop the service, send nothing back.

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
        if self.inbox.at_eof:
            self.cancel()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done() and self.task is not asyncio.current_task():
            self.task.cancel()


#: A service: runs with its stream; the stream is closed (CLSE) when it returns.
ServiceFn = Callable[[AdbStream], Awaitable[None]]
#: Resolves an OPEN's service string to a service, or None to refuse it with CLSE(0, id).
ServiceResolver = Callable[[str], "ServiceFn | None"]


class AdbConnection(asyncio.Protocol):
    """One TCP connection = one adb transport, with its own negotiated version and payload."""

    def __init__(self, daemon: AdbDaemon) -> None:
        self.daemon = daemon
        self.reader = PacketReader(MAX_PAYLOAD)
        self.transport: asyncio.Transport | None = None
        self.version = A_VERSION
        self.max_payload = MAX_PAYLOAD
        self.online = False
        self.host_banner = ""
        self.streams: dict[int, AdbStream] = {}
        self._next_id = 1
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._cnxn_handle: asyncio.TimerHandle | None = None
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self.lost = False

    # ------------------------------------------------------------ asyncio hooks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.daemon.connections.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            packets = self.reader.feed(data)
        except ProtocolError as exc:
            log.info("adbd %s: dropping connection: %s", self.daemon.device.serial, exc)
            self.abort()
            return
        for packet in packets:
            if self.lost:
                return
            self.handle(packet)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.online = False
        if self._cnxn_handle is not None:
            self._cnxn_handle.cancel()
        self.daemon.connections.discard(self)
        self.daemon.held.discard(self)
        for stream in list(self.streams.values()):
            stream._on_host_close()
            stream.cancel()  # the link is gone: nothing may linger on it
        self._can_write.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # ----------------------------------------------------------------- sending
    def send_nowait(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        """Queue a packet; everything queued in one loop turn leaves in one TCP segment.

        A quick command's OKAY, WRTE and CLSE then reach the adb server together: one wakeup
        there instead of three (TCP_NODELAY would otherwise send each on its own).
        """
        if self.transport is None or self.lost:
            return
        self._out.append(pack(command, arg0, arg1, data))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self.transport is not None and not self.lost:
            out, self._out = self._out, []
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    async def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        """Send, then wait while the socket buffer is full (TCP backpressure)."""
        self.send_nowait(command, arg0, arg1, data)
        if len(data) >= 65536:
            self._flush()  # big payloads go now: nothing to gain by waiting for company
        if not self._can_write.is_set():
            await self._can_write.wait()

    def abort(self) -> None:
        """Drop the TCP connection at once (the host sees the transport go offline)."""
        if self.transport is not None:
            self.transport.abort()

    def forget(self, stream: AdbStream) -> None:
        if self.streams.get(stream.local_id) is stream:
            del self.streams[stream.local_id]

    # ---------------------------------------------------------------- handling
    def handle(self, p: Packet) -> None:
        command = p.command
        if command == A_WRTE:
            stream = self.streams.get(p.arg1)
            if stream is not None and stream.remote_id == p.arg0 and self.online:
                stream._on_data(p.data)
        elif command == A_OKAY:
            stream = self.streams.get(p.arg1)
            if stream is not None and stream.remote_id == p.arg0 and not p.data:
                stream._on_okay()
        elif command == A_OPEN:
            self._on_open(p)
        elif command == A_CLSE:
            stream = self.streams.get(p.arg1)
            if stream is not None and (p.arg0 == 0 or stream.remote_id == p.arg0):
                stream._on_host_close()
        elif command == A_CNXN:
            self._on_cnxn(p)
        else:
            # AUTH (we never asked), STLS (we never offered), anything else: ignored as adbd does.
            log.debug("adbd %s: ignoring %s", self.daemon.device.serial, p.name)

    def _on_cnxn(self, p: Packet) -> None:
        # A second CNXN on the same connection is a fresh start: every stream goes.
        for stream in list(self.streams.values()):
            stream._on_host_close()
        self.online = False
        self.version = min(p.arg0, A_VERSION)
        self.max_payload = max(MAX_PAYLOAD_V1, min(p.arg1, MAX_PAYLOAD))
        self.reader.max_payload = self.max_payload
        self.host_banner = p.data.rstrip(b"\0").decode("utf-8", "replace")
        self.daemon.answer_cnxn(self)

    def send_cnxn(self) -> None:
        """Our banner; from now on the host may OPEN streams."""
        self._cnxn_handle = None
        if self.lost:
            return
        self.online = True
        self.send_nowait(A_CNXN, A_VERSION, self.max_payload, self.daemon.banner())

    def _on_open(self, p: Packet) -> None:
        host_id = p.arg0
        if not self.online or host_id == 0:
            return
        if p.arg1 != 0:
            # A delayed-ack window we never negotiated: adbd refuses the stream.
            self.send_nowait(A_CLSE, 0, host_id)
            return
        name = p.data.rstrip(b"\0").decode("utf-8", "replace")
        try:
            service = self.daemon.resolve(name)
        except Exception:  # a bug in a resolver must not take the transport down
            log.exception("adbd %s: resolving %r failed", self.daemon.device.serial, name)
            service = None
        if service is None:
            self.send_nowait(A_CLSE, 0, host_id)
            return
        local_id = self._allocate_id()
        stream = AdbStream(self, local_id, host_id, name)
        self.streams[local_id] = stream
        # The task is scheduled before the OKAY's flush: a quick service's reply and CLSE
        # join the OKAY in the same segment (the OKAY is queued first, so it leaves first).
        stream.task = asyncio.get_running_loop().create_task(self._run(stream, service))
        self.send_nowait(A_OKAY, local_id, host_id)

    def _allocate_id(self) -> int:
        while True:
            local_id = self._next_id
            self._next_id = self._next_id + 1 if self._next_id < 0x7FFFFFFF else 1
            if local_id not in self.streams:
                return local_id

    async def _run(self, stream: AdbStream, service: ServiceFn) -> None:
        try:
            await service(stream)
        except (asyncio.CancelledError, StreamClosed, BrokenPipeError, ConnectionError):
            pass
        except Exception:
            log.exception("adbd %s: service %r failed", self.daemon.device.serial, stream.service)
        finally:
            stream.close()


class AdbDaemon:
    """Serves one device on ``host:port`` (port 0 picks a free one; see ``launcher.py``)."""

    def __init__(
        self,
        device: VirtualAndroidDevice,
        host: str = "127.0.0.1",
        port: int = 0,
        resolver: ServiceResolver | None = None,
    ) -> None:
        self.device = device
        self.host = host
        self.port = port
        if resolver is None:
            from .services import resolve_service

            def resolver(name: str) -> ServiceFn | None:
                return resolve_service(self, name)

        self.resolve: ServiceResolver = resolver
        self.connections: set[AdbConnection] = set()
        #: Connections whose CNXN reply waits for the end of a boot.
        self.held: set[AdbConnection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rebooting = False
        self._powered_on = False
        self._boot_timer: asyncio.TimerHandle | None = None
        self._unattended: asyncio.TimerHandle | None = None
        self.reboots = 0
        self._power_on_at = 0.0
        #: Wall seconds from power-on to sys.boot_completed=1 in the last reboot (benchmarks).
        self.last_boot_wall_s = 0.0

    # --------------------------------------------------------------- lifecycle
    async def start(self) -> int:
        """Listen; returns the port. Registers the reboot hook on the device."""
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(
            lambda: AdbConnection(self), self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.device.reboot_hook = self.request_reboot
        return self.port

    async def stop(self) -> None:
        for timer in (self._boot_timer, self._unattended):
            if timer is not None:
                timer.cancel()
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        if self.device.reboot_hook == self.request_reboot:
            self.device.reboot_hook = None
        await asyncio.sleep(0)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def drop_connections(self) -> None:
        for conn in list(self.connections):
            conn.abort()

    def banner(self) -> bytes:
        """``device::<props>``: the host reads product name, model, device and features from it."""
        props = self.device.props
        fields = [
            f"ro.product.name={props.get('ro.product.name')}",
            f"ro.product.model={props.get('ro.product.model') or self.device.model}",
            f"ro.product.device={props.get('ro.product.device')}",
            "features=" + ",".join(FEATURES),
        ]
        return ("device::" + ";".join(fields)).encode()[:MAX_PAYLOAD_V1]

    # ----------------------------------------------------------------- booting
    @property
    def booting(self) -> bool:
        return self._rebooting

    def answer_cnxn(self, conn: AdbConnection) -> None:
        """Answer now, or, while the device boots, hold the answer (see ``request_reboot``)."""
        if not self._rebooting:
            conn.send_cnxn()
            return
        self.held.add(conn)
        if self._powered_on and self._boot_timer is None and self._loop is not None:
            # The first connection after power-on: adbd "comes up" BOOT_WALL_S from now.
            self._boot_timer = self._loop.call_later(self.device.BOOT_WALL_S, self._boot_done)

    def request_reboot(self, target: str = "") -> None:
        """The ``reboot`` command / ``reboot:`` service: drop, power-cycle, come back booted.

        The stream that asked gets its answer and closes; ~100 ms later every connection
        drops, the device powers off (device time jumps by the shutdown in manual mode) and on
        again. The adb server marks it offline and redials 250 ms later; the CNXN answer of
        that next connection is held ``device.BOOT_WALL_S`` (wall time), then the server
        sees ``device`` and ``sys.boot_completed`` becomes 1. With no adb server redialling,
        the boot completes on its own after :data:`UNATTENDED_BOOT_S`. ``target``
        (bootloader, recovery…) is a plain reboot: there is no fastboot or recovery here.
        """
        if self._rebooting or self._loop is None:
            return
        self._rebooting = True
        self._powered_on = False
        self.reboots += 1
        self._loop.call_later(REBOOT_DROP_S, self._power_cycle)

    def _power_cycle(self) -> None:
        device = self.device
        self.drop_connections()
        self.held.clear()
        device.power_off()
        if device.clock.mode == "manual":
            device.clock.advance(SHUTDOWN_DEVICE_MS)
        device.power_on()
        self._powered_on = True
        self._power_on_at = time.monotonic()
        assert self._loop is not None
        self._unattended = self._loop.call_later(UNATTENDED_BOOT_S, self._boot_done)

    def _boot_done(self) -> None:
        for timer in (self._boot_timer, self._unattended):
            if timer is not None:
                timer.cancel()
        self._boot_timer = self._unattended = None
        if not self._rebooting:
            return
        self._rebooting = False
        held, self.held = self.held, set()
        for conn in held:
            conn.send_cnxn()
        device = self.device
        if device.clock.mode == "manual":
            device.clock.advance(device.BOOT_DEVICE_MS)
        device.finish_boot()
        self.last_boot_wall_s = time.monotonic() - self._power_on_at

    def restart(self) -> None:
        """adbd restarting (``tcpip:``): connections drop, the device keeps running."""
        if self._loop is not None:
            self._loop.call_later(REBOOT_DROP_S, self.drop_connections)
