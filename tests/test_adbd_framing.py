"""Framing of the adb transport, the shell protocol and sync requests, at arbitrary split points."""

from __future__ import annotations

import asyncio
import stat
import struct
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sim.android.adb.packets import (
    A_CNXN,
    A_OKAY,
    A_WRTE,
    HEADER,
    Packet,
    PacketReader,
    ProtocolError,
    checksum,
    pack,
)
from harness.sim.android.adb.services import (
    V2_MAX_DATA,
    V2InputParser,
    parse_shell_args,
    v2_packets,
)
from harness.sim.android.adb.syncsvc import SyncReader, SyncSession, parse_mode
from harness.sim.android.procio import InputSource


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


packets = st.lists(
    st.builds(Packet, st.sampled_from([A_CNXN, A_OKAY, A_WRTE]), st.integers(0, 2**32 - 1),
              st.integers(0, 2**32 - 1), st.binary(max_size=300)),
    max_size=8,
)


def test_pack_writes_byte_sum_and_magic() -> None:
    raw = pack(A_WRTE, 1, 2, b"\x01\x02\xff")
    command, a0, a1, length, check, magic = HEADER.unpack_from(raw)
    assert (command, a0, a1, length) == (A_WRTE, 1, 2, 3)
    assert check == 0x102 == checksum(b"\x01\x02\xff")
    assert magic == A_WRTE ^ 0xFFFFFFFF
    assert raw[24:] == b"\x01\x02\xff"


@given(packets, st.lists(st.integers(0, 10_000), max_size=12))
def test_packets_survive_any_split(pkts: list[Packet], cuts: list[int]) -> None:
    wire = b"".join(pack(p.command, p.arg0, p.arg1, p.data) for p in pkts)
    reader = PacketReader()
    got: list[Packet] = []
    for piece in split_at(wire, cuts):
        got += reader.feed(piece)
    assert got == pkts
    assert reader.buffered == 0


def test_received_checksum_is_never_checked() -> None:
    raw = bytearray(pack(A_WRTE, 1, 2, b"abc"))
    raw[16:20] = b"\xde\xad\xbe\xef"
    assert PacketReader().feed(bytes(raw)) == [Packet(A_WRTE, 1, 2, b"abc")]


def test_bad_magic_is_a_protocol_error() -> None:
    raw = bytearray(pack(A_WRTE, 1, 2, b"abc"))
    raw[20] ^= 0xFF
    with pytest.raises(ProtocolError, match="bad magic"):
        PacketReader().feed(bytes(raw))


def test_length_over_the_negotiated_maximum_is_a_protocol_error() -> None:
    reader = PacketReader(max_payload=4096)
    header = HEADER.pack(A_WRTE, 1, 2, 4097, 0, A_WRTE ^ 0xFFFFFFFF)
    with pytest.raises(ProtocolError, match="exceeds"):
        reader.feed(header)  # refused on the header alone, before the payload arrives


@given(st.lists(st.tuples(st.sampled_from([0, 4, 5]), st.binary(max_size=100)), max_size=8),
       st.lists(st.integers(0, 2000), max_size=10))
def test_shell_v2_input_survives_any_split(items: list[tuple[int, bytes]], cuts: list[int]) -> None:
    async def scenario() -> tuple[bytes, bool]:
        stdin = InputSource(eof=False)
        parser = V2InputParser(stdin)
        wire = b"".join(struct.pack("<BI", i, len(d)) + d for i, d in items)
        for piece in split_at(wire, cuts):
            parser.feed(piece)
        return bytes(stdin._buf), stdin._eof

    data, eof = asyncio.run(scenario())
    assert data == b"".join(d for i, d in items if i == 0)
    assert eof == any(i == 4 for i, _ in items)


def test_v2_output_packets_are_bounded() -> None:
    data = bytes(range(256)) * 600  # 153600 bytes -> 3 packets
    wire = v2_packets(1, data)
    out, pos, sizes = b"", 0, []
    while pos < len(wire):
        pid, n = struct.unpack_from("<BI", wire, pos)
        assert pid == 1 and n <= V2_MAX_DATA
        sizes.append(n)
        out += wire[pos + 5:pos + 5 + n]
        pos += 5 + n
    assert out == data and len(sizes) == 3


def test_shell_service_arguments() -> None:
    assert parse_shell_args(["v2", "TERM=xterm-256color", "raw"]) == (True, False, {"TERM": "xterm-256color"})
    assert parse_shell_args(["v2", "pty", "whatever"]) == (True, True, {})
    assert parse_shell_args([]) == (False, None, {})


def test_send_mode_is_parsed_like_strtoul_base_0() -> None:
    assert parse_mode("33261") == 0o100755
    assert parse_mode("0644") == 0o644
    assert parse_mode("0x81a4") == 0o100644
    assert parse_mode("junk") == 0o100644


# ---------------------------------------------------------------- sync sessions
@dataclass
class FakeStat:
    mode: int
    size: int
    mtime: int
    uid: int = 2000
    gid: int = 2000


class FakeFs:
    """Just enough of the fs contract (CONTRACTS.md) to check sync framing on its own."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int, int]] = {}
        self.dirs = {"/", "/sdcard", "/data", "/data/local", "/data/local/tmp"}

    def stat(self, path: str) -> FakeStat | None:
        path = path.rstrip("/") or "/"
        if path in self.dirs:
            return FakeStat(stat.S_IFDIR | 0o771, 4096, 1_700_000_000)
        if path in self.files:
            data, mode, mtime = self.files[path]
            return FakeStat(stat.S_IFREG | mode, len(data), mtime)
        return None

    def read(self, path: str, uid: int | None = None) -> bytes:
        if path not in self.files:
            raise OSError(path, "No such file or directory")
        return self.files[path][0]

    def write(self, path: str, data: bytes, mode: int = 0o644, mtime: int | None = None,
              append: bool = False, uid: int | None = None) -> None:
        self.files[path] = (data, mode, mtime or 1_700_000_001)

    def mkdir(self, path: str, parents: bool = False, uid: int | None = None) -> None:
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self.dirs.add("/" + "/".join(parts[:i]))

    def listdir(self, path: str, uid: int | None = None) -> list[tuple[str, FakeStat]]:
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/")[0] for p in [*self.files, *self.dirs]
                 if p.startswith(prefix) and p != prefix}
        return [(n, self.stat(prefix + n)) for n in sorted(names)]


class FakeDevice:
    def __init__(self) -> None:
        self.fs = FakeFs()


class CollectingWriter:
    def __init__(self) -> None:
        self.data = b""

    def put(self, data: bytes) -> None:
        self.data += data

    async def put_and_maybe_flush(self, data: bytes) -> None:
        self.data += data

    async def flush(self) -> None:
        pass

    def fail(self, message: str) -> None:
        self.put(b"FAIL" + struct.pack("<I", len(message)) + message.encode())


def run_sync(device: FakeDevice, pieces: list[bytes]) -> bytes:
    async def scenario() -> bytes:
        source = InputSource(eof=False)
        for piece in pieces:
            source.feed(piece)
        source.feed_eof()
        writer = CollectingWriter()
        await SyncSession(device, SyncReader(source), writer).run()  # type: ignore[arg-type]
        return writer.data

    return asyncio.run(scenario())


def req(rid: bytes, payload: bytes = b"", length: int | None = None) -> bytes:
    return rid + struct.pack("<I", len(payload) if length is None else length) + payload


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200_000), st.lists(st.integers(0, 300_000), max_size=10))
def test_push_then_pull_survives_any_split(content: bytes, cuts: list[int]) -> None:
    path = b"/sdcard/dir/new/file.bin"
    wire = req(b"SEND", path + b",33188")
    for i in range(0, len(content), 65536):
        wire += req(b"DATA", content[i:i + 65536])
    wire += req(b"DONE", length=1_700_000_123) + req(b"RECV", path) + req(b"QUIT")
    device = FakeDevice()
    reply = run_sync(device, split_at(wire, cuts))
    assert reply[:8] == b"OKAY\0\0\0\0"
    got, pos = b"", 8
    while reply[pos:pos + 4] == b"DATA":
        (n,) = struct.unpack_from("<I", reply, pos + 4)
        assert n <= 65536
        got += reply[pos + 8:pos + 8 + n]
        pos += 8 + n
    assert reply[pos:] == b"DONE\0\0\0\0"
    assert got == content
    assert device.fs.files["/sdcard/dir/new/file.bin"] == (content, 0o644, 1_700_000_123)
    assert "/sdcard/dir/new" in device.fs.dirs  # fixed_push_mkdir: parents created


def test_stat_of_a_missing_path_is_all_zero_and_of_a_file_is_real() -> None:
    device = FakeDevice()
    device.fs.write("/sdcard/a.txt", b"hello", mtime=1_700_000_500)
    reply = run_sync(device, [req(b"STAT", b"/sdcard/nope") + req(b"STAT", b"/sdcard/a.txt")])
    assert reply[:16] == b"STAT" + b"\0" * 12
    assert struct.unpack("<4sIII", reply[16:]) == (b"STAT", stat.S_IFREG | 0o644, 5, 1_700_000_500)


def test_list_ends_with_a_dent_sized_done() -> None:
    device = FakeDevice()
    device.fs.write("/sdcard/a.txt", b"hello")
    reply = run_sync(device, [req(b"LIST", b"/sdcard")])
    names, pos = [], 0
    while reply[pos:pos + 4] == b"DENT":
        _, _mode, _size, mtime, n = struct.unpack_from("<4sIIII", reply, pos)
        names.append(reply[pos + 20:pos + 20 + n].decode())
        assert mtime != 0
        pos += 20 + n
    assert names == [".", "..", "a.txt"]
    assert reply[pos:] == b"DONE" + b"\0" * 16


def test_recv_of_a_missing_file_fails_with_adbd_text() -> None:
    reply = run_sync(FakeDevice(), [req(b"RECV", b"/sdcard/missing")])
    assert reply == req(b"FAIL", b"open failed: No such file or directory")


def test_unknown_request_and_long_path_fail() -> None:
    assert run_sync(FakeDevice(), [req(b"XXXX", b"/")]) == req(b"FAIL", b"unknown command 58585858")
    assert run_sync(FakeDevice(), [req(b"STAT", length=2000)]) == req(b"FAIL", b"path too long")


def test_oversize_data_block_fails() -> None:
    wire = req(b"SEND", b"/sdcard/x,33188") + req(b"DATA", length=65537)
    assert run_sync(FakeDevice(), [wire]) == req(b"FAIL", b"oversize data message")


def test_stat_v2_and_list_v2_are_answered_though_not_advertised() -> None:
    device = FakeDevice()
    device.fs.write("/sdcard/a.txt", b"hello", mtime=1_700_000_500)
    wire = req(b"STA2", b"/sdcard/a.txt") + req(b"LST2", b"/nope") + req(b"LIS2", b"/sdcard")
    reply = run_sync(device, [wire])
    fields = struct.unpack_from("<4sIQQIIIIQqqq", reply, 0)
    assert fields[0] == b"STA2" and fields[1] == 0 and fields[4] == stat.S_IFREG | 0o644
    assert fields[8] == 5 and fields[10] == 1_700_000_500
    missing = struct.unpack_from("<4sIQQIIIIQqqq", reply, 72)
    assert missing[:2] == (b"STA2", 2)  # ENOENT
    pos, names = 144, []
    while reply[pos:pos + 4] == b"DNT2":
        n = struct.unpack_from("<I", reply, pos + 72)[0]
        names.append(reply[pos + 76:pos + 76 + n])
        pos += 76 + n
    assert names == [b".", b"..", b"a.txt"]
    assert reply[pos:pos + 4] == b"DONE" and len(reply) == pos + 76
