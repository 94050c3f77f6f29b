"""JobScheduler: jobs, constraints, Doze and quota gating, run-time limit, job history.

A model of ``JobSchedulerService`` in system_server. Jobs live here (not in the app), so
``dumpsys jobscheduler`` sees them whether or not the app runs; starting one needs the app
process, which ActivityManager starts for the job. Readiness is computed from the other
services' typed queries (battery, connectivity, Doze, saver, standby), read defensively so
this module works before those services land.

No polling: every job that waits on time has one clock timer at the next instant its
readiness can change (earliest run time, deadline, run-time limit, quota refill); everything
else is re-evaluated when a bus topic says the world changed, and only the jobs that depend
on that topic are looked at. The commands live in ``jobscheduler_shell.py``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .context import SystemContext

if TYPE_CHECKING:
    from ...clock import Timer

# Constraint bits as JobStatus declares them (dumpsys prints names + hex mask).
CHARGING = 0x1
BATTERY_NOT_LOW = 0x2
IDLE = 0x4
STORAGE_NOT_LOW = 0x8
FLEXIBILITY = 0x200000
BACKGROUND_NOT_RESTRICTED = 0x400000
PREFETCH = 0x800000
WITHIN_QUOTA = 0x1000000
DEVICE_NOT_DOZING = 0x2000000
CONTENT_TRIGGER = 0x4000000
TARE_WEALTH = 0x8000000
CONNECTIVITY = 0x10000000
DEADLINE = 0x40000000
TIMING_DELAY = 0x80000000

#: dumpConstraints order.
CONSTRAINT_NAMES: tuple[tuple[int, str], ...] = (
    (CHARGING, "CHARGING"),
    (BATTERY_NOT_LOW, "BATTERY_NOT_LOW"),
    (STORAGE_NOT_LOW, "STORAGE_NOT_LOW"),
    (TIMING_DELAY, "TIMING_DELAY"),
    (DEADLINE, "DEADLINE"),
    (IDLE, "IDLE"),
    (CONNECTIVITY, "CONNECTIVITY"),
    (FLEXIBILITY, "FLEXIBILITY"),
    (CONTENT_TRIGGER, "CONTENT_TRIGGER"),
    (DEVICE_NOT_DOZING, "DEVICE_NOT_DOZING"),
    (BACKGROUND_NOT_RESTRICTED, "BACKGROUND_NOT_RESTRICTED"),
    (PREFETCH, "PREFETCH"),
    (TARE_WEALTH, "TARE_WEALTH"),
    (WITHIN_QUOTA, "WITHIN_QUOTA"),
)
#: Constraints `cmd jobscheduler run` (without -f) may ignore.
SOFT_CONSTRAINTS = CHARGING | BATTERY_NOT_LOW | STORAGE_NOT_LOW | TIMING_DELAY | IDLE | PREFETCH | FLEXIBILITY
FUNCTIONAL_CONSTRAINTS = CONNECTIVITY | CONTENT_TRIGGER

# Standby buckets (UsageStatsManager values).
EXEMPTED, ACTIVE, WORKING_SET, FREQUENT, RARE, RESTRICTED, NEVER = 5, 10, 20, 30, 40, 45, 50
BUCKET_NAMES = {
    EXEMPTED: "EXEMPTED", ACTIVE: "ACTIVE", WORKING_SET: "WORKING_SET", FREQUENT: "FREQUENT",
    RARE: "RARE", RESTRICTED: "RESTRICTED", NEVER: "NEVER",
}
#: QuotaController defaults: rolling window per bucket; 10 min of run time allowed in it.
QUOTA_WINDOW_MS = {
    EXEMPTED: 10 * 60_000, ACTIVE: 10 * 60_000, WORKING_SET: 2 * 3_600_000,
    FREQUENT: 8 * 3_600_000, RARE: 24 * 3_600_000, RESTRICTED: 24 * 3_600_000,
}
ALLOWED_TIME_PER_PERIOD_MS = 10 * 60_000
#: QcConstants.TIMING_SESSION_COALESCING_DURATION_MS: runs this close are one session.
SESSION_COALESCING_MS = 5_000
#: Expedited-job budget per rolling 24 h.
EJ_LIMIT_MS = {
    EXEMPTED: 60 * 60_000, ACTIVE: 30 * 60_000, WORKING_SET: 30 * 60_000, FREQUENT: 10 * 60_000,
    RARE: 10 * 60_000, RESTRICTED: 5 * 60_000,
}
EJ_WINDOW_MS = 24 * 3_600_000

#: A job may run this long before it is stopped with reason ``timeout``.
RUNTIME_LIMIT_MS = 10 * 60_000
MIN_BACKOFF_MS = 10_000
MAX_BACKOFF_MS = 5 * 3_600_000
MIN_PERIOD_MS = 15 * 60_000
MIN_FLEX_MS = 5 * 60_000
#: How many jobs run at once (JobConcurrencyManager's total limit).
MAX_ACTIVE_JOBS = 16
#: JobSchedulerService.MAX_JOBS_PER_APP: scheduleAsPackage refuses a new job while the uid
#: already has more than this many (the check is ``countJobsForUid(uid) > MAX_JOBS_PER_APP``).
MAX_JOBS_PER_APP = 150
BATTERY_LOW_LEVEL = 15
#: Screen off this long counts as "idle" for setRequiresDeviceIdle jobs (IdleController).
IDLE_WINDOW_MS = 71 * 60_000

BACKOFF_LINEAR = 0
BACKOFF_EXPONENTIAL = 1

NETWORK_REQUIREMENTS = ("connected", "unmetered", "not_roaming", "metered")

# Debug stop reasons, as the job history prints them.
REASON_FINISHED = "app called jobFinished"
REASON_FORCE_STOP = "app force stopped"
REASON_CANCELED = "canceled"
REASON_UNINSTALL = "uninstall"
REASON_DATA_CLEARED = "data_cleared"
REASON_TIMEOUT = "timeout"
REASON_CONSTRAINTS = "constraints"
REASON_DEVICE_IDLE = "device_idle"
REASON_QUOTA = "quota"
REASON_DIED = "unexpectedly disconnected"
REASON_USER = "user"

#: A stopped job that ran into the app's own limits counts as a failure for backoff.
_BACKOFF_REASONS = {REASON_TIMEOUT, REASON_FINISHED, REASON_DIED}


class JobLimitError(Exception):
    """The IllegalStateException ``JobScheduler.schedule`` throws into the app at the job limit."""


class JobService(Protocol):
    """What an app's JobService answers (the app-process side of a job)."""

    def on_start_job(self, job: JobStatus) -> None: ...

    def on_stop_job(self, job: JobStatus, reason: str) -> bool: ...


#: Service class name -> resolver(device, package) -> JobService | None, registered by app-side
#: runtimes (WorkManager's SystemJobService); it starts the app process when needed.
class JobsContext(SystemContext, Protocol):
    """What a job's service binding sees: the phone, and this JobScheduler to report back to."""

    @property
    def jobs(self) -> JobScheduler: ...


SERVICE_RESOLVERS: dict[str, Callable[[JobsContext, str], JobService | None]] = {}


@dataclass
class JobInfo:
    """What an app hands to ``JobScheduler.schedule`` (android.app.job.JobInfo)."""

    uid: int
    package: str
    job_id: int
    service: str  # fully qualified class name of the JobService
    network: str | None = None  # None or one of NETWORK_REQUIREMENTS
    requires_charging: bool = False
    requires_battery_not_low: bool = False
    requires_storage_not_low: bool = False
    requires_device_idle: bool = False
    min_latency_ms: int = 0
    override_deadline_ms: int | None = None
    period_ms: int | None = None
    flex_ms: int | None = None
    backoff_policy: int = BACKOFF_EXPONENTIAL
    backoff_initial_ms: int = 30_000
    persisted: bool = False
    expedited: bool = False
    extras_size: int = 180
    #: A direct JobService (tests, system jobs); otherwise SERVICE_RESOLVERS[service] is used.
    callback: JobService | None = None

    @property
    def component(self) -> str:
        """``pkg/cls`` as ComponentName.flattenToShortString prints it."""
        cls = self.service
        if cls.startswith(self.package + "."):
            cls = cls[len(self.package):]
        return f"{self.package}/{cls}"

    def required_mask(self) -> int:
        mask = 0
        if self.requires_charging:
            mask |= CHARGING
        if self.requires_battery_not_low:
            mask |= BATTERY_NOT_LOW
        if self.requires_storage_not_low:
            mask |= STORAGE_NOT_LOW
        if self.requires_device_idle:
            mask |= IDLE
        if self.network:
            mask |= CONNECTIVITY
        if self.min_latency_ms > 0 or (self.period_ms and self.flex_ms and self.flex_ms < self.period_ms):
            mask |= TIMING_DELAY
        if self.override_deadline_ms is not None or self.period_ms:
            mask |= DEADLINE
        return mask


@dataclass(eq=False)
class JobStatus:
    """One scheduled instance of a job (JobStatus): timing, failures, run state."""

    info: JobInfo
    enqueue_ms: int
    earliest_ms: int | None
    latest_ms: int | None
    num_failures: int = 0
    original_latest_ms: int | None = None
    active: bool = False
    started_ms: int = 0
    pending: bool = False
    override: int = 0  # 0 none, 1 soft (run), 2 full (run -f)
    quota_exempt_run: bool = False
    ran_as_expedited: bool = False
    timer: Timer | None = field(default=None, repr=False)
    hash_id: int = 0  # identityHashCode stand-in, given by the JobScheduler (deterministic per device)

    @property
    def key(self) -> tuple[int, int]:
        return (self.info.uid, self.info.job_id)

    @property
    def package(self) -> str:
        return self.info.package

    @property
    def job_id(self) -> int:
        return self.info.job_id

    @property
    def tag(self) -> str:
        return "*job*/" + self.info.component

    def short(self) -> str:
        return f"#{format_uid(self.info.uid)}/{self.info.job_id} {self.info.component}"

    def required(self) -> int:
        """Required constraints of this instance (a backoff adds a timing delay)."""
        mask = self.info.required_mask()
        if self.earliest_ms is not None:
            mask |= TIMING_DELAY
        if self.latest_ms is not None:
            mask |= DEADLINE
        return mask


@dataclass
class HistoryEvent:
    time_ms: int
    label: str  # "  START", "   STOP", "START-P", " STOP-P"
    job: str  # "#u0a10/3 pkg/cls"
    reason: str = ""


def format_uid(uid: int) -> str:
    """UserHandle.formatUid: ``u0a172`` for uid 10172; a uid below 10000 as is (``1000``, as
    ``UID 1000:`` in batterystats); ``u10s1000`` for a system app id of another user."""
    if uid < 10_000:
        return str(uid)
    user, app_id = divmod(uid, 100_000)
    return f"u{user}a{app_id - 10_000}" if app_id >= 10_000 else f"u{user}s{app_id}"


class JobScheduler:
    """JobSchedulerService: schedule/cancel, readiness, running jobs, history."""

    HISTORY_SIZE = 100

    def __init__(self, device: JobsContext) -> None:
        self.device = device
        #: Concurrency limit: the device profile's (a low-RAM build runs fewer jobs at once).
        self.max_active: int = device.profile.max_concurrent_jobs or MAX_ACTIVE_JOBS
        self._jobs: dict[tuple[int, int], JobStatus] = {}
        self._by_pkg: dict[str, dict[tuple[int, int], JobStatus]] = {}
        self._by_pkg_job: dict[tuple[str, int], JobStatus] = {}
        # Jobs that wait on something a bus topic reports: re-evaluated on that topic only.
        self._net_jobs: set[JobStatus] = set()
        self._power_jobs: set[JobStatus] = set()
        self._idle_jobs: set[JobStatus] = set()
        self._active: dict[tuple[int, int], JobStatus] = {}
        # Ready jobs waiting for a slot, expedited first; removal is lazy (``js.pending`` off).
        self._pending_ej: deque[JobStatus] = deque()
        self._pending_reg: deque[JobStatus] = deque()
        self._running_pending = False
        self._hash = 0x6412553
        self.history: deque[HistoryEvent] = deque(maxlen=self.HISTORY_SIZE)
        self.recently_completed: deque[tuple[int, JobStatus, str]] = deque(maxlen=20)
        self._usage: dict[str, deque[tuple[int, int]]] = {}  # pkg -> (start, end) regular runs
        self._ej_usage: dict[str, deque[tuple[int, int]]] = {}
        self._quota_timers: dict[str, Timer] = {}
        self.ready_to_rock = False
        self.reported_active = False
        self.monitor_battery = False
        self.battery_seq = 0
        self.storage_seq = 0
        self.storage_low = False
        self._screen_off_since: int | None = None
        self._signature: tuple | None = None
        self.starts = 0  # jobs started since creation (the benchmark counts them)
        #: WorkManager's per-app databases live on the device, not in the app process, so
        #: they survive process death and reboot; ``package_cleared`` wipes them.
        self.work_db: dict[str, object] = {}
        self._deferred: Timer | None = None
        self._last_eval_ms = -1
        bus = device.bus
        for topic in ("deviceidle", "network", "power_save"):
            bus.subscribe(topic, self._on_world_changed)
        for topic in ("power_source", "battery_level"):
            bus.subscribe(topic, self._on_battery)
        bus.subscribe("constraints", self._on_constraints)
        bus.subscribe("screen", self._on_screen)
        bus.subscribe("standby_bucket", self._on_bucket)
        bus.subscribe("package_stopped", self._on_force_stop)
        bus.subscribe("package_removed", self._on_removed)
        bus.subscribe("package_cleared", self._on_cleared)
        bus.subscribe("process_died", self._on_process_died)
        bus.subscribe("shutdown", self._on_shutdown)
        bus.subscribe("boot_completed", self._on_boot_completed)

    # ================================================================ public API
    def schedule(self, info: JobInfo) -> int:
        """Schedule (or replace) a job; returns RESULT_SUCCESS (1) as JobScheduler does."""
        if info.period_ms is not None:
            info.period_ms = max(info.period_ms, MIN_PERIOD_MS)
            flex = info.flex_ms if info.flex_ms is not None else info.period_ms
            info.flex_ms = min(max(flex, MIN_FLEX_MS), info.period_ms)
        info.backoff_initial_ms = min(max(info.backoff_initial_ms, MIN_BACKOFF_MS), MAX_BACKOFF_MS)
        now = self.device.now_ms()
        if sum(1 for key in self._jobs if key[0] == info.uid) > MAX_JOBS_PER_APP:
            # JobSchedulerService.scheduleAsPackage: a warning in system_server, and the
            # exception reaches the app through the binder call.
            self.device.log("W", "JobScheduler", f"Too many jobs for uid {info.uid}")
            raise JobLimitError(f"Apps may not schedule more than {MAX_JOBS_PER_APP} distinct jobs")
        old = self._jobs.get((info.uid, info.job_id))
        if old is not None:
            self._remove(old, REASON_CANCELED)
        if info.period_ms is not None:
            latest = now + info.period_ms
            earliest = latest - (info.flex_ms or info.period_ms)
            earliest_ms: int | None = earliest if earliest > now else None
            latest_ms: int | None = latest
        else:
            earliest_ms = now + info.min_latency_ms if info.min_latency_ms > 0 else None
            latest_ms = now + info.override_deadline_ms if info.override_deadline_ms is not None else None
        js = JobStatus(info, now, earliest_ms, latest_ms, original_latest_ms=latest_ms)
        self._add(js)
        self._evaluate(js)
        self._maybe_run_pending()
        return 1

    def cancel(self, uid: int, job_id: int, reason: str = REASON_CANCELED) -> bool:
        js = self._jobs.get((uid, job_id))
        if js is None:
            return False
        self._remove(js, reason)
        self._maybe_run_pending()
        return True

    def cancel_package(self, package: str, reason: str = REASON_CANCELED) -> int:
        """Drop every job of a package (force-stop, uninstall, pm clear)."""
        jobs = list(self._by_pkg.get(package, {}).values())
        for js in jobs:
            self._remove(js, reason)
        if jobs:
            self._maybe_run_pending()
        return len(jobs)

    def jobs(self, package: str | None = None) -> list[JobStatus]:
        if package is None:
            return list(self._jobs.values())
        return list(self._by_pkg.get(package, {}).values())

    def get(self, package: str, job_id: int) -> JobStatus | None:
        return self._by_pkg_job.get((package, job_id))

    def run_now(self, package: str, job_id: int, force: bool = False, satisfied: bool = False) -> int:
        """``cmd jobscheduler run``: 0, or -1001 unknown job / -1002 functional constraints."""
        js = self.get(package, job_id)
        if js is None:
            return -1001
        if not force and not satisfied:
            unmet = js.required() & FUNCTIONAL_CONSTRAINTS & ~self._constraint_bits(js)
            if unmet:
                return -1002
        js.override = 2 if force else (0 if satisfied else 1)
        if not js.active:
            self._evaluate(js)
            self._maybe_run_pending()
        return 0

    def job_finished(self, job: JobStatus, reschedule: bool) -> None:
        """The app's ``jobFinished(params, wantsReschedule)``."""
        if not job.active or self._active.get(job.key) is not job:
            return
        self._finish_active(job, REASON_FINISHED, reschedule)
        self._maybe_run_pending()

    def stop_jobs(self, package: str | None, job_id: int | None, reason: str) -> list[JobStatus]:
        """Stop running jobs (``cmd jobscheduler timeout|stop``); they are rescheduled."""
        hit = [
            js for js in list(self._active.values())
            if (package is None or js.package == package) and (job_id is None or js.job_id == job_id)
        ]
        for js in hit:
            self._stop_active(js, reason)
        if hit:
            self._maybe_run_pending()
        return hit

    def reset_execution_quota(self, package: str) -> None:
        self._usage.pop(package, None)
        self._ej_usage.pop(package, None)
        self._reevaluate(self.jobs(package))

    # -------------------------------------------------------------- queries
    def is_ready(self, js: JobStatus) -> bool:
        return not js.active and self._ready(js)

    def job_ready(self, js: JobStatus) -> bool:
        """JobStatus.isReady(): constraints (or an override) allow it, running or not."""
        return self._ready(js)

    def satisfied_mask(self, js: JobStatus) -> int:
        return self._constraint_bits(js) | self._implicit_bits(js)

    def bucket(self, package: str) -> int:
        standby = getattr(self.device, "standby", None)
        fn = getattr(standby, "bucket", None)
        try:
            return int(fn(package)) if fn else ACTIVE
        except Exception:
            return ACTIVE

    def ej_quota_left_ms(self, package: str) -> int:
        bucket = self.bucket(package)
        if bucket >= NEVER:
            return 0
        used = self._used(self._ej_usage.get(package), EJ_WINDOW_MS)
        return max(0, EJ_LIMIT_MS.get(bucket, EJ_LIMIT_MS[RESTRICTED]) - used)

    def active_jobs(self) -> list[JobStatus]:
        return list(self._active.values())

    def pending_jobs(self) -> list[JobStatus]:
        return [js for js in (*self._pending_ej, *self._pending_reg) if js.pending and self._current(js)]

    def _current(self, js: JobStatus) -> bool:
        return self._jobs.get(js.key) is js

    # ============================================================ world state
    def _plugged(self) -> bool:
        return bool(getattr(self.device.battery, "plugged", False))

    def _battery_not_low(self) -> bool:
        level = getattr(self.device.battery, "level", 100)
        return self._plugged() or int(level if level is not None else 100) > BATTERY_LOW_LEVEL

    def _saver(self) -> bool:
        return bool(getattr(self.device.power, "saver_enabled", False))

    def _doze_restricts(self, package: str) -> bool:
        fn = getattr(self.device.idle, "restricts", None)
        return bool(fn(package)) if fn else False

    def _has_network(self, js: JobStatus) -> bool:
        requirement = js.info.network or "connected"
        net = self.device.net
        if js.info.expedited and self._treat_as_ej(js):
            # an expedited job's process may use the network even in Doze / battery saver
            network_for = getattr(net, "network_for", None)
            if callable(network_for):
                return network_for(requirement) is not None
        fn = getattr(net, "app_has_network", None)
        if fn is None:
            return True
        return bool(fn(js.package, js.info.uid, requirement))

    def _device_idle(self) -> bool:
        if self._screen_off_since is None:
            return False
        return self.device.now_ms() - self._screen_off_since >= IDLE_WINDOW_MS

    def _world_signature(self) -> tuple:
        """What global readiness depends on; equal signatures mean nothing to re-evaluate."""
        idle = self.device.idle
        net = self.device.net
        active = getattr(net, "active_network", None)
        network = None
        if callable(active):
            n = active()
            network = (getattr(n, "kind", None), getattr(n, "metered", None)) if n is not None else None
        return (
            self._plugged(), self._battery_not_low(), self._saver(), self.storage_low,
            getattr(idle, "deep_state", None), getattr(idle, "light_state", None),
            getattr(idle, "in_maintenance", lambda: None)() if callable(getattr(idle, "in_maintenance", None))
            else None,
            network, getattr(net, "airplane", None),
        )

    # ============================================================ readiness
    def _constraint_bits(self, js: JobStatus) -> int:
        """Satisfied bits among the constraints this job requires (TimeController etc.)."""
        info = js.info
        now = self.device.now_ms()
        bits = 0
        if info.requires_charging and self._plugged():
            bits |= CHARGING
        if info.requires_battery_not_low and self._battery_not_low():
            bits |= BATTERY_NOT_LOW
        if info.requires_storage_not_low and not self.storage_low:
            bits |= STORAGE_NOT_LOW
        if info.requires_device_idle and self._device_idle():
            bits |= IDLE
        if info.network and self._has_network(js):
            bits |= CONNECTIVITY
        if js.earliest_ms is None or now >= js.earliest_ms:
            bits |= TIMING_DELAY if js.earliest_ms is not None else 0
        if js.latest_ms is not None and now >= js.latest_ms:
            bits |= DEADLINE
        return bits

    def _treat_as_ej(self, js: JobStatus) -> bool:
        return js.info.expedited and (js.ran_as_expedited or self.ej_quota_left_ms(js.package) > 0)

    def _within_quota(self, js: JobStatus) -> bool:
        bucket = self.bucket(js.package)
        if bucket >= NEVER:
            return False
        if self._treat_as_ej(js) or bucket <= ACTIVE or self._plugged():
            return True
        window = QUOTA_WINDOW_MS.get(bucket, QUOTA_WINDOW_MS[RARE])
        usage = self._usage.get(js.package)
        if self._used(usage, window) >= ALLOWED_TIME_PER_PERIOD_MS:
            return False
        # QuotaController also caps the sessions per window (MAX_SESSION_COUNT_*: RARE 3,
        # RESTRICTED 1 a day): a 2-second job every hour is far under the 10 minutes of run
        # time, yet a restricted app gets one session a day.
        limit = self._max_sessions(js.package)
        return limit is None or self._sessions(usage, window) < limit

    def _max_sessions(self, package: str) -> int | None:
        quota = getattr(getattr(self.device, "standby", None), "quota", None)
        try:
            return int(quota(package).max_sessions) if quota else None
        except Exception:
            return None

    def _sessions(self, usage: deque[tuple[int, int]] | None, window: int) -> int:
        """Timing sessions that end inside the window; runs less than
        ``SESSION_COALESCING_MS`` apart are one session, as QuotaController counts them."""
        sessions: list[list[int]] = []
        for s, e in usage or ():
            if sessions and s - sessions[-1][1] <= SESSION_COALESCING_MS:
                sessions[-1][1] = max(sessions[-1][1], e)
            else:
                sessions.append([s, e])
        start = self.device.now_ms() - window
        return sum(e > start for _s, e in sessions)

    def _implicit_bits(self, js: JobStatus) -> int:
        bits = 0
        ej = self._treat_as_ej(js)
        if ej or not self._doze_restricts(js.package):
            bits |= DEVICE_NOT_DOZING
        if ej or not self._saver() or self._is_top(js.package) or self._saver_exempt(js.package):
            bits |= BACKGROUND_NOT_RESTRICTED
        if self._within_quota(js):
            bits |= WITHIN_QUOTA
        return bits

    def _saver_exempt(self, package: str) -> bool:
        fn = getattr(self.device.idle, "is_power_save_whitelisted", None)
        return bool(fn(package)) if callable(fn) else False

    def _is_top(self, package: str) -> bool:
        fn = getattr(self.device.activity, "is_foreground", None)
        return bool(fn(package)) if callable(fn) else False

    def _ready(self, js: JobStatus) -> bool:
        if not self.ready_to_rock:
            return False
        if js.override == 2:
            return True
        required = js.required() & ~DEADLINE
        sat = self._constraint_bits(js)
        implicit = self._implicit_bits(js)
        if implicit != (DEVICE_NOT_DOZING | BACKGROUND_NOT_RESTRICTED | WITHIN_QUOTA):
            return False
        if js.override == 1:
            required &= ~SOFT_CONSTRAINTS
        if sat & DEADLINE:
            # A passed deadline runs the job whatever its other constraints say.
            return True
        return (sat & required) == required

    # ============================================================ evaluation
    def _evaluate(self, js: JobStatus) -> None:
        """Start or queue a ready job; set its timer at the next time readiness can change."""
        if js.active:
            return
        if self._ready(js):
            if not js.pending:
                js.pending = True
                (self._pending_ej if self._treat_as_ej(js) else self._pending_reg).append(js)
            return
        js.pending = False
        self._arm_timer(js)

    def _arm_timer(self, js: JobStatus) -> None:
        now = self.device.now_ms()
        nxt = None
        for t in (js.earliest_ms, js.latest_ms):
            if t is not None and t > now and (nxt is None or t < nxt):
                nxt = t
        if js.info.requires_device_idle and self._screen_off_since is not None:
            t = self._screen_off_since + IDLE_WINDOW_MS
            if t > now and (nxt is None or t < nxt):
                nxt = t
        if js.timer is not None and (nxt is None or js.timer.when_ms != nxt or js.timer.cancelled):
            js.timer.cancel()
            js.timer = None
        if nxt is not None and js.timer is None:
            js.timer = self.device.clock.schedule_at(nxt, lambda j=js: self._on_job_timer(j), "job-timer")
        if not self._within_quota(js) and self.ready_to_rock:
            self._arm_quota_timer(js.package)

    def _on_job_timer(self, js: JobStatus) -> None:
        js.timer = None
        if self._jobs.get(js.key) is js:
            self._evaluate(js)
            self._maybe_run_pending()

    def _arm_quota_timer(self, package: str) -> None:
        if package in self._quota_timers:
            return
        usage = self._usage.get(package)
        if not usage:
            return
        window = QUOTA_WINDOW_MS.get(self.bucket(package), QUOTA_WINDOW_MS[RARE])
        now = self.device.now_ms()
        # the oldest session still inside the window leaves it at end + window (always later than now)
        when = next((end + window for _start, end in usage if end + window > now), None)
        if when is None:
            return
        self._quota_timers[package] = self.device.clock.schedule_at(
            when, lambda p=package: self._on_quota_timer(p), "job-quota")

    def _on_quota_timer(self, package: str) -> None:
        self._quota_timers.pop(package, None)
        self._reevaluate(self.jobs(package))

    def _reevaluate(self, jobs: Iterable[JobStatus]) -> None:
        for js in list(jobs):
            if self._jobs.get(js.key) is not js:
                continue
            if js.active:
                self._check_active(js)
            else:
                self._evaluate(js)
        self._maybe_run_pending()

    def _check_active(self, js: JobStatus) -> None:
        """A running job whose constraints went away is stopped (and rescheduled)."""
        if js.override == 2:
            return
        implicit = self._implicit_bits(js)
        if not implicit & DEVICE_NOT_DOZING:
            self._stop_active(js, REASON_DEVICE_IDLE)
        elif not implicit & WITHIN_QUOTA:
            self._stop_active(js, REASON_QUOTA)
        elif not implicit & BACKGROUND_NOT_RESTRICTED:
            self._stop_active(js, REASON_CONSTRAINTS)
        else:
            required = js.required() & ~(TIMING_DELAY | DEADLINE)
            if js.override == 1:
                required &= ~SOFT_CONSTRAINTS
            if (self._constraint_bits(js) & required) != required:
                self._stop_active(js, REASON_CONSTRAINTS)

    def _maybe_run_pending(self) -> None:
        if self._running_pending:
            return
        if len(self._active) < self.max_active and (self._pending_ej or self._pending_reg):
            self._running_pending = True
            try:
                self._run_pending()
            finally:
                self._running_pending = False
        self._report_active()

    def _report_active(self) -> None:
        """Tell DeviceIdleController whether jobs run: a maintenance window ends when they are done."""
        active = bool(self._active)
        if active == self.reported_active:
            return
        self.reported_active = active
        fn = getattr(self.device.idle, "set_jobs_active", None)
        if callable(fn):
            fn(active)

    def _run_pending(self) -> None:
        while len(self._active) < self.max_active:
            queue = self._pending_ej or self._pending_reg
            if not queue:
                return
            js = queue.popleft()
            if not js.pending or not self._current(js):
                continue
            js.pending = False
            if not self._ready(js):
                self._arm_timer(js)
                continue
            self._start(js)

    # =============================================================== running
    def _resolve_service(self, js: JobStatus) -> JobService | None:
        if js.info.callback is not None:
            return js.info.callback
        resolver = SERVICE_RESOLVERS.get(js.info.service)
        return resolver(self.device, js.package) if resolver else None

    def _start(self, js: JobStatus) -> None:
        service = self._resolve_service(js)
        if self._jobs.get(js.key) is not js:
            return  # the app replaced the job while its process started
        if service is None:
            return
        now = self.device.now_ms()
        js.active = True
        js.started_ms = now
        js.ran_as_expedited = self._treat_as_ej(js)
        js.quota_exempt_run = self._plugged() or self.bucket(js.package) <= ACTIVE
        if js.timer is not None:
            js.timer.cancel()
        js.timer = self.device.clock.schedule_at(
            now + RUNTIME_LIMIT_MS, lambda j=js: self._on_runtime_limit(j), "job-timeout")
        self._active[js.key] = js
        self.starts += 1
        self.history.append(HistoryEvent(now, "START-P" if js.info.period_ms else "  START", js.short()))
        service.on_start_job(js)

    def _on_runtime_limit(self, js: JobStatus) -> None:
        js.timer = None
        if js.active and self._active.get(js.key) is js:
            # JobServiceContext.handleOpTimeoutLocked (VERB_EXECUTING) logs this at INFO on
            # every build; the name is JobStatus.toShortString: ``<hash> #u0a317/2 pkg/cls``.
            self.device.log("I", "JobServiceContext", "Client timed out while executing (no jobFinished "
                            f"received). Sending onStop: {js.hash_id:x} {js.short()}")
            self._stop_active(js, REASON_TIMEOUT)
            self._maybe_run_pending()

    def _stop_active(self, js: JobStatus, reason: str) -> None:
        service = self._resolve_service_if_running(js)
        reschedule = True
        if service is not None:
            try:
                reschedule = bool(service.on_stop_job(js, reason))
            except Exception:
                reschedule = True
        if self._active.get(js.key) is js:
            self._finish_active(js, reason, reschedule)

    def _resolve_service_if_running(self, js: JobStatus) -> JobService | None:
        if js.info.callback is not None:
            return js.info.callback
        activity = self.device.activity
        proc = getattr(activity, "process", None)
        if callable(proc) and proc(js.package) is None:
            return None
        return self._resolve_service(js)

    def _finish_active(self, js: JobStatus, reason: str, reschedule: bool, requeue: bool = True) -> None:
        now = self.device.now_ms()
        del self._active[js.key]
        js.active = False
        if js.timer is not None:
            js.timer.cancel()
            js.timer = None
        self._note_usage(js, now)
        periodic = js.info.period_ms is not None
        self.history.append(HistoryEvent(now, " STOP-P" if periodic else "   STOP", js.short(), reason))
        self.recently_completed.append((now, js, reason))
        if not requeue or self._jobs.get(js.key) is not js:
            return
        self._detach(js)
        nxt: JobStatus | None = None
        if reschedule:
            nxt = self._reschedule_for_failure(js, reason, now)
        elif periodic:
            nxt = self._reschedule_periodic(js, now)
        if nxt is not None:
            self._add(nxt)
            self._evaluate(nxt)

    def _note_usage(self, js: JobStatus, now: int) -> None:
        if js.ran_as_expedited:
            self._ej_usage.setdefault(js.package, deque()).append((js.started_ms, now))
        elif not js.quota_exempt_run:
            self._usage.setdefault(js.package, deque()).append((js.started_ms, now))

    def _used(self, usage: deque[tuple[int, int]] | None, window: int) -> int:
        if not usage:
            return 0
        now = self.device.now_ms()
        start = now - window
        while usage and usage[0][1] <= now - EJ_WINDOW_MS:
            usage.popleft()
        return sum(min(e, now) - max(s, start) for s, e in usage if e > start)

    def _reschedule_for_failure(self, js: JobStatus, reason: str, now: int) -> JobStatus:
        info = js.info
        failures = js.num_failures + (1 if reason in _BACKOFF_REASONS else 0)
        if reason in _BACKOFF_REASONS:
            if info.backoff_policy == BACKOFF_LINEAR:
                delay = info.backoff_initial_ms * failures
            else:
                delay = info.backoff_initial_ms * (2 ** (failures - 1))
            earliest: int | None = now + min(delay, MAX_BACKOFF_MS)
        else:
            earliest = js.earliest_ms
        latest = js.latest_ms if reason not in _BACKOFF_REASONS else None
        return JobStatus(info, js.enqueue_ms, earliest, latest, num_failures=failures,
                         original_latest_ms=js.original_latest_ms)

    def _reschedule_periodic(self, js: JobStatus, now: int) -> JobStatus:
        info = js.info
        period = info.period_ms or MIN_PERIOD_MS
        flex = info.flex_ms or period
        old_latest = js.latest_ms or now
        if old_latest > now:
            latest = old_latest + period
        else:
            missed = (now - old_latest) // period
            latest = old_latest + (missed + 1) * period
        earliest = latest - flex
        first = earliest if earliest > now else None
        return JobStatus(info, js.enqueue_ms, first, latest, original_latest_ms=latest)

    # ======================================================= add / remove
    def _add(self, js: JobStatus) -> None:
        if not js.hash_id:
            self._hash = (self._hash * 1_103_515_245 + 12_345) & 0x7FFFFFF
            js.hash_id = self._hash | 0x1000000
        self._jobs[js.key] = js
        self._by_pkg.setdefault(js.package, {})[js.key] = js
        self._by_pkg_job[(js.package, js.job_id)] = js
        info = js.info
        if info.network:
            self._net_jobs.add(js)
        if info.requires_charging or info.requires_battery_not_low:
            self._power_jobs.add(js)
        if info.requires_device_idle:
            self._idle_jobs.add(js)

    def _detach(self, js: JobStatus) -> None:
        if self._jobs.get(js.key) is js:
            del self._jobs[js.key]
            pkg_jobs = self._by_pkg.get(js.package)
            if pkg_jobs is not None:
                pkg_jobs.pop(js.key, None)
                if not pkg_jobs:
                    del self._by_pkg[js.package]
            if self._by_pkg_job.get((js.package, js.job_id)) is js:
                del self._by_pkg_job[(js.package, js.job_id)]
        self._net_jobs.discard(js)
        self._power_jobs.discard(js)
        self._idle_jobs.discard(js)
        js.pending = False
        if js.timer is not None and not js.active:
            js.timer.cancel()
            js.timer = None

    def _remove(self, js: JobStatus, reason: str) -> None:
        """Cancel a job; a running one hears onStopJob first and is not rescheduled."""
        if js.active:
            service = self._resolve_service_if_running(js)
            if service is not None:
                try:
                    service.on_stop_job(js, reason)
                except Exception:
                    pass
            if self._active.get(js.key) is js:
                self._finish_active(js, reason, False, requeue=False)
        self._detach(js)

    # ============================================================ bus handlers
    def _on_world_changed(self, **_: object) -> None:
        sig = self._world_signature()
        if sig == self._signature:
            return
        self._signature = sig
        self._last_eval_ms = self.device.now_ms()
        self._reevaluate(self._jobs.values())

    def _on_battery(self, **_: object) -> None:
        """BatteryController's tracker: every battery broadcast bumps the seq while monitored."""
        if self.monitor_battery:
            self.battery_seq += 1
        self._on_world_changed()

    def set_storage_low(self, low: bool) -> int:
        """DeviceStorageMonitorService changed its mind (``cmd devicestoragemonitor``); new seq."""
        self.storage_seq += 1
        if low != self.storage_low:
            self.storage_low = low
            self._on_world_changed()
        return self.storage_seq

    def _on_constraints(self) -> None:
        """The generic topic: a whitelist or policy change that the state signature cannot see.

        When the signature moved, re-evaluate now; otherwise once, at this same instant, after
        the publisher finished (a Doze step publishes ``deviceidle`` and ``constraints`` together).
        """
        sig = self._world_signature()
        if sig != self._signature:
            self._on_world_changed()
            return
        if self._last_eval_ms == self.device.now_ms():
            return  # the specific topic just re-evaluated everything at this instant
        if self._deferred is None:
            self._deferred = self.device.clock.schedule_in(0, self._on_deferred, "job-reevaluate")

    def _on_deferred(self) -> None:
        self._deferred = None
        self._signature = self._world_signature()
        self._reevaluate(self._jobs.values())

    def _on_screen(self, interactive: bool) -> None:
        if interactive:
            self._screen_off_since = None
        elif self._screen_off_since is None:
            self._screen_off_since = self.device.now_ms()
        self._reevaluate(self._idle_jobs)

    def _on_bucket(self, package: str, bucket: int) -> None:
        self._reevaluate(self.jobs(package))

    def _on_force_stop(self, package: str) -> None:
        """ACTION_PACKAGE_RESTARTED: every job goes; WorkManager learns of it at its next start."""
        self.cancel_package(package, REASON_FORCE_STOP)
        db = self.work_db.get(package)
        if db is not None and hasattr(db, "force_stopped"):
            db.force_stopped = True  # ApplicationExitInfo REASON_USER_REQUESTED

    def _on_removed(self, package: str) -> None:
        self.cancel_package(package, REASON_UNINSTALL)
        self.work_db.pop(package, None)
        self._usage.pop(package, None)
        self._ej_usage.pop(package, None)

    def _on_cleared(self, package: str) -> None:
        self.cancel_package(package, REASON_DATA_CLEARED)
        self.work_db.pop(package, None)

    def _on_process_died(self, package: str, pid: int) -> None:
        for js in [j for j in self._active.values() if j.package == package and j.info.callback is None]:
            self._finish_active(js, REASON_DIED, True)
        self._maybe_run_pending()

    def _on_shutdown(self) -> None:
        """system_server dies: running jobs end, non-persisted jobs vanish, history is lost."""
        self.ready_to_rock = False
        for js in list(self._active.values()):
            js.active = False
            if js.timer is not None:
                js.timer.cancel()
                js.timer = None
        self._active.clear()
        self.reported_active = False
        for js in list(self._jobs.values()):
            if not js.info.persisted:
                self._detach(js)
            else:
                if js.pending:
                    js.pending = False
                if js.timer is not None:
                    js.timer.cancel()
                    js.timer = None
                js.override = 0
        self._pending_ej.clear()
        self._pending_reg.clear()
        for t in self._quota_timers.values():
            t.cancel()
        self._quota_timers.clear()
        self.history.clear()
        self.recently_completed.clear()
        self._screen_off_since = None
        self._signature = None

    def _on_boot_completed(self) -> None:
        self.ready_to_rock = True
        self._signature = self._world_signature()
        self._reevaluate(self._jobs.values())
