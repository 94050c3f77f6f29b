"""One discrete-event clock per virtual device.

Everything on a virtual device reads this clock: log timestamps, ``date``, uptime, alarms, job
deadlines, battery drain. Three modes:

- ``manual``: time moves only when asked (``advance``); what the harness and the tests use,
  so a 6-hour Doze night is a loop over due events, not a sleep.
- ``realtime``: device time follows the wall clock (a person at ``adb shell``).
- ``scaled``: device time runs N times faster than the wall clock.

Callbacks are plain synchronous functions run on the device's event loop thread; they may
schedule further events. Events due at the same instant run in the order they were
scheduled, which keeps a run deterministic.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    import asyncio
    from typing import Literal

    ClockMode = Literal["manual", "realtime", "scaled"]

#: 2026-01-05 09:00:00 UTC, a Monday: the default start of a virtual device's day.
DEFAULT_EPOCH_MS = 1_767_603_600_000


class Timer:
    """A scheduled callback; ``cancel()`` it to stop it from running.

    Timers order by due time, then by the order they were scheduled (the clock's heap). A plain
    class rather than a dataclass: the iOS stand-in is a process per ``xcrun`` call, and the
    dataclasses module (with inspect, ast, dis) was a fifth of its imports.
    """

    __slots__ = ("callback", "cancelled", "name", "seq", "when_ms")

    def __init__(self, when_ms: int, seq: int, callback: Callable[[], object], name: str = "") -> None:
        self.when_ms = when_ms
        self.seq = seq
        self.callback = callback
        self.name = name
        self.cancelled = False

    def __lt__(self, other: Timer) -> bool:
        return (self.when_ms, self.seq) < (other.when_ms, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Device time in epoch milliseconds plus an ordered queue of due events."""

    def __init__(
        self,
        start_ms: int = DEFAULT_EPOCH_MS,
        mode: ClockMode = "manual",
        scale: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall = wall
        self._queue: list[Timer] = []
        self._seq = itertools.count()
        self._mode: ClockMode = mode
        self._scale = scale if mode == "scaled" else 1.0
        self._anchor_ms = float(start_ms)
        self._anchor_wall = wall()
        self._firing = False
        self._wake: asyncio.Event | None = None
        self._io: set[asyncio.Future[object]] = set()
        self.events_run = 0

    # ----------------------------------------------------------------- reading
    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def scale(self) -> float:
        return self._scale

    def now_ms(self) -> int:
        """Device time, epoch milliseconds."""
        return int(self.now_exact_ms())

    def now_exact_ms(self) -> float:
        if self._mode == "manual":
            return self._anchor_ms
        return self._anchor_ms + (self._wall() - self._anchor_wall) * 1000.0 * self._scale

    def now_ns(self) -> int:
        # Split before scaling: epoch ns need 19 digits and a float holds ~16, so
        # ``ms * 1e6`` would stamp 09:00:00.005 as .004999936 (logcat prints .004).
        ms = self.now_exact_ms()
        whole = int(ms)
        return whole * 1_000_000 + int((ms - whole) * 1_000_000)

    # -------------------------------------------------------------- scheduling
    def schedule_at(self, when_ms: float, callback: Callable[[], object], name: str = "") -> Timer:
        """Run ``callback`` when device time reaches ``when_ms`` (at once if already past)."""
        timer = Timer(int(when_ms), next(self._seq), callback, name)
        heapq.heappush(self._queue, timer)
        if self._wake is not None:
            self._wake.set()
        return timer

    def schedule_in(self, delay_ms: float, callback: Callable[[], object], name: str = "") -> Timer:
        return self.schedule_at(self.now_ms() + max(0, delay_ms), callback, name)

    def next_due_ms(self) -> int | None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0].when_ms if self._queue else None

    def pending(self) -> int:
        return sum(1 for t in self._queue if not t.cancelled)

    # ------------------------------------------------------------------ moving
    def _set_now(self, ms: float) -> None:
        self._anchor_ms = ms
        self._anchor_wall = self._wall()

    def run_due(self) -> int:
        """Run every event whose time has come; return how many ran."""
        return self._run_until(self.now_exact_ms(), move=False)

    def advance(self, delta_ms: float) -> int:
        """Move device time forward by ``delta_ms``, running each due event at its own time.

        Works in every mode: in real time it is a jump forward (what ``cmd bgtest clock
        advance`` means on a virtual device left in realtime mode).
        """
        if delta_ms < 0:
            raise ValueError("time does not go backwards")
        target = self.now_exact_ms() + delta_ms
        return self._run_until(target, move=True)

    def advance_to(self, when_ms: float) -> int:
        return self.advance(max(0.0, when_ms - self.now_exact_ms()))

    def hold(self, pending: asyncio.Future[object]) -> None:
        """An event started I/O whose answer decides what happens next in device time (a
        worker's HTTP request through the proxy): :meth:`advance_async` runs no later event
        until it is done. The answer itself says how much device time the exchange took
        (``harness/network/virtual_time.py``), so the clock never waits on the wall."""
        self._io.add(pending)
        pending.add_done_callback(self._io.discard)

    async def advance_async(self, delta_ms: float) -> int:
        """:meth:`advance`, letting the event loop carry held I/O between events."""
        import asyncio

        if delta_ms < 0:
            raise ValueError("time does not go backwards")
        target = self.now_exact_ms() + delta_ms
        ran = self._run_until(target, move=True, stop_on_io=True)
        while self._io:
            await asyncio.wait(list(self._io))
            ran += self._run_until(target, move=True, stop_on_io=True)
        return ran

    def _run_until(self, target: float, move: bool, stop_on_io: bool = False) -> int:
        if self._firing:
            # An event asked to advance time (e.g. a worker "sleeping"): just move the target.
            if move and target > self._anchor_ms:
                self._set_now(target)
            return 0
        ran = 0
        self._firing = True
        try:
            while True:
                if stop_on_io and self._io:
                    break  # (also I/O an earlier command started: nothing runs before its answer)
                due = self.next_due_ms()
                if due is None or due > target:
                    break
                timer = heapq.heappop(self._queue)
                if timer.when_ms > self.now_exact_ms():
                    self._set_now(timer.when_ms)
                timer.callback()
                ran += 1
            if move and target > self.now_exact_ms() and not (stop_on_io and self._io):
                self._set_now(target)
        finally:
            self._firing = False
        self.events_run += ran
        return ran

    def set_mode(self, mode: ClockMode, scale: float = 1.0) -> None:
        """Switch mode without a jump in device time."""
        now = self.now_exact_ms()
        self._mode = mode
        self._scale = scale if mode == "scaled" else 1.0
        self._set_now(now)
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------ background driver
    async def drive(self) -> None:
        """Fire due events in realtime/scaled mode; idle in manual mode. Runs until cancelled."""
        import asyncio  # only the realtime driver needs it; xcrun stand-in calls stay light

        self._wake = asyncio.Event()
        try:
            while True:
                self._wake.clear()
                if self._mode == "manual":
                    await self._wake.wait()
                    continue
                self.run_due()
                due = self.next_due_ms()
                if due is None:
                    await self._wake.wait()
                    continue
                wait_s = max(0.0, (due - self.now_exact_ms()) / 1000.0 / self._scale)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=min(wait_s, 3600.0))
                except asyncio.TimeoutError:
                    pass
        finally:
            self._wake = None
