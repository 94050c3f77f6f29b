"""The WorkManager runtime inside one app process (androidx.work 2.9/2.10 behaviour).

ActivityManager creates one per process start (``WorkManagerRuntime(device, app_runtime)``) and
calls ``on_process_start(reason)``, ``on_boot_completed()``, ``enqueue_named(...)``,
``diagnostics()`` and ``on_process_death()``. State that must outlive the process is in the
app's :class:`WorkDatabase` on the device; everything here is the live part: running
workers and their timers, which die with the process.

Every WorkSpec reaches JobScheduler as a one-off job for WorkManager's ``SystemJobService``
(as ``SystemJobInfoConverter`` builds it: not persisted, backoff copied, minimum latency =
next run time − now). JobScheduler decides when it runs; ``on_start_job`` is the
SystemJobService → Processor → WorkerWrapper path, and the result goes back with
``jobFinished(needsReschedule)`` — RETRY is rescheduled by JobScheduler's own backoff, which
gives the 30 s, 60 s, 120 s … series.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..os.jobscheduler import SERVICE_RESOLVERS, JobInfo, JobsContext, JobStatus
from .plugins import plugin_for
from .store import (
    BLOCKED,
    CANCELLED,
    ENQUEUED,
    FAILED,
    FINISHED_STATES,
    MAX_BACKOFF_MS,
    MIN_BACKOFF_MS,
    MIN_PERIODIC_FLEX_MS,
    MIN_PERIODIC_INTERVAL_MS,
    RUNNING,
    SUCCEEDED,
    WorkDatabase,
    WorkSpec,
)

if TYPE_CHECKING:
    from ...clock import Timer

SYSTEM_JOB_SERVICE = "androidx.work.impl.background.systemjob.SystemJobService"
DIAGNOSTICS_WORKER = "androidx.work.impl.workers.DiagnosticsWorker"
_DIAG_KEY = "__diagnostics__"
_DIAG_MS = 25
#: The native_workmanager WorkInfo observer reports a final state about 2 s after it happens.
_FALLBACK_DELAY_MS = 2_000
_DAY_MS = 24 * 3_600_000
#: DiagnosticsWorker lists at most this many enqueued WorkSpecs (Scheduler.MAX_SCHEDULER_LIMIT).
_DIAG_ENQUEUED_LIMIT = 200
#: Configuration.maxSchedulerLimit: how many unfinished WorkSpecs WorkManager hands to
#: JobScheduler at once (default Configuration.MIN_SCHEDULER_LIMIT = 20; setMaxSchedulerLimit
#: takes no more than MAX_SCHEDULER_LIMIT = 50). The rest wait in WorkManager's database and
#: are scheduled by Schedulers.schedule as earlier work finishes.
SCHEDULER_LIMIT = 20

# on_process_start reasons, as ActivityManager passes them.
START_NORMAL = "normal"
START_FORCE_STOPPED = "force_stopped"
START_BOOT = "boot"

T_WRAPPER = "WM-WorkerWrapper"
T_SYSJOBSCHED = "WM-SystemJobScheduler"
T_SYSJOBSVC = "WM-SystemJobService"
T_PROCESSOR = "WM-Processor"
T_FORCESTOP = "WM-ForceStopRunnable"
T_WORKSPEC = "WM-WorkSpec"
T_DIAG_RCVR = "WM-DiagnosticsRcvr"
T_DIAG_WRKR = "WM-DiagnosticsWrkr"
T_SCHEDULERS = "WM-Schedulers"
T_PMHELPER = "WM-PackageManagerHelper"

#: Threads of WorkManager's two default executors (androidx.work Configuration /
#: WorkManagerTaskExecutor: ``Executors.newFixedThreadPool(max(2, min(cpus - 1, 4)))`` with a
#: thread factory naming them ``androidx.work-N`` and ``WM.task-N``); 4 on an 8-core phone.
_POOL_SIZE = 4

_TABLE_HEADER = "\n Id \t Class Name\t Job Id\t State\t Unique Name\t Tags\t"


def database(device: JobsContext, package: str) -> WorkDatabase:
    """The app's WorkManager database (created on first use, like the real one)."""
    db = device.jobs.work_db.get(package)
    if not isinstance(db, WorkDatabase):
        db = WorkDatabase(package, seed=f"{device.serial}/{package}")
        device.jobs.work_db[package] = db
    return db


class _ThreadPool:
    """A fixed pool of named threads in the app process, created on first use as Java does.

    A worker holds its thread from ``doWork`` to its result; a pool with every thread busy
    queues the next task, which then runs on whichever thread frees up — the least busy one
    here. WorkManager's lines carry the thread's tid, so a phone's log tells concurrent
    workers apart (and a journal must keep same-millisecond lines of different threads).
    """

    def __init__(self, runtime: WorkManagerRuntime, prefix: str) -> None:
        self._runtime = runtime
        self._prefix = prefix
        self._tids: list[int] = []
        self._busy: dict[int, int] = {}

    def acquire(self) -> int:
        """The tid of the thread that runs the next task."""
        idle = [tid for tid in self._tids if not self._busy.get(tid)]
        if idle:
            tid = idle[0]
        elif len(self._tids) < _POOL_SIZE:
            tid = self._runtime.new_thread(f"{self._prefix}{len(self._tids) + 1}")
            self._tids.append(tid)
        else:
            tid = min(self._tids, key=lambda t: self._busy.get(t, 0))
        self._busy[tid] = self._busy.get(tid, 0) + 1
        return tid

    def release(self, tid: int) -> None:
        if self._busy.get(tid):
            self._busy[tid] -= 1

    def run(self) -> int:
        """A short task (a scheduling call, a result): the thread is free again right after."""
        tid = self.acquire()
        self.release(tid)
        return tid


class WorkManagerRuntime:
    """WorkManagerImpl + SystemJobScheduler + SystemJobService + Processor of one process."""

    def __init__(self, device: JobsContext, app: Any) -> None:
        self.device = device
        self.app = app
        self.package: str = app.package
        self.model = app.model
        self.uid: int = int(app.uid)
        self.db = database(device, self.package)
        self.debug = bool(getattr(self.model, "debug_logging", False))
        self.plugin = plugin_for(getattr(self.model, "library", "androidx.work"), self._log, self.debug)
        self.alive = True
        self._running: dict[str, tuple[JobStatus, int, Timer | None]] = {}
        self._boot_handled = False
        self._workers = _ThreadPool(self, "androidx.work-")
        self._tasks = _ThreadPool(self, "WM.task-")
        self._worker_tid: dict[str, int] = {}
        #: The thread the current code runs on (None: the app's main thread, tid = pid).
        self._tid: int | None = None

    # ================================================================ logging
    def _log(self, level: str, tag: str, message: str) -> None:
        """One line from the thread the runtime is on (``_on``), the main thread by default."""
        if not self.alive:
            return
        pid = getattr(self.app, "pid", None)
        self.device.log(level, tag, message, pid=pid, tid=self._tid, uid=self.uid)

    def new_thread(self, name: str) -> int:
        """A new thread in this app's process (its tid from the device's process table)."""
        pid = int(getattr(self.app, "pid", 0) or 0)
        return self.device.procs.new_thread(pid, name)

    def _release_worker(self, spec_id: str) -> int | None:
        """The work's ``androidx.work`` thread is free again; its tid (None if it held none)."""
        tid = self._worker_tid.pop(spec_id, None)
        if tid is not None:
            self._workers.release(tid)
        return tid

    @contextmanager
    def _on(self, tid: int | None) -> Iterator[None]:
        """Run the block as code on thread ``tid``: its log lines carry that tid."""
        outer, self._tid = self._tid, tid
        try:
            yield
        finally:
            self._tid = outer

    def _debug(self, tag: str, message: str) -> None:
        if self.debug:
            self._log("D", tag, message)

    # ============================================================ lifecycle
    def on_process_start(self, reason: str = START_NORMAL) -> None:
        """WorkManager initialisation: ForceStopRunnable decides what to reschedule."""
        self._debug(T_PMHELPER, f"{SYSTEM_JOB_SERVICE} enabled")
        self._debug(T_SCHEDULERS, "Created SystemJobScheduler and enabled SystemJobService")
        self._debug(T_FORCESTOP, "Performing cleanup operations.")
        needs_scheduling = self._clean_up()
        if reason == START_BOOT or self.db.needs_reschedule:
            self._boot_handled = reason == START_BOOT
            self._reschedule_all("Rescheduling Workers.")
            self.db.needs_reschedule = False
        elif reason == START_FORCE_STOPPED or self.db.force_stopped:
            self._reschedule_all("Application was force-stopped, rescheduling.")
        elif needs_scheduling:
            self._debug(T_FORCESTOP, "Found unfinished work, scheduling it.")
            self._schedule_eligible(only_unscheduled=True)
        self.db.force_stopped = False
        self.db.boot_seen = self.device.boot_count

    def on_boot_completed(self) -> None:
        """RescheduleReceiver: BOOT_COMPLETED sets the reschedule flag; WorkManager acts on it."""
        if self._boot_handled:
            self._boot_handled = False
            return
        self.db.needs_reschedule = True
        self._reschedule_all("Rescheduling Workers.")
        self.db.needs_reschedule = False

    def on_process_death(self) -> None:
        """The process is gone: its workers stop mid-flight (their WorkSpecs stay RUNNING)."""
        self.alive = False
        for _js, _start, timer in self._running.values():
            if timer is not None:
                timer.cancel()
        self._running.clear()

    def _clean_up(self) -> bool:
        """RUNNING work of a dead process goes back to ENQUEUED; jobs JobScheduler lost count too."""
        reset = False
        for spec in self.db.in_state(RUNNING):
            if spec.id not in self._running:
                spec.state = ENQUEUED
                reset = True
        if reset:
            return True
        # SystemJobScheduler.reconcileJobs: work that was handed to JobScheduler but has no
        # job there any more gets its schedule request reset and needs scheduling.
        lost = False
        for spec in self._eligible():
            if spec.schedule_requested_ms != -1 and (
                    spec.job_id is None or self.device.jobs.get(self.package, spec.job_id) is None):
                spec.schedule_requested_ms = -1
                lost = True
        return lost

    def _reschedule_all(self, message: str) -> None:
        self._debug(T_FORCESTOP, message)
        self._schedule_eligible(only_unscheduled=False)

    def _eligible(self) -> list[WorkSpec]:
        return [s for s in self.db.in_state(ENQUEUED) if self._prereqs_done(s)]

    def _prereqs_done(self, spec: WorkSpec) -> bool:
        specs = self.db.specs
        return all(p not in specs or specs[p].state == SUCCEEDED for p in spec.prerequisites)

    def _schedule_eligible(self, only_unscheduled: bool) -> None:
        if not only_unscheduled:
            # WorkSpecDao.resetScheduledState (ForceStopRunnable before a full reschedule)
            for spec in self.db.specs.values():
                if spec.state not in FINISHED_STATES:
                    spec.schedule_requested_ms = -1
        self._schedule_pending()

    def _schedule_pending(self) -> None:
        """Schedulers.schedule: hand waiting work to JobScheduler while scheduler slots are free.

        WorkSpecDao.getEligibleWorkForScheduling takes ENQUEUED work not yet requested, oldest
        enqueue first, up to ``maxSchedulerLimit`` minus the unfinished work already requested.
        """
        specs = self.db.specs.values()
        used = sum(1 for s in specs if s.schedule_requested_ms != -1 and s.state not in FINISHED_STATES)
        slots = SCHEDULER_LIMIT - used
        if slots <= 0:
            return
        waiting = [s for s in self._eligible() if s.schedule_requested_ms == -1]
        waiting.sort(key=lambda s: s.last_enqueue_ms)
        for spec in waiting[:slots]:
            self._schedule(spec)

    # ============================================================== enqueue
    def enqueue_named(
        self, names: list[str] | tuple[str, ...], extras: dict[str, object] | None = None
    ) -> list[str]:
        """Enqueue the app model's named work (a hook fired); returns the new WorkSpec ids."""
        changes = (extras or {}).get("__changes__") or {}
        ids: list[str] = []
        for name in names:
            work = self.model.work_with(name, changes)  # type: ignore[arg-type]
            ids.extend(self.enqueue(name, work))
        return ids

    def enqueue(self, name: str, work: Any) -> list[str]:
        """``enqueueUnique(Periodic)Work`` / ``beginWith(...).then(...).enqueue()`` for one model work."""
        steps = [(name, work)] + [(n, self.model.work_with(n)) for n in getattr(work, "then", ())]
        unique = getattr(work, "unique", None)
        policy = unique.policy if unique is not None else "keep"
        chain_name = name if len(steps) > 1 else None
        specs = [self._build_spec(n, w, unique.name if unique else None, chain_name) for n, w in steps]
        for prev, nxt in itertools.pairwise(specs):
            nxt.prerequisites.append(prev.id)
            nxt.state = BLOCKED
        if unique is not None:
            outcome = self._apply_unique(unique.name, policy, specs)
            if outcome is None:
                return []
        for spec in specs:
            self.db.insert(spec)
        if chain_name is not None:
            self.plugin.chain_enqueued(specs)
        else:
            self.plugin.enqueued(specs[0], policy)
        for spec in specs:
            if spec.state in (FAILED, CANCELLED):
                self._settle_later(spec)
        self._schedule_pending()
        return [s.id for s in specs]

    def _build_spec(self, name: str, work: Any, unique_name: str | None, chain: str | None) -> WorkSpec:
        now = self.device.now_ms()
        worker = self.model.workers[work.worker]
        tags = tuple(dict.fromkeys((worker.class_name, *work.tags)))
        c = work.constraints
        spec = WorkSpec(
            id=self.db.new_uuid(), name=name, worker=work.worker, worker_class=worker.class_name,
            enqueue_ms=now, periodic=work.kind == "periodic", initial_delay_ms=int(work.initial_delay_ms),
            network=None if c.network == "not_required" else c.network, charging=c.charging,
            battery_not_low=c.battery_not_low, storage_not_low=c.storage_not_low, device_idle=c.device_idle,
            backoff_policy=work.backoff.policy, tags=tags, last_enqueue_ms=now,
            unique_names=[unique_name] if unique_name else [],
            task_id=unique_name if unique_name and chain is None else name, chain=chain,
        )
        spec.backoff_delay_ms = self._clamp_backoff(int(work.backoff.delay_ms))
        if spec.periodic:
            interval = int(work.interval_ms or MIN_PERIODIC_INTERVAL_MS)
            if interval < MIN_PERIODIC_INTERVAL_MS:
                self._log("W", T_WORKSPEC, "Interval duration lesser than minimum allowed value; "
                          f"Changed to {MIN_PERIODIC_INTERVAL_MS}")
                interval = MIN_PERIODIC_INTERVAL_MS
            # PeriodicWorkRequest.Builder(interval) without a flex calls WorkSpec.setPeriodic(
            # interval), which clamps first and passes the clamped value as the flex too
            # (androidx.work WorkSpec.kt): a 5 min request becomes 15 min / 15 min, so the
            # first run is due at once, not 10 min after enqueue.
            flex = int(work.flex_ms) if work.flex_ms is not None else interval
            if flex < MIN_PERIODIC_FLEX_MS:
                self._log("W", T_WORKSPEC, "Flex duration lesser than minimum allowed value; "
                          f"Changed to {MIN_PERIODIC_FLEX_MS}")
                flex = MIN_PERIODIC_FLEX_MS
            if flex > interval:
                self._log("W", T_WORKSPEC,
                          f"Flex duration greater than interval duration; Changed to {interval}")
                flex = interval
            spec.interval_ms, spec.flex_ms = interval, flex
        expedited = getattr(work, "expedited", None)
        if expedited is not None and not spec.periodic and not spec.initial_delay_ms:
            spec.expedited = True
            spec.out_of_quota = expedited.out_of_quota
        return spec

    def _clamp_backoff(self, delay: int) -> int:
        if delay < MIN_BACKOFF_MS:
            self._log("W", T_WORKSPEC, "Backoff delay duration less than minimum value")
            return MIN_BACKOFF_MS
        if delay > MAX_BACKOFF_MS:
            self._log("W", T_WORKSPEC, "Backoff delay duration exceeds maximum value")
            return MAX_BACKOFF_MS
        return delay

    def _apply_unique(self, name: str, policy: str, specs: list[WorkSpec]) -> bool | None:
        """ExistingWorkPolicy; None means nothing is enqueued (KEEP / UPDATE in place)."""
        existing = self.db.unique(name)
        unfinished = [s for s in existing if s.state not in FINISHED_STATES]
        if policy == "keep":
            if unfinished:
                return None
        elif policy == "update" and unfinished:
            old = unfinished[0]
            new = specs[0]
            old.interval_ms, old.flex_ms = new.interval_ms, new.flex_ms
            old.generation += 1
            if old.state == ENQUEUED and old.schedule_requested_ms != -1:
                self._schedule(old)
            return None
        elif policy in ("append", "append_or_replace") and existing:
            ids = {s.id for s in existing}
            leaves = [s for s in existing if not any(d in ids for d in self.db.dependents.get(s.id, ()))]
            bad = [s for s in leaves if s.state in (FAILED, CANCELLED)]
            if bad and policy == "append_or_replace":
                self._prune(existing)
            elif bad:
                state = FAILED if any(s.state == FAILED for s in bad) else CANCELLED
                for spec in specs:
                    spec.state = state
                    spec.finished_ms = self.device.now_ms()
                return True
            else:
                specs[0].prerequisites.extend(s.id for s in leaves)
                if any(s.state != SUCCEEDED for s in leaves):
                    specs[0].state = BLOCKED
                return True
        else:  # replace (and update of finished work)
            for spec in unfinished:
                self._cancel(spec)
        self._prune([s for s in self.db.unique(name) if s.state in FINISHED_STATES])
        return True

    def _prune(self, specs: list[WorkSpec]) -> None:
        for spec in specs:
            if spec.state not in FINISHED_STATES:
                self._cancel(spec)
            # the name moves to the new work; the old row stays for diagnostics
            if spec.unique_names:
                ids = self.db.by_name.get(spec.unique_names[0])
                if ids and spec.id in ids:
                    ids.remove(spec.id)

    # ============================================================ scheduling
    def _schedule(self, spec: WorkSpec) -> None:
        """SystemJobScheduler.scheduleInternal: one JobScheduler job per WorkSpec."""
        jobs = self.device.jobs
        if spec.job_id is None:
            spec.job_id = self.db.allocate_job_id()
            self.db.by_job[spec.job_id] = spec.id
        now = self.device.now_ms()
        latency = max(0, spec.next_run_ms() - now)
        expedited = spec.expedited and spec.run_attempt_count == 0 and latency == 0
        if expedited and jobs.ej_quota_left_ms(self.package) <= 0:
            if spec.out_of_quota == "drop":
                spec.state = FAILED
                spec.finished_ms = now
                self._fail_dependents(spec)
                self._settle_later(spec)
                return
            expedited = False
        info = JobInfo(
            uid=self.uid, package=self.package, job_id=spec.job_id, service=SYSTEM_JOB_SERVICE,
            network=spec.network, requires_charging=spec.charging,
            requires_battery_not_low=spec.battery_not_low, requires_storage_not_low=spec.storage_not_low,
            requires_device_idle=spec.device_idle, min_latency_ms=latency,
            backoff_policy=0 if spec.backoff_policy == "linear" else 1,
            backoff_initial_ms=spec.backoff_delay_ms, persisted=False, expedited=expedited,
        )
        if spec.schedule_requested_ms == -1:
            spec.schedule_requested_ms = now
        with self._on(self._tasks.run()):
            self._debug(T_SYSJOBSCHED, f"Scheduling work ID {spec.id}Job ID {spec.job_id}")
        jobs.schedule(info)

    # ======================================================= SystemJobService
    def on_start_job(self, job: JobStatus) -> None:
        """SystemJobService.onStartJob on the main thread hands the work to the task executor."""
        spec = self.db.spec_for_job(job.job_id)
        if spec is not None:
            self._debug(T_SYSJOBSVC, f"onStartJob for {spec.generational_id()}")
        with self._on(self._tasks.run()):
            self._process(job, spec)

    def _process(self, job: JobStatus, spec: WorkSpec | None) -> None:
        """Processor.startWork and WorkerWrapper on a ``WM.task`` thread; doWork on ``androidx.work``."""
        jobs = self.device.jobs
        if spec is None:
            jobs.job_finished(job, False)
            return
        if spec.id in self._running:
            self._debug(T_PROCESSOR, f"Work {spec.generational_id()} is already enqueued for processing")
            return
        self._debug(T_PROCESSOR, f"Processor: processing {spec.generational_id()}")
        if spec.state != ENQUEUED:
            self._debug(T_WRAPPER, f"{spec.worker_class} is not in ENQUEUED state. Nothing more to do")
            jobs.job_finished(job, False)
            return
        now = self.device.now_ms()
        if (spec.periodic or spec.is_backed_off()) and now < spec.next_run_ms():
            self._debug(T_WRAPPER, f"Delaying execution for {spec.worker_class} because it is being executed "
                                   "before schedule.")
            jobs.job_finished(job, True)
            return
        attempt = spec.run_attempt_count
        spec.state = RUNNING
        spec.run_attempt_count += 1
        self._debug(T_WRAPPER, f"Starting work for {spec.worker_class}")
        worker_tid = self._worker_tid[spec.id] = self._workers.acquire()
        if spec.worker == _DIAG_KEY:
            timer = self.device.clock.schedule_in(_DIAG_MS, lambda: self._finish(spec.id, "success", 0))
            self._running[spec.id] = (job, now, timer)
            with self._on(worker_tid):
                self._print_diagnostics()
            return
        with self._on(worker_tid):
            self.plugin.started(spec, attempt)
        worker = self.model.workers[spec.worker]
        outcome = worker.outcome(attempt)
        timer = None
        if self._through_proxy(worker, outcome, job.ran_as_expedited):
            self._call_through_proxy(spec.id, worker, outcome, attempt)
        elif outcome != "hang":
            timer = self.device.clock.schedule_in(
                worker.duration_ms, lambda: self._finish(spec.id, outcome, attempt), "worker")
        self._running[spec.id] = (job, now, timer)
        self.device.bus.publish("worker_started", package=self.package, uid=self.uid, spec_id=spec.id,
                                worker=spec.worker)

    def on_stop_job(self, job: JobStatus, reason: str) -> bool:
        """JobScheduler stops the job (timeout, constraints, Doze): the worker is interrupted."""
        spec = self.db.spec_for_job(job.job_id)
        if spec is None:
            return False
        self._debug(T_SYSJOBSVC, f"onStopJob for {spec.generational_id()}")
        entry = self._running.pop(spec.id, None)
        self._release_worker(spec.id)
        if entry is None:
            return False
        self.device.bus.publish("worker_stopped", package=self.package, spec_id=spec.id)
        if entry[2] is not None:
            entry[2].cancel()
        if spec.state == RUNNING:
            self._debug(T_WRAPPER, f"Status for {spec.id} is RUNNING; not doing any work and rescheduling "
                                   "for later execution")
            spec.state = ENQUEUED
            spec.last_enqueue_ms = self.device.now_ms()
        return True

    # =============================================================== workers
    def _has_network(self, expedited: bool) -> bool:
        net = self.device.net
        if expedited and callable(getattr(net, "network_for", None)):
            return net.network_for("connected") is not None  # an EJ's process keeps network in Doze
        fn = getattr(net, "app_has_network", None)
        return not callable(fn) or bool(fn(self.package, self.uid, "connected"))

    def _network_result(self, worker: Any, outcome: str, expedited: bool) -> tuple[str, str]:
        """The run's result from the model's statuses (no proxy: the server is the model)."""
        calls = getattr(worker, "http", ())
        if not calls or outcome not in ("success", "retry"):
            return outcome, {"success": "completed", "retry": "retry requested"}.get(outcome, "failed")
        if not self._has_network(expedited):
            host = calls[0].url.split("//", 1)[-1].split("/", 1)[0]
            return worker.on_network_error, (
                f'java.net.UnknownHostException: Unable to resolve host "{host}": '
                "No address associated with hostname")
        for call in calls:
            if call.status >= 400:
                return (worker.http_outcome(call.status, outcome), f"HTTP {call.status}")
        return outcome, f"HTTP {calls[-1].status}"

    # ------------------------------------------------ HTTP through the device's proxy
    def _through_proxy(self, worker: Any, outcome: str, expedited: bool) -> bool:
        """With a global proxy set and a network up, the worker's calls are real requests
        (``os/httpclient.py``) and their answers decide the result; the device's event loop
        must be running to carry them (it is, under adbd)."""
        http = getattr(self.device, "http", None)
        if not getattr(worker, "http", ()) or outcome not in ("success", "retry") or http is None:
            return False
        if http.proxy() is None or not self._has_network(expedited):
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def _call_through_proxy(self, spec_id: str, worker: Any, outcome: str, attempt: int) -> None:
        """doWork's calls, in order, until one fails; then the rest of doWork, then the result.

        Device time stands still while the requests are on the wire (``VirtualClock.hold``);
        each answer says how much device time it took, and the worker finishes that much
        later than its own ``duration``.
        """
        http = self.device.http  # type: ignore[attr-defined]
        start = self.device.now_ms()

        async def do_work() -> tuple[int, tuple[str, str]]:
            elapsed, verdict = 0, (outcome, "")
            for call in worker.http:
                answer = await http.call(call.method, call.url, start + elapsed, call.timeout_ms,
                                         b"x" * (call.body_kb * 1024))
                elapsed += answer.elapsed_ms
                verdict = (worker.http_outcome(answer.status, outcome), answer.message)
                if answer.status is None or answer.status >= 400:
                    break
            return elapsed, verdict

        def answered(task: asyncio.Task[tuple[int, tuple[str, str]]]) -> None:
            entry = self._running.get(spec_id)
            if not self.alive or entry is None or task.cancelled():
                return  # stopped, cancelled or the process died while the request was out
            elapsed, verdict = task.result()
            # from the start: device time may have moved while the request was out (a request
            # started by a command other than a clock advance does not hold it back)
            end = start + worker.duration_ms + elapsed
            timer = self.device.clock.schedule_at(
                end, lambda: self._finish(spec_id, outcome, attempt, verdict), "worker")
            self._running[spec_id] = (entry[0], entry[1], timer)

        task = asyncio.get_running_loop().create_task(do_work())
        task.add_done_callback(answered)  # before the hold: the finish is scheduled when time moves on
        self.device.clock.hold(task)  # type: ignore[arg-type]

    def _finish(
        self, spec_id: str, outcome: str, attempt: int, verdict: tuple[str, str] | None = None
    ) -> None:
        if not self.alive or spec_id not in self._running:
            return
        spec = self.db.specs.get(spec_id)
        if spec is None:
            self._running.pop(spec_id, None)
            return
        message = "Diagnostics printed"
        if verdict is not None:  # the proxy's answers decided it
            outcome, message = verdict
        elif spec.worker != _DIAG_KEY:
            expedited = self._running[spec_id][0].ran_as_expedited
            outcome, message = self._network_result(self.model.workers[spec.worker], outcome, expedited)
        if outcome == "crash":
            self._crash(spec)
            return
        if outcome == "hang":
            return  # never returns: JobScheduler's 10-minute limit stops it
        job, started, _timer = self._running.pop(spec_id)
        self.device.bus.publish("worker_stopped", package=self.package, spec_id=spec_id)
        now = self.device.now_ms()
        result = {"success": "SUCCESS", "retry": "RETRY"}.get(outcome, "FAILURE")
        with self._on(self._tasks.run()):
            self._log("I", T_WRAPPER, f"Worker result {result} for {spec.description()}")
        with self._on(self._release_worker(spec_id)):
            self.plugin.finished(spec, result, now - started, message)
        reschedule = False
        unblocked: list[WorkSpec] = []
        if result == "RETRY":
            spec.state = ENQUEUED
            spec.last_enqueue_ms = now
            reschedule = True
        elif spec.periodic:
            spec.state = ENQUEUED
            spec.period_count += 1
            spec.run_attempt_count = 0
            spec.last_enqueue_ms = now
        elif result == "SUCCESS":
            spec.state = SUCCEEDED
            spec.finished_ms = now
            for dep in self.db.dependents_of(spec.id):
                if dep.state == BLOCKED and self._prereqs_done(dep):
                    dep.state = ENQUEUED
                    self._debug(T_WRAPPER, f"Setting status to enqueued for {dep.id}")
                    unblocked.append(dep)
        else:
            spec.state = FAILED
            spec.finished_ms = now
            self._fail_dependents(spec)
        self.device.jobs.job_finished(job, reschedule)
        if spec.periodic and spec.state == ENQUEUED and not reschedule:
            self._schedule(spec)
        if unblocked or spec.state in FINISHED_STATES:
            self._schedule_pending()
        if spec.state in FINISHED_STATES:
            self._settle_later(spec)

    def _fail_dependents(self, spec: WorkSpec, state: str = FAILED) -> None:
        todo = list(self.db.dependents_of(spec.id))
        now = self.device.now_ms()
        while todo:
            dep = todo.pop()
            if dep.state in FINISHED_STATES:
                continue
            dep.state = state
            dep.finished_ms = now
            todo.extend(self.db.dependents_of(dep.id))

    def _settle_later(self, spec: WorkSpec) -> None:
        def settle() -> None:
            if self.alive:
                self.plugin.settled(spec)

        self.device.clock.schedule_in(_FALLBACK_DELAY_MS, settle, "workinfo-observer")

    def _cancel(self, spec: WorkSpec) -> None:
        """cancelWorkById: the work and everything after it are CANCELLED, its job removed."""
        entry = self._running.pop(spec.id, None)
        if entry is not None and entry[2] is not None:
            entry[2].cancel()
        self._release_worker(spec.id)
        if entry is not None:
            with self._on(self._tasks.run()):
                self._log("I", T_WRAPPER, f"{spec.description()} was cancelled")
        spec.state = CANCELLED
        spec.finished_ms = self.device.now_ms()
        self._fail_dependents(spec, CANCELLED)
        if spec.job_id is not None:
            self.device.jobs.cancel(self.uid, spec.job_id)
        self.plugin.cancelled(spec)
        self._settle_later(spec)

    def _crash(self, spec: WorkSpec) -> None:
        """An uncaught exception: FATAL EXCEPTION in the crash buffer, and the process dies."""
        pid = int(getattr(self.app, "pid", 0) or 0)
        simple = spec.worker_class.rsplit(".", 1)[-1]
        lines = [
            "FATAL EXCEPTION: main",
            f"Process: {self.package}, PID: {pid}",
            f"java.lang.IllegalStateException: {simple} crashed",
            f"\tat {spec.worker_class}.doWork({simple}.kt:42)",
            "\tat androidx.work.Worker$1.run(Worker.java:82)",
            "\tat java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1145)",
        ]
        for line in lines:
            self.device.log("E", "AndroidRuntime", line, pid=pid, uid=self.uid, buffer="crash")
        self.device.log("I", "Process", f"Sending signal. PID: {pid} SIG: 9", pid=pid, uid=self.uid)
        self.on_process_death()
        procs = getattr(self.device, "procs", None)
        if procs is not None and hasattr(procs, "kill"):
            procs.kill(pid)
        am_process = getattr(self.device.activity, "process", None)
        if callable(am_process):
            am_process(self.package)  # ActivityManager notices the death and publishes process_died

    # ============================================================ diagnostics
    def diagnostics(self) -> None:
        """DiagnosticsReceiver: ``Requesting diagnostics`` and a DiagnosticsWorker run."""
        self._debug(T_DIAG_RCVR, "Requesting diagnostics")
        now = self.device.now_ms()
        spec = WorkSpec(
            id=self.db.new_uuid(), name="diagnostics", worker=_DIAG_KEY, worker_class=DIAGNOSTICS_WORKER,
            enqueue_ms=now, last_enqueue_ms=now, tags=(DIAGNOSTICS_WORKER,), task_id="diagnostics",
        )
        self.db.insert(spec)
        self._schedule_pending()

    def _table(self, specs: list[WorkSpec]) -> str:
        rows = [_TABLE_HEADER]
        for s in specs:
            job = "null" if s.job_id is None else str(s.job_id)
            rows.append(f"\n{s.id}\t {s.worker_class}\t {job}\t {s.state}\t {','.join(s.unique_names)}\t "
                        f"{','.join(s.tags)}\t")
        return "".join(rows)

    def _print_diagnostics(self) -> None:
        now = self.device.now_ms()
        specs = list(self.db.specs.values())
        completed = [s for s in specs if s.state in FINISHED_STATES and (s.finished_ms or 0) >= now - _DAY_MS]
        running = [s for s in specs if s.state == RUNNING]
        enqueued = [s for s in specs if s.state == ENQUEUED][:_DIAG_ENQUEUED_LIMIT]
        for title, rows in (("Recently completed work", completed), ("Running work", running),
                            ("Enqueued work", enqueued)):
            if rows:
                self._log("I", T_DIAG_WRKR, f"{title}:\n\n")
                self._log("I", T_DIAG_WRKR, self._table(rows))


def _resolve_system_job_service(device: JobsContext, package: str) -> WorkManagerRuntime | None:
    """JobScheduler binds SystemJobService: ActivityManager starts the process for the job."""
    am = device.activity
    try:
        am.ensure_process(package, "service", f"{package}/{SYSTEM_JOB_SERVICE}")
        runtime = am.app(package)
    except (KeyError, AttributeError):
        return None
    return getattr(runtime, "workmanager", None)


SERVICE_RESOLVERS[SYSTEM_JOB_SERVICE] = _resolve_system_job_service
