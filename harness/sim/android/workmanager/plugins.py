"""The lines a WorkManager plugin logs on top of WorkManager's own (research §1a, §1b, §1e).

One class per library; the runtime calls the same hooks for every app and the plugin decides
what (if anything) that library prints. ``androidx.work`` apps have no plugin lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import WorkSpec

#: log(level, tag, message)
LogFn = Callable[[str, str, str], None]

NWM_TAG = "NativeWorkManager"
TASKSTORE_TAG = "TaskStore"
KMP_TAG = "KMP_WorkManager"
FWM_TAG = "WorkmanagerDebug"
KMP_WORKER = "dev.brewkits.kmpworkmanager.background.data.KmpWorker"

_NETWORK_TYPE = {
    None: "NOT_REQUIRED", "connected": "CONNECTED", "unmetered": "UNMETERED",
    "not_roaming": "NOT_ROAMING", "metered": "METERED",
}


class Plugin:
    """No plugin: plain androidx.work."""

    def __init__(self, log: LogFn, debug: bool) -> None:
        self.log = log
        self.debug = debug

    def enqueued(self, spec: WorkSpec, policy: str) -> None: ...

    def chain_enqueued(self, specs: list[WorkSpec]) -> None: ...

    def started(self, spec: WorkSpec, attempt: int) -> None: ...

    def finished(self, spec: WorkSpec, result: str, duration_ms: int, message: str) -> None: ...

    def settled(self, spec: WorkSpec) -> None:
        """The WorkInfo observer saw a final state (SUCCEEDED / FAILED / CANCELLED)."""

    def cancelled(self, spec: WorkSpec) -> None: ...


def _nwm_worker_name(spec: WorkSpec) -> str:
    for tag in spec.tags:
        if tag.startswith("worker-"):
            return tag[len("worker-"):]
    return spec.worker_class.rsplit(".", 1)[-1]


class NativeWorkManagerPlugin(Plugin):
    """native_workmanager 1.2.7 (tag ``NativeWorkManager``; D/W only with debugMode)."""

    def _d(self, message: str) -> None:
        if self.debug:
            self.log("D", NWM_TAG, message)

    def _store(self, spec: WorkSpec, status: str) -> None:
        """The plugin's SQLite task store logs every status write, debug mode or not."""
        self.log("D", TASKSTORE_TAG, f"Updating task {spec.task_id} status to {status}, resultData length: 0")

    def started(self, spec: WorkSpec, attempt: int) -> None:
        self._store(spec, "running")

    def enqueued(self, spec: WorkSpec, policy: str) -> None:
        if spec.chain is not None:
            return
        self._store(spec, "pending")
        task = spec.task_id
        if spec.periodic:
            self._d(f"Scheduling '{task}': Periodic(fgs=false) → direct WorkManager")
            delay = spec.initial_delay_ms
            self._d(f"✅ Periodic '{task}' enqueued via direct WorkManager (delay={delay}ms)")
            return
        delay = spec.initial_delay_ms
        self._d(f"Scheduling '{task}': OneTime(delay={delay}ms, expedited={str(spec.expedited).lower()}, "
                f"fgs=false) → direct WorkManager")
        if spec.expedited:
            self._d(f"Expedited flag set for '{task}' (UIDT / Android 14+ data-sync)")
        self._d(
            f"📋 [DIAG] WorkRequest for '{task}': networkType={_NETWORK_TYPE.get(spec.network)}, "
            f"requiresCharging={str(spec.charging).lower()}, sysConstraints=[], "
            f"delayApplied={str(delay > 0).lower()}, delayMs={delay}, workerClass=KmpWorker, "
            f"workerClassName={_nwm_worker_name(spec)}")
        nwm_policy = "KEEP" if policy == "keep" else "REPLACE"
        self._d(f"✅ OneTime '{task}' enqueued via direct WorkManager (delay={delay}ms, heavy=false, "
                f"policy={nwm_policy})")

    def chain_enqueued(self, specs: list[WorkSpec]) -> None:
        for spec in specs:
            self._store(spec, "pending")
        name = specs[0].chain or specs[0].task_id
        ids = ", ".join(s.task_id for s in specs)
        self._d(f"✅ Chain scheduled: {name}/{name}_{specs[0].id} ({len(specs)} steps), IDs: [{ids}]")

    def finished(self, spec: WorkSpec, result: str, duration_ms: int, message: str) -> None:
        if spec.worker_class != KMP_WORKER:
            return
        cls = _nwm_worker_name(spec)
        if result == "SUCCESS":
            self.log("I", KMP_TAG, f"ℹ️ [TaskWorker] KmpWorker success: {cls} — {message}")
        else:
            self.log("W", KMP_TAG, f"⚠️ [TaskWorker] KmpWorker failure: {cls} — {message}")

    def settled(self, spec: WorkSpec) -> None:
        status = {"SUCCEEDED": "completed", "FAILED": "failed", "CANCELLED": "cancelled"}.get(spec.state)
        if status is not None:
            self._store(spec, status)
        if spec.chain is not None:
            if spec.state == "SUCCEEDED":
                self._d(f"✅ Chain step SUCCEEDED: {spec.task_id}")
            else:
                self.log("E", NWM_TAG, f"❌ Chain step FAILED/CANCELLED: {spec.task_id} ({spec.state})")
            return
        if spec.state == "SUCCEEDED":
            self._d(f"✅ WorkInfo SUCCEEDED (fallback): {spec.task_id}")
        elif spec.state == "FAILED":
            self.log("E", NWM_TAG, f"❌ WorkInfo FAILED (fallback): {spec.task_id}")
        elif spec.state == "CANCELLED" and self.debug:
            self.log("W", NWM_TAG, f"⚠️ WorkInfo CANCELLED: {spec.task_id}")


class FlutterWorkmanagerPlugin(Plugin):
    """flutter_workmanager with ``LoggingDebugHandler`` (only when debug logging is on)."""

    def enqueued(self, spec: WorkSpec, policy: str) -> None:
        if self.debug:
            self.log("D", FWM_TAG, f"Task scheduled: {spec.name}")

    def chain_enqueued(self, specs: list[WorkSpec]) -> None:
        for spec in specs[1:]:
            self.enqueued(spec, "keep")

    def started(self, spec: WorkSpec, attempt: int) -> None:
        if not self.debug:
            return
        if attempt > 0:
            self.log("W", FWM_TAG, f"Task retrying: {spec.name}")
        else:
            handle = 1000 + (sum(spec.name.encode()) % 9000)
            self.log("D", FWM_TAG, f"Task started: {spec.name}, callbackHandle: {handle}")

    def finished(self, spec: WorkSpec, result: str, duration_ms: int, message: str) -> None:
        if not self.debug:
            return
        if result == "RETRY":
            self.log("W", FWM_TAG, f"Task rescheduled: {spec.name}")
        elif result == "FAILURE":
            self.log("E", FWM_TAG, f"Task failed: {spec.name}, error: {message}")
        else:
            self.log("D", FWM_TAG, f"Task completed: {spec.name}, success: true, duration: {duration_ms}ms")

    def cancelled(self, spec: WorkSpec) -> None:
        if self.debug:
            self.log("W", FWM_TAG, f"Task cancelled: {spec.name}")


def plugin_for(library: str, log: LogFn, debug: bool) -> Plugin:
    if library == "native_workmanager":
        return NativeWorkManagerPlugin(log, debug)
    if library == "flutter_workmanager":
        return FlutterWorkmanagerPlugin(log, debug)
    return Plugin(log, debug)
