"""Where a device command's bytes go inside the shell: pipes, files, /dev/null, a pty.

``a | b`` is a :class:`PipeSink` feeding a :class:`PipeSource`: writes go straight to the
reader, ``drain`` waits while the reader is behind (backpressure) and raises ``BrokenPipeError``
once the reader has exited, which is how ``logcat | head -n 1`` ends ``logcat``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..procio import InputSource, OutputSink

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

SHELL_UID = 2000


class NullSink(OutputSink):
    """``/dev/null``: takes everything, keeps nothing."""

    def write(self, data: bytes | str) -> None:
        pass


class PipeSource(InputSource):
    """The reading end of ``a | b``; tells the writer when it has room again."""

    def __init__(self) -> None:
        super().__init__(b"", eof=False)
        self.room = asyncio.Event()
        self.reader_gone = False

    async def read(self, n: int = -1) -> bytes:
        data = await super().read(n)
        self.room.set()
        return data

    def pending(self) -> int:
        return len(self._buf)


class PipeSink(OutputSink):
    """The writing end of ``a | b``: bytes go straight to the reader, ``drain`` gives backpressure."""

    LIMIT = 65536

    def __init__(self, source: PipeSource) -> None:
        super().__init__()
        self.source = source

    def write(self, data: bytes | str) -> None:
        if self.closed or self.source.reader_gone:
            raise BrokenPipeError("Broken pipe")
        if isinstance(data, str):
            data = data.encode()
        if data:
            self.source.feed(data)

    async def drain(self) -> None:
        src = self.source
        while not src.reader_gone and src.pending() > self.LIMIT:
            src.room.clear()
            await src.room.wait()
        if src.reader_gone:
            raise BrokenPipeError("Broken pipe")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.source.feed_eof()

    def reader_done(self) -> None:
        self.source.reader_gone = True
        self.source.room.set()


class FileSink(OutputSink):
    """``> file`` / ``>> file``: written through to the device filesystem as it comes."""

    def __init__(self, device: VirtualAndroidDevice, path: str) -> None:
        super().__init__()
        self.device = device
        self.path = path

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        if data:
            self.device.fs.write(self.path, data, append=True, uid=SHELL_UID)


class CrlfSink(OutputSink):
    """What a pty does to output: ``\\n`` becomes ``\\r\\n``."""

    #: adbd gives a pty session one terminal for stdin and stdout alike (``tty`` asks).
    is_tty = True

    def __init__(self, inner: OutputSink) -> None:
        super().__init__()
        self.inner = inner

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.inner.write(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    async def drain(self) -> None:
        await self.inner.drain()


class ShellIO:
    __slots__ = ("stderr", "stdin", "stdout")

    def __init__(self, stdin: InputSource, stdout: OutputSink, stderr: OutputSink) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr


def has_pending(sink: OutputSink) -> bool:
    """Whether a sink holds output not yet handed on (pipes and files hand it on at once)."""
    if isinstance(sink, CrlfSink):
        sink = sink.inner
    return bool(getattr(sink, "_chunks", None))
