"""The ``dumpsys``, ``cmd``, ``svc`` and ``input`` programs of the virtual device.

``dumpsys`` and ``cmd`` are dispatchers over the registries (``registry.py``): a module that
declares ``@dumpsys_section("x")`` or ``@cmd_service("x")`` is reachable here with no list to
edit. Their own errors are the native binaries' texts: ``Can't find service: x`` (dumpsys, stderr,
exit 0) and ``cmd: Can't find service: x`` (stderr, exit 20).
"""

from __future__ import annotations

import time

from ..registry import CMD_SERVICES, DUMPSYS_SECTIONS, CommandContext, cmd_service, command, invoke

_DIVIDER = "-" * 79


def _service_names() -> list[str]:
    return sorted(set(CMD_SERVICES) | set(DUMPSYS_SECTIONS))


@command("dumpsys")
async def dumpsys(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    skip: set[str] = set()
    # dumpsys' own options come first; the first non-option word is the service.
    while args and args[0].startswith("-"):
        opt = args[0]
        if opt == "-l":
            ctx.out("Currently running services:")
            for name in _service_names():
                ctx.out(f"  {name}")
            return 0
        if opt in ("-t", "-T", "--priority"):
            args = args[2:]
            continue
        if opt == "--skip":
            skip.update(args[1:])
            args = []
            break
        if opt in ("-h", "--help"):
            ctx.out(
                "usage: dumpsys\n         To dump all services.\nor:\n"
                "       dumpsys [-t TIMEOUT] [--priority LEVEL] [--dump] [--pid] [--thread] [--help | -l | "
                "--skip SERVICES | SERVICE [ARGS]]"
            )
            return 0
        args = args[1:]
    if args:
        name = args[0]
        fn = DUMPSYS_SECTIONS.get(name)
        if fn is None:
            ctx.err(f"Can't find service: {name}")
            return 0
        await invoke(fn, ctx.sub(args))
        return 0
    for name in sorted(DUMPSYS_SECTIONS):
        if name in skip:
            continue
        ctx.out(_DIVIDER)
        ctx.out(f"DUMP OF SERVICE {name}:")
        await invoke(DUMPSYS_SECTIONS[name], ctx.sub([name]))
        ending = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ctx.device.now_ms() // 1000))
        ctx.out(f"--------- 0.001s was the duration of dumpsys {name}, ending at: {ending}")
        await ctx.stdout.drain()
    return 0


@command("cmd")
async def cmd(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    if not args:
        ctx.err(
            "cmd: No service specified; use -l to list all running services. "
            "Use -w to start and wait for a service."
        )
        return 20
    if args[0] == "-l":
        ctx.out("Currently running services:")
        for name in _service_names():
            ctx.out(f"  {name}")
        return 0
    if args[0] == "-w":
        args = args[1:]
        if not args:
            ctx.err(
                "cmd: No service specified; use -l to list all running services. "
                "Use -w to start and wait for a service."
            )
            return 20
    name = args[0]
    fn = CMD_SERVICES.get(name)
    if fn is None:
        ctx.err(f"cmd: Can't find service: {name}")
        return 20
    return await invoke(fn, ctx.sub(args))


# ---------------------------------------------------------------------- svc
# Since Android 12 ``svc`` is a shell script: ``wifi`` and ``data`` are rewritten to ``cmd wifi
# set-wifi-enabled`` / ``cmd phone data``, and print their usage with exit 1 otherwise; the rest
# goes to the Java Svc (help, power, usb, nfc, bluetooth, system_server).
_SVC_HELP = """Available commands:
    help     Show information about the subcommands
    power    Control the power manager
    usb      Control Usb state
    nfc      Control NFC functions
    bluetooth Control Bluetooth service
    system_server System server process related command"""

_SVC_WIFI_USAGE = (
    "Control the Wi-Fi manager\n\nusage: svc wifi [enable|disable]\n         Turn Wi-Fi on or off.\n\n"
)
_SVC_DATA_USAGE = "Enable/Disable Mobile Data Connectivity\n\nusage: svc data [enable|disable]\n\n"
_SVC_POWER_USAGE = (
    "Control the power manager\n\nusage: svc power stayon [true|false|usb|ac|wireless|dock]\n"
    "         Set the 'keep awake while plugged in' setting.\n"
    "       svc power reboot [reason]\n"
    "         Perform a runtime shutdown and reboot device with specified reason.\n"
)
_STAYON = {"true": 15, "false": 0, "ac": 1, "usb": 2, "wireless": 4, "dock": 8}


@command("svc")
def svc(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    what = args[0] if args else "help"
    arg = args[1] if len(args) > 1 else None
    net = ctx.device.net
    if what == "wifi":
        if arg in ("enable", "disable"):
            net.set_wifi(arg == "enable")
            return 0
        ctx.out(_SVC_WIFI_USAGE, end="")
        return 1
    if what == "data":
        if arg in ("enable", "disable"):
            net.set_data(arg == "enable")
            return 0
        ctx.out(_SVC_DATA_USAGE, end="")
        return 1
    if what == "power":
        if arg == "stayon" and len(args) > 2 and args[2] in _STAYON:
            ctx.device.settings.put("global", "stay_on_while_plugged_in", str(_STAYON[args[2]]))
            return 0
        ctx.err(_SVC_POWER_USAGE, end="")
        return 0
    if what == "help":
        if arg == "wifi":
            ctx.out(_SVC_WIFI_USAGE, end="")
        elif arg == "data":
            ctx.out(_SVC_DATA_USAGE, end="")
        elif arg == "power":
            ctx.err(_SVC_POWER_USAGE, end="")
        else:
            ctx.err(_SVC_HELP)
        return 0
    ctx.err(f"Unknown command: {what}")
    ctx.err(_SVC_HELP)
    return 0


# -------------------------------------------------------------------- input
KEYCODES = {
    "KEYCODE_UNKNOWN": 0,
    "KEYCODE_HOME": 3,
    "KEYCODE_BACK": 4,
    "KEYCODE_CALL": 5,
    "KEYCODE_ENDCALL": 6,
    "KEYCODE_DPAD_UP": 19,
    "KEYCODE_DPAD_DOWN": 20,
    "KEYCODE_DPAD_LEFT": 21,
    "KEYCODE_DPAD_RIGHT": 22,
    "KEYCODE_DPAD_CENTER": 23,
    "KEYCODE_VOLUME_UP": 24,
    "KEYCODE_VOLUME_DOWN": 25,
    "KEYCODE_POWER": 26,
    "KEYCODE_CAMERA": 27,
    "KEYCODE_ENTER": 66,
    "KEYCODE_DEL": 67,
    "KEYCODE_MENU": 82,
    "KEYCODE_NOTIFICATION": 83,
    "KEYCODE_SEARCH": 84,
    "KEYCODE_APP_SWITCH": 187,
    "KEYCODE_SLEEP": 223,
    "KEYCODE_WAKEUP": 224,
}

_INPUT_USAGE = """Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]

The sources are:
      keyboard
      mouse
      touchscreen
      touchpad
      dpad
      trackball

The commands and default sources are:
      text <string> (Default: touchscreen)
      keyevent [--longpress|--doubletap|--async|--delay <duration between keycodes in ms>] <key code number or name> ... (Default: keyboard)
      tap <x> <y> (Default: touchscreen)
      swipe <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)
      draganddrop <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)
      press (Default: trackball)
      roll <dx> <dy> (Default: trackball)
      motionevent <DOWN|UP|MOVE|CANCEL> <x> <y> (Default: touchscreen)
      keycombination [-t duration(ms)] <key code 1> <key code 2> ... (Default: keyboard, the key order is important here.)"""  # noqa: E501

_SOURCES = {
    "keyboard",
    "mouse",
    "touchscreen",
    "touchpad",
    "dpad",
    "trackball",
    "stylus",
    "gamepad",
    "joystick",
    "touchnavigation",
    "rotaryencoder",
}


def keycode_from_string(text: str) -> int:
    """KeyEvent.keyCodeFromString: a number, a KEYCODE_ name, or the name without the prefix."""
    if text.isdigit():
        return int(text)
    name = text.upper()
    if not name.startswith("KEYCODE_"):
        name = "KEYCODE_" + name
    return KEYCODES.get(name, 0)


@command("input")
@cmd_service("input")
def input_cmd(ctx: CommandContext) -> int:
    """``input`` (``cmd input`` since Android 12): InputShellCommand; unknown key names inject
    KEYCODE_UNKNOWN silently, as ``KeyEvent.keyCodeFromString`` does."""
    args = ctx.argv[1:]
    if args and args[0] in _SOURCES:
        args = args[1:]
    if len(args) >= 2 and args[0] == "-d":
        args = args[2:]
    if not args:
        ctx.err(_INPUT_USAGE)
        return 1
    verb, rest = args[0], args[1:]
    power = ctx.device.power
    if verb == "keyevent":
        longpress = False
        while rest and rest[0].startswith("--"):
            longpress = longpress or rest[0] == "--longpress"
            rest = rest[2:] if rest[0] in ("--delay", "--duration") else rest[1:]
        if not rest:
            ctx.err(_INPUT_USAGE)
            return 1
        for key in rest:
            code = keycode_from_string(key)
            if longpress and code == 26:
                power.user_activity()  # a long press opens the power menu; the screen stays as it is
            else:
                power.key(code)
        return 0
    if verb in ("tap", "swipe", "text", "press", "roll", "motionevent", "draganddrop", "keycombination"):
        if power.interactive:
            power.user_activity()
        return 0
    ctx.err(f"Error: Unknown command: {verb}")
    ctx.err(_INPUT_USAGE)
    return 1
