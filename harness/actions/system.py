"""Whole-device actions: reboot, the shell escape hatch, WorkManager diagnostics, captures."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol

from pydantic import AfterValidator, Field, WithJsonSchema

from harness.actions.base import Action, RunContext
from harness.errors import StepFailed
from harness.report.paths import is_safe_name, safe_name
from harness.scenario.fields import Duration
from harness.scenario.step import StepBase

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import LogReader

# --------------------------------------------------------------------------- step models


class Reboot(StepBase):
    kind: ClassVar[str] = "reboot"
    timeout: Duration | None = Field(None, description="how long to wait for the boot")


class Diagnostics(StepBase):
    kind: ClassVar[str] = "diagnostics"


class Shell(StepBase):
    kind: ClassVar[str] = "shell"
    primary: ClassVar[str | None] = "argv"
    argv: list[str] = Field(min_length=1, description="program and arguments, each quoted for you")
    check: bool = Field(True, description="fail the step on a non-zero exit status")

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                f"shell takes an argv list, not a command line; write shell: {value.split()!r}".replace(
                    "'", '"'
                )
            )
        return {"argv": value}


CaptureWhat = Literal[
    "screenshot", "journal", "dumpsys_jobscheduler", "dumpsys_deviceidle", "dumpsys_battery", "diagnostics",
    "dumpsys_meminfo", "dumpsys_procstats", "dumpsys_batterystats",
]


def _artifact_name(value: str) -> str:
    if not is_safe_name(value):
        raise ValueError(
            f"an artifact name is a plain file name (letters, digits, '.', '_', '-'), not {value!r}: "
            f"it is written inside the report folder; for example {safe_name(value)!r}"
        )
    return value


ArtifactName = Annotated[
    str,
    AfterValidator(_artifact_name),
    WithJsonSchema({"type": "string", "pattern": r"^[A-Za-z0-9_](?!.*\.\.)[A-Za-z0-9._-]{0,99}$"}),
]


class Capture(StepBase):
    kind: ClassVar[str] = "capture"
    primary: ClassVar[str | None] = "what"
    what: CaptureWhat
    name: ArtifactName | None = Field(
        None, description="artifact file name in the report folder; default: what"
    )


# --------------------------------------------------------------------------- driver capabilities

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



# --------------------------------------------------------------------------- actions


class RebootAction(Action[Reboot]):
    model: ClassVar = Reboot
    summary = "reboot and wait until the device has booted"
    example = "reboot"
    android = "`adb reboot`, wait for disconnect, device, `sys.boot_completed=1`"
    ios = "`simctl shutdown`, `boot`, `bootstatus -b`"

    def run(self, step: Reboot, ctx: RunContext, device: Reboots) -> None:
        timeout = step.timeout / 1000 if step.timeout else 180.0
        with device.rebooting(ctx.journal, timeout=timeout):
            device.reboot()


class DiagnosticsAction(Action[Diagnostics]):
    model: ClassVar = Diagnostics
    summary = "ask WorkManager to log its diagnostics"
    example = "diagnostics"
    android = "`am broadcast -a androidx.work.diagnostics.REQUEST_DIAGNOSTICS -p <package>`"
    ios_why_not = "WorkManager diagnostics exist on Android only"

    def run(self, step: Diagnostics, ctx: RunContext, device: HasDiagnostics) -> None:
        device.diagnostics(ctx.app.need())


class ShellAction(Action[Shell]):
    model: ClassVar = Shell
    summary = "escape hatch: run an argv list in the device shell"
    example = "shell: [settings, list, global]"
    android = "`adb shell <argv>` (quoted)"
    ios_why_not = "iOS has no shell; use a dedicated action"

    def run(self, step: Shell, ctx: RunContext, device: HasShell) -> None:
        result = device.shell(step.argv)
        if step.check and result.exit_code != 0:
            said = (result.err or result.out).strip()[-500:]
            raise StepFailed(f"`{shlex.join(step.argv)}` exited {result.exit_code}: {said}")


class CaptureAction(Action[Capture]):
    model: ClassVar = Capture
    summary = "save a named artifact: screenshot, journal, dumpsys_*, diagnostics"
    example = "capture: screenshot"
    android = "`screencap -p`, the journal, `dumpsys …`"
    ios = "`simctl io screenshot`, the unified-log journal"
    option_limits: ClassVar = {
        "dumpsys_jobscheduler": (("android",), "dumpsys is Android"),
        "dumpsys_deviceidle": (("android",), "dumpsys is Android"),
        "dumpsys_battery": (("android",), "dumpsys is Android"),
        "diagnostics": (("android",), "WorkManager diagnostics exist on Android only"),
    }

    def run(self, step: Capture, ctx: RunContext, device: Captures) -> None:
        suffix = ".png" if step.what == "screenshot" else ".txt"
        name = step.name or step.what
        ctx.save_artifact(  # `name: before.txt` is before.txt, not before.txt.txt
            name if name.endswith(suffix) else name + suffix, device.capture(step.what, ctx.app, ctx.journal)
        )
