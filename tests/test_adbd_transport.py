"""The adbd transport against a raw host on a socket: handshake, flow control, bad input, reboot.

Services here are test doubles chosen by the resolver, so the transport is checked on its own;
the real services are checked end to end through the real adb server in test_adbd_e2e.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from harness.sim.android.adb import adbd
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
    Packet,
    PacketReader,
    pack,
)
from harness.sim.android.adb.streams import AdbStream, ServiceFn
from harness.sim.android.device import VirtualAndroidDevice


class RawHost:
    """What the adb server does on the wire, one packet at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = PacketReader()
        self.queue: list[Packet] = []

    @classmethod
    async def connect(cls, port: int) -> RawHost:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        self.writer.write(pack(command, arg0, arg1, data))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def recv(self) -> Packet | None:
        """The next packet, or None when the device closed the connection."""
        while not self.queue:
            data = await asyncio.wait_for(self.reader.read(65536), 10)
            if not data:
                return None
            self.queue += self.parser.feed(data)
        packet = self.queue.pop(0)
        assert packet.command != A_OPEN, "a device-initiated OPEN makes the adb server abort"
        return packet

    async def handshake(self, version: int = A_VERSION, maxdata: int = 1 << 20) -> Packet:
        self.send(A_CNXN, version, maxdata, b"host::features=shell_v2")
        reply = await self.recv()
        assert reply is not None and reply.command == A_CNXN
        return reply

    async def open(self, host_id: int, service: str) -> Packet:
        self.send(A_OPEN, host_id, 0, service.encode() + b"\0")
        reply = await self.recv()
        assert reply is not None
        return reply

    async def read_stream(self, host_id: int) -> bytes:
        """Everything a stream sends until its CLSE, acking each WRTE."""
        data = b""
        while True:
            p = await self.recv()
            assert p is not None, "connection dropped"
            assert p.arg1 == host_id, f"packet for another stream: {p}"
            if p.command == A_WRTE:
                data += p.data
                self.send(A_OKAY, host_id, p.arg0)
            elif p.command == A_CLSE:
                return data

    def close(self) -> None:
        self.writer.close()


def doubles(events: list[str]) -> Callable[[str], ServiceFn | None]:
    """echo:TEXT writes TEXT; big:N writes N bytes; cat: echoes stdin until the host closes."""

    def resolve(name: str) -> ServiceFn | None:
        kind, _, arg = name.partition(":")
        if kind == "echo":
            async def echo(stream: AdbStream) -> None:
                await stream.write(arg.encode())
            return echo
        if kind == "big":
            async def big(stream: AdbStream) -> None:
                await stream.write(bytes(i % 251 for i in range(int(arg))))
            return big
        if kind == "cat":
            async def cat(stream: AdbStream) -> None:
                try:
                    while data := await stream.inbox.read():
                        await stream.write(data)
                except asyncio.CancelledError:
                    events.append("cancelled")
                    raise
                events.append("eof")
            return cat
        return None

    return resolve


def run_with_daemons(count: int, scenario: Callable[..., Awaitable[None]]) -> list[str]:
    events: list[str] = []

    async def main() -> None:
        daemons = []
        for i in range(count):
            device = VirtualAndroidDevice(serial=f"t-{i}", model="Test Phone")
            daemon = AdbDaemon(device, resolver=doubles(events))
            await daemon.start()
            daemons.append(daemon)
        try:
            await scenario(*daemons)
        finally:
            for daemon in daemons:
                await daemon.stop()

    asyncio.run(main())
    return events


def test_handshake_negotiates_version_and_payload_and_sends_the_banner() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        reply = await host.handshake(version=A_VERSION_MIN, maxdata=8192)
        assert reply.arg0 == A_VERSION
        assert reply.arg1 == 8192
        banner = reply.data.decode()
        assert banner.startswith("device::")
        assert banner.endswith(";features=" + ",".join(adbd.FEATURES))
        assert {"shell_v2", "cmd", "abb_exec", "stat_v2", "sendrecv_v2"} <= set(adbd.FEATURES)
        assert "ro.product.model=" in banner
        # with version MIN the legacy checksum is what the host would check: it is the byte sum
        host.send(A_OPEN, 7, 0, b"echo:ab\0")
        assert (await host.recv()).command == A_OKAY
        raw = pack(A_WRTE, 1, 7, b"ab")
        wrte = await host.recv()
        assert wrte.data == b"ab" and HEADER.unpack_from(raw)[4] == ord("a") + ord("b")
        host.close()

    run_with_daemons(1, scenario)


def test_payload_never_exceeds_the_negotiated_maximum_and_waits_for_okay() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        await host.handshake(maxdata=4096)
        okay = await host.open(1, "big:10000")
        assert okay.command == A_OKAY and okay.arg1 == 1
        first = await host.recv()
        assert first.command == A_WRTE and len(first.data) == 4096
        # Without our OKAY nothing more may come on stream 1: a whole other stream runs
        # through meanwhile and nothing of stream 1 shows up.
        await host.open(2, "echo:x")
        assert await host.read_stream(2) == b"x"
        host.send(A_OKAY, 1, first.arg0)
        rest = await host.read_stream(1)
        assert first.data + rest == bytes(i % 251 for i in range(10000))
        host.close()

    run_with_daemons(1, scenario)


def test_host_wrte_is_acked_and_host_close_stops_the_service() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        await host.handshake()
        okay = await host.open(5, "cat:")
        dev_id = okay.arg0
        host.send(A_WRTE, 5, dev_id, b"ping")
        ack = await host.recv()
        assert (ack.command, ack.arg0, ack.arg1, ack.data) == (A_OKAY, dev_id, 5, b"")
        echoed = await host.recv()
        assert echoed.command == A_WRTE and echoed.data == b"ping"
        host.send(A_CLSE, 5, dev_id)
        # adbd answers a CLSE with its own (adb.cpp: local_socket_close -> remote_socket_shutdown)
        answer = await host.recv()
        assert (answer.command, answer.arg0, answer.arg1) == (A_CLSE, dev_id, 5)
        await host.open(6, "echo:after")
        assert await host.read_stream(6) == b"after"
        host.close()

    assert run_with_daemons(1, scenario) == ["cancelled"]


def test_bad_magic_drops_only_that_connection() -> None:
    async def scenario(a: AdbDaemon, b: AdbDaemon) -> None:
        bad, same_device, other_device = (await RawHost.connect(a.port), await RawHost.connect(a.port),
                                          await RawHost.connect(b.port))
        for host in (bad, same_device, other_device):
            await host.handshake()
        await same_device.open(3, "cat:")  # a stream that must survive
        bad.send_raw(HEADER.pack(A_WRTE, 1, 1, 0, 0, 0x12345678))
        assert await bad.recv() is None
        for host in (same_device, other_device):
            await host.open(9, "echo:alive")
            assert await host.read_stream(9) == b"alive"

    run_with_daemons(2, scenario)


def test_payload_over_the_negotiated_maximum_drops_the_connection() -> None:
    async def scenario(d: AdbDaemon) -> None:
        bad, good = await RawHost.connect(d.port), await RawHost.connect(d.port)
        await bad.handshake(maxdata=4096)
        await good.handshake(maxdata=4096)
        okay = await bad.open(1, "cat:")
        bad.send(A_WRTE, 1, okay.arg0, b"x" * 5000)
        assert await bad.recv() is None
        await good.open(2, "echo:fine")
        assert await good.read_stream(2) == b"fine"

    run_with_daemons(1, scenario)


def test_unknown_command_is_ignored_as_adbd_does() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        await host.handshake()
        host.send(int.from_bytes(b"ZZZZ", "little"), 1, 2, b"junk")
        await host.open(4, "echo:still here")
        assert await host.read_stream(4) == b"still here"

    run_with_daemons(1, scenario)


def test_open_of_an_unknown_service_is_refused_with_clse_zero() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        await host.handshake()
        refused = await host.open(11, "no-such-service:")
        assert (refused.command, refused.arg0, refused.arg1) == (A_CLSE, 0, 11)
        await host.open(12, "echo:next")
        assert await host.read_stream(12) == b"next"

    run_with_daemons(1, scenario)


def test_wrte_for_a_closed_stream_is_ignored() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        await host.handshake()
        okay = await host.open(1, "echo:done")
        assert await host.read_stream(1) == b"done"
        host.send(A_WRTE, 1, okay.arg0, b"late data")  # stream already closed by the device
        host.send(A_WRTE, 77, 4242, b"never opened")
        await host.open(2, "echo:ok")
        p = await host.recv()  # the first thing back is for stream 2: nothing answered the WRTEs
        assert p.arg1 == 2 and p.data == b"ok"

    run_with_daemons(1, scenario)


def test_open_before_cnxn_is_ignored() -> None:
    async def scenario(d: AdbDaemon) -> None:
        host = await RawHost.connect(d.port)
        host.send(A_OPEN, 1, 0, b"echo:early\0")
        reply = await host.handshake()
        assert reply.command == A_CNXN
        await host.open(2, "echo:x")
        assert await host.read_stream(2) == b"x"

    run_with_daemons(1, scenario)


def test_reboot_drops_the_link_holds_cnxn_until_booted_then_boot_completes() -> None:
    async def scenario(d: AdbDaemon) -> None:
        device = d.device
        start_ms = device.now_ms()
        host = await RawHost.connect(d.port)
        await host.handshake()
        boots = device.boot_count
        device.request_reboot()
        assert await host.recv() is None  # the link drops (~100 ms later)
        assert not device.booted and device.boot_count == boots + 1
        again = await RawHost.connect(d.port)
        again.send(A_CNXN, A_VERSION, 1 << 20, b"host::")
        for _ in range(1000):  # until the daemon has read our CNXN
            if d.held:
                break
            await asyncio.sleep(0.001)
        assert d.held and not device.booted  # the answer waits: the device is still booting
        reply = await again.recv()
        assert reply.command == A_CNXN
        assert device.booted and device.props.get("sys.boot_completed") == "1"
        # device time moved by the shutdown and the boot, manual clock
        assert device.now_ms() - start_ms == 3_000 + device.BOOT_DEVICE_MS
        await again.open(1, "echo:back")
        assert await again.read_stream(1) == b"back"

    run_with_daemons(1, scenario)


def test_reboot_completes_without_anyone_redialling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adbd, "UNATTENDED_BOOT_S", 0.01)

    async def scenario(d: AdbDaemon) -> None:
        device = d.device
        device.request_reboot()
        for _ in range(5000):
            if device.boot_count == 2 and device.booted:
                break
            await asyncio.sleep(0.001)
        assert device.boot_count == 2 and device.booted
        host = await RawHost.connect(d.port)
        assert (await host.handshake()).command == A_CNXN  # answered at once: booted

    run_with_daemons(1, scenario)


def test_real_services_v1_shell_interactive_shell_and_exec() -> None:
    async def main() -> None:
        daemon = AdbDaemon(VirtualAndroidDevice(serial="t-real"))
        await daemon.start()
        try:
            host = await RawHost.connect(daemon.port)
            await host.handshake()
            await host.open(1, "shell:echo one; echo two >&2; false")
            assert await host.read_stream(1) == b"one\ntwo\n"  # v1: both streams, no status
            await host.open(2, "exec:printf 'a\\0b'")
            assert await host.read_stream(2) == b"a\0b"  # binary safe
            okay = await host.open(3, "shell:")  # v1 without command: sh on a pty
            host.send(A_WRTE, 3, okay.arg0, b"echo hi\nexit\n")
            out = await host.read_stream(3)
            assert b"$ " in out and b"hi\r\n" in out
            refused = await host.open(4, "shellX:echo")
            assert (refused.command, refused.arg0) == (A_CLSE, 0)
        finally:
            await daemon.stop()

    asyncio.run(main())
