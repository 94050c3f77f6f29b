"""Whole-device actions: reboot, the shell escape hatch, WorkManager diagnostics, captures."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, ClassVar, Protocol

from harness.actions.base import Action, RunContext
from harness.errors import StepFailed
from harness.scenario import models as m

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import LogReader


class Reboots(Protocol):
    def reboot(self) -> None: ...

    def rebooting(
        self, journal: LogReader | None, timeout: float = 180.0
    ) -> AbstractContextManager[None]: ...


class ShellResultLike(Protocol):
    exit_code: int

    @property
    def out(self) -> str: ...

    @property
    def err(self) -> str: ...


class HasShell(Protocol):
    def shell(self, argv: Sequence[str]) -> ShellResultLike: ...


class HasDiagnostics(Protocol):
    def diagnostics(self, package: str) -> str: ...


class Captures(Protocol):
    def capture(self, what: str, app: AppUnderTest, journal: LogReader) -> bytes: ...


class Reboot(Action[m.Reboot]):
    model: ClassVar = m.Reboot
    summary = "reboot and wait until the device has booted"
    example = "reboot"
    android = "`adb reboot`, wait for disconnect, device, `sys.boot_completed=1`"
    ios = "`simctl shutdown`, `boot`, `bootstatus -b`"

    def run(self, step: m.Reboot, ctx: RunContext, device: Reboots) -> None:
        timeout = step.timeout / 1000 if step.timeout else 180.0
        with device.rebooting(ctx.journal, timeout=timeout):
            device.reboot()


class Diagnostics(Action[m.Diagnostics]):
    model: ClassVar = m.Diagnostics
    summary = "ask WorkManager to log its diagnostics"
    example = "diagnostics"
    android = "`am broadcast -a androidx.work.diagnostics.REQUEST_DIAGNOSTICS -p <package>`"
    ios_why_not = "WorkManager diagnostics exist on Android only"

    def run(self, step: m.Diagnostics, ctx: RunContext, device: HasDiagnostics) -> None:
        device.diagnostics(ctx.app.need())


class Shell(Action[m.Shell]):
    model: ClassVar = m.Shell
    summary = "escape hatch: run an argv list in the device shell"
    example = "shell: [settings, list, global]"
    android = "`adb shell <argv>` (quoted)"
    ios_why_not = "iOS has no shell; use a dedicated action"

    def run(self, step: m.Shell, ctx: RunContext, device: HasShell) -> None:
        result = device.shell(step.argv)
        if step.check and result.exit_code != 0:
            said = (result.err or result.out).strip()[-500:]
            raise StepFailed(f"`{shlex.join(step.argv)}` exited {result.exit_code}: {said}")


class Capture(Action[m.Capture]):
    model: ClassVar = m.Capture
    summary = "save a named artifact: screenshot, journal, dumpsys_*, diagnostics"
    example = "capture: screenshot"
    android = "`screencap -p`, the journal, `dumpsys …`"
    ios = "`simctl io screenshot`, the unified-log journal"

    def run(self, step: m.Capture, ctx: RunContext, device: Captures) -> None:
        suffix = ".png" if step.what == "screenshot" else ".txt"
        ctx.save_artifact(
            f"{step.name or step.what}{suffix}", device.capture(step.what, ctx.app, ctx.journal)
        )
