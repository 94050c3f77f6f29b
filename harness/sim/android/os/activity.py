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
from typing import TYPE_CHECKING, Any, Protocol

from .context import SystemContext

if TYPE_CHECKING:
    from harness.apps.model import AppModel

    from .packages import InstalledApp, PackageManager
    from .processes import ProcessTable
    from .standby import AppStandby

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


class AmContext(SystemContext, Protocol):
    """The activity manager asks more of the package manager and the process table than others do."""

    @property
    def packages(self) -> PackageManager: ...

    @property
    def procs(self) -> ProcessTable: ...

    @property
    def standby(self) -> AppStandby: ...


class AppRuntime:
    """One running app process: its identity, its log and its WorkManager runtime."""

    def __init__(self, device: AmContext, installed: InstalledApp, proc: Any) -> None:
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

    def __init__(self, device: AmContext) -> None:
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
            self._deliver_deep_link(runtime, intent.data, intent.extras)
        return StartResult(
            status="ok",
            package=pkg,
            activity=activity,
            launch_state=state,
            total_ms=total,
            wait_ms=total + 9 if total else 4,
            warning=warning,
        )

    def _deliver_deep_link(self, runtime: AppRuntime, uri: str, extras: dict[str, Any] | None = None) -> None:
        found = runtime.model.deep_link_hook(uri)
        if found is None:
            return
        hook, raw = found
        # a hook's params come from the link or the intent's extras (the link wins)
        self._run_hook(runtime, hook, {**(extras or {}), **raw})

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
