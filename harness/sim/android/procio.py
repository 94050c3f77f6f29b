"""Byte streams between a device command and whoever runs it (adb stream, pipe, file).

Commands write synchronously (``write``) and ``await drain()`` when they produce a lot or
stream forever (logcat), which gives the reader backpressure: an unread logcat on the host
stops the producer instead of filling memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class OutputSink:
    """Collects a command's output; subclasses forward it somewhere on ``drain``."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | str) -> None:
        if self.closed:
            raise BrokenPipeError("output closed")
        if isinstance(data, str):
            data = data.encode()
        if data:
            self._chunks.append(data)

    def take(self) -> bytes:
        """Return and forget what was written so far."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)

    async def drain(self) -> None:
        """Hand buffered bytes to the consumer; a plain buffer keeps them."""
        if self.closed:
            raise BrokenPipeError("output closed")

    def close(self) -> None:
        self.closed = True


class CallbackSink(OutputSink):
    """Forwards output to an async consumer (an adb stream writer, a shell-v2 packetiser)."""

    def __init__(self, consumer: Callable[[bytes], Awaitable[None]], high_water: int = 65536) -> None:
        super().__init__()
        self._consumer = consumer
        self._size = 0
        self.high_water = high_water

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        super().write(data)
        self._size += len(data)

    def pending(self) -> int:
        return self._size

    async def drain(self) -> None:
        await super().drain()
        data = self.take()
        self._size = 0
        if data:
            await self._consumer(data)


class InputSource:
    """Bytes fed to a command's stdin, with an end-of-file mark."""

    def __init__(self, data: bytes = b"", eof: bool = True) -> None:
        self._buf = bytearray(data)
        self._eof = eof
        self._more = asyncio.Event() if not eof else None
        #: Called after a read took bytes out (a producer waiting for room resumes).
        self.on_read: Callable[[], None] | None = None

    @property
    def buffered(self) -> int:
        """Bytes fed and not read yet."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data
        if self._more is not None:
            self._more.set()

    def feed_eof(self) -> None:
        self._eof = True
        if self._more is not None:
            self._more.set()

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._buf

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is there with -1); b"" only at end of file."""
        while not self._buf and not self._eof:
            assert self._more is not None
            self._more.clear()
            await self._more.wait()
        if n < 0 or n >= len(self._buf):
            data = bytes(self._buf)
            self._buf.clear()
        else:
            data = bytes(self._buf[:n])
            del self._buf[:n]
        if data and self.on_read is not None:
            self.on_read()
        return data

    async def read_all(self) -> bytes:
        parts = []
        while True:
            chunk = await self.read()
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
