"""``cmd deviceidle`` and ``dumpsys deviceidle`` (DeviceIdleController.Shell)."""

from __future__ import annotations

from ..os.deviceidle import SYSTEM_EXCEPT_IDLE, SYSTEM_WHITELIST, DeviceIdleController, _b
from ..registry import CommandContext, cmd_service, dumpsys_section

_HELP = """Device idle controller (deviceidle) commands:
  help
    Print this help text.
  step [light|deep]
    Immediately step to next state, without waiting for alarm.
  force-active
    Force to be in active state.
  force-idle [light|deep]
    Force directly into idle mode, regardless of other device state.
  force-inactive
    Force to be inactive, ready to freely step idle states.
  unforce
    Resume normal functioning after force-idle or force-inactive or force-active.
  get [light|deep|force|screen|charging|network]
    Retrieve the current given state.
  disable [light|deep|all]
    Completely disable device idle mode.
  enable [light|deep|all]
    Re-enable device idle mode after it had previously been disabled.
  enabled [light|deep|all]
    Print 1 if device idle mode is currently enabled, else 0.
  whitelist
    Print currently whitelisted apps.
  whitelist [package ...]
    Add (prefix with +) or remove (prefix with -) packages.
  sys-whitelist [package ...|reset]
    Prefix the package with '-' to remove it from the system whitelist or '+' to put it back in the system whitelist.
    Note that only packages that were earlier removed from the system whitelist can be added back.
    reset will reset the whitelist to the original state
    Prints the system whitelist if no arguments are specified
  except-idle-whitelist [package ...|reset]
    Prefix the package with '+' to add it to whitelist or '=' to check if it is already whitelisted
    [reset] will reset the whitelist to it's original state
    Note that unlike <whitelist> cmd, changes made using this won't be persisted across boots
  tempwhitelist
    Print packages that are temporarily whitelisted.
  tempwhitelist [-u USER] [-d DURATION] [-r] [package]
    Temporarily place package in whitelist for DURATION milliseconds.
    If no DURATION is specified, 10 seconds is used
    If [-r] option is used, then the package is removed from temp whitelist and any [-d]
    is ignored
  motion
    Simulate a motion event to bring the device out of deep doze
  pre-idle-factor [0|1|2]
    Set a new factor to idle time before step to idle(inactive_to and idle_after_inactive_to)
  reset-pre-idle-factor
    Reset factor to idle time to default"""  # noqa: E501


def deviceidle_shell(ctx: CommandContext, args: list[str]) -> int:
    """DeviceIdleController.onShellCommand; everything it says goes to stdout."""
    idle = ctx.device.idle
    if not args or args[0] in ("help", "-h"):
        ctx.out(_HELP)
        return 255
    cmd, rest = args[0], args[1:]
    arg = rest[0] if rest else None
    if cmd == "step":
        if arg in (None, "deep"):
            ctx.out(f"Stepped to deep: {idle.step('deep')}")
        elif arg == "light":
            ctx.out(f"Stepped to light: {idle.step('light')}")
        else:
            ctx.out(f"Unknown idle mode: {arg}")
        return 0
    if cmd == "force-idle":
        if arg in (None, "deep"):
            ok, msg = idle.force_idle_deep()
        elif arg == "light":
            ok, msg = idle.force_idle_light()
        else:
            ctx.out(f"Unknown idle mode: {arg}")
            return 0
        ctx.out(msg)
        return 0 if ok else 255
    if cmd in ("force-inactive", "unforce", "motion", "force-active"):
        if cmd == "force-inactive":
            idle.force_inactive()
        elif cmd == "unforce":
            idle.unforce()
        elif cmd == "motion":
            idle.motion()
        else:
            idle.force_idle = True
            idle._become_active("force-active", idle.c["inactive_to"], change_light=True)
            idle._publish()
        ctx.out(idle.state_line())
        return 0
    if cmd == "get":
        values = {
            "light": idle.light_state,
            "deep": idle.state,
            "force": _b(idle.force_idle),
            "quick": _b(idle.quick_doze),
            "screen": _b(idle.screen_on),
            "charging": _b(idle.charging),
            "network": _b(idle.network_connected),
        }
        if arg is None:
            ctx.out("Argument required")
        elif arg in values:
            ctx.out(values[arg])
        else:
            ctx.out(f"Unknown get option: {arg}")
        return 0
    if cmd in ("disable", "enable"):
        if arg not in (None, "deep", "light", "all"):
            ctx.out(f"Unknown idle mode: {arg}")
            return 0
        for line in idle.disable(arg) if cmd == "disable" else idle.enable(arg):
            ctx.out(line)
        return 0
    if cmd == "enabled":
        if arg in (None, "all"):
            ctx.out("1" if idle.deep_enabled and idle.light_enabled else "0")
        elif arg == "deep":
            ctx.out("1" if idle.deep_enabled else "0")
        elif arg == "light":
            ctx.out("1" if idle.light_enabled else "0")
        else:
            ctx.out(f"Unknown idle mode: {arg}")
        return 0
    if cmd == "whitelist":
        return _whitelist(ctx, idle, rest)
    if cmd == "sys-whitelist":
        return _sys_whitelist(ctx, idle, rest)
    if cmd == "except-idle-whitelist":
        return _except_idle(ctx, idle, rest)
    if cmd == "tempwhitelist":
        return _tempwhitelist(ctx, idle, rest)
    if cmd == "pre-idle-factor":
        if arg is None:
            ctx.out("Unknown idle timeout factor: null,(error code: -1)")
        elif arg in ("0", "1", "2"):
            ctx.out(f"pre-idle-factor: {arg}")
        elif arg.lstrip("-").isdigit():
            ctx.out(f"Unknown idle timeout factor: {arg},(error code: -1)")
        else:
            ctx.out("Unknown idle timeout factor,(error code: -1)")
        return 0
    if cmd == "reset-pre-idle-factor":
        return 0
    ctx.out(f"Unknown command: {cmd}")
    return 255


def _whitelist(ctx: CommandContext, idle: DeviceIdleController, rest: list[str]) -> int:
    if not rest:
        for p, a in SYSTEM_EXCEPT_IDLE.items():
            if p not in idle.removed_system:
                ctx.out(f"system-excidle,{p},{a}")
        for p, a in idle.user_except_idle.items():
            ctx.out(f"system-excidle,{p},{a}")
        for p, a in SYSTEM_WHITELIST.items():
            if p not in idle.removed_system:
                ctx.out(f"system,{p},{a}")
        for p, a in idle.user_whitelist.items():
            ctx.out(f"user,{p},{a}")
        return 0
    for arg in rest:
        if not arg or arg[0] not in "+-=":
            ctx.out(f"Package must be prefixed with +, -, or =: {arg}")
            return 255
        op, pkg = arg[0], arg[1:]
        if op == "+":
            ctx.out(f"Added: {pkg}" if idle.add_user_whitelist(pkg) else f"Unknown package: {pkg}")
        elif op == "-":
            if idle.remove_user_whitelist(pkg):
                ctx.out(f"Removed: {pkg}")
        else:
            whitelisted = pkg in idle.user_whitelist or (
                pkg in SYSTEM_WHITELIST and pkg not in idle.removed_system
            )
            ctx.out(_b(whitelisted))
    return 0


def _sys_whitelist(ctx: CommandContext, idle: DeviceIdleController, rest: list[str]) -> int:
    if not rest:
        for p, a in SYSTEM_WHITELIST.items():
            if p not in idle.removed_system:
                ctx.out(f"{p},{a}")
        return 0
    if rest[0] == "reset":
        idle.removed_system.clear()
        ctx.device.bus.publish("constraints")
        return 0
    for arg in rest:
        if not arg or arg[0] not in "+-":
            ctx.out(f"Package must be prefixed with + or - {arg}")
            return 255
        op, pkg = arg[0], arg[1:]
        if op == "+":
            if idle.removed_system.pop(pkg, None) is not None:
                ctx.out(f"Restored {pkg}")
        elif pkg in SYSTEM_WHITELIST and pkg not in idle.removed_system:
            idle.removed_system[pkg] = SYSTEM_WHITELIST[pkg]
            ctx.out(f"Removed {pkg}")
        ctx.device.bus.publish("constraints")
    return 0


def _except_idle(ctx: CommandContext, idle: DeviceIdleController, rest: list[str]) -> int:
    if not rest:
        ctx.out("No arguments given")
        return 255
    if rest[0] == "reset":
        idle.user_except_idle.clear()
        ctx.device.bus.publish("constraints")
        return 0
    for arg in rest:
        if not arg or arg[0] not in "+-=":
            ctx.out(f"Package must be prefixed with +, -, or =: {arg}")
            return 255
        op, pkg = arg[0], arg[1:]
        if op == "+":
            app_id = idle._app_id(pkg)
            if app_id is None:
                ctx.out(f"Unknown package: {pkg}")
            else:
                idle.user_except_idle[pkg] = app_id
                ctx.out(f"Added: {pkg}")
                ctx.device.bus.publish("constraints")
        elif op == "=":
            ctx.out(
                _b(pkg in idle.user_except_idle or pkg in SYSTEM_EXCEPT_IDLE or pkg in idle.user_whitelist)
            )
        else:
            ctx.out(f"Unknown argument: {arg}")
            return 255
    return 0


def _tempwhitelist(ctx: CommandContext, idle: DeviceIdleController, rest: list[str]) -> int:
    duration = 10_000
    remove = False
    i = 0
    while i < len(rest) and rest[i].startswith("-") and len(rest[i]) > 1:
        opt = rest[i]
        i += 1
        if opt == "-u":
            if i >= len(rest):
                ctx.out("-u requires a user number")
                return 255
            i += 1
        elif opt == "-d":
            if i >= len(rest):
                ctx.out("-d requires a duration")
                return 255
            try:
                duration = int(rest[i])
            except ValueError:
                ctx.out(f'Failed: java.lang.NumberFormatException: For input string: "{rest[i]}"')
                return 255
            i += 1
        elif opt == "-r":
            remove = True
    pkg = rest[i] if i < len(rest) else None
    if pkg is None:
        if remove:
            ctx.out("[-r] requires a package name")
            return 255
        for line in idle.temp_lines():
            ctx.out(line)
        return 0
    try:
        if remove:
            idle.remove_temp_whitelist(pkg)
        else:
            idle.add_temp_whitelist(pkg, duration, "shell")
    except KeyError:
        ctx.out(f"Failed: android.content.pm.PackageManager$NameNotFoundException: {pkg}")
        return 255
    return 0


@cmd_service("deviceidle")
def cmd_deviceidle(ctx: CommandContext) -> int:
    return deviceidle_shell(ctx, ctx.argv[1:])


@dumpsys_section("deviceidle")
def dumpsys_deviceidle(ctx: CommandContext) -> int:
    """The full dump, or the shell for sub-commands; dumpsys itself always exits 0."""
    args = ctx.argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-h":
            ctx.out(_HELP)
            return 0
        if arg == "-u":
            i += 2
            continue
        if arg == "-a":
            i += 1
            continue
        if arg.startswith("-"):
            ctx.out(f"Unknown option: {arg}")
            return 0
        deviceidle_shell(ctx, args[i:])
        return 0
    ctx.out(ctx.device.idle.dump())
    return 0
