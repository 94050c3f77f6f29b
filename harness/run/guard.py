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
        """Put back what was touched; what was done (or why not) for the report."""
        if self.saved is None:
            return []
        try:
            restored = self.device.restore(self.saved, self.apps, self.touched)
        except BgtestError as exc:
            restored = [f"restore failed: {exc.render()}"]
        if self.ledger is not None:
            self.ledger.finish(restored)
        return restored
