"""The vendor ``clock`` verb both virtual devices answer (``cmd bgtest clock …`` on Android,
``simctl bgtest clock …`` on the virtual iPhone): one grammar, one set of answers.

It is how a harness finds out it talks to a virtual device and asks it to move time instead
of sleeping: ``clock advance 6h`` runs every event due in those six hours, in order, each at
its own device time, and returns when the device has caught up.
"""

from __future__ import annotations

from ..durations import DurationError, format_duration_ms, parse_duration_ms

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Protocol

    from .clock import ClockMode

    class ClockControl(Protocol):
        """What the verb drives: a device's clock (``VirtualClock``, or the iPhone world's)."""

        @property
        def mode(self) -> ClockMode: ...

        @property
        def scale(self) -> float: ...

        def now_ms(self) -> int: ...

        def advance(self, delta_ms: int) -> int: ...

        def set_mode(self, mode: ClockMode, scale: float = 1.0) -> None: ...


USAGE = """clock
    Print the device time (epoch ms) and the clock mode.
  clock advance DURATION
    Run every event due in DURATION (500ms, 30s, 15m, 6h, 1d) in order, then return.
  clock mode manual|realtime|scaled N
    Switch the clock mode; scaled runs N times faster than the wall clock."""


class ClockCommandError(ValueError):
    """Bad arguments; the message is what the device prints after ``Error: ``."""


def clock_command(clock: ClockControl, args: list[str]) -> str:
    """Run ``clock [advance D | mode M [N]]`` and return the line to print."""
    if not args:
        return _status(clock)
    verb, rest = args[0], args[1:]
    if verb == "advance":
        delta = _advance_delta(rest)
        return _advanced(clock, delta, clock.advance(delta))
    if verb == "mode":
        if rest == ["manual"]:
            clock.set_mode("manual")
        elif rest == ["realtime"]:
            clock.set_mode("realtime")
        elif rest[:1] == ["scaled"] and len(rest) == 2:
            try:
                factor = float(rest[1])
            except ValueError:
                factor = 0.0
            if not factor > 0 or factor == float("inf"):
                raise ClockCommandError(f"scale must be a positive number: {rest[1]}")
            clock.set_mode("scaled", factor)
        else:
            raise ClockCommandError("clock mode manual|realtime|scaled N")
        return _status(clock)
    raise ClockCommandError(f"unknown clock command: {verb}")


async def clock_command_io(clock: ClockControl, args: list[str]) -> str:
    """:func:`clock_command` on a device whose events may wait on I/O (a worker's HTTP request
    through ``adb reverse``): ``advance`` lets the device's event loop carry it between events
    (``VirtualClock.advance_async``)."""
    advance_async = getattr(clock, "advance_async", None)
    if args[:1] != ["advance"] or advance_async is None:
        return clock_command(clock, args)
    delta = _advance_delta(args[1:])
    return _advanced(clock, delta, await advance_async(delta))


def _advance_delta(rest: list[str]) -> int:
    if len(rest) != 1:
        raise ClockCommandError("clock advance needs one duration, e.g. 500ms, 30s, 15m, 6h, 1d")
    try:
        return parse_duration_ms(rest[0])
    except DurationError as exc:
        raise ClockCommandError(str(exc)) from None


def _advanced(clock: ClockControl, delta: int, ran: int) -> str:
    return f"advanced {format_duration_ms(delta)} to {clock.now_ms()}, {ran} events"


def _status(clock: ClockControl) -> str:
    mode = f"scaled {clock.scale:g}" if clock.mode == "scaled" else clock.mode
    return f"{clock.now_ms()} {mode}"
