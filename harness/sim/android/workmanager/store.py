"""WorkManager's database (``no_backup/androidx.work.workdb``) for one app.

It lives on the device (``device.jobs.work_db[package]``), not in the app process, because
the real one is a file: it survives process death and reboot, and ``pm clear`` wipes it.
Besides the WorkSpecs it keeps what WorkManager keeps in its preferences: the job-id
allocator (``next_job_scheduler_id``), the reschedule flag set at boot, and whether the last
process death was a force-stop (ApplicationExitInfo REASON_USER_REQUESTED on API 30+).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

ENQUEUED = "ENQUEUED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
BLOCKED = "BLOCKED"
CANCELLED = "CANCELLED"
FINISHED_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED})

#: WorkManager's limits (WorkRequest / PeriodicWorkRequest).
MIN_PERIODIC_INTERVAL_MS = 15 * 60_000
MIN_PERIODIC_FLEX_MS = 5 * 60_000
DEFAULT_BACKOFF_DELAY_MS = 30_000
MIN_BACKOFF_MS = 10_000
MAX_BACKOFF_MS = 5 * 3_600_000


@dataclass(eq=False)
class WorkSpec:
    """One row of the WorkSpec table plus its unique names and dependencies."""

    id: str
    name: str  # the app model's work name (what the app enqueued)
    worker: str  # the app model's worker key
    worker_class: str
    enqueue_ms: int
    periodic: bool = False
    interval_ms: int = 0
    flex_ms: int = 0
    initial_delay_ms: int = 0
    network: str | None = None
    charging: bool = False
    battery_not_low: bool = False
    storage_not_low: bool = False
    device_idle: bool = False
    backoff_policy: str = "exponential"
    backoff_delay_ms: int = DEFAULT_BACKOFF_DELAY_MS
    tags: tuple[str, ...] = ()
    expedited: bool = False
    out_of_quota: str = "run_as_non_expedited"
    state: str = ENQUEUED
    run_attempt_count: int = 0
    period_count: int = 0
    last_enqueue_ms: int = 0
    prerequisites: list[str] = field(default_factory=list)
    unique_names: list[str] = field(default_factory=list)
    job_id: int | None = None
    #: WorkSpec.scheduleRequestedAt: when it was handed to JobScheduler; -1 while it waits in
    #: the database for a scheduler slot (SCHEDULE_NOT_REQUESTED_YET).
    schedule_requested_ms: int = -1
    generation: int = 0
    finished_ms: int | None = None
    task_id: str = ""  # plugin task id (native_workmanager: the unique name)
    chain: str | None = None  # plugin chain name

    def is_backed_off(self) -> bool:
        return self.state == ENQUEUED and self.run_attempt_count > 0

    def next_run_ms(self) -> int:
        """WorkSpec.calculateNextRunTime: backoff, periodic interval/flex, initial delay."""
        if self.is_backed_off():
            if self.backoff_policy == "linear":
                delay = self.backoff_delay_ms * self.run_attempt_count
            else:
                delay = self.backoff_delay_ms * (2 ** (self.run_attempt_count - 1))
            return self.last_enqueue_ms + min(MAX_BACKOFF_MS, delay)
        if self.periodic:
            if self.period_count == 0:
                start = self.last_enqueue_ms + self.initial_delay_ms
                if self.flex_ms != self.interval_ms:
                    start += self.interval_ms - self.flex_ms
                return start
            return self.last_enqueue_ms + self.interval_ms
        return self.last_enqueue_ms + self.initial_delay_ms

    def generational_id(self) -> str:
        return f"WorkGenerationalId(workSpecId={self.id}, generation={self.generation})"

    def description(self) -> str:
        """WorkerWrapper's ``Work [ id=…, tags={ … } ]``."""
        return f"Work [ id={self.id}, tags={{ {','.join(self.tags)} }} ]"


class WorkDatabase:
    """All WorkSpecs of one app, with the indexes WorkManager's DAOs query."""

    def __init__(self, package: str, seed: str) -> None:
        self.package = package
        self.specs: dict[str, WorkSpec] = {}
        self.by_name: dict[str, list[str]] = {}  # unique name -> spec ids
        self.dependents: dict[str, list[str]] = {}  # prerequisite id -> dependent ids
        self.by_job: dict[int, str] = {}  # SystemIdInfo: job id -> spec id
        self.next_job_id = 0
        self.needs_reschedule = False
        self.force_stopped = False
        self.boot_seen = -1  # device.boot_count when WorkManager last initialised
        self._rng = random.Random(seed)

    # ------------------------------------------------------------- ids
    def new_uuid(self) -> str:
        """A version-4 UUID from a seeded generator, so runs are deterministic."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def allocate_job_id(self) -> int:
        """IdGenerator.nextJobSchedulerIdWithRange(0, Integer.MAX_VALUE)."""
        job_id = self.next_job_id
        self.next_job_id = 0 if job_id >= 2**31 - 1 else job_id + 1
        return job_id

    # ------------------------------------------------------------ rows
    def insert(self, spec: WorkSpec) -> None:
        self.specs[spec.id] = spec
        for name in spec.unique_names:
            self.by_name.setdefault(name, []).append(spec.id)
        for pre in spec.prerequisites:
            self.dependents.setdefault(pre, []).append(spec.id)

    def delete(self, spec_id: str) -> None:
        spec = self.specs.pop(spec_id, None)
        if spec is None:
            return
        for name in spec.unique_names:
            ids = self.by_name.get(name)
            if ids and spec_id in ids:
                ids.remove(spec_id)
                if not ids:
                    del self.by_name[name]
        if spec.job_id is not None and self.by_job.get(spec.job_id) == spec_id:
            del self.by_job[spec.job_id]
        self.dependents.pop(spec_id, None)

    def unique(self, name: str) -> list[WorkSpec]:
        return [self.specs[i] for i in self.by_name.get(name, ()) if i in self.specs]

    def dependents_of(self, spec_id: str) -> list[WorkSpec]:
        return [self.specs[i] for i in self.dependents.get(spec_id, ()) if i in self.specs]

    def spec_for_job(self, job_id: int) -> WorkSpec | None:
        spec_id = self.by_job.get(job_id)
        return self.specs.get(spec_id) if spec_id else None

    def in_state(self, *states: str) -> list[WorkSpec]:
        return [s for s in self.specs.values() if s.state in states]
