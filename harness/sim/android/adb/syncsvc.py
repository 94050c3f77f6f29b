"""The ``sync:`` service: push, pull, stat and list over the device's in-memory filesystem.

After the OPEN the stream carries binary sync requests (research/adb_protocol.md §4.3):
``id(4) + uint32 length`` then a path (<= 1024 bytes), or ``DATA``/``DONE`` blocks during a
SEND. Requests are read as a byte stream: the adb CLI sends SEND+DATA+DONE in one write,
adbutils merges DATA and DONE, and a 64 KiB DATA block spans many WRTEs.

Only the v1 requests are advertised (no ``stat_v2``/``ls_v2``/``sendrecv_v2`` feature); the
v2 stat/list forms are answered too, as adbd always does, for clients that try them anyway.
"""

from __future__ import annotations

import stat as statmod
import struct
from typing import TYPE_CHECKING

from ..os.fs import SHELL_UID
from ..procio import InputSource

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice
    from .streams import AdbStream

SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024

_REQ = struct.Struct("<4sI")
#: sendrecv_v2: after SND2/RCV2 + path comes a setup record (file_sync_protocol.h
#: send_v2_setup {id, mode, flags}, recv_v2_setup {id, flags}).
_SEND_V2_SETUP = struct.Struct("<4sII")
_RECV_V2_SETUP = struct.Struct("<4sI")
#: kSyncFlag*: compression we do not advertise (brotli 1, lz4 2, zstd 4) and dry-run.
SYNC_FLAG_COMPRESSION = 0x7
SYNC_FLAG_DRY_RUN = 0x80000000
#: The largest file one push may write: the virtual device keeps its files in memory, so a
#: push past this is what a full /data answers, not an ever-growing buffer.
MAX_PUSH_BYTES = 512 * 1024 * 1024
_STAT_V1 = struct.Struct("<4sIII")
_DENT_V1 = struct.Struct("<4sIIII")
# id, error, dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime
_STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")
_DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")

ENOENT = 2
ENOTDIR = 20
_ERRNO_BY_TEXT = {"No such file or directory": ENOENT, "Not a directory": ENOTDIR}



class SyncReader:
    """Exact-size reads on top of the stream's inbox."""

    def __init__(self, source: InputSource) -> None:
        self._source = source
        self._buf = bytearray()

    async def read_exact(self, n: int) -> bytes | None:
        """``n`` bytes, or None when the stream ended first."""
        while len(self._buf) < n:
            chunk = await self._source.read()
            if not chunk:
                return None
            self._buf += chunk
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data


class SyncWriter:
    """Collects replies and hands them to the stream in WRTE-sized batches."""

    def __init__(self, stream: AdbStream) -> None:
        self._stream = stream
        self._parts: list[bytes] = []
        self._size = 0

    def put(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)

    async def put_and_maybe_flush(self, data: bytes) -> None:
        self.put(data)
        if self._size >= self._stream.max_payload:
            await self.flush()

    async def flush(self) -> None:
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            self._size = 0
            await self._stream.write(data)

    def fail(self, message: str) -> None:
        encoded = message.encode()
        self.put(_REQ.pack(b"FAIL", len(encoded)) + encoded)


def parse_mode(text: str) -> int:
    """The mode of a SEND, parsed as C's ``strtoul(…, 0)`` does (decimal, 0octal, 0xhex)."""
    try:
        if text.lower().startswith("0x"):
            return int(text[2:], 16)
        if text.startswith("0") and len(text) > 1:
            return int(text[1:], 8)
        return int(text)
    except ValueError:
        return 0o100644


def _fs_reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "message", None)
    if isinstance(reason, str) and reason:
        return reason
    return str(exc.args[-1]) if exc.args else str(exc)


async def serve_sync(stream: AdbStream) -> None:
    """One sync session: requests until QUIT, a failure, or the host closing the stream."""
    session = SyncSession(stream.device, SyncReader(stream.inbox), SyncWriter(stream))
    await session.run()


class SyncSession:
    def __init__(self, device: VirtualAndroidDevice, reader: SyncReader, writer: SyncWriter) -> None:
        self.device = device
        self.reader = reader
        self.writer = writer

    async def run(self) -> None:
        try:
            while await self.step():
                await self.writer.flush()
        finally:
            await self.writer.flush()

    async def step(self) -> bool:
        """Serve one request; False ends the session."""
        header = await self.reader.read_exact(_REQ.size)
        if header is None:
            return False
        rid, length = _REQ.unpack(header)
        if rid == b"QUIT":
            return False
        handler = {
            b"STAT": self.stat_v1,
            b"LIST": self.list_v1,
            b"SEND": self.send,
            b"RECV": self.recv,
            b"STA2": self.stat_v2,
            b"LST2": self.stat_v2,
            b"LIS2": self.list_v2,
            b"SND2": self.send_v2,
            b"RCV2": self.recv_v2,
        }.get(rid)
        if handler is None:
            self.writer.fail(f"unknown command {int.from_bytes(rid, 'little'):08x}")
            return False
        if length > MAX_PATH:
            self.writer.fail("path too long")
            return False
        raw = await self.reader.read_exact(length)
        if raw is None:
            return False
        path = raw.decode("utf-8", "surrogateescape")
        return await handler(path)

    # ------------------------------------------------------------- stat / list
    def _stat(self, path: str):
        return self.device.fs.stat(path)

    async def stat_v1(self, path: str) -> bool:
        st = self._stat(path)
        if st is None:
            self.writer.put(_STAT_V1.pack(b"STAT", 0, 0, 0))
        else:
            self.writer.put(_STAT_V1.pack(b"STAT", st.mode, st.size & 0xFFFFFFFF, st.mtime & 0xFFFFFFFF))
        return True

    def _v2_fields(self, st) -> tuple:
        nlink = 2 if statmod.S_ISDIR(st.mode) else 1
        return (0, 0, st.mode, nlink, st.uid, st.gid, st.size, st.mtime, st.mtime, st.mtime)

    async def stat_v2(self, path: str) -> bool:
        st = self._stat(path)
        if st is None:
            self.writer.put(_STAT_V2.pack(b"STA2", ENOENT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        else:
            self.writer.put(_STAT_V2.pack(b"STA2", 0, *self._v2_fields(st)))
        return True

    def _entries(self, path: str) -> list:
        st = self._stat(path)
        if st is None or not statmod.S_ISDIR(st.mode):
            return []
        try:
            listing = self.device.fs.listdir(path, uid=SHELL_UID)
        except Exception:  # FsError: a directory that vanished lists as empty, as opendir fails
            return []
        parent = self._stat(path.rstrip("/").rsplit("/", 1)[0] or "/") or st
        return [(".", st), ("..", parent), *listing]

    async def list_v1(self, path: str) -> bool:
        for name, st in self._entries(path):
            encoded = name.encode("utf-8", "surrogateescape")
            await self.writer.put_and_maybe_flush(
                _DENT_V1.pack(b"DENT", st.mode, st.size & 0xFFFFFFFF, st.mtime & 0xFFFFFFFF, len(encoded))
                + encoded
            )
        self.writer.put(_DENT_V1.pack(b"DONE", 0, 0, 0, 0))
        return True

    async def list_v2(self, path: str) -> bool:
        for name, st in self._entries(path):
            encoded = name.encode("utf-8", "surrogateescape")
            await self.writer.put_and_maybe_flush(
                _DENT_V2.pack(b"DNT2", 0, *self._v2_fields(st), len(encoded)) + encoded
            )
        self.writer.put(_DENT_V2.pack(b"DONE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        return True

    # ------------------------------------------------------------------ send
    async def send(self, spec: str) -> bool:
        path, comma, mode_text = spec.rpartition(",")
        if not comma:
            path, mode = spec, 0o100644
        else:
            mode = parse_mode(mode_text)
        return await self._receive_file(path, mode, dry_run=False)

    async def send_v2(self, path: str) -> bool:
        """SND2: the path alone, then {SND2, mode, flags}; then DATA…DONE as for SEND."""
        setup = await self.reader.read_exact(_SEND_V2_SETUP.size)
        if setup is None:
            return False
        rid, mode, flags = _SEND_V2_SETUP.unpack(setup)
        if rid != b"SND2":
            self.writer.fail(f"unexpected message {int.from_bytes(rid, 'little'):08x} in send_v2 setup")
            return False
        if flags & SYNC_FLAG_COMPRESSION:
            self.writer.fail(f"unsupported compression flags {flags:#x}")
            return False
        return await self._receive_file(path, mode, dry_run=bool(flags & SYNC_FLAG_DRY_RUN))

    async def _receive_file(self, path: str, mode: int, dry_run: bool) -> bool:
        chunks: list[bytes] = []
        size = 0
        full = False
        while True:
            header = await self.reader.read_exact(_REQ.size)
            if header is None:
                return False
            rid, length = _REQ.unpack(header)
            if rid == b"DATA":
                if length > SYNC_DATA_MAX:
                    self.writer.fail("oversize data message")
                    return False
                data = await self.reader.read_exact(length)
                if data is None:
                    return False
                size += len(data)
                if size > MAX_PUSH_BYTES or full:
                    # the rest is read and dropped, so the host sees our FAIL after its DONE
                    # (file_sync_service.cpp handle_send_file keeps reading after an error)
                    full, chunks = True, []
                elif not dry_run:
                    chunks.append(data)
            elif rid == b"DONE":
                mtime = length
                break
            else:
                self.writer.fail(f"unexpected message {int.from_bytes(rid, 'little'):08x} during send")
                return False
        if full:
            self.writer.fail("write failed: No space left on device")
            return False
        failure = None if dry_run else self._store(path, b"".join(chunks), mode, mtime)
        if failure:
            self.writer.fail(failure)
            return False
        self.writer.put(_REQ.pack(b"OKAY", 0))
        return True

    def _store(self, path: str, data: bytes, mode: int, mtime: int) -> str | None:
        """Write the pushed file, creating parent directories; the FAIL text on error.

        adbd serves sync as the shell user on a production build (daemon/file_sync_service.cpp
        runs with adbd's own uid, 2000), so the shell's permissions apply: a push under
        /system fails with "couldn't create file: Read-only file system", which the adb CLI
        prints as "remote couldn't create file: ..." and exits 1.
        """
        fs = self.device.fs
        parent = path.rstrip("/").rsplit("/", 1)[0]
        if parent:
            try:
                fs.mkdir(parent, parents=True, uid=SHELL_UID)
            except Exception as exc:
                st = fs.stat(parent)
                if st is None or not statmod.S_ISDIR(st.mode):
                    return f"secure_mkdirs failed: {_fs_reason(exc)}"
        try:
            fs.write(path, data, mode=mode & 0o7777, mtime=mtime or None, uid=SHELL_UID)
        except Exception as exc:
            return f"couldn't create file: {_fs_reason(exc)}"
        return None

    # ------------------------------------------------------------------ recv
    async def recv_v2(self, path: str) -> bool:
        """RCV2: the path alone, then {RCV2, flags}; the answer is as for RECV."""
        setup = await self.reader.read_exact(_RECV_V2_SETUP.size)
        if setup is None:
            return False
        rid, flags = _RECV_V2_SETUP.unpack(setup)
        if rid != b"RCV2":
            self.writer.fail(f"unexpected message {int.from_bytes(rid, 'little'):08x} in recv_v2 setup")
            return False
        if flags & SYNC_FLAG_COMPRESSION:
            self.writer.fail(f"unsupported compression flags {flags:#x}")
            return False
        return await self.recv(path)

    async def recv(self, path: str) -> bool:
        fs = self.device.fs
        st = fs.stat(path)
        if st is not None and statmod.S_ISDIR(st.mode):
            self.writer.fail("read failed: Is a directory")
            return False
        try:
            data = fs.read(path, uid=SHELL_UID)
        except Exception as exc:
            self.writer.fail(f"open failed: {_fs_reason(exc)}")
            return False
        view = memoryview(data)
        for start in range(0, len(view), SYNC_DATA_MAX):
            chunk = view[start:start + SYNC_DATA_MAX]
            await self.writer.put_and_maybe_flush(_REQ.pack(b"DATA", len(chunk)) + bytes(chunk))
        self.writer.put(_REQ.pack(b"DONE", 0))
        return True
