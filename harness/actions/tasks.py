"""Background-task actions: run a waiting task now, expire a running one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from harness.actions.base import Action, RunContext
from harness.scenario import models as m

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import LogReader


class RunsTasks(Protocol):
    def run_task(self, app: AppUnderTest, task: str, hook: str | None, journal: LogReader) -> None: ...


class ExpiresTasks(Protocol):
    def expire_task(self, app: AppUnderTest, task: str, journal: LogReader) -> None: ...


class RunTask(Action[m.RunTask]):
    model: ClassVar = m.RunTask
    summary = "force a waiting task to run now"
    example = "run_task: periodic-sync"
    android = (
        "job id from WorkManager logs / `dumpsys jobscheduler`, then `cmd jobscheduler run -f <package> <id>`"
    )
    ios = "device: `lldb … _simulateLaunchForTaskWithIdentifier:`; Simulator: the app's debug hook"

    def run(self, step: m.RunTask, ctx: RunContext, device: RunsTasks) -> None:
        device.run_task(ctx.app, step.task, step.hook, ctx.journal)


class ExpireTask(Action[m.ExpireTask]):
    model: ClassVar = m.ExpireTask
    summary = "expire a running background task (its expiration handler runs)"
    example = "expire_task: dev.example.refresh"
    ios = "`lldb … _simulateExpirationForTaskWithIdentifier:`"
    android_why_not = "Android jobs are stopped by the system, not expired; use stop_app or kill"

    def run(self, step: m.ExpireTask, ctx: RunContext, device: ExpiresTasks) -> None:
        device.expire_task(ctx.app, step.task, ctx.journal)
