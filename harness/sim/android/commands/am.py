"""``am``, ``monkey``, ``cmd activity``, ``dumpsys activity|window``: ActivityManagerShellCommand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..os.activity import (
    ACTION_VIEW,
    BUCKETS,
    FLAG_INCLUDE_STOPPED_PACKAGES,
    FLAG_RECEIVER_FROM_SHELL,
    PROTECTED_BROADCASTS,
    ActivityManager,
    Intent,
    ShellCommandError,
)
from ..os.jobscheduler import format_uid
from ..registry import CommandContext, cmd_service, command, dumpsys_section

if TYPE_CHECKING:

    pass


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
        "get-current-user": _am_current_user,
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


def _am_current_user(ctx: CommandContext, args: _Argv) -> int:
    """ActivityManagerShellCommand.runGetCurrentUser: the foreground user's id (one user here)."""
    ctx.out("0")
    return 0


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
    """``dumpsys activity [activities|top|processes [PKG]]``: the resumed activity, as tools
    (adbutils) read it, and the running app processes (`dumpsys activity processes | grep PKG`,
    how people check that a force-stop killed the app).

    Only these are modelled; every other section prints the activities dump.
    """
    am: ActivityManager = ctx.device.activity
    what = ctx.argv[1] if len(ctx.argv) > 1 else "activities"
    if what in ("processes", "p"):
        return _dump_processes(ctx, am, ctx.argv[2] if len(ctx.argv) > 2 else None)
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


def _dump_processes(ctx: CommandContext, am: ActivityManager, package: str | None) -> int:
    """ActivityManagerService.dumpProcessesLSP's app records and PID mappings (AOSP 14), only
    ``package``'s when one is named; an app with no running process is simply not listed."""
    records = []
    for runtime in am.running():
        if package is None or runtime.package == package:
            name = f"{runtime.pid}:{runtime.package}/{format_uid(runtime.uid)}"
            records.append((runtime, f"ProcessRecord{{{_hash(name)} {name}}}"))
    ctx.out("ACTIVITY MANAGER RUNNING PROCESSES (dumpsys activity processes)")
    ctx.out("  All known processes:")
    for runtime, record in records:
        app_id = runtime.uid % 100_000
        ctx.out(f"  *APP* UID {runtime.uid} {record}")
        ctx.out(f"    user #0 uid={runtime.uid} gids={{{app_id + 40_000}, {app_id + 10_000}, 9997}}")
        ctx.out(f"    packageList={{{runtime.package}}}")
    if records:
        ctx.out("  PID mappings:")
        for runtime, record in sorted(records, key=lambda r: r[0].pid):
            ctx.out(f"    PID #{runtime.pid}: {record}")
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
