"""Background-task actions: run a waiting task now, expire a running one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Protocol

from pydantic import AfterValidator, Field

from harness.actions.base import Action, RunContext
from harness.scenario.step import StepBase
from harness.scenario.values import is_glob

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import LogReader

# --------------------------------------------------------------------------- step models


def _one_task(value: str) -> str:
    if is_glob(value):
        raise ValueError(f"this action works on one task, and {value!r} is a glob: name the task")
    return value


OneTask = Annotated[str, AfterValidator(_one_task)]


class RunTask(StepBase):
    kind: ClassVar[str] = "run_task"
    primary: ClassVar[str | None] = "task"
    task: OneTask = Field(description="task id / unique work name / BGTask identifier")
    hook: str | None = Field(None, description="iOS Simulator: the app hook (URL) that runs the task")


class ExpireTask(StepBase):
    kind: ClassVar[str] = "expire_task"
    primary: ClassVar[str | None] = "task"
    task: OneTask


# --------------------------------------------------------------------------- driver capabilities

class RunsTasks(Protocol):
    def run_task(self, app: AppUnderTest, task: str, hook: str | None, journal: LogReader) -> None: ...


class ExpiresTasks(Protocol):
    def expire_task(self, app: AppUnderTest, task: str, journal: LogReader) -> None: ...



# --------------------------------------------------------------------------- actions


class RunTaskAction(Action[RunTask]):
    model: ClassVar = RunTask
    summary = "force a waiting task to run now"
    example = "run_task: periodic-sync"
    android = (
        "job id from WorkManager logs / `dumpsys jobscheduler`, then `cmd jobscheduler run -f <package> <id>`"
    )
    ios = "device: `lldb … _simulateLaunchForTaskWithIdentifier:`; Simulator: the app's debug hook"

    def run(self, step: RunTask, ctx: RunContext, device: RunsTasks) -> None:
        device.run_task(ctx.app, step.task, step.hook, ctx.journal)


class ExpireTaskAction(Action[ExpireTask]):
    model: ClassVar = ExpireTask
    summary = "expire a running background task (its expiration handler runs)"
    example = "expire_task: dev.example.refresh"
    ios = "`lldb … _simulateExpirationForTaskWithIdentifier:`"
    android_why_not = "Android jobs are stopped by the system, not expired; use stop_app or kill"

    def run(self, step: ExpireTask, ctx: RunContext, device: ExpiresTasks) -> None:
        device.expire_task(ctx.app, step.task, ctx.journal)
