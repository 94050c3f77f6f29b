"""The virtual adbd under attack (issue 11 item 10): bounded memory, checked input, timeouts.

Every hostile input here must cost its own connection at most: the device and every other
connection keep working.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.sim.android.adb.adbd import AdbDaemon
from harness.sim.android.adb.packets import (
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_VERSION,
    A_VERSION_MIN,
    A_WRTE,
    HEADER,
    HEADER_SIZE,
    MAX_PAYLOAD_V1,
    Packet,
    PacketReader,
    ProtocolError,
    checksum,
    pack,
)
from harness.sim.android.adb.streams import INBOX_HIGH_WATER, AdbStream
from harness.sim.android.device import VirtualAndroidDevice


class Host:
    """A raw peer on the wire; ``recv`` is None once the device dropped the connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = PacketReader()
        self.queue: list[Packet] = []

    @classmethod
    async def connect(cls, port: int) -> Host:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        self.writer.write(pack(command, arg0, arg1, data))

    async def recv(self, timeout: float = 10.0) -> Packet | None:
        while not self.queue:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), timeout)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.queue += self.parser.feed(data)
        return self.queue.pop(0)

    async def handshake(self, version: int = A_VERSION) -> None:
        self.send(A_CNXN, version, 1 << 20, b"host::features=shell_v2")
        reply = await self.recv()
        assert reply is not None and reply.command == A_CNXN

    async def run(self, host_id: int, service: str) -> bytes | None:
        """OPEN, read to CLSE acking each WRTE; None if the connection dropped."""
        self.send(A_OPEN, host_id, 0, service.encode() + b"\0")
        out = b""
        while (p := await self.recv()) is not None:
            if p.command == A_WRTE:
                out += p.data
                self.send(A_OKAY, host_id, p.arg0)
            elif p.command == A_CLSE:
                return out
        return None


async def _hold(stream: AdbStream) -> None:
    """A service that never reads its input (a command busy with something else)."""
    await asyncio.Event().wait()


def with_daemon(scenario: Callable[[AdbDaemon], Awaitable[None]], handshake_timeout_s: float = 10.0) -> None:
    async def main() -> None:
        daemon = AdbDaemon(VirtualAndroidDevice(), handshake_timeout_s=handshake_timeout_s)
        real = daemon.resolve
        daemon.resolve = lambda name: _hold if name == "hold:" else real(name)
        await daemon.start()
        try:
            await scenario(daemon)
        finally:
            await daemon.stop()

    asyncio.run(main())


async def still_serves(daemon: AdbDaemon) -> None:
    good = await Host.connect(daemon.port)
    await good.handshake()
    assert await good.run(77, "shell:echo alive") == b"alive\n"
    good.writer.close()


# ------------------------------------------------------------ before the handshake
def test_before_cnxn_a_peer_can_make_the_device_hold_4k_not_1m() -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        hosts = [await Host.connect(daemon.port) for _ in range(50)]
        for host in hosts:  # each a CNXN header announcing 4 KiB, and 4000 of its bytes
            host.writer.write(HEADER.pack(A_CNXN, A_VERSION, 1 << 20, MAX_PAYLOAD_V1, 0, A_CNXN ^ 0xFFFFFFFF))
            host.writer.write(b"h" * 4000)
        await asyncio.gather(*(h.writer.drain() for h in hosts))
        await asyncio.sleep(0)
        held = sum(conn.reader.buffered for conn in daemon.connections)
        assert held <= 50 * (HEADER_SIZE + MAX_PAYLOAD_V1)
        greedy = await Host.connect(daemon.port)  # a header claiming 1 MiB before any CNXN
        greedy.writer.write(HEADER.pack(A_CNXN, A_VERSION, 1 << 20, 1 << 20, 0, A_CNXN ^ 0xFFFFFFFF))
        assert await greedy.recv() is None
        await still_serves(daemon)

    with_daemon(scenario)


def test_a_silent_connection_is_dropped_after_the_handshake_timeout() -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        silent, half = await Host.connect(daemon.port), await Host.connect(daemon.port)
        half.writer.write(pack(A_CNXN, A_VERSION, 1 << 20, b"host::")[:10])  # a header cut short
        assert await silent.recv() is None
        assert await half.recv() is None
        await still_serves(daemon)  # a connection that says CNXN in time stays, however idle

    with_daemon(scenario, handshake_timeout_s=0.2)


def test_connections_keep_tcp_keepalive_on_for_half_open_peers() -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        host = await Host.connect(daemon.port)
        await host.handshake()
        (conn,) = daemon.connections
        sock = conn.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1

    with_daemon(scenario)


# ------------------------------------------------------------------- checksums
def test_checksums_are_checked_for_a_peer_on_the_original_version_only() -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        old, new = await Host.connect(daemon.port), await Host.connect(daemon.port)
        await old.handshake(version=A_VERSION_MIN)
        await new.handshake(version=A_VERSION)
        assert await old.run(1, "shell:echo ok") == b"ok\n"  # our pack() sums correctly
        service = b"shell:echo forged\0"
        for host in (old, new):
            host.writer.write(HEADER.pack(A_OPEN, 2, 0, len(service), checksum(service) ^ 1,
                                          A_OPEN ^ 0xFFFFFFFF) + service)
        assert await old.recv() is None  # the original protocol requires the sum: dropped
        reply = await new.recv()
        assert reply is not None and reply.command == A_OKAY  # 0x01000001 skips it, as adbd does
        await still_serves(daemon)

    with_daemon(scenario)


# -------------------------------------------------------------------- in streams
def test_a_shell_v2_packet_claiming_4_gib_ends_that_stream_only() -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        host = await Host.connect(daemon.port)
        await host.handshake()
        host.send(A_OPEN, 3, 0, b"shell,v2,raw:cat\0")
        okay = await host.recv()
        assert okay is not None and okay.command == A_OKAY
        host.send(A_WRTE, 3, okay.arg0, struct.pack("<BI", 0, 0xFFFFFFFF) + b"x" * 1000)
        seen = []
        while (p := await host.recv()) is not None and p.command != A_CLSE:
            seen.append(p.command)
        assert p is not None, "the connection must survive; only the stream ends"
        assert sum(c.reader.buffered for c in daemon.connections) < 64 * 1024
        assert await host.run(4, "shell:echo next") == b"next\n"

    with_daemon(scenario)


def test_a_command_that_does_not_read_stops_the_acks_and_a_flood_costs_the_connection() -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        host = await Host.connect(daemon.port)
        await host.handshake()
        host.send(A_OPEN, 5, 0, b"hold:\0")
        okay = await host.recv()
        assert okay is not None
        dev_id, chunk, acked = okay.arg0, b"z" * 65536, 0
        # A well-behaved host sends one WRTE per OKAY: every chunk that keeps the unread inbox
        # at or below the high water is acked (each ack awaited without a deadline of its own,
        # so a loaded machine cannot cut the count short and leave a late OKAY on the wire).
        while (acked + 1) * len(chunk) <= INBOX_HIGH_WATER:
            host.send(A_WRTE, 5, dev_id, chunk)
            p = await host.recv()
            assert p is not None and p.command == A_OKAY
            acked += 1
        host.send(A_WRTE, 5, dev_id, chunk)  # past the high water: the device stops acking
        with pytest.raises(asyncio.TimeoutError):
            await host.recv(timeout=0.5)  # only a wrong OKAY ends this wait early
        for _ in range(8):  # a host that ignores flow control
            host.send(A_WRTE, 5, dev_id, chunk)
        assert await host.recv() is None
        await still_serves(daemon)

    with_daemon(scenario)


# ------------------------------------------------------------------------- fuzz
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=600), max_size=12), st.sampled_from([MAX_PAYLOAD_V1, 1 << 20]))
def test_the_parser_holds_at_most_one_bounded_packet(chunks: list[bytes], limit: int) -> None:
    reader = PacketReader(limit)
    for chunk in chunks:
        try:
            packets = reader.feed(chunk)
        except ProtocolError:
            return
        assert all(len(p.data) <= limit for p in packets)
        assert reader.buffered < HEADER_SIZE + limit


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=3000), st.booleans())
def test_garbage_after_or_instead_of_the_handshake_never_harms_the_device(junk: bytes, greet: bool) -> None:
    async def scenario(daemon: AdbDaemon) -> None:
        attacker = await Host.connect(daemon.port)
        if greet:
            await attacker.handshake()
        attacker.writer.write(junk)
        await attacker.writer.drain()
        await still_serves(daemon)
        attacker.writer.close()

    with_daemon(scenario)


# ------------------------------------------------------------------------ sync
def test_a_push_past_the_storage_limit_fails_without_holding_the_data(monkeypatch) -> None:
    """A hostile push of endless DATA: read and dropped past the limit, FAIL after DONE."""
    from harness.sim.android.adb import syncsvc
    from harness.sim.android.procio import InputSource

    monkeypatch.setattr(syncsvc, "MAX_PUSH_BYTES", 200_000)
    device = VirtualAndroidDevice()
    sent: list[bytes] = []

    class Writer:
        def put(self, data: bytes) -> None:
            sent.append(data)

        async def put_and_maybe_flush(self, data: bytes) -> None:
            sent.append(data)

        async def flush(self) -> None:
            pass

        def fail(self, message: str) -> None:
            sent.append(b"FAIL" + struct.pack("<I", len(message)) + message.encode())

    def req(rid: bytes, payload: bytes = b"", length: int | None = None) -> bytes:
        return rid + struct.pack("<I", len(payload) if length is None else length) + payload

    async def scenario() -> None:
        source = InputSource(eof=False)
        session = syncsvc.SyncSession(device, syncsvc.SyncReader(source), Writer())
        source.feed(req(b"SEND", b"/data/local/tmp/big.bin,33188"))
        for _ in range(10):
            source.feed(req(b"DATA", b"x" * 65536))
        source.feed(req(b"DONE", length=1_700_000_000) + req(b"QUIT"))
        source.feed_eof()
        await session.run()

    asyncio.run(scenario())
    assert b"".join(sent).startswith(b"FAIL")
    assert b"write failed: No space left on device" in b"".join(sent)
    assert not device.fs.exists("/data/local/tmp/big.bin")
