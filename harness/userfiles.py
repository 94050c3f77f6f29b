"""Reading a file a user named, without trusting it: regular files only, size checked first.

A scenario path, an ``include:``, an app model or a log file may be a FIFO (``open`` blocks
until a writer comes), a device (``/dev/zero`` never ends), or a symlink to one. Checking the
size after ``read()`` is too late: the read itself never returns or exhausts memory. So the
file's kind and size are checked with ``stat`` before it is opened, the open cannot block
(``O_NONBLOCK``), the descriptor is checked again (the path may have been swapped in between)
and the read stops one byte past the limit (a file may grow while it is read).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFile(OSError):
    """A file bgtest refuses to read, or could not; ``reason`` says why, to follow "cannot read X: "."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, missing: bool = False) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason
        #: the path names nothing: "check the path" helps here, not for a file that is too large
        self.missing = missing


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (``None`` for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def _refuse_kind(path: Path, mode: int) -> None:
    kind = _kind(mode)
    if kind is None:
        return
    target = ""
    if path.is_symlink():
        try:
            target = f" (a symbolic link to {os.path.realpath(path)})"
        except OSError:
            target = " (a symbolic link)"
    raise UnreadableFile(path, f"it is {kind}{target}; only regular files are read")


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Raises :class:`UnreadableFile` (an ``OSError``) for a missing file, a special file or a
    symlink to one, and a file larger than ``limit`` — without reading any of it.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        raise UnreadableFile(p, exc.strerror or str(exc), missing=missing) from None
    _refuse_kind(p, st.st_mode)
    if st.st_size > limit:
        raise UnreadableFile(p, _too_large(st.st_size, limit))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise UnreadableFile(p, exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)  # the path may now name something else than what was checked
        _refuse_kind(p, st.st_mode)
        if st.st_size > limit:
            raise UnreadableFile(p, _too_large(st.st_size, limit))
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise UnreadableFile(p, f"it grew past the limit of {limit:,} bytes while it was read")
        return b"".join(chunks)
    except UnreadableFile:
        raise
    except OSError as exc:
        raise UnreadableFile(p, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def _too_large(size: int, limit: int) -> str:
    return f"it is too large ({size:,} bytes; the limit is {limit:,})"
