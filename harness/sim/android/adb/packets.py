"""ADB transport packets: the 24-byte header, the commands, and a stream parser for them.

The wire format is in ``research/adb_protocol.md`` §1: six little-endian uint32 (command,
arg0, arg1, data length, data check, magic = command ^ 0xFFFFFFFF) and the payload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


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
HEADER = struct.Struct("<6I")
HEADER_SIZE = HEADER.size


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
    """One packet on the wire. The checksum is always written: harmless at the current version,
    required by a peer still on A_VERSION_MIN."""
    return HEADER.pack(command, arg0, arg1, len(data), checksum(data) if data else 0,
                       command ^ 0xFFFFFFFF) + data


class PacketReader:
    """Stream parser: feed it whatever TCP delivered, get back the whole packets it completes.

    It never holds more than one incomplete packet: a header announcing more than
    ``max_payload`` is refused at once, so what a peer can make it buffer is bounded by the
    limit of the moment — 4 KiB before the handshake (CNXN and AUTH must fit
    MAX_PAYLOAD_V1), the negotiated maximum after it. ``verify_checksum`` is set while the
    protocol version is below A_VERSION_SKIP_CHECKSUM: adbd then checks ``data_check``
    (adb.cpp check_data), and so does this reader.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD, verify_checksum: bool = False) -> None:
        self._buf = bytearray()
        self.max_payload = max_payload
        self.verify_checksum = verify_checksum

    def feed(self, data: bytes) -> list[Packet]:
        buf = self._buf
        buf += data
        out: list[Packet] = []
        while len(buf) >= HEADER_SIZE:
            command, arg0, arg1, length, check, magic = HEADER.unpack_from(buf)
            if magic != command ^ 0xFFFFFFFF:
                raise ProtocolError(f"bad magic {magic:08x} for command {command:08x}")
            if length > self.max_payload:
                raise ProtocolError(f"payload of {length} bytes exceeds the maximum {self.max_payload}")
            end = HEADER_SIZE + length
            if len(buf) < end:
                break
            data = bytes(buf[HEADER_SIZE:end])
            if self.verify_checksum and checksum(data) != check:
                raise ProtocolError(f"bad checksum {check:08x} for a {length}-byte payload")
            out.append(Packet(command, arg0, arg1, data))
            del buf[:end]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)
