"""What one action is: its step model, where it runs, what it changes, how it reads, what it does.

An action lives in one module of this package: its YAML step model (a
:class:`~harness.scenario.step.StepBase` subclass, ``Doze``) next to its :class:`Action`
subclass (``DozeAction``), registered in :mod:`harness.actions.registry`, which is where the
scenario models, validation, the schema, the docs and the runner all find it. Its ``run``
names the driver capability it needs in the type of its ``device`` parameter (a small
``Protocol``: ``def doze(self, mode: str) -> str``), so the one table here — ``android`` /
``ios`` command text or ``None`` with the reason — decides availability for validation *and*
execution, and a test checks that every driver of a platform that has the action implements
that capability.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from harness.durations import format_duration_ms
from harness.errors import UnsupportedAction

if TYPE_CHECKING:
    from collections.abc import Callable

    from harness.actions.flow import Expect
    from harness.apps.target import AppUnderTest
    from harness.devices.base import Device, Facet, LogReader
    from harness.metrics import Measurement
    from harness.network.session import ScenarioNetwork
    from harness.scenario.step import StepBase
    from harness.scenario.values import Comparison

S = TypeVar("S", bound="StepBase")


class RunContext(Protocol):
    """What an action may use of the run it is part of (the runner implements it)."""

    device: Device
    app: AppUnderTest
    anchor_ns: int  # where the next expectation's window starts (device time, ns)

    @property
    def journal(self) -> LogReader: ...

    @property
    def scenario_timeout_ms(self) -> int | None: ...

    def barrier(self, what: str) -> int:
        """A marker through the device log; its device time (ns) once the journal has it."""
        ...

    def let_time_pass(self, ms: int, what: str, until: Callable[[], bool] | None = None) -> None: ...

    def evaluate(
        self, step: Expect, anchor_ns: int, end_ns: int | None, what: str, closes_at: int | None = None
    ) -> None:
        """Judge an expectation over the journal in ``[anchor_ns, end_ns)`` (None: what already
        happened, up to ``closes_at``); ``StepFailed`` when it fails."""
        ...

    def save_artifact(self, name: str, data: bytes) -> Path: ...

    def measure(self, name: str) -> Measurement:
        """A metric of the app read from the device now (harness.metrics), over the scenario so far."""
        ...

    def record_metric(self, reading: Measurement, bound: Comparison | None) -> None:
        """Keep a reading (and how it fared against its bound) in the scenario's result."""
        ...

    @property
    def network(self) -> ScenarioNetwork:
        """The fault proxy's part in this scenario (``harness/network``), started on first use."""
        ...


class Action(Generic[S]):
    """One scenario action. Subclasses set the class attributes and implement :meth:`run`."""

    model: ClassVar[type[StepBase]]
    summary: ClassVar[str]
    example: ClassVar[str]
    android: ClassVar[str | None] = None  # the command(s) on Android, None: not possible
    ios: ClassVar[str | None] = None
    android_why_not: ClassVar[str] = ""
    ios_why_not: ClassVar[str] = ""
    #: Options (field names or values) only some platforms have: name → (platforms, why not
    #: elsewhere). Validation reports one written for another platform at its file:line:col.
    option_limits: ClassVar[Mapping[str, tuple[tuple[str, ...], str]]] = {}
    #: Device state this action changes; the guard snapshots before it and restores these.
    touches: ClassVar[frozenset[Facet]] = frozenset()
    #: A device action marks its start with a barrier; ``wait``/``expect`` set their own anchors.
    marks_start: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return str(self.model.kind)

    def available(self, platform: str) -> bool:
        return getattr(self, platform, None) is not None

    def why_not(self, platform: str) -> str:
        return str(getattr(self, f"{platform}_why_not", ""))

    def touched(self, step: S) -> frozenset[Facet]:
        """What this step changes: ``touches`` unless the step's options narrow it (the ledger
        and the restore name only what a step can have changed)."""
        return self.touches

    def describe(self, step: S) -> str:
        """The step in one short line as the user wrote it (console, JUnit, HTML)."""
        if step.label:
            return str(step.label)
        data = step.model_dump(exclude_defaults=True, exclude={"label"})
        if not data:
            return self.kind
        parts = []
        for key, value in data.items():
            if key in ("duration", "timeout", "within") and isinstance(value, int):
                value = format_duration_ms(value)
            if key == "argv" and isinstance(value, list):
                value = shlex.join(value)
            value = _words(value)
            parts.append(value if key == step.primary else f"{key} {value}")
        return f"{self.kind}: " + ", ".join(parts)

    def execute(self, step: S, ctx: RunContext) -> None:
        """Run ``step`` on the context's device, or say at once that its platform lacks it."""
        device = ctx.device
        if not self.available(device.platform):
            raise UnsupportedAction(
                f"{self.kind} is not available on {device.platform}: {self.why_not(device.platform)}",
                device=device.serial,
            )
        self.run(step, ctx, device)

    def run(self, step: S, ctx: RunContext, device: Any) -> None:
        """Do it. ``device``'s annotation names the driver capability the action needs."""
        raise NotImplementedError


def _words(value: Any) -> str:
    """A step's option as people write it: on/off, ``k=v`` pairs, lists with commas — no reprs."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return " ".join(f"{k}={_words(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_words(v) for v in value)
    return str(value)
