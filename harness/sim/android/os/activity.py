"""ActivityManager: app processes, activity launches, force-stop, broadcasts, and the ``am`` command.

This is where an app model comes alive. A launch, a broadcast or a job starts the app's process
(``Start proc …`` in the log, a row in ``ps``) and gives it an :class:`AppRuntime`, whose
``workmanager`` is the WorkManager runtime of that process. The app's debug hooks (deep links,
broadcast actions from the app model) are delivered here and turned into WorkManager enqueues.

Force-stop is the heart of many background-work bugs, so it follows Android: the process dies,
``package_stopped`` goes out (JobScheduler drops the app's jobs, AlarmManager its alarms), the app
enters the stopped state (kept across reboots) and gets no broadcasts — not even BOOT_COMPLETED —
until something launches an activity. The first process start after a force-stop tells WorkManager
so (``PROCESS_START_FORCE_STOPPED``), which is when it logs ``Application was force-stopped,
rescheduling.``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..registry import CommandContext, cmd_service, command, dumpsys_section

if TYPE_CHECKING:
    from harness.apps.model import AppModel

    from ..device import VirtualAndroidDevice
    from .packages import InstalledApp

#: ``on_process_start(reason)`` values: why this process start happened, as WorkManager's
#: ForceStopRunnable tells the cases apart.
PROCESS_START_NORMAL = "normal"
#: The first start since ``am force-stop`` (or ``pm clear``): WM logs "Application was force-stopped".
PROCESS_START_FORCE_STOPPED = "force_stopped"
#: Started to deliver BOOT_COMPLETED after a reboot (``on_boot_completed()`` follows at once).
PROCESS_START_BOOT = "boot"

ACTION_MAIN = "android.intent.action.MAIN"
ACTION_VIEW = "android.intent.action.VIEW"
ACTION_BOOT_COMPLETED = "android.intent.action.BOOT_COMPLETED"
ACTION_REQUEST_DIAGNOSTICS = "androidx.work.diagnostics.REQUEST_DIAGNOSTICS"
CATEGORY_LAUNCHER = "android.intent.category.LAUNCHER"

FLAG_ACTIVITY_NEW_TASK = 0x10000000
FLAG_RECEIVER_FROM_SHELL = 0x00400000
FLAG_INCLUDE_STOPPED_PACKAGES = 0x00000020

#: Receivers an androidx.work app declares (work-runtime's manifest), by the action they take.
RESCHEDULE_RECEIVER = "androidx.work.impl.background.systemalarm.RescheduleReceiver"
DIAGNOSTICS_RECEIVER = "androidx.work.impl.diagnostics.DiagnosticsReceiver"
SYSTEM_JOB_SERVICE = "androidx.work.impl.background.systemjob.SystemJobService"
HOOK_RECEIVER = ".BgtestHookReceiver"

#: Broadcasts only the system may send (``am broadcast`` as shell is refused).
PROTECTED_BROADCASTS = frozenset(
    {
        ACTION_BOOT_COMPLETED,
        "android.intent.action.LOCKED_BOOT_COMPLETED",
        "android.intent.action.AIRPLANE_MODE",
        "android.intent.action.BATTERY_CHANGED",
        "android.intent.action.SCREEN_ON",
        "android.intent.action.SCREEN_OFF",
        "android.intent.action.PACKAGE_RESTARTED",
        "android.intent.action.ACTION_POWER_CONNECTED",
        "android.intent.action.ACTION_POWER_DISCONNECTED",
        "android.intent.action.DEVICE_STORAGE_LOW",
        "android.os.action.DEVICE_IDLE_MODE_CHANGED",
    }
)

TOP_MOST_WARNING = (
    "Warning: Activity not started, intent has been delivered to currently running top-most instance."
)

TASK_TO_FRONT_WARNING = "Warning: Activity not started, its current task has been brought to the front"

#: Device-time costs of a launch (what ``am start -W`` reports), by launch state.
LAUNCH_MS = {"COLD": 412, "WARM": 183, "HOT": 46}

#: Standby bucket names ``am set-standby-bucket`` accepts (matched by prefix, as AMS does).
BUCKETS = (("ac", 10), ("wo", 20), ("fr", 30), ("ra", 40), ("re", 45), ("ne", 50), ("ex", 5))


class ShellCommandError(Exception):
    """A Java exception escaping a shell command: ``Exception occurred while executing …``."""

    def __init__(self, java_line: str) -> None:
        super().__init__(java_line)
        self.java_line = java_line


@dataclass
class Intent:
    """The parts of an Intent that ``am`` parses and prints."""

    action: str | None = None
    data: str | None = None
    mime_type: str | None = None
    categories: list[str] = field(default_factory=list)
    package: str | None = None
    component: tuple[str, str] | None = None
    flags: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def short(self) -> str:
        """``Intent.toString()``: ``Intent { act=… dat=… flg=0x… pkg=… cmp=… (has extras) }``."""
        parts = []
        if self.action:
            parts.append(f"act={self.action}")
        if self.categories:
            parts.append("cat=[" + ",".join(self.categories) + "]")
        if self.data:
            parts.append(f"dat={_safe_uri(self.data)}")
        if self.mime_type:
            parts.append(f"typ={self.mime_type}")
        if self.flags:
            parts.append(f"flg=0x{self.flags:x}")
        if self.package:
            parts.append(f"pkg={self.package}")
        if self.component:
            pkg, cls = self.component
            short = cls[len(pkg) :] if cls.startswith(pkg + ".") else cls
            parts.append(f"cmp={pkg}/{short}")
        if self.extras:
            parts.append("(has extras)")
        return "Intent { " + " ".join(parts) + " }"


def _safe_uri(uri: str) -> str:
    """``Uri.toSafeString()``: web URIs lose their path and query; app schemes print whole."""
    scheme, sep, rest = uri.partition(":")
    if sep and scheme.lower() in ("http", "https", "ftp", "rtsp"):
        host = rest[2:].split("/", 1)[0].split("?", 1)[0] if rest.startswith("//") else ""
        return f"{scheme}://{host}/..."
    return uri


@dataclass
class StartResult:
    """What ``start_activity`` did; ``error`` holds the lines am prints when it did not start."""

    status: str
    package: str | None = None
    activity: str | None = None  # short form for am's report: pkg/.MainActivity
    launch_state: str = "UNKNOWN (0)"
    total_ms: int = 0
    wait_ms: int = 0
    error: list[str] = field(default_factory=list)
    warning: str | None = None
    error_code: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


class AppRuntime:
    """One running app process: its identity, its log and its WorkManager runtime."""

    def __init__(self, device: VirtualAndroidDevice, installed: InstalledApp, proc: Any) -> None:
        self.device = device
        self.installed = installed
        self.proc = proc
        self.activity_alive = False
        self.resumed: str | None = None  # short class of the activity last brought to front
        self.workmanager: Any = None

    @property
    def package(self) -> str:
        return self.installed.package

    @property
    def model(self) -> AppModel:
        return self.installed.model

    @property
    def uid(self) -> int:
        return self.installed.uid

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def log(self, level: str, tag: str, message: str, tid: int | None = None) -> None:
        """Log from inside the app's process (its pid, uid)."""
        self.device.log(level, tag, message, pid=self.pid, tid=tid, uid=self.uid)


def _workmanager_class() -> Any:
    """The WorkManager runtime class, or None while that package is not there (app runs without work)."""
    try:
        from ..workmanager import WorkManagerRuntime  # type: ignore[attr-defined]
    except ImportError:
        return None
    return WorkManagerRuntime


class ActivityManager:
    """Processes of apps, launches, force-stop, broadcasts; the ``am`` command's back end."""

    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self._runtimes: dict[str, AppRuntime] = {}
        self._force_stopped: set[str] = set()  # force-stopped since their last process start
        self._top: str | None = None
        self._caller_pid = 24_000
        self._tasks: dict[str, int] = {}
        self._next_task = 11
        device.bus.subscribe("shutdown", self._on_shutdown)
        device.bus.subscribe("boot_completed", self._on_boot_completed)
        device.bus.subscribe("package_removed", lambda package: self._force_stopped.discard(package))

    @property
    def system_pid(self) -> int:
        return int(self.device.procs.system_server_pid)

    def next_caller_pid(self) -> int:
        """A pid for the short-lived ``am`` process that asked (as in ``from pid N``)."""
        self._caller_pid += 3
        return self._caller_pid

    # ----------------------------------------------------------------- processes
    def process(self, package: str) -> Any:
        """The running process of ``package`` or None (a process killed elsewhere counts as dead)."""
        runtime = self._runtimes.get(package)
        if runtime is None:
            return None
        if self.device.procs.get(runtime.pid) is None:
            # Died without us (a crash, ``kill PID``): AMS notices through the binder death link.
            self._log_death(package, runtime.pid)
            self._forget(package, runtime, publish=True)
            return None
        return runtime.proc

    def running(self) -> list[AppRuntime]:
        return [r for p, r in sorted(self._runtimes.items()) if self.process(p) is not None]

    def ensure_process(self, package: str, hosting: str = "service", component: str | None = None) -> Any:
        """Start the app's process if it is not running (a job, a broadcast); returns the Proc."""
        return self._runtime(package, hosting, component or f"{package}/{SYSTEM_JOB_SERVICE}").proc

    def app(self, package: str) -> AppRuntime:
        """The runtime of the app's process, starting the process when needed (KeyError if unknown)."""
        if self.device.packages.get(package) is None:
            raise KeyError(f"unknown package {package}")
        return self._runtime(package, "service", f"{package}/{SYSTEM_JOB_SERVICE}")

    def _runtime(self, package: str, hosting: str, component: str, reason: str | None = None) -> AppRuntime:
        """The running process's runtime, or a new process started for ``hosting``."""
        if self.process(package) is not None:
            return self._runtimes[package]
        return self._start_process(package, hosting, component, reason)

    def _start_process(
        self, package: str, hosting: str, component: str, reason: str | None = None
    ) -> AppRuntime:
        installed = self.device.packages.get(package)
        if installed is None:
            raise KeyError(f"unknown package {package}")
        proc = self.device.procs.spawn(package, installed.uid, user=installed.user_name)
        runtime = AppRuntime(self.device, installed, proc)
        self._runtimes[package] = runtime
        self.device.log(
            "I",
            "ActivityManager",
            f"Start proc {proc.pid}:{package}/u0a{installed.app_id - 10_000} for {hosting} {{{component}}}",
        )
        if reason is None:
            reason = PROCESS_START_FORCE_STOPPED if package in self._force_stopped else PROCESS_START_NORMAL
        self._force_stopped.discard(package)
        wm_class = _workmanager_class()
        if wm_class is not None:
            runtime.workmanager = wm_class(self.device, runtime)
            runtime.workmanager.on_process_start(reason)
        return runtime

    def _kill_process(self, package: str, reason: str, adj: int, log_death: bool) -> int | None:
        runtime = self._runtimes.get(package)
        if runtime is None or self.device.procs.get(runtime.pid) is None:
            if runtime is not None:
                self._forget(package, runtime, publish=True)
            return None
        pid = runtime.pid
        user = f"u0a{runtime.installed.app_id - 10_000}"
        self.device.log("I", "ActivityManager", f"Killing {pid}:{package}/{user} (adj {adj}): {reason}")
        self.device.procs.kill(pid)
        if log_death:
            self._log_death(package, pid)
        self._forget(package, runtime, publish=True)
        return pid

    def _log_death(self, package: str, pid: int) -> None:
        state = "fg  TOP" if self._top == package else "cch+5 CEM"
        self.device.log("I", "ActivityManager", f"Process {package} (pid {pid}) has died: {state}")

    def _forget(self, package: str, runtime: AppRuntime, publish: bool) -> None:
        if self._runtimes.get(package) is runtime:
            del self._runtimes[package]
        if self._top == package:
            self._top = None
        wm = runtime.workmanager
        if wm is not None and hasattr(wm, "on_process_death"):
            wm.on_process_death()
        if publish:
            self.device.bus.publish("process_died", package=package, pid=runtime.pid)

    def on_navigation_key(self, keycode: int) -> None:
        """HOME (3) puts the top app in the background; BACK (4) also finishes its activity."""
        if self._top is None:
            return
        runtime = self._runtimes.get(self._top)
        if runtime is not None and keycode == 4:
            runtime.activity_alive = False
        self._top = None

    def top(self) -> tuple[str, str, int, int] | None:
        """(package, short activity, task id, pid) of the resumed app activity, or None (launcher)."""
        if self._top is None or self.process(self._top) is None:
            return None
        runtime = self._runtimes[self._top]
        activity = runtime.resumed or runtime.model.short_activity(runtime.model.activities[0])
        return self._top, activity, self._tasks.get(self._top, self._next_task), runtime.pid

    def kill_for_update(self, package: str, reason: str = "installPackageLI") -> None:
        """An update or uninstall replaces the code under a running process: it is killed."""
        self._kill_process(package, f"stop {package} due to {reason}", 0, log_death=False)

    # ------------------------------------------------------------------ lifecycle
    def _on_shutdown(self) -> None:
        for package, runtime in list(self._runtimes.items()):
            self._forget(package, runtime, publish=False)
        self._top = None

    def _on_boot_completed(self) -> None:
        """ACTION_BOOT_COMPLETED to every app that is not stopped (WorkManager's RescheduleReceiver)."""
        for installed in self.device.packages.installed():
            if installed.stopped or not installed.enabled:
                continue
            package = installed.package
            runtime = self._runtime(
                package, "broadcast", f"{package}/{RESCHEDULE_RECEIVER}", reason=PROCESS_START_BOOT
            )
            wm = runtime.workmanager
            if wm is not None:
                wm.on_boot_completed()

    # ------------------------------------------------------------------- launches
    def resolve_activity(self, intent: Intent) -> tuple[InstalledApp | None, str | None, list[str]]:
        """(app, fully qualified activity, error lines) for an activity intent, as AMS resolves it."""
        packages = self.device.packages
        if intent.component is not None:
            pkg, cls = intent.component
            installed = packages.get(pkg)
            full = cls if not cls.startswith(".") else pkg + cls
            if installed is None or installed.model.find_activity(full) is None:
                return None, None, ["Error type 3", f"Error: Activity class {{{pkg}/{full}}} does not exist."]
            return installed, full, []
        candidates: list[InstalledApp] = []
        if intent.data:
            scheme = intent.data.partition(":")[0]
            candidates = [
                a
                for a in packages.apps_for_scheme(scheme)
                if intent.package is None or a.package == intent.package
            ]
        elif intent.package is not None and (intent.action in (None, ACTION_MAIN)):
            app = packages.get(intent.package)
            candidates = [app] if app is not None else []
        if not candidates:
            shown = Intent(**{**intent.__dict__, "flags": intent.flags | FLAG_ACTIVITY_NEW_TASK})
            return None, None, [f"Error: Activity not started, unable to resolve {shown.short()}"]
        app = candidates[0]
        return app, app.model.launcher, []

    def start_activity(
        self,
        package: str | None = None,
        component: str | None = None,
        action: str | None = None,
        data: str | None = None,
        extras: dict[str, Any] | None = None,
        *,
        intent: Intent | None = None,
    ) -> StartResult:
        """Launch an activity like ``am start``: un-stops the app, starts its process, delivers hooks."""
        if intent is None:
            comp = None
            if component is not None:
                pkg, _, cls = component.partition("/")
                comp = (pkg, cls)
            intent = Intent(
                action=action,
                data=data,
                package=package if comp is None else None,
                component=comp,
                extras=dict(extras or {}),
            )
        installed, full, error = self.resolve_activity(intent)
        if installed is None or full is None:
            return StartResult(status="error", error=error, error_code=1)
        pkg = installed.package
        model = installed.model
        activity = f"{pkg}/{model.short_activity(full)}"
        if installed.stopped:
            self.device.packages.set_stopped(pkg, False)
            self.device.bus.publish("package_started", package=pkg)
        installed.not_launched = False
        runtime = self._runtimes.get(pkg) if self.process(pkg) is not None else None
        warning = None
        if runtime is None:
            runtime = self._start_process(pkg, "next-top-activity", activity)
            state = "COLD"
        elif self._top == pkg and runtime.activity_alive and not intent.data:
            state = "UNKNOWN (0)"
            warning = TOP_MOST_WARNING
        elif runtime.activity_alive:
            state = "HOT"
            if not intent.data:  # same root intent as the existing task: START_TASK_TO_FRONT
                warning = TASK_TO_FRONT_WARNING
        else:
            state = "WARM"
        runtime.activity_alive = True
        runtime.resumed = model.short_activity(full)
        self._top = pkg
        if state == "COLD" or pkg not in self._tasks:
            self._next_task += 1
            self._tasks[pkg] = self._next_task
        report_launch = getattr(self.device.standby, "report_launch", None)
        if report_launch is not None:
            report_launch(pkg)  # a user-visible launch puts the app in the ACTIVE bucket
        total = LAUNCH_MS.get(state, 0)
        if warning is not TOP_MOST_WARNING:
            self.device.log("I", "ActivityTaskManager", f"Displayed {activity} for user 0: +{total}ms")
        if intent.data:
            self._deliver_deep_link(runtime, intent.data)
        return StartResult(
            status="ok",
            package=pkg,
            activity=activity,
            launch_state=state,
            total_ms=total,
            wait_ms=total + 9 if total else 4,
            warning=warning,
        )

    def _deliver_deep_link(self, runtime: AppRuntime, uri: str) -> None:
        found = runtime.model.deep_link_hook(uri)
        if found is None:
            return
        hook, raw = found
        self._run_hook(runtime, hook, dict(raw))

    def _run_hook(self, runtime: AppRuntime, hook: Any, raw: dict[str, object]) -> int:
        """Resolve the hook's params and enqueue its work; returns how many enqueues were made."""
        try:
            action = hook.resolve(raw)
            for name in action.names:
                if name not in runtime.model.work:
                    raise ValueError(f"unknown work '{name}'")
        except ValueError as exc:
            runtime.log(
                "W", "BgtestHook", f"hook {hook.name or hook.deep_link or hook.broadcast} ignored: {exc}"
            )
            return 0
        wm = runtime.workmanager
        if wm is None:
            return 0
        for index in range(action.repeat):
            extras: dict[str, object] = dict(action.params)
            extras["__changes__"] = action.changes_for(index)
            wm.enqueue_named(list(action.names), extras)
        return action.repeat

    # ---------------------------------------------------------------- stop / kill
    def force_stop(self, package: str, reason: str | None = None, user: int = -1) -> bool:
        """``am force-stop``: kill, cancel jobs and alarms (via ``package_stopped``), enter stopped state."""
        installed = self.device.packages.get(package)
        if installed is None:
            self.device.log("W", "ActivityManager", f"Invalid packageName: {package}")
            return False
        why = reason or f"from pid {self.next_caller_pid()}"
        self.device.log(
            "I", "ActivityManager", f"Force stopping {package} appid={installed.app_id} user={user}: {why}"
        )
        self._kill_process(package, f"stop {package} due to {why}", 0, log_death=False)
        self.device.packages.set_stopped(package, True)
        self._force_stopped.add(package)
        self.device.bus.publish("package_stopped", package=package)
        return True

    def kill(self, package: str) -> bool:
        """``am kill``: kill the process only if it is in the background; the app is not stopped."""
        if self._top == package or self.process(package) is None:
            return False
        return self._kill_process(package, "kill background", 900, log_death=True) is not None

    def kill_all(self) -> int:
        return sum(1 for r in list(self._runtimes.values()) if self.kill(r.package))

    # ------------------------------------------------------------------ broadcasts
    def broadcast(
        self,
        action: str,
        package: str | None = None,
        extras: dict[str, Any] | None = None,
        include_stopped: bool = False,
        component: str | None = None,
    ) -> int:
        """Deliver a broadcast to the apps that declare a receiver for it; returns how many got it.

        Stopped apps are skipped unless ``include_stopped`` (FLAG_INCLUDE_STOPPED_PACKAGES), exactly
        as ``am broadcast`` does without ``--include-stopped-packages``.
        """
        delivered = 0
        target_pkg = package
        if component is not None:
            target_pkg = component.partition("/")[0]
        for installed in self.device.packages.installed():
            if target_pkg is not None and installed.package != target_pkg:
                continue
            if not installed.enabled or (installed.stopped and not include_stopped):
                continue
            hooks = installed.model.broadcast_hooks(action)
            receiver = None
            if action == ACTION_REQUEST_DIAGNOSTICS:
                receiver = DIAGNOSTICS_RECEIVER
            elif action == ACTION_BOOT_COMPLETED:
                receiver = RESCHEDULE_RECEIVER
            elif hooks:
                receiver = HOOK_RECEIVER
            if receiver is None:
                continue
            pkg = installed.package
            runtime = self._runtime(pkg, "broadcast", f"{pkg}/{receiver}")
            delivered += 1
            if action == ACTION_REQUEST_DIAGNOSTICS:
                if runtime.workmanager is not None:
                    runtime.workmanager.diagnostics()
            elif action == ACTION_BOOT_COMPLETED:
                if runtime.workmanager is not None:
                    runtime.workmanager.on_boot_completed()
            else:
                for hook in hooks:
                    self._run_hook(runtime, hook, dict(extras or {}))
        return delivered


# =========================================================================== am
_AM_HELP = """\
Activity manager (activity) commands:
  help
      Print this help text.
  start [-W] [-S] [--user <USER_ID> | current] <INTENT>
      Start an Activity.  Options are:
      -W: wait for launch to complete
      -S: force stop the target app before starting the activity
  force-stop [--user <USER_ID> | all | current] <PACKAGE>
      Completely stop the given application package.
  kill [--user <USER_ID> | all | current] <PACKAGE>
      Kill all background processes associated with the given application.
  kill-all
      Kill all processes that are safe to kill (cached, etc).
  broadcast [--user <USER_ID> | all | current] [--receiver-permission <PERMISSION>] <INTENT>
      Send a broadcast Intent.
  set-standby-bucket [--user <USER_ID>] <PACKAGE> active|working_set|frequent|rare|restricted
      Puts an app in the standby bucket.
  get-standby-bucket [--user <USER_ID>] <PACKAGE>
      Returns the standby bucket of an app.
  set-inactive [--user <USER_ID>] <PACKAGE> true|false
      Sets the inactive state of an app.
  get-inactive [--user <USER_ID>] <PACKAGE>
      Returns the inactive state of an app.

<INTENT> specifications include these flags and arguments:
    [-a <ACTION>] [-d <DATA_URI>] [-t <MIME_TYPE>] [-c <CATEGORY> [-c <CATEGORY>] ...]
    [-n <COMPONENT_NAME>] [-p <PACKAGE>] [-f <FLAG>]
    [-e|--es <EXTRA_KEY> <EXTRA_STRING_VALUE> ...]
    [--esn <EXTRA_KEY> ...]
    [--ez <EXTRA_KEY> <EXTRA_BOOLEAN_VALUE> ...]
    [--ei <EXTRA_KEY> <EXTRA_INT_VALUE> ...]
    [--el <EXTRA_KEY> <EXTRA_LONG_VALUE> ...]
    [--ef <EXTRA_KEY> <EXTRA_FLOAT_VALUE> ...]
    [--eu <EXTRA_KEY> <EXTRA_URI_VALUE> ...]
    [--include-stopped-packages] [--exclude-stopped-packages]
    [<URI> | <PACKAGE> | <COMPONENT>]
"""


class _Argv:
    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.pos = 0

    def peek(self) -> str | None:
        return self.argv[self.pos] if self.pos < len(self.argv) else None

    def next(self) -> str | None:
        value = self.peek()
        if value is not None:
            self.pos += 1
        return value

    def required(self, after: str) -> str:
        value = self.next()
        if value is None:
            raise ShellCommandError(f'java.lang.IllegalArgumentException: Argument expected after "{after}"')
        return value


def _parse_int(text: str, bits: int = 32) -> int:
    try:
        value = int(text, 0) if text.lower().startswith(("0x", "-0x")) else int(text)
    except ValueError:
        raise ShellCommandError(f'java.lang.NumberFormatException: For input string: "{text}"') from None
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise ShellCommandError(f'java.lang.NumberFormatException: For input string: "{text}"')
    return value


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "t"):
        return True
    if low in ("false", "f"):
        return False
    return _parse_int(text) != 0


def _unflatten(text: str) -> tuple[str, str]:
    pkg, sep, cls = text.partition("/")
    if not sep or not pkg or not cls:
        raise ShellCommandError(f"java.lang.IllegalArgumentException: Bad component name: {text}")
    return pkg, (pkg + cls if cls.startswith(".") else cls)


#: am options that take no value / one value and do not change what the virtual device does.
_IGNORED_FLAGS = {
    "--activity-brought-to-front",
    "--activity-clear-top",
    "--activity-clear-task",
    "--activity-new-task",
    "--activity-no-history",
    "--activity-single-top",
    "--activity-reorder-to-front",
    "--activity-multiple-task",
    "--activity-no-animation",
    "--receiver-foreground",
    "--receiver-registered-only",
    "--receiver-replace-pending",
    "--grant-read-uri-permission",
    "--grant-write-uri-permission",
    "--debug-log-resolution",
    "--exclude-stopped-packages",
    "-D",
    "-N",
    "--track-allocation",
    "--async",
    "--allow-background-activity-starts",
}
_IGNORED_WITH_VALUE = {
    "--user",
    "--receiver-permission",
    "--display",
    "--windowingMode",
    "--activityType",
    "--task",
    "-R",
    "-P",
    "--start-profiler",
    "--sampling",
    "--attach-agent",
    "--attach-agent-bind",
    "--streaming",
    "--task-overlay",
    "--lock-task",
}


def parse_intent(args: _Argv, own_options: set[str]) -> tuple[Intent, set[str]]:
    """``Intent.parseCommandArgs``: the intent plus which of ``own_options`` (e.g. -W, -S) were given."""
    intent = Intent()
    seen: set[str] = set()
    while (opt := args.peek()) is not None and opt.startswith("-"):
        args.next()
        if opt in own_options:
            seen.add(opt)
        elif opt == "-a":
            intent.action = args.required(opt)
        elif opt == "-d":
            intent.data = args.required(opt)
        elif opt == "-t":
            intent.mime_type = args.required(opt)
        elif opt == "-c":
            intent.categories.append(args.required(opt))
        elif opt == "-n":
            intent.component = _unflatten(args.required(opt))
        elif opt == "-p":
            intent.package = args.required(opt)
        elif opt == "-f":
            intent.flags |= _parse_int(args.required(opt))
        elif opt in ("-e", "--es"):
            key = args.required(opt)
            intent.extras[key] = args.required(opt)
        elif opt == "--esn":
            intent.extras[args.required(opt)] = None
        elif opt == "--ei":
            key = args.required(opt)
            intent.extras[key] = _parse_int(args.required(opt))
        elif opt == "--el":
            key = args.required(opt)
            intent.extras[key] = _parse_int(args.required(opt), bits=64)
        elif opt == "--ez":
            key = args.required(opt)
            intent.extras[key] = _parse_bool(args.required(opt))
        elif opt == "--ef" or opt == "--ed":
            key = args.required(opt)
            value = args.required(opt)
            try:
                intent.extras[key] = float(value)
            except ValueError:
                raise ShellCommandError(
                    f'java.lang.NumberFormatException: For input string: "{value}"'
                ) from None
        elif opt in ("--eu", "--ecn"):
            key = args.required(opt)
            intent.extras[key] = args.required(opt)
        elif opt == "--include-stopped-packages":
            intent.flags |= FLAG_INCLUDE_STOPPED_PACKAGES
        elif opt in _IGNORED_FLAGS:
            continue
        elif opt in _IGNORED_WITH_VALUE:
            args.required(opt)
        else:
            raise ShellCommandError(f"java.lang.IllegalArgumentException: Unknown option: {opt}")
    rest = args.next()
    if rest is not None:
        if ":" in rest:
            intent.data = rest
            if intent.action is None:
                intent.action = ACTION_VIEW
        elif "/" in rest:
            intent.component = _unflatten(rest)
        else:
            intent.package = rest
    return intent, seen


def _exception(ctx: CommandContext, verb: str, java_line: str) -> int:
    ctx.err(f"Exception occurred while executing '{verb}':")
    ctx.err(java_line)
    ctx.err(
        "\tat com.android.server.am.ActivityManagerShellCommand.onCommand("
        "ActivityManagerShellCommand.java:235)"
    )
    return 255


@command("am")
@cmd_service("activity")
def am_command(ctx: CommandContext) -> int:
    """``/system/bin/am`` (= ``cmd activity``)."""
    args = _Argv(ctx.argv[1:])
    verb = args.next()
    if verb is None or verb in ("help", "-h"):
        ctx.out(_AM_HELP, end="")
        return 0
    handlers = {
        "start": _am_start,
        "start-activity": _am_start,
        "force-stop": _am_force_stop,
        "kill": _am_kill,
        "kill-all": _am_kill_all,
        "broadcast": _am_broadcast,
        "set-standby-bucket": _am_set_bucket,
        "get-standby-bucket": _am_get_bucket,
        "set-inactive": _am_set_inactive,
        "get-inactive": _am_get_inactive,
    }
    if (ctx.device.profile.sdk or 34) < 28:  # standby buckets came with Android P (API 28)
        handlers.pop("set-standby-bucket")
        handlers.pop("get-standby-bucket")
    handler = handlers.get(verb)
    if handler is None:
        ctx.err(f"Unknown command: {verb}")
        return 255
    try:
        return handler(ctx, args)
    except ShellCommandError as exc:
        return _exception(ctx, verb, exc.java_line)


def _am_start(ctx: CommandContext, args: _Argv) -> int:
    am: ActivityManager = ctx.device.activity
    intent, seen = parse_intent(args, {"-W", "-S"})
    if (
        intent.action is None
        and intent.data is None
        and intent.component is None
        and intent.package is None
        and not intent.categories
    ):
        raise ShellCommandError("java.lang.IllegalArgumentException: No intent supplied")
    wait = "-W" in seen
    out = ctx.out if wait else ctx.err
    if "-S" in seen:
        installed, _, _ = am.resolve_activity(intent)
        if installed is not None:
            ctx.out(f"Stopping: {installed.package}")
            am.force_stop(installed.package)
    ctx.out(f"Starting: {intent.short()}")
    result = am.start_activity(intent=intent)
    if not result.ok:
        for line in result.error:
            out(line)
        return 1
    if result.warning:
        out(result.warning)
    if wait:
        ctx.out(f"Status: {result.status}")
        ctx.out(f"LaunchState: {result.launch_state}")
        ctx.out(f"Activity: {result.activity}")
        if result.total_ms:
            ctx.out(f"TotalTime: {result.total_ms}")
        ctx.out(f"WaitTime: {result.wait_ms}")
        ctx.out("Complete")
    return 0


def _user_then_package(args: _Argv, verb: str) -> str:
    while (opt := args.peek()) is not None and opt.startswith("--"):
        args.next()
        if opt == "--user":
            args.required(opt)
        else:
            raise ShellCommandError(f"java.lang.IllegalArgumentException: Unknown option: {opt}")
    pkg = args.next()
    if pkg is None:
        raise ShellCommandError(f'java.lang.IllegalArgumentException: Argument expected after "{verb}"')
    return pkg


def _am_force_stop(ctx: CommandContext, args: _Argv) -> int:
    pkg = _user_then_package(args, "force-stop")
    ctx.device.activity.force_stop(pkg)
    return 0


def _am_kill(ctx: CommandContext, args: _Argv) -> int:
    pkg = _user_then_package(args, "kill")
    ctx.device.activity.kill(pkg)
    return 0


def _am_kill_all(ctx: CommandContext, args: _Argv) -> int:
    ctx.device.activity.kill_all()
    return 0


def _am_broadcast(ctx: CommandContext, args: _Argv) -> int:
    am: ActivityManager = ctx.device.activity
    intent, _ = parse_intent(args, set())
    intent.flags |= FLAG_RECEIVER_FROM_SHELL
    ctx.out(f"Broadcasting: {intent.short()}")
    if intent.action in PROTECTED_BROADCASTS and ctx.uid not in (0, 1000):
        raise ShellCommandError(
            f"java.lang.SecurityException: Permission Denial: not allowed to send broadcast {intent.action} "
            f"from pid={am.next_caller_pid()}, uid={ctx.uid}"
        )
    if intent.action:
        component = f"{intent.component[0]}/{intent.component[1]}" if intent.component else None
        am.broadcast(
            intent.action,
            package=intent.package,
            extras=intent.extras,
            include_stopped=bool(intent.flags & FLAG_INCLUDE_STOPPED_PACKAGES),
            component=component,
        )
    ctx.out("Broadcast completed: result=0")
    return 0


def _bucket_value(name: str) -> int | None:
    try:
        return int(name)
    except ValueError:
        pass
    low = name.lower()
    for prefix, value in BUCKETS:
        if low.startswith(prefix):
            return value
    return None


def _require_app(ctx: CommandContext, pkg: str, verb: str) -> None:
    if not ctx.device.packages.is_installed(pkg):
        raise ShellCommandError(
            f"java.lang.IllegalArgumentException: Cannot {verb} for non existent package ({pkg})"
        )


def _am_set_bucket(ctx: CommandContext, args: _Argv) -> int:
    while args.peek() == "--user":
        args.next()
        args.required("--user")
    pairs: list[tuple[str, int]] = []
    pkg = args.next()
    if pkg is None:
        raise ShellCommandError(
            'java.lang.IllegalArgumentException: Argument expected after "set-standby-bucket"'
        )
    while pkg is not None:
        name = args.required(pkg)
        value = _bucket_value(name)
        if value is None:
            ctx.err(f"Error: Unknown bucket: {name}")
            return 255
        pairs.append((pkg, value))
        pkg = args.next()
    for pkg, value in pairs:
        _require_app(ctx, pkg, "set standby bucket")
        ctx.device.standby.set_bucket(pkg, value)
    return 0


def _am_get_bucket(ctx: CommandContext, args: _Argv) -> int:
    while args.peek() == "--user":
        args.next()
        args.required("--user")
    pkg = args.next()
    standby = ctx.device.standby
    if pkg is None:
        for installed in ctx.device.packages.installed():
            ctx.out(f"{installed.package}: {standby.bucket(installed.package)}")
        return 0
    ctx.out(str(standby.bucket(pkg)))
    return 0


def _am_set_inactive(ctx: CommandContext, args: _Argv) -> int:
    pkg = _user_then_package(args, "set-inactive")
    value = args.required(pkg)
    inactive = value.lower() == "true"
    standby = ctx.device.standby
    if hasattr(standby, "set_inactive"):
        standby.set_inactive(pkg, inactive)
    else:
        standby.set_bucket(pkg, 40 if inactive else 10)
    return 0


def _am_get_inactive(ctx: CommandContext, args: _Argv) -> int:
    pkg = _user_then_package(args, "get-inactive")
    ctx.out(f"Idle={str(bool(ctx.device.standby.is_inactive(pkg))).lower()}")
    return 0


@command("monkey")
def monkey_command(ctx: CommandContext) -> int:
    """``monkey -p PKG -c android.intent.category.LAUNCHER 1``: how adbutils' ``app_start`` launches.

    Only the launch part of monkey: one LAUNCHER start of the package; random events are not
    modelled (an app model has no UI to poke at).
    """
    argv = ctx.argv[1:]
    for arg in argv:
        ctx.out(f"  bash arg: {arg}")
    ctx.out("args: [" + ", ".join(argv) + "]")
    for arg in argv:
        ctx.out(f' arg: "{arg}"')
    packages: list[str] = []
    count = 0
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-p", "-c", "--throttle", "-s", "--pct-touch", "--pct-motion", "--pct-syskeys",
                   "--pct-appswitch", "--pct-anyevent"):
            if i + 1 >= len(argv):
                ctx.err(f"** Error: Missing argument for {arg}")
                return 255
            value = argv[i + 1]
            ctx.out(f'data="{value}"')
            if arg == "-p":
                packages.append(value)
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        try:
            count = int(arg)
        except ValueError:
            ctx.err(f"** Error: Invalid event count: {arg}")
            return 255
        i += 1
    am: ActivityManager = ctx.device.activity
    targets = [p for p in packages if ctx.device.packages.get(p) is not None]
    if not targets:
        ctx.out("** No activities found to run, monkey aborted.")
        return 253
    for _ in range(min(count, 1)):
        am.start_activity(package=targets[0])
    ctx.out(f"Events injected: {count}")
    ctx.out("## Network stats: elapsed time=21ms (0ms mobile, 0ms wifi, 21ms not connected)")
    return 0


LAUNCHER = ("com.android.launcher3", ".uioverrides.QuickstepLauncher")


def _hash(text: str) -> str:
    import zlib

    return f"{zlib.crc32(text.encode()) & 0xFFFFFFF:07x}"


def _resumed(am: ActivityManager) -> tuple[str, str, int, int]:
    top = am.top()
    return top if top is not None else (*LAUNCHER, 2, am.system_pid + 211)


@dumpsys_section("activity")
def dumpsys_activity(ctx: CommandContext) -> int:
    """``dumpsys activity [activities|top]``: the resumed activity, as tools (adbutils) read it.

    Only the activity stack is modelled; every other section prints the activities dump too.
    """
    am: ActivityManager = ctx.device.activity
    what = ctx.argv[1] if len(ctx.argv) > 1 else "activities"
    pkg, act, task, pid = _resumed(am)
    record = f"ActivityRecord{{{_hash(pkg + act)} u0 {pkg}/{act} t{task}}}"
    if what == "top":
        ctx.out(f"TASK {pkg} id={task} userId=0")
        ctx.out(f"  ACTIVITY {pkg}/{act} {_hash(record)} pid={pid}")
        return 0
    installed = ctx.device.packages.get(pkg)
    uid = installed.uid if installed is not None else 10_200
    ctx.out("ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)")
    ctx.out("Display #0 (activities from top to bottom):")
    ctx.out(f"  * Task{{{_hash(pkg)} #{task} type=standard A={uid}:{pkg} U=0 visible=true mode=fullscreen "
            "translucent=false sz=1}")
    ctx.out(f"    mResumedActivity: {record}")
    ctx.out("")
    ctx.out("  Resumed activities in task display areas (from top to bottom):")
    ctx.out(f"    ResumedActivity: {record}")
    return 0


@dumpsys_section("window")
def dumpsys_window(ctx: CommandContext) -> int:
    """``dumpsys window [windows]``: the focused window and app (mCurrentFocus / mFocusedApp)."""
    am: ActivityManager = ctx.device.activity
    pkg, act, task, _ = _resumed(am)
    full = pkg + act if act.startswith(".") else act
    ctx.out("WINDOW MANAGER WINDOWS (dumpsys window windows)")
    ctx.out(f"  mCurrentFocus=Window{{{_hash(full)} u0 {pkg}/{full}}}")
    ctx.out(f"  mFocusedApp=ActivityRecord{{{_hash(pkg + act)} u0 {pkg}/{act} t{task}}}")
    return 0
