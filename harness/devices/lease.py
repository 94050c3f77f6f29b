"""Leases: one device, one scenario at a time, across every process on this host.

A farm run has several pytest-xdist workers (and a CI host may run several jobs); two of them
on one phone would mix their journals and fight over its state. A lease is an exclusive
``flock`` on a small file named after the device, so it needs no coordinator, works across
processes that know nothing of each other, and is released by the kernel when its holder dies
— a SIGKILLed worker never leaves a device locked.

Leases are taken per scenario, least recently used device first, so a run with more devices
than workers still spreads its scenarios over all of them.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.devices.pool import Candidate
from harness.errors import DeviceError


def default_lease_dir() -> Path:
    """Per user, on this host: every bgtest process of the user sees the same leases."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"bgtest-leases-{os.getuid()}"


@dataclass
class Lease:
    """A held device; ``release()`` is idempotent and never raises."""

    candidate: Candidate
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

    root: Path = field(default_factory=default_lease_dir)
    poll_s: float = 0.05
    sleep: Callable[[float], None] = time.sleep

    def _path(self, candidate: Candidate) -> Path:
        return self.root / (re.sub(r"[^A-Za-z0-9._-]", "_", candidate.key) + ".lock")

    def try_acquire(self, candidates: Sequence[Candidate]) -> Lease | None:
        """A lease on a free candidate (least recently leased first), or None when all are busy."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

        def last_used(candidate: Candidate) -> float:
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

    def acquire(self, candidates: Sequence[Candidate], timeout_s: float | None = None) -> Lease:
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
