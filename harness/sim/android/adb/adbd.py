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
import time
from typing import TYPE_CHECKING

from ..os.fs import FsError
from . import auth
from .packets import (
    A_AUTH,
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_VERSION,
    A_VERSION_SKIP_CHECKSUM,
    A_WRTE,
    MAX_PAYLOAD,
    MAX_PAYLOAD_V1,
    Packet,
    PacketReader,
    ProtocolError,
    pack,
)
from .reverse import ReverseRules, reverse_service
from .services import resolve_service
from .streams import AdbStream, ServiceFn, ServiceResolver, StreamClosed

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

log = logging.getLogger(__name__)

#: What a current adbd lists (transport.cpp supported_features), less what is not served
#: here: track_app (a protobuf app tracker), devraw (dev-raw:), app_info, delayed_ack (only
#: with ADB_BURST_MODE) and the compressed sendrecv_v2 variants (brotli, lz4, zstd). A listed
#: feature moves the host onto its code path — each of these is implemented: shell_v2,
#: cmd and abb_exec (streamed install), stat_v2/ls_v2 (STA2/LST2/LIS2), sendrecv_v2 (+dry
#: run), fixed_push_mkdir, remount_shell (the ``remount`` command), apex,
#: fixed_push_symlink_timestamp (no symlinks to push here), abb.
FEATURES = (
    "shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir", "apex", "abb",
    "fixed_push_symlink_timestamp", "abb_exec", "remount_shell", "sendrecv_v2",
    "sendrecv_v2_dry_run_send",
)

#: Wall seconds a new connection has to send its CNXN before it is dropped.
HANDSHAKE_TIMEOUT_S = 10.0
#: TCP keepalive: probe a silent peer after this long, this often, this many times.
KEEPALIVE_IDLE_S = 60
KEEPALIVE_INTERVAL_S = 10
KEEPALIVE_PROBES = 3

#: How long after acknowledging a reboot the TCP connections drop (a phone takes a moment).
REBOOT_DROP_S = 0.1
#: With nobody redialling (no adb server), a reboot completes this long after power-on.
UNATTENDED_BOOT_S = 1.0
#: Device time between power_off and power_on in a reboot (manual clock only).
SHUTDOWN_DEVICE_MS = 3_000



class AdbConnection(asyncio.Protocol):
    """One TCP connection = one adb transport, with its own negotiated version and payload."""

    def __init__(self, daemon: AdbDaemon) -> None:
        self.daemon = daemon
        # Before the handshake only CNXN/AUTH may come, and they fit MAX_PAYLOAD_V1: a peer
        # that has not said CNXN can make us hold 4 KiB, not 1 MiB.
        self.reader = PacketReader(MAX_PAYLOAD_V1)
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
        #: Dropped when no CNXN arrives in time (a port scanner, a stuck or hostile peer).
        self._handshake_timer: asyncio.TimerHandle | None = None
        #: The AUTH token we sent last (``ro.adb.secure=1``), and whether a key passed.
        self.auth_token: bytes | None = None
        self.authorized = False
        #: ``adb reverse`` rules of this transport (gone with it, as on a phone).
        self.reverse = ReverseRules()
        #: Streams the device opened towards the host, waiting for the host's OKAY.
        self._opening: dict[int, asyncio.Future[bool]] = {}

    @property
    def device(self) -> VirtualAndroidDevice:
        return self.daemon.device

    # ------------------------------------------------------------ asyncio hooks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # A peer that vanished without a FIN (half-open) is found by TCP keepalive; an
                # adb server that is merely idle stays connected, as it does to a phone.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_S)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_S)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)
        self.daemon.connections.add(self)
        timeout = self.daemon.handshake_timeout_s
        if timeout is not None:
            self._handshake_timer = asyncio.get_running_loop().call_later(timeout, self._handshake_expired)

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        if not self.lost and not self.host_banner:
            log.info("adbd %s: no CNXN within %ss, dropping the connection",
                     self.daemon.device.serial, self.daemon.handshake_timeout_s)
            self.abort()

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
        for opening in self._opening.values():
            if not opening.done():
                opening.set_result(False)
        self._opening.clear()
        for timer in (self._cnxn_handle, self._handshake_timer):
            if timer is not None:
                timer.cancel()
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
            opening = self._opening.pop(p.arg1, None)
            if stream is not None and opening is not None and p.arg0 != 0:
                stream.remote_id = p.arg0  # the host accepted our OPEN: its id for the stream
                opening.set_result(True)
            elif stream is not None and stream.remote_id == p.arg0 and not p.data:
                stream._on_okay()
        elif command == A_OPEN:
            self._on_open(p)
        elif command == A_CLSE:
            stream = self.streams.get(p.arg1)
            opening = self._opening.pop(p.arg1, None)
            if stream is not None and opening is not None:
                self.forget(stream)  # the host could not connect: the OPEN failed
                stream.closed = True
                opening.set_result(False)
            elif stream is not None and (p.arg0 == 0 or stream.remote_id == p.arg0):
                stream._on_host_close(answer=True)
        elif command == A_CNXN:
            self._on_cnxn(p)
        elif command == A_AUTH:
            self._on_auth(p)
        else:
            # STLS (we never offered), anything else: ignored as adbd does.
            log.debug("adbd %s: ignoring %s", self.daemon.device.serial, p.name)

    def _on_cnxn(self, p: Packet) -> None:
        # A second CNXN on the same connection is a fresh start: every stream goes.
        for stream in list(self.streams.values()):
            stream._on_host_close()
        self.online = False
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        self.version = min(p.arg0, A_VERSION)
        self.max_payload = max(MAX_PAYLOAD_V1, min(p.arg1, MAX_PAYLOAD))
        self.reader.max_payload = self.max_payload
        # A peer on the original protocol version checksums its payloads and expects them
        # checked. The CNXN itself is not checked: the adb server's reconnection CNXN carries
        # 0 although the new transport has not negotiated yet (research/adb_protocol.md §1).
        self.reader.verify_checksum = self.version < A_VERSION_SKIP_CHECKSUM
        self.host_banner = p.data.rstrip(b"\0").decode("utf-8", "replace") or "host::"
        self.daemon.answer_cnxn(self)

    def send_cnxn(self) -> None:
        """Our banner; from now on the host may OPEN streams. A secure device first asks for a key."""
        self._cnxn_handle = None
        if self.lost:
            return
        if self.daemon.secure and not self.authorized:
            self._send_token()
            return
        self.online = True
        self.send_nowait(A_CNXN, A_VERSION, self.max_payload, self.daemon.banner())

    def _send_token(self) -> None:
        self.auth_token = auth.new_token()
        self.send_nowait(A_AUTH, auth.AUTH_TOKEN, 0, self.auth_token)

    def _on_auth(self, p: Packet) -> None:
        """The host's signature or public key (adb.cpp handle_packet A_AUTH on the daemon)."""
        if self.auth_token is None or self.online:
            return  # nothing asked: ignored
        if p.arg0 == auth.AUTH_SIGNATURE:
            token, self.auth_token = self.auth_token, None
            if any(auth.verify(key, token, p.data) for key in self.daemon.allowed_keys()):
                self.authorized = True
                self.send_cnxn()
            else:
                self._send_token()  # the host tries its next key, then sends its public key
        elif p.arg0 == auth.AUTH_RSAPUBLICKEY:
            line = p.data.rstrip(b"\0").decode("ascii", "replace")
            if auth.parse_public_key(line) is not None and self.daemon.allow_new_keys:
                # The virtual user taps "Always allow from this computer".
                self.daemon.allow_key(line)
                self.authorized = True
                self.send_cnxn()
            # else: the dialog stays unanswered; the host lists the device "unauthorized".

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
            if name.startswith("reverse:"):  # per transport: the rules live on this connection
                service = reverse_service(self.reverse, name[len("reverse:"):])
            else:
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

    async def open_to_host(self, host_spec: str) -> AdbStream | None:
        """A device-initiated OPEN (``adb reverse``): the stream once the host accepts, else None.

        Only called for a spec configured by a ``reverse:forward`` on this transport.
        """
        if not self.online or self.lost:
            return None
        local_id = self._allocate_id()
        stream = AdbStream(self, local_id, 0, host_spec)
        self.streams[local_id] = stream
        accepted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._opening[local_id] = accepted
        self.send_nowait(A_OPEN, local_id, 0, host_spec.encode() + b"\0")
        if not await accepted:
            return None
        return stream

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
        handshake_timeout_s: float | None = HANDSHAKE_TIMEOUT_S,
        allow_new_keys: bool = True,
    ) -> None:
        self.device = device
        self.host = host
        self.port = port
        self.handshake_timeout_s = handshake_timeout_s
        #: With ``ro.adb.secure=1``: whether a key not yet in adb_keys is allowed when offered
        #: (the user taps "Allow"), or the device stays unauthorized to it (``False``).
        self.allow_new_keys = allow_new_keys
        if resolver is None:

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
        self.device.reverse_connect = self.connect_reverse
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
        if self.device.reverse_connect == self.connect_reverse:
            self.device.reverse_connect = None
        await asyncio.sleep(0)

    async def connect_reverse(self, port: int) -> AdbStream | None:
        """A device-side connection to ``127.0.0.1:port``: through a transport whose ``adb
        reverse`` covers that port to the host, or None (connection refused)."""
        for conn in list(self.connections):
            spec = conn.reverse.host_spec(port) if conn.online else None
            if spec is not None:
                return await conn.open_to_host(spec)
        return None

    # -------------------------------------------------------------------- auth
    @property
    def secure(self) -> bool:
        """A user build with ``ro.adb.secure=1`` authenticates every adb host."""
        return self.device.props.get("ro.adb.secure") == "1"

    def allowed_keys(self) -> list[tuple[int, int]]:
        try:
            text = self.device.fs.read(auth.ADB_KEYS).decode("ascii", "replace")
        except FsError:
            return []
        parsed = (auth.parse_public_key(line) for line in text.splitlines() if line.strip())
        return [key for key in parsed if key is not None]

    def allow_key(self, line: str) -> None:
        """Remember a host key in adb_keys (``adb_auth_confirm_key`` after "Allow")."""
        self.device.fs.mkdir("/data/misc/adb", parents=True)
        self.device.fs.write(auth.ADB_KEYS, (line.strip() + "\n").encode(), mode=0o640, append=True)

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

        The stream that asked stays open (reboot never returns); ~100 ms later every connection
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
