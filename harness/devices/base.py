"""What every device driver offers the runner: the ``Device`` protocol and its companions.

The runner, the state guard and the actions speak only these types; the drivers
(``android.py``, ``ios.py``) are the only code that knows platform commands. Actions a
platform may lack (``doze``, ``push`` …) are *not* part of this protocol: each action in
``harness/actions/`` declares the driver method it needs and the platforms that have it, and
a driver implements only what its platform can really do — no stubs to look alike (the
Maestro ``Driver`` idea, without its ``unsupported`` defaults).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.logs.expect import ExpectationEngine
    from harness.logs.record import LogRecord
    from harness.metrics import Measurement


class Facet(enum.Enum):
    """One kind of device state a step can change and the state guard puts back.

    Each state-changing action names the facets it touches (``doze`` also unplugs the
    battery); the guard restores exactly those, through the same driver setters.
    """

    DOZE = "doze"
    BATTERY = "battery"
    SAVER = "power saver"
    NETWORK = "network"
    BUCKET = "standby bucket"
    SCREEN = "screen"
    PROXY = "http proxy"


class DeviceState(Protocol):
    """One snapshot of the device's state (what the guard saves, what failure reports show)."""

    def summary(self) -> str:
        """One line a person reads: ``doze deep=IDLE …`` / ``Low Power Mode=on …``."""
        ...

    def as_dict(self) -> dict[str, Any]:
        """Plain data for results.json (the timeline's lanes)."""
        ...


@dataclass
class RoundTrips:
    """How often bgtest talked to the device, by channel (``adb``, ``xcrun``, ``wda``).

    Every driver counts its own requests here, so a step's cost is visible in results.json
    and a regression in a test (issue 17: the conversation is the cost, not the device).
    Counted from any thread (the log reader reconnects on its own).
    """

    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, channel: str, n: int = 1) -> None:
        with self._lock:
            self.counts[channel] = self.counts.get(channel, 0) + n

    def copy(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def since(self, before: dict[str, int]) -> dict[str, int]:
        """What was added since ``before`` (a :meth:`copy`), zero channels left out."""
        now = self.copy()
        return {k: v - before.get(k, 0) for k, v in now.items() if v - before.get(k, 0)}


class LogReader(Protocol):
    """A device's continuous log reader feeding the journal (logcat, the unified log)."""

    error: str

    @property
    def lock(self) -> threading.RLock: ...

    def barrier(self, marker: str, timeout: float = 30.0) -> LogRecord:
        """Log ``marker`` on the device and return its record once the reader has it.

        Everything the device logged before the marker is then in the journal, and the
        marker's time is "now" in device time. Raises a ``DeviceError`` naming the device
        when the marker never shows.
        """
        ...

    def stop(self) -> None: ...

    def pause(self) -> None:
        """The device is about to go away on purpose (a reboot): the next break is expected."""
        ...

    def resume(self) -> None:
        """The device is back (booted): carry on from the new boot."""
        ...

    def wait_rebooted(self, timeout: float) -> bool | None:
        """After :meth:`pause` and a reboot: True once the reader follows the new, completed
        boot, False if not within ``timeout``; None when this reader does not watch the boot
        (the driver then waits by itself)."""
        ...

    def inject(self, rec: LogRecord) -> None:
        """Add a record from outside the device log (a request the fault proxy saw): the
        expectations see it like any line, and the saved journal keeps it. Any thread."""
        ...

    def records_since(self, anchor_ns: int) -> list[LogRecord]: ...

    def records(self) -> list[LogRecord]: ...

    def all_records(self) -> list[LogRecord]: ...

    def job_id_for(self, task: str) -> int | None: ...

    def text(self, since_ns: int = 0) -> str: ...

    def diagnostics_text(self) -> str: ...

    def save(self, path: Path) -> Path: ...


@dataclass(frozen=True)
class LogInterest:
    """What a scenario will look for in the log, so a reader that filters on the device
    (iOS ``log stream --predicate``) keeps it: process/tag names and subsystems."""

    processes: frozenset[str] = frozenset()
    subsystems: frozenset[str] = frozenset()


class Device(Protocol):
    """One device as the runner sees it, whatever the platform."""

    platform: str
    round_trips: RoundTrips

    @property
    def serial(self) -> str:
        """The id every message starts with (adb serial, simulator UDID)."""
        ...

    @property
    def is_virtual(self) -> bool:
        """A bgtest virtual device: waits become clock advances instead of sleeps."""
        ...

    def describe(self) -> dict[str, str]: ...

    def open_journal(self, engine: ExpectationEngine, interest: LogInterest, app: AppUnderTest) -> LogReader:
        """Start this device's log reader feeding ``engine``; it streams when this returns."""
        ...

    def fresh_app(self, app: AppUnderTest) -> None:
        """On a virtual device shared by a run's scenarios: start from a freshly installed app."""
        ...

    def snapshot(self, apps: Sequence[str] = ()) -> DeviceState:
        """The state the guard saves: one batched read where the platform allows."""
        ...

    def snapshot_at_next_barrier(self, apps: Sequence[str]) -> None:
        """The guard's snapshot is due right after the next barrier: a device that can read its
        state in the marker's own command does, and :meth:`snapshot` answers from that read while
        nothing else was asked of it (the state at the step's marker is the state before it)."""
        ...

    def restore(self, saved: DeviceState, apps: Sequence[str], facets: Collection[Facet]) -> list[str]:
        """Put back ``facets`` as ``saved`` found them, with the setters the actions use.

        Returns what was done, for the report; never raises (a half-failed restore still
        tries every facet, and says which failed).
        """
        ...

    def rebooting(self, journal: LogReader | None, timeout: float = 180.0) -> AbstractContextManager[None]:
        """``with device.rebooting(journal): device.reboot()`` — the journal is paused across
        the reboot and resumed only if it was running; returns once the device has booted."""
        ...

    def advance(self, ms: int, slice_ms: int | None = None) -> int:
        """Move a virtual device's clock (the caller sleeps on a real one) by ``ms``; returns how
        far it moved. With ``slice_ms`` (a caller that looks at the log after every slice) it
        may stop after a slice: the first one, or — where the device can tell — the first one in
        which it logged or printed anything (a slice with nothing in it decides nothing)."""
        ...

    def clock_rate(self) -> float | None:
        """Device seconds per wall second while its clock runs by itself: 1 on a phone and on a
        virtual device whose clock is realtime, N when it is scaled; None when it moves only when
        asked (:meth:`advance`: a manual virtual clock). Asked before each wait: a scenario's
        ``shell`` step may switch the mode."""
        ...

    def failure_captures(self) -> Sequence[tuple[str, str]]:
        """``(what, file name)`` of the ``capture`` kinds worth saving when a scenario fails."""
        ...

    def capture(self, what: str, app: AppUnderTest, journal: LogReader) -> bytes:
        """One artifact: ``screenshot``, ``journal``, ``dumpsys_*``, ``diagnostics``."""
        ...

    def profile(self) -> str:
        """The device profile this device is (harness/profiles.py): set on a virtual one, read on a phone."""
        ...

    def metrics(self, app: AppUnderTest, journal: LogReader) -> MetricReader:
        """The app's memory / battery / queue readings on this device (docs/metrics.md)."""
        ...


class MetricReader(Protocol):
    """What ``metric:`` steps read through (AndroidMetrics, IosMetrics)."""

    def start(self, names: set[str]) -> None:
        """A new measuring period begins (the scenario's start): reset the OS's counters."""
        ...

    def measure(self, name: str) -> Measurement: ...


@runtime_checkable
class KeepsNotes(Protocol):
    """A driver that can keep a small text file of bgtest's own *on the device*, across runs
    and hosts. The state ledger (``run/ledger.py``) keeps a copy of its entry there, so a run
    from another host still finds what a killed run left changed; a device whose state lives
    on the host anyway (a simulator) does without. ``name`` is a plain file name."""

    def write_note(self, name: str, text: str) -> None:
        """Replace the note whole (never half-written); raises ``BgtestError`` when it cannot."""
        ...

    def read_note(self, name: str) -> str | None:
        """The note's text, or None when there is none."""
        ...

    def remove_note(self, name: str) -> None: ...


def vendor_clock_ms(line: str) -> int | None:
    """The device time (epoch ms) in a virtual device's ``clock`` answer (its first word)."""
    words = line.split()
    return int(words[0]) if words and words[0].isdigit() else None


def vendor_clock_rate(line: str) -> float | None:
    """The rate in a virtual device's ``clock`` answer (``<epoch ms> manual|realtime|scaled N``,
    from ``cmd bgtest clock`` and ``simctl bgtest clock``): see :meth:`Device.clock_rate`."""
    words = line.split()
    mode = words[1] if len(words) > 1 else "manual"
    if mode == "realtime":
        return 1.0
    if mode == "scaled" and len(words) > 2:
        try:
            return float(words[2])
        except ValueError:
            return None
    return None


def joined(argvs: Sequence[Sequence[str]], separator: str) -> str:
    """Several device commands as one shell line, each followed by an ``echo SEPARATOR``.

    One round trip instead of one per command (Mobly's ``getprops`` idea); every argv is
    quoted on its own, so no value ever reaches the shell unquoted.
    """
    import shlex

    parts = []
    for argv in argvs:
        parts.append(shlex.join(list(argv)) + " 2>/dev/null")
        parts.append(shlex.join(["echo", separator]))
    return "; ".join(parts)


def split_joined(text: str, separator: str, count: int) -> list[str]:
    """The outputs of :func:`joined`, one per command (missing ones empty)."""
    chunks = text.replace("\r", "").split(separator + "\n")
    chunks = [c.strip() for c in chunks]
    return (chunks + [""] * count)[:count]
