"""``cmd jobscheduler …`` and ``dumpsys jobscheduler [PKG]`` in the texts AOSP prints.

Texts, stderr/stdout split and exit codes follow JobSchedulerShellCommand and
JobSchedulerService.dumpInternal (research/android_shell.md §4). Exit codes are AOSP's
negative results seen through ``& 0xFF`` (-1000 → 24, -1001 → 23, -1002 → 22, -1 → 255).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..os.jobscheduler import (
    BACKGROUND_NOT_RESTRICTED,
    BUCKET_NAMES,
    CONSTRAINT_NAMES,
    DEVICE_NOT_DOZING,
    REASON_TIMEOUT,
    REASON_USER,
    WITHIN_QUOTA,
    JobScheduler,
    JobStatus,
    format_uid,
)
from ..os.timeutils import format_duration
from ..registry import CommandContext, cmd_service, dumpsys_section

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

CMD_ERR_NO_PACKAGE = -1000
CMD_ERR_NO_JOB = -1001
CMD_ERR_CONSTRAINTS = -1002

HELP = """Job scheduler (jobscheduler) commands:
  help
    Print this help text.
  run [-f | --force] [-s | --satisfied] [-u | --user USER_ID] [-n | --namespace NAMESPACE] PACKAGE JOB_ID
    Trigger immediate execution of a specific scheduled job. For historical
    reasons, some constraints, such as battery, are ignored when this
    command is called. If you don't want any constraints to be ignored,
    include the -s flag.
    Options:
      -f or --force: run the job even if technical constraints such as
         connectivity are not currently met. This is incompatible with -f
         and so an error will be reported if both are given.
      -s or --satisfied: run the job only if all constraints are met.
         This is incompatible with -f and so an error will be reported
         if both are given.
      -u or --user: specify which user's job is to be run; the default is
         the primary or system user
  timeout [-u | --user USER_ID] [PACKAGE] [JOB_ID]
    Trigger immediate timeout of currently executing jobs, as if their.
    execution timeout had expired.
  cancel [-u | --user USER_ID] PACKAGE [JOB_ID]
    Cancel a scheduled job.  If a job ID is not supplied, all jobs scheduled
    by that package will be canceled.  USE WITH CAUTION.
  heartbeat [num]
    No longer used.
  monitor-battery [on|off]
    Control monitoring of all battery changes.  Off by default.  Turning
    on makes get-battery-seq useful.
  get-battery-seq
    Return the last battery update sequence number that was received.
  get-battery-charging
    Return whether the battery is currently considered to be charging.
  get-battery-not-low
    Return whether the battery was last reported to be not low.
  get-storage-seq
    Return the last storage update sequence number that was received.
  get-storage-not-low
    Return whether storage was last reported to be low.
  get-job-state [-u | --user USER_ID] PACKAGE JOB_ID
    Return the current state of a job, may be any combination of:
      pending: currently on the pending list, waiting to be active
      active: job is actively running
      user-stopped: job can't run because its user is stopped
      backing-up: job can't run because app is currently backing up its data
      no-component: job can't run because its component is not available
      ready: job is ready to run (all constraints satisfied or bypassed)
      waiting: if nothing else above is printed, job not ready to run
  reset-execution-quota [-u | --user USER_ID] PACKAGE
    Resets the execution quota for the given package.
"""


class _ArgError(Exception):
    """An exception the shell command turns into ``Exception: <e>`` (rc 255)."""


class _Args:
    """ShellCommand's getNextOption / getNextArgRequired over argv."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.pos = 1
        self.prev = argv[0] if argv else ""

    def next_option(self) -> str | None:
        if self.pos < len(self.argv) and self.argv[self.pos].startswith("-") and self.argv[self.pos] != "-":
            opt = self.argv[self.pos]
            self.prev = opt
            self.pos += 1
            if opt == "--":
                return None
            return opt
        return None

    def next_arg(self) -> str | None:
        if self.pos < len(self.argv):
            arg = self.argv[self.pos]
            self.prev = arg
            self.pos += 1
            return arg
        return None

    def next_required(self) -> str:
        prev = self.prev
        arg = self.next_arg()
        if arg is None:
            raise _ArgError(f'java.lang.IllegalArgumentException: Argument expected after "{prev}"')
        return arg


def _parse_int(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise _ArgError(f'java.lang.NumberFormatException: For input string: "{text}"') from None
    if not -(2**31) <= value < 2**31:
        raise _ArgError(f'java.lang.NumberFormatException: For input string: "{text}"')
    return value


def _user(text: str) -> int:
    if text in ("cur", "current", "all"):
        return 0
    return _parse_int(text)


def _installed(device: VirtualAndroidDevice, package: str) -> bool:
    pm = device.packages
    get = getattr(pm, "get", None)
    if callable(get):
        return get(package) is not None
    return any(js.package == package for js in device.jobs.jobs())


def _uid_of(device: VirtualAndroidDevice, package: str) -> int | None:
    get = getattr(device.packages, "get", None)
    app = get(package) if callable(get) else None
    if app is not None:
        return int(app.uid)
    jobs = device.jobs.jobs(package)
    return jobs[0].info.uid if jobs else None


@cmd_service("jobscheduler")
def jobscheduler_cmd(ctx: CommandContext) -> int:
    args = _Args(ctx.argv)
    cmd = args.next_arg()
    try:
        if cmd is None:
            ctx.out(HELP, end="")
            return 0
        handler = _COMMANDS.get(cmd)
        if handler is None:
            if cmd in ("help", "-h"):
                ctx.out(HELP, end="")
                return 0
            ctx.err(f"Unknown command: {cmd}")
            return 255
        return handler(ctx, args)
    except _ArgError as e:
        ctx.out(f"Exception: {e}")
        return 255


def _opt_user_ns(ctx: CommandContext, args: _Args, allowed: str = "un") -> tuple[int, str | None] | int:
    user, namespace = 0, None
    while (opt := args.next_option()) is not None:
        if opt in ("-u", "--user") and "u" in allowed:
            user = _user(args.next_required())
        elif opt in ("-n", "--namespace") and "n" in allowed:
            namespace = args.next_required()
        else:
            ctx.out(f"Error: unknown option '{opt}'")
            return 255
    return user, namespace


def _run(ctx: CommandContext, args: _Args) -> int:
    force = satisfied = False
    user, namespace = 0, None
    while (opt := args.next_option()) is not None:
        if opt in ("-f", "--force"):
            force = True
        elif opt in ("-s", "--satisfied"):
            satisfied = True
        elif opt in ("-u", "--user"):
            user = _user(args.next_required())
        elif opt in ("-n", "--namespace"):
            namespace = args.next_required()
        else:
            ctx.out(f"Error: unknown option '{opt}'")
            return 255
    if force and satisfied:
        ctx.out("Cannot specify both --force and --satisfied")
        return 255
    package = args.next_required()
    job_id = _parse_int(args.next_required())
    ns = f" / namespace {namespace}" if namespace else ""
    device = ctx.device
    if not _installed(device, package):
        ctx.err(f"Package not found: {package} / user {user}")
        return CMD_ERR_NO_PACKAGE & 0xFF
    result = CMD_ERR_NO_JOB
    if not namespace:
        result = device.jobs.run_now(package, job_id, force=force, satisfied=satisfied)
    if result == CMD_ERR_NO_JOB:
        ctx.err(f"Could not find job {job_id} in package {package}{ns} / user {user}")
        return CMD_ERR_NO_JOB & 0xFF
    if result == CMD_ERR_CONSTRAINTS:
        ctx.err(f"Job {job_id} in package {package}{ns} / user {user} "
                "has functional constraints but --force not specified")
        return CMD_ERR_CONSTRAINTS & 0xFF
    ctx.out("Running job [FORCED]" if force else "Running job")
    return 0


def _timeout_or_stop(ctx: CommandContext, args: _Args, stop: bool) -> int:
    parsed = _opt_user_ns(ctx, args)
    if isinstance(parsed, int):
        return parsed
    package = args.next_arg()
    job_text = args.next_arg()
    job_id = _parse_int(job_text) if job_text is not None else None
    jobs: JobScheduler = ctx.device.jobs
    hit = [
        js for js in jobs.active_jobs()
        if (package is None or js.package == package) and (job_id is None or js.job_id == job_id)
    ]
    if not hit:
        ctx.out("No matching executing jobs found.")
        return 0
    for js in hit:
        ctx.out(f"{'Stopping' if stop else 'Timing out'}: {js.short()}")
    jobs.stop_jobs(package, job_id, REASON_USER if stop else REASON_TIMEOUT)
    return 0


def _timeout(ctx: CommandContext, args: _Args) -> int:
    return _timeout_or_stop(ctx, args, stop=False)


def _stop(ctx: CommandContext, args: _Args) -> int:
    user = 0
    while (opt := args.next_option()) is not None:
        if opt in ("-u", "--user"):
            user = _user(args.next_required())
        elif opt in ("-n", "--namespace", "-s", "--stop-reason", "-i", "--internal-stop-reason"):
            args.next_required()
        else:
            ctx.out(f"Error: unknown option '{opt}'")
            return 255
    del user
    return _timeout_or_stop(ctx, args, stop=True)


def _cancel(ctx: CommandContext, args: _Args) -> int:
    parsed = _opt_user_ns(ctx, args)
    if isinstance(parsed, int):
        return parsed
    user, _ns = parsed
    if user < 0:
        ctx.err("Error: must specify a concrete user ID")
        return 255
    package = args.next_required()
    job_text = args.next_arg()
    device = ctx.device
    uid = _uid_of(device, package)
    if uid is None or not _installed(device, package):
        ctx.out(f"Package {package} not found.")
        return CMD_ERR_NO_PACKAGE & 0xFF
    if job_text is None:
        ctx.out(f"Canceling all jobs for {package} in user {user}")
        if not device.jobs.cancel_package(package, "cancel() called by app"):
            ctx.out("No matching jobs found.")
        return 0
    job_id = _parse_int(job_text)
    ctx.out(f"Canceling job {package}/#{job_id} in user {user}")
    js = device.jobs.get(package, job_id)
    if js is None or not device.jobs.cancel(js.info.uid, job_id, "cancel() called by app"):
        ctx.out("No matching job found.")
    return 0


def _get_job_state(ctx: CommandContext, args: _Args) -> int:
    parsed = _opt_user_ns(ctx, args)
    if isinstance(parsed, int):
        return parsed
    user, namespace = parsed
    package = args.next_required()
    job_id = _parse_int(args.next_required())
    device = ctx.device
    if not _installed(device, package):
        ctx.out(f"unknown({package})")
        ctx.err(f"Package not found: {package} / user {user}")
        return CMD_ERR_NO_PACKAGE & 0xFF
    js = device.jobs.get(package, job_id)
    if js is None:
        uid = _uid_of(device, package) or 0
        ns = f" / namespace {namespace}" if namespace else ""
        ctx.out(f"unknown({format_uid(uid)}/jid{job_id})")
        ctx.err(f"Could not find job {job_id} in package {package}{ns} / user {user}")
        return CMD_ERR_NO_JOB & 0xFF
    # JobSchedulerService.getJobState: "pending" with print(), every later word with println()
    # after a space, "waiting" with print(), then one println() — hence "active\n ready\n\n".
    text = ""
    printed = False
    for word, on in (("pending", js.pending), ("active", js.active), ("ready", device.jobs.job_ready(js))):
        if not on:
            continue
        if word == "pending":
            text += word
        else:
            text += (" " if printed else "") + word + "\n"
        printed = True
    if not printed:
        text = "waiting"
    ctx.stdout.write(text + "\n")
    return 0


def _monitor_battery(ctx: CommandContext, args: _Args) -> int:
    opt = args.next_arg()
    if opt == "on":
        ctx.device.jobs.monitor_battery = True
    elif opt == "off":
        ctx.device.jobs.monitor_battery = False
    else:
        ctx.err(f"Error: unknown option {opt}")
        return 1
    ctx.out(f"Battery monitoring {'enabled' if ctx.device.jobs.monitor_battery else 'disabled'}")
    return 0


def _reset_quota(ctx: CommandContext, args: _Args) -> int:
    parsed = _opt_user_ns(ctx, args, allowed="u")
    if isinstance(parsed, int):
        return parsed
    package = args.next_required()
    ctx.device.jobs.reset_execution_quota(package)
    return 0


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _heartbeat(ctx: CommandContext, args: _Args) -> int:
    ctx.err("Heartbeat command is no longer supported")
    return 255


_COMMANDS = {
    "run": _run,
    "timeout": _timeout,
    "stop": _stop,
    "cancel": _cancel,
    "get-job-state": _get_job_state,
    "monitor-battery": _monitor_battery,
    "get-battery-seq": lambda ctx, a: (ctx.out(str(ctx.device.jobs.battery_seq)), 0)[1],
    "get-battery-charging": lambda ctx, a: (ctx.out(_bool(ctx.device.jobs._plugged())), 0)[1],
    "get-battery-not-low": lambda ctx, a: (ctx.out(_bool(ctx.device.jobs._battery_not_low())), 0)[1],
    "get-storage-seq": lambda ctx, a: (ctx.out(str(ctx.device.jobs.storage_seq)), 0)[1],
    "get-storage-not-low": lambda ctx, a: (ctx.out(_bool(not ctx.device.jobs.storage_low)), 0)[1],
    "reset-execution-quota": _reset_quota,
    "heartbeat": _heartbeat,
}


@cmd_service("devicestoragemonitor")
def devicestoragemonitor_cmd(ctx: CommandContext) -> int:
    """DeviceStorageMonitorService's shell: what drives JobScheduler's storage-not-low constraint."""
    args = ctx.argv[1:]
    verb = args[0] if args else None
    if verb in ("force-low", "force-not-low", "reset"):
        for opt in args[1:]:
            if opt != "-f":
                ctx.err(f"Error: unknown option: {opt}")
                return 255
        seq = ctx.device.jobs.set_storage_low(verb == "force-low")
        if "-f" in args[1:]:
            ctx.out(str(seq))
        return 0
    if verb in (None, "help", "-h"):
        ctx.out("Device storage monitor service (devicestoragemonitor) commands:")
        ctx.out("  help")
        ctx.out("    Print this help text.")
        ctx.out("  force-low [-f]")
        ctx.out("    Force storage to be low, freezing storage state.")
        ctx.out("    -f: force a storage change broadcast be sent, prints new sequence.")
        ctx.out("  force-not-low [-f]")
        ctx.out("    Force storage to not be low, freezing storage state.")
        ctx.out("    -f: force a storage change broadcast be sent, prints new sequence.")
        ctx.out("  reset [-f]")
        ctx.out("    Unfreeze storage state, returning to current real values.")
        ctx.out("    -f: force a storage change broadcast be sent, prints new sequence.")
        return 0
    ctx.err(f"Unknown command: {verb}")
    return 255


# ================================================================== dumpsys
def constraints_text(mask: int) -> str:
    names = [name for bit, name in CONSTRAINT_NAMES if mask & bit]
    text = " ".join(names)
    return f"{text} [0x{mask:x}]" if mask else text


_NET_CAPS = {
    "connected": "INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED",
    "unmetered": "NOT_METERED&INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED",
    "not_roaming": "INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED&NOT_ROAMING",
    "metered": "INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED",
}


def _run_time(value: int | None, now: int) -> str:
    return "none" if value is None else format_duration(value - now)


def dump_job(js: JobStatus, jobs: JobScheduler, now: int) -> list[str]:
    info = js.info
    uid = format_uid(info.uid)
    required = js.required()
    satisfied = jobs.satisfied_mask(js)
    unsatisfied = (required | WITHIN_QUOTA) & ~satisfied
    lines = [
        f"  JOB #{uid}/{info.job_id}: {js.hash_id:x} {info.component}",
        f"    {uid} tag={js.tag}",
        f"    Source: uid={uid} user={info.uid // 100_000} pkg={info.package}",
        "    JobInfo:",
        f"      Service: {info.component}",
    ]
    if info.period_ms:
        lines.append(
            f"      PERIODIC: interval={format_duration(info.period_ms)} "
            f"flex={format_duration(info.flex_ms or 0)}")
    if info.persisted:
        lines.append("      PERSISTED")
    if info.expedited:
        lines.append("      EXPEDITED")
    lines.append(
        f"      Requires: charging={_bool(info.requires_charging)} "
        f"batteryNotLow={_bool(info.requires_battery_not_low)} deviceIdle={_bool(info.requires_device_idle)}")
    lines.append(f"      Extras: mParcelledData.dataSize={info.extras_size}")
    if info.network:
        lines.append(
            f"      Network type: NetworkRequest [ NONE id=0, [ Capabilities: {_NET_CAPS[info.network]} "
            f"Uid: {info.uid}] ]")
    if info.min_latency_ms:
        lines.append(f"      Minimum latency: {format_duration(info.min_latency_ms)}")
    if info.override_deadline_ms is not None:
        lines.append(f"      Max execution delay: {format_duration(info.override_deadline_ms)}")
    backoff = format_duration(info.backoff_initial_ms)
    lines.append(f"      Backoff: policy={info.backoff_policy} initial={backoff}")
    if js.earliest_ms is not None:
        lines.append("      Has early constraint")
    if js.latest_ms is not None:
        lines.append("      Has late constraint")
    lines.append(f"    Required constraints: {constraints_text(required)}")
    lines.append(f"    Satisfied constraints: {constraints_text(satisfied)}")
    lines.append(f"    Unsatisfied constraints: {constraints_text(unsatisfied)}")
    tracking = []
    if required & 0x10000000:
        tracking.append("CONNECTIVITY")
    if required & 0x3:
        tracking.append("BATTERY")
    if js.earliest_ms is not None or js.latest_ms is not None:
        tracking.append("TIME")
    tracking.append("QUOTA")
    lines.append(f"    Tracking: {' '.join(tracking)}")
    lines.append("    Implicit constraints:")
    lines.append(f"      readyNotDozing: {_bool(bool(satisfied & DEVICE_NOT_DOZING))}")
    lines.append(f"      readyNotRestrictedInBg: {_bool(bool(satisfied & BACKGROUND_NOT_RESTRICTED))}")
    lines.append("      readyComponentEnabled: true")
    if js.num_failures:
        lines.append(f"    Num failures: {js.num_failures}")
    lines.append(f"    Standby bucket: {BUCKET_NAMES.get(jobs.bucket(info.package), 'ACTIVE')}")
    lines.append(f"    Enqueue time: {format_duration(js.enqueue_ms - now)}")
    lines.append(
        f"    Run time: earliest={_run_time(js.earliest_ms, now)}, latest={_run_time(js.latest_ms, now)}, "
        f"original latest={_run_time(js.original_latest_ms, now)}")
    job_ready = jobs.job_ready(js)
    ready = job_ready and not js.pending and not js.active
    lines.append(
        f"    Ready: {_bool(ready)} (job={_bool(job_ready)} user=true !restricted=true "
        f"!pending={_bool(not js.pending)} !active={_bool(not js.active)} !backingup=true comp=true)")
    return lines


@dumpsys_section("jobscheduler")
def dumpsys_jobscheduler(ctx: CommandContext) -> int:
    device = ctx.device
    jobs: JobScheduler = device.jobs
    package = None
    for arg in ctx.argv[1:]:
        if arg == "-h":
            ctx.out("Job Scheduler (jobscheduler) dump options:")
            ctx.out("  [-h] [package] ...")
            ctx.out("    -h: print this help")
            ctx.out("  [package] is an optional package name to limit the output to.")
            return 0
        if arg.startswith("-"):
            continue
        package = arg
        break
    if package is not None and not _installed(device, package):
        ctx.out(f"Invalid package: {package}")
        return 0
    now = device.now_ms()
    out: list[str] = [
        "Settings:",
        "  min_ready_non_active_jobs_count=5",
        "  max_non_active_job_batch_delay_ms=+31m0s0ms",
        "  heavy_use_factor=0.9",
        "  moderate_use_factor=0.5",
        "  fg_job_count=4",
        "  runtime_min_guarantee_ms=+10m0s0ms",
        "  runtime_min_ej_guarantee_ms=+3m0s0ms",
        "  persist_in_split_files=true",
        "",
        "Started users: [0]",
    ]
    selected = [js for js in jobs.jobs(package)]
    selected.sort(key=lambda j: (j.info.uid, j.info.job_id))
    out.append(f"Registered {len(selected)} jobs:")
    if not selected:
        out.append("  None.")
    for js in selected:
        out.extend(dump_job(js, jobs, now))
    out.append("")
    out.append(f"mReadyToRock={_bool(jobs.ready_to_rock)}")
    out.append(f"mReportedActive={_bool(jobs.reported_active)}")
    out.append("")
    out.append("Job history:")
    history = [h for h in jobs.history if package is None or f" {package}/" in h.job]
    if not history:
        out.append("  No history")
    for h in history:
        ident, _, name = h.job.partition(" ")
        line = f"{format_duration(h.time_ms - now):>19} {h.label}: {ident} *job*/{name}"
        if h.reason:
            line += " " + h.reason
        out.append(line)
    out.append("")
    out.append("Pending queue:")
    pending = [js for js in jobs.pending_jobs() if package is None or js.package == package]
    if not pending:
        out.append("  None")
    for i, js in enumerate(pending):
        out.append(f"  Pending #{i}: {js.hash_id:x} {js.short()}")
    out.append("")
    out.append("Active jobs:")
    active = [js for js in jobs.active_jobs() if package is None or js.package == package]
    if not active:
        out.append("  None")
    for i, js in enumerate(active):
        out.append(f"  Slot #{i}: {js.hash_id:x} {js.short()}")
        out.append(f"    Running for: {format_duration(now - js.started_ms)}, "
                   f"timeout at: {format_duration(js.started_ms + 600_000 - now)}")
    out.append("")
    out.append("Recently completed jobs:")
    done = [(t, js, r) for t, js, r in jobs.recently_completed if package is None or js.package == package]
    if not done:
        out.append("  None")
    for t, js, _reason in reversed(done):
        out.append(f"  {format_duration(t - now)}: {js.hash_id:x} {js.short()}")
    ctx.stdout.write("\n".join(out) + "\n")
    return 0
