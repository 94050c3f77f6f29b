"""Commands that keep running (``log stream``, ``launch --console-pty``) follow the home's
append-only files without holding its lock: they look for new lines often (a ``stat``, every
10 ms), read the saved state again only when its file was replaced (or every 50 ms), and, when
device time follows the wall clock, run what fell due every 50 ms themselves. They stop when
nobody reads them any more (see :meth:`Follower.reader_gone`).

How often they look decides how soon bgtest sees its step marker after ``logger`` wrote it:
every step of a scenario waits for one (``harness/devices/ios_journal.py``).
"""

from __future__ import annotations

import os
import select
import time

from .device import open_world

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

    from .state import SimHome

#: How often a follower looks for new lines, in seconds (a stat of the file).
LOOK_S = 0.01
#: How often a follower reads the state again without a sign that it changed, and lets
#: realtime/scaled device time run what is due.
TICK_S = 0.05


class Follower:
    """The state and the clock of a home as a follower sees them between two looks."""

    def __init__(self, home: SimHome, out: Any = None) -> None:
        self.home = home
        self._out_fd = _fileno(out)
        self._asked_reader_at = float("-inf")
        self._stamp: tuple[int, int, int] | None = None
        self._state: dict[str, Any] | None = None
        self._read_at = float("-inf")
        self._ticked_at = float("-inf")

    def state(self) -> dict[str, Any] | None:
        """The saved state: read again when ``state.json`` was replaced since the last look, and
        at least every ``TICK_S`` (a replacement within the file system's time granularity that
        reuses the inode and keeps the size would otherwise go unseen)."""
        try:
            st = os.stat(self.home.state_file)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        now = time.monotonic()
        if stamp != self._stamp or now - self._read_at >= TICK_S:
            self._stamp, self._read_at = stamp, now
            self._state = self.home.read_state()
        return self._state

    def tick(self) -> None:
        """Realtime or scaled device time: run what fell due (nobody else may be asking)."""
        state = self.state()
        now = time.monotonic()
        if state is None or state["clock"]["mode"] == "manual" or now - self._ticked_at < TICK_S:
            return
        self._ticked_at = now
        with open_world(self.home):
            pass

    def reader_gone(self) -> bool:
        """Whoever read our output closed the pipe (bgtest ended, even by SIGKILL): a real
        ``log stream`` would die of SIGPIPE at its next line; a follower with nothing to write
        would otherwise look at the home every 10 ms for ever. Asked every ``TICK_S``."""
        now = time.monotonic()
        if self._out_fd is None or now - self._asked_reader_at < TICK_S:
            return False
        self._asked_reader_at = now
        poller = select.poll()
        poller.register(self._out_fd, 0)  # POLLERR/POLLHUP are always reported
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))

    def settled(self) -> None:
        """Wait until the command writing now has written everything (its state, log and stdout
        are written one after another under the lock)."""
        with self.home.locked():
            pass


def _fileno(out: Any) -> int | None:
    """The descriptor of a real output stream (a test's buffer has none)."""
    try:
        return int(out.fileno())
    except (AttributeError, OSError, ValueError):
        return None
