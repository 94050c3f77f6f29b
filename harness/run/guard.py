"""The state guard: what a scenario changed on the device is put back when it ends — after a
failure, on Ctrl-C, on SIGTERM (DESIGN.md's rule; signals: :mod:`harness.run.interrupts`).

It snapshots the device before the first state-changing step and, at the end, asks the driver
to restore the facets those steps touched; the driver restores through the same setters the
actions use, so the two cannot drift apart. With a :class:`~harness.run.ledger.DeviceLedger`
the saved values and each facet are written down before the change, so a run that dies
without restoring is repaired by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.devices.base import Device, DeviceState, Facet
from harness.errors import BgtestError
from harness.run.ledger import DeviceLedger


class StateGuard:
    """Saves the device's state once, collects what the steps touch, restores it at the end."""

    def __init__(
        self, device: Device, apps: Sequence[str], ledger: DeviceLedger | None = None, where: str = ""
    ) -> None:
        self.device = device
        self.apps = list(apps)
        self.ledger = ledger
        self.where = where
        self.saved: DeviceState | None = None
        self.touched: set[Facet] = set()

    def before(self, facets: frozenset[Facet]) -> bool:
        """A step is about to change ``facets``: the first one takes the snapshot (True then);
        the ledger learns each facet before it changes."""
        if not facets:
            return False
        first = self.saved is None
        if self.saved is None:
            self.saved = self.device.snapshot(self.apps)
            if self.ledger is not None:
                self.ledger.begin(self.saved, self.apps, self.where)
        for facet in sorted(facets - self.touched, key=lambda f: f.value):
            self.touched.add(facet)
            if self.ledger is not None:
                self.ledger.changing(facet.value)  # on the host (and the device) before the change
        return first

    def saved_dict(self) -> dict[str, Any]:
        """The state before the first change, as plain data (the report's starting lanes)."""
        return self.saved.as_dict() if self.saved is not None else {}

    def restore(self) -> list[str]:
        """Put back what was touched; the report says what is back, and what is not and why.

        A setter that returned without error has not necessarily changed anything, so the
        restore is checked by doing it again: a second pass finds nothing left to do when the
        first one held. What the second pass still had to change is tried once more and
        checked by a third; what is still different then is reported as NOT restored —
        never as restored. (The caller defers signals meanwhile: a Ctrl-C waits for this.)
        """
        if self.saved is None:
            return []
        passes: list[list[str]] = []
        try:
            while len(passes) < 3 and (not passes or passes[-1]):
                passes.append(self.device.restore(self.saved, self.apps, self.touched))
        except BgtestError as exc:
            passes.append([f"{NOT_RESTORED}the device did not answer ({exc.render()})"])
        restored = truth(passes)
        if self.ledger is not None:
            self.ledger.finish(restored)
        return restored


#: how a report line says a setting is still different from what the scenario found
NOT_RESTORED = "NOT restored: "


def _key(item: str) -> str:
    return item.split(" (FAILED", 1)[0]


def truth(passes: list[list[str]]) -> list[str]:
    """One report from the restore passes: each pass lists what it still found to change.

    An item the next pass no longer lists is back (checked); one the next pass lists again
    did not hold and is reported by that pass; what the final pass still lists is not back.
    """
    report: list[str] = []
    for index, done in enumerate(passes):
        following = passes[index + 1] if index + 1 < len(passes) else None
        for item in done:
            if item.startswith(NOT_RESTORED):
                report.append(item)
            elif following is None:
                why = "" if "(FAILED" in item else " (still different after two tries)"
                report.append(f"{NOT_RESTORED}{item}{why}")
            elif _key(item) not in {_key(later) for later in following}:
                report.append(_key(item) if index == 0 else f"{_key(item)} (on a second try)")
    return report


def unrestored(report: list[str]) -> list[str]:
    """The lines of a restore report that say something is still different."""
    return [item for item in report if item.startswith(NOT_RESTORED)]
