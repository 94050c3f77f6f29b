"""Leases: one device, one scenario at a time, across every process on this host.

A farm run has several pytest-xdist workers (and a CI host may run several jobs); two of them
on one phone would mix their journals and fight over its state. A lease is an exclusive
``flock`` on a small file named after the device, so it needs no coordinator, works across
processes that know nothing of each other, and is released by the kernel when its holder dies
— a SIGKILLed worker never leaves a device locked.

Leases are taken per scenario, least recently used device first, so a run with more devices
than workers still spreads its scenarios over all of them. Android devices and iOS simulators
are leased alike (anything with a host-unique ``key``).
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from harness.errors import BgtestError, DeviceError
from harness.own_folder import own_folder


class Leasable(Protocol):
    """Anything a run leases: an Android device on an adb server, an iOS simulator."""

    @property
    def key(self) -> str:
        """Unique on this host (it names the lock file)."""
        ...

    @property
    def serial(self) -> str: ...


T = TypeVar("T", bound=Leasable)


def lease_dir(runtime_dir: Path | None) -> Path:
    """Per user, on this host (``runtime_dir``: Settings.runtime_dir, $XDG_RUNTIME_DIR, else the
    temp folder): every bgtest process of the user sees the same leases."""
    return (runtime_dir or Path(tempfile.gettempdir())) / f"bgtest-leases-{os.getuid()}"


@dataclass
class Lease(Generic[T]):
    """A held device; ``release()`` is idempotent and never raises."""

    candidate: T
    _fd: int | None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


@dataclass
class DeviceLeases:
    """Takes leases on candidate devices; waits (interruptibly) while all are in use."""

    root: Path  # lease_dir(settings.runtime_dir)
    poll_s: float = 0.05
    sleep: Callable[[float], None] = time.sleep

    def _path(self, candidate: Leasable) -> Path:
        return self.root / (re.sub(r"[^A-Za-z0-9._-]", "_", candidate.key) + ".lock")

    def try_acquire(self, candidates: Sequence[T]) -> Lease[T] | None:
        """A lease on a free candidate (least recently leased first), or None when all are busy."""
        if own_folder(self.root) is None:
            raise BgtestError(
                f"{self.root} (where bgtest keeps its device leases) is not a folder of this user's own",
                hint="remove it (someone else may have made it), or set XDG_RUNTIME_DIR to a folder of yours",
            )

        def last_used(candidate: T) -> float:
            try:
                return self._path(candidate).stat().st_mtime
            except OSError:
                return 0.0

        for candidate in sorted(candidates, key=last_used):
            path = self._path(candidate)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.utime(path)  # this device is now the most recently used
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return Lease(candidate, fd)
        return None

    def acquire(self, candidates: Sequence[T], timeout_s: float | None = None) -> Lease[T]:
        """Wait for a free device. With ``timeout_s`` a :class:`DeviceError` names the busy ones."""
        if not candidates:
            raise ValueError("no candidates to lease")
        waited = 0.0
        while True:
            lease = self.try_acquire(candidates)
            if lease is not None:
                return lease
            if timeout_s is not None and waited >= timeout_s:
                names = ", ".join(c.serial for c in candidates)
                raise DeviceError(
                    names,
                    f"every device is leased by another bgtest process (waited {waited:.0f} s)",
                    hint="use fewer workers than devices, or wait for the other run to end",
                )
            self.sleep(self.poll_s)
            waited += self.poll_s

    def acquire_avoiding(self, candidates: Sequence[T], avoid: Collection[str]) -> Lease[T]:
        """A lease on a device whose key is not in ``avoid`` when one of those is free (a rerun
        goes to another device), else on any of ``candidates`` as it frees up."""
        others = [c for c in candidates if c.key not in avoid]
        lease = self.try_acquire(others) if avoid and others else None
        return lease or self.acquire(candidates)
