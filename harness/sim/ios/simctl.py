"""``xcrun simctl`` on the virtual iPhones: the real sub-commands, output formats and exit codes.

Formats and error texts follow research ios.md §1 (stdout for data, stderr for every error and
for ``io screenshot``'s success line). Commands that keep running (``log stream``,
``launch --console-pty``, ``bootstatus`` on a device that is not booted) do their state work
under the home's lock and then follow the append-only files without holding it.

``simctl bgtest …`` is the vendor sub-command a real Mac does not have: virtual time and the
hardware a simulator lacks (battery, cable, network, the app switcher's force-quit).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ...durations import DurationError, parse_duration_ms
from ..clock import ClockMode
from ..clockcmd import ClockCommandError, clock_command
from .device import Device, World, new_state, open_world
from .facts import DEVICE_TYPE_PROFILES, RUNTIME_ID, RUNTIMES, SYSTEM_APPS, SimError, sim_error
from .nsjson import iso_date, sim_json
from .oslog import HEADERS, RENDER, json_object, ndjson_line, shown_at_level
from .predicate import PredicateError, compile_predicate
from .simctl_devices import (
    cmd_addmedia,
    cmd_clone,
    cmd_create,
    cmd_delete,
    cmd_getenv,
    cmd_keychain,
    cmd_location,
    cmd_logverbose,
    cmd_pbcopy,
    cmd_pbpaste,
    cmd_privacy,
    cmd_rename,
    cmd_runtime,
)
from .state import SimHome

_POLL_S = 0.05


class Io:
    """Where a command writes (real streams in the CLI, buffers in tests)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.o = out or sys.stdout
        self.e = err or sys.stderr

    def out(self, text: str = "") -> None:
        self.o.write(text + "\n")
        self.o.flush()

    def err(self, text: str) -> None:
        self.e.write(text + "\n")
        self.e.flush()


def _invalid_argument() -> SimError:
    return sim_error(
        "NSPOSIXErrorDomain",
        22,
        "Simulator device failed to complete the requested operation.\nInvalid argument",
        22,
    )


# =========================================================================== list
def _device_json(dev: Device) -> dict[str, Any]:
    d = dev.d
    out: dict[str, Any] = {}
    if d.get("last_booted") is not None:
        out["lastBootedAt"] = iso_date(d["last_booted"])
    out.update(
        {
            "dataPath": str(dev.data_path),
            "dataPathSize": 4_834_729_984 if d["boot_n"] else 18_337_792,
            "logPath": str(dev.w.home.path / "Logs" / dev.udid),
            "udid": dev.udid,
            "isAvailable": True,
        }
    )
    if d["boot_n"]:
        out["logPathSize"] = 1_110_016
    out.update({"deviceTypeIdentifier": d["type"], "state": d["state"], "name": d["name"]})
    return out


def _runtime_json(identifier: str = RUNTIME_ID) -> dict[str, Any]:
    name, version, build = RUNTIMES[identifier]
    root = f"/Library/Developer/CoreSimulator/Volumes/iOS_{build}/Library/Developer/CoreSimulator/" \
        f"Profiles/Runtimes/{name}.simruntime"
    major = int(version.split(".")[0])
    return {
        "bundlePath": root,
        "buildversion": build,
        "platform": "iOS",
        "runtimeRoot": f"{root}/Contents/Resources/RuntimeRoot",
        "identifier": identifier,
        "version": version,
        "isInternal": False,
        "isAvailable": True,
        "name": name,
        "supportedDeviceTypes": [
            {k: t[k] for k in ("bundlePath", "name", "identifier", "productFamily")}
            for t in DEVICE_TYPE_PROFILES
            if int(str(t["minRuntimeVersionString"]).split(".")[0]) <= major
            <= int(str(t["maxRuntimeVersionString"]).split(".")[0])
        ],
    }


def cmd_list(world: World, args: list[str], io: Io) -> int:
    as_json = False
    verbose = False
    section: str | None = None
    available = False
    terms: list[str] = []
    for a in args:
        if a in ("-j", "--json"):
            as_json = True
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a in ("-e",):
            continue
        elif section is None and a in ("devices", "devicetypes", "runtimes", "pairs"):
            section = a
        elif a == "available":
            available = True
        elif a.startswith("-"):
            raise SimError(f"Unrecognized option: {a}", 64)
        else:
            terms.append(a)
    del verbose, available  # every virtual device is available; -v adds nothing we model
    devices = [
        dev
        for dev in world.devices()
        if not terms
        or any(
            t.lower() in (dev.udid.lower(), dev.d["name"].lower(), dev.d["state"].lower())
            or t.lower() in dev.d["name"].lower()
            for t in terms
        )
    ]
    if as_json:
        doc: dict[str, Any] = {}
        if section in (None, "devicetypes"):
            doc["devicetypes"] = DEVICE_TYPE_PROFILES
        if section in (None, "runtimes"):
            doc["runtimes"] = [_runtime_json(r) for r in sorted(RUNTIMES)]
        if section in (None, "devices"):
            doc["devices"] = {r: [_device_json(d) for d in devices if d.d["runtime"] == r]
                              for r in sorted(RUNTIMES)}
        if section in (None, "pairs"):
            doc["pairs"] = {}
        io.out(sim_json(doc))
        return 0
    if section in (None, "devicetypes"):
        io.out("== Device Types ==")
        for t in DEVICE_TYPE_PROFILES:
            io.out(f"{t['name']} ({t['identifier']})")
    if section in (None, "runtimes"):
        io.out("== Runtimes ==")
        for identifier in sorted(RUNTIMES):
            name, version, build = RUNTIMES[identifier]
            io.out(f"{name} ({version} - {build}) - {identifier}")
    if section in (None, "devices"):
        io.out("== Devices ==")
        for identifier in sorted(RUNTIMES):
            mine = [dev for dev in devices if dev.d["runtime"] == identifier]
            if mine or identifier == RUNTIME_ID:
                io.out(f"-- {RUNTIMES[identifier][0]} --")
            for dev in mine:
                io.out(f"    {dev.d['name']} ({dev.udid}) ({dev.d['state']}) ")
    if section in (None, "pairs"):
        io.out("== Device Pairs ==")
    return 0


# ===================================================================== lifecycle
def cmd_boot(world: World, args: list[str], io: Io) -> int:
    if not args:
        raise SimError("Usage: simctl boot <device> [--arch=<arch>]", 64)
    dev = _find_boot(world, args[0])
    dev.boot()
    return 0


def _find_boot(world: World, ref: str) -> Device:
    try:
        return world.find(ref)
    except SimError as exc:
        if exc.message.startswith("Invalid device"):
            raise SimError(f"Invalid device or device pair: {ref}", 148) from None
        raise


def cmd_shutdown(world: World, args: list[str], io: Io) -> int:
    if not args:
        raise SimError("Usage: simctl shutdown <device> | all", 64)
    if args[0] == "all":
        for dev in world.devices():
            if dev.booted:
                dev.shutdown()
        return 0
    world.find(args[0]).shutdown()
    return 0


def cmd_erase(world: World, args: list[str], io: Io) -> int:
    if not args:
        raise SimError("Usage: simctl erase <device> [... <device>] | all", 64)
    targets = world.devices() if args[0] == "all" else [world.find(a) for a in args]
    for dev in targets:
        dev.erase()
    return 0


def _bootstatus_lines(world: World, dev: Device, waited: bool) -> list[str]:
    if not waited:
        return ["Device already booted, nothing to do."]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(world.now() / 1000.0))
    return [
        f"[{stamp}] Status=4, isTerminal=NO, Elapsed=00:01.",
        "\tWaiting on System App",
        "",
        f"[{stamp}] Status=4294967295, isTerminal=YES, Elapsed=00:02.",
        "\tFinished",
    ]


def bootstatus(home: SimHome, args: list[str], io: Io) -> int:
    """``bootstatus <device> [-b] [-d]``: waits (without the lock) until the device is booted."""
    boot = "-b" in args
    refs = [a for a in args if not a.startswith("-")]
    if not refs:
        raise SimError("Usage: simctl bootstatus <device> [-bcd]", 64)
    with open_world(home) as world:
        dev = world.find(refs[0])
        io.out(f"Monitoring boot status for {dev.d['name']} ({dev.udid}).")
        if dev.booted:
            io.out(_bootstatus_lines(world, dev, False)[0])
            return 0
        udid = dev.udid
        if boot:
            dev.boot()
            for line in _bootstatus_lines(world, dev, True):
                io.out(line)
            return 0
    while True:  # without -b it waits for somebody else to boot it, as the real one does
        time.sleep(_POLL_S * 4)
        with open_world(home) as world:
            dev = world.find(udid)
            if dev.booted:
                for line in _bootstatus_lines(world, dev, True):
                    io.out(line)
                return 0


# ========================================================================= apps
def cmd_install(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl install <device> <path>", 64)
    world.find(args[0]).springboard.install(args[1])
    return 0


def cmd_uninstall(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl uninstall <device> <app bundle identifier>", 64)
    dev = world.find(args[0])
    dev.require_booted("uninstall")
    if args[1] in dev.d["apps"]:
        dev.springboard.uninstall(args[1])
    return 0  # like the real one, removing an app that is not there is not an error [U]


class LaunchOpts:
    def __init__(self) -> None:
        self.console = False
        self.wait = False
        self.terminate = False
        self.stdout: str | None = None
        self.stderr: str | None = None
        self.udid = ""
        self.bundle = ""
        self.argv: list[str] = []


def parse_launch(args: list[str]) -> LaunchOpts:
    opts = LaunchOpts()
    rest = list(args)
    while rest and rest[0].startswith("-"):
        a = rest.pop(0)
        if a in ("--console", "--console-pty"):
            opts.console = True
        elif a in ("-w", "--wait-for-debugger"):
            opts.wait = True
        elif a == "--terminate-running-process":
            opts.terminate = True
        elif a.startswith("--stdout="):
            opts.stdout = a.split("=", 1)[1]
        elif a.startswith("--stderr="):
            opts.stderr = a.split("=", 1)[1]
        elif a.startswith("--arch="):
            continue
        else:
            raise _invalid_argument()
    if len(rest) < 2:
        raise SimError(
            "Usage: simctl launch [-w | --wait-for-debugger] [--console|--console-pty] "
            "[--stdout=<path>] [--stderr=<path>] [--terminate-running-process] [--arch=<arch>] "
            "<device> <app bundle identifier> [<argv 1> <argv 2> ... <argv n>]",
            64,
        )
    opts.udid, opts.bundle, opts.argv = rest[0], rest[1], rest[2:]
    return opts


def child_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """``SIMCTL_CHILD_FOO=bar`` in simctl's environment becomes ``FOO=bar`` in the app's."""
    env = os.environ if environ is None else environ
    return {k[len("SIMCTL_CHILD_") :]: v for k, v in env.items() if k.startswith("SIMCTL_CHILD_")}


def launch(home: SimHome, args: list[str], io: Io) -> int:
    opts = parse_launch(args)
    with open_world(home) as world:
        dev = world.find(opts.udid)
        stdout_path = None
        if opts.stdout and not opts.console:
            stdout_path = os.path.abspath(opts.stdout)
            with open(stdout_path, "a"):
                pass  # the real simctl creates the file before the app writes to it
        pid = dev.springboard.launch(
            opts.bundle, opts.argv, child_env(), terminate_running=opts.terminate, stdout_path=stdout_path
        )
        udid = dev.udid
        start = home.stdout_file(pid).stat().st_size if home.stdout_file(pid).exists() else 0
        io.out(f"{opts.bundle}: {pid}")
    if not opts.console:
        return 0
    follow_stdout(home, udid, opts.bundle, pid, start, io)
    return 0


def follow_stdout(home: SimHome, udid: str, bundle: str, pid: int, offset: int, io: Io) -> None:
    """``--console-pty``: copy the app's stdout until the app's process is gone."""
    path = home.stdout_file(pid)
    pos = 0
    # the lines printed while launching come first
    while True:
        try:
            with path.open("rb") as fh:
                fh.seek(pos)
                data = fh.read()
        except OSError:
            data = b""
        if data:
            cut = data.rfind(b"\n")
            if cut >= 0:
                io.o.write(data[: cut + 1].decode("utf-8", "replace"))
                io.o.flush()
                pos += cut + 1
        state = home.read_state()
        alive = False
        if state is not None:
            proc = state["devices"].get(udid, {}).get("procs", {}).get(bundle)
            alive = proc is not None and proc.get("pid") == pid
            if alive and state["clock"]["mode"] != "manual":
                with open_world(home):
                    pass  # let realtime device time move the app along
        if not alive:
            return
        time.sleep(_POLL_S)


def cmd_terminate(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl terminate <device> <app bundle identifier>", 64)
    world.find(args[0]).springboard.terminate(args[1])
    return 0


_PLAIN = re.compile(r"^[A-Za-z0-9_]+$")


def _ostep(value: Any, indent: int) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        lines = ["{"]
        for k in sorted(value):
            v = value[k]
            sep = (
                " =     "
                if isinstance(v, (dict, list)) and indent == 0
                else (" =         " if isinstance(v, (dict, list)) else " = ")
            )
            lines.append(f"{pad}    {_ostep_str(k)}{sep}{_ostep(v, indent + 4)};")
        lines.append(pad + "}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = ["("]
        lines += [f"{pad}    {_ostep(v, indent + 4)}," for v in value]
        lines.append(pad + ")")
        return "\n".join(lines)
    if isinstance(value, bool):
        return "1" if value else "0"
    return _ostep_str(str(value))


def _ostep_str(s: str) -> str:
    if _PLAIN.match(s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def app_info(dev: Device, bid: str) -> dict[str, Any]:
    if bid in SYSTEM_APPS:
        name, bundle, exe = SYSTEM_APPS[bid]
        path = dev.sys_path(bundle)
        return {
            "ApplicationType": "System",
            "Bundle": f"file://{path}/",
            "CFBundleDisplayName": name,
            "CFBundleExecutable": exe,
            "CFBundleIdentifier": bid,
            "CFBundleName": name,
            "CFBundleVersion": "1",
            "GroupContainers": {},
            "Path": path,
            "SBAppTags": [],
        }
    app = dev.d["apps"][bid]
    path = dev.app_bundle_dir(bid)
    return {
        "ApplicationType": "User",
        "Bundle": f"file://{path}/",
        "BundleContainer": "file://" + path.rsplit("/", 1)[0] + "/",
        "CFBundleDisplayName": app["name"],
        "CFBundleExecutable": app["exe"],
        "CFBundleIdentifier": bid,
        "CFBundleName": app["name"],
        "CFBundleShortVersionString": app["version"],
        "CFBundleVersion": app["version"],
        "DataContainer": f"file://{dev.app_data_dir(bid)}/",
        "GroupContainers": {},
        "IsHidden": False,
        "Path": path,
        "SBAppTags": [],
    }


def cmd_listapps(world: World, args: list[str], io: Io) -> int:
    if len(args) != 1:
        raise SimError("Usage: simctl listapps <device>", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    apps = {bid: app_info(dev, bid) for bid in [*SYSTEM_APPS, *dev.d["apps"]]}
    io.out(_ostep(apps, 0))
    return 0


def cmd_appinfo(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl appinfo <device> <app bundle identifier>", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    if not dev.springboard.known_app(args[1]):
        io.out(_ostep({"CFBundleIdentifier": args[1]}, 0))
        return 0
    io.out(_ostep(app_info(dev, args[1]), 0))
    return 0


def cmd_get_app_container(world: World, args: list[str], io: Io) -> int:
    if len(args) not in (2, 3):
        raise SimError("Usage: simctl get_app_container <device> <app bundle identifier> [<container>]", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    bid = args[1]
    which = args[2] if len(args) == 3 else "app"
    if bid not in dev.d["apps"]:
        raise sim_error("NSPOSIXErrorDomain", 2, "No such file or directory", 2)
    if which == "app":
        io.out(dev.app_bundle_dir(bid))
    elif which == "data":
        io.out(dev.app_data_dir(bid))
    elif which == "groups":
        pass
    else:
        raise sim_error("NSPOSIXErrorDomain", 2, "No such file or directory", 2)
    return 0


def cmd_openurl(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl openurl <device> <URL>", 64)
    world.find(args[0]).springboard.open_url(args[1])
    return 0


def cmd_push(world: World, args: list[str], io: Io, stdin: TextIO | None = None) -> int:
    if len(args) not in (2, 3):
        raise SimError("Usage: simctl push <device> [<bundle identifier>] (<json file> | -)", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    source = args[-1]
    try:
        text = (stdin or sys.stdin).read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError:
        raise sim_error(
            "NSCocoaErrorDomain",
            260,
            f"The file “{os.path.basename(source)}” couldn’t be opened because there is no such file.",
            1,
        ) from None
    try:
        payload = json.loads(text)
    except ValueError:
        raise sim_error(
            "NSCocoaErrorDomain", 3840, "The data couldn’t be read because it isn’t in the correct format.", 1
        ) from None
    if not isinstance(payload, dict) or "aps" not in payload:
        raise sim_error(
            "SimulatorKit.SimulatorKitError",
            1,
            "Invalid push payload: the payload must be a JSON object containing an 'aps' key.",
            1,
        )
    if len(text.encode()) > 4096:
        raise sim_error(
            "SimulatorKit.SimulatorKitError",
            1,
            "Invalid push payload: the payload must be at most 4096 bytes.",
            1,
        )
    bid = args[1] if len(args) == 3 else payload.get("Simulator Target Bundle")
    if not bid:
        raise SimError(
            'No bundle identifier specified and the payload has no "Simulator Target Bundle" key.', 64
        )
    dev.springboard.push(str(bid), payload)
    io.out(f"Notification sent to '{bid}'")
    return 0


# ================================================================ io / status_bar
def cmd_io(world: World, args: list[str], io: Io) -> int:
    from .screen import png_for

    if len(args) < 3 or args[1] != "screenshot":
        raise SimError("Usage: simctl io <device> screenshot [--type=…] [--display=…] [--mask=…] <file>", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    target = args[-1]
    data = png_for(dev)
    try:
        if target == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return 0
        with open(target, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise sim_error(
            "NSPOSIXErrorDomain", exc.errno or 5, f"Error writing screenshot: {exc.strerror}", 1
        ) from None
    io.err(f"Wrote screenshot to: {target}")
    return 0


_NETWORKS = ["hide", "wifi", "3g", "4g", "lte", "lte-a", "lte+", "5g", "5g+", "5g-uwb", "5g-uc"]
_BATTERY_STATES = {"discharging": 0, "charging": 1, "charged": 2}
_WIFI = {"searching": 0, "failed": 1, "active": 2}
_CELL = {"notSupported": 0, "searching": 1, "failed": 2, "active": 3}


def cmd_status_bar(world: World, args: list[str], io: Io) -> int:
    if len(args) < 2 or args[1] not in ("list", "clear", "override"):
        raise SimError("Usage: simctl status_bar <device> [list | clear | override <override arguments>]", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    sb = dev.d["status_bar"]
    if args[1] == "clear":
        sb.clear()
        return 0
    if args[1] == "list":
        io.out("Current Status Bar Overrides:")
        io.out("=============================")
        if "time" in sb:
            io.out(f"Time: {sb['time']}")
        if "dataNetwork" in sb:
            io.out(f"DataNetworkType: {sb['dataNetwork']}")
        if "wifiMode" in sb or "wifiBars" in sb:
            io.out(f"WiFi Mode: {sb.get('wifiMode', 2)}, WiFi Bars: {sb.get('wifiBars', 3)}")
        if "cellularMode" in sb or "cellularBars" in sb:
            io.out(f"Cell Mode: {sb.get('cellularMode', 3)}, Cell Bars: {sb.get('cellularBars', 4)}")
        if "operatorName" in sb:
            io.out(f"Operator Name: {sb['operatorName']}")
        if "batteryState" in sb or "batteryLevel" in sb:
            state = sb.get("batteryState", 2)
            io.out(
                f"Battery State: {state}, Battery Level: {sb.get('batteryLevel', 100)}, "
                f"Not Charging: {int(state == 0)}"
            )
        return 0
    rest = args[2:]
    if not rest or len(rest) % 2:
        raise _invalid_argument()
    for flag, value in zip(rest[::2], rest[1::2], strict=True):
        try:
            if flag == "--time":
                sb["time"] = value
            elif flag == "--dataNetwork":
                sb["dataNetwork"] = _NETWORKS.index(value)
            elif flag == "--wifiMode":
                sb["wifiMode"] = _WIFI[value]
            elif flag == "--wifiBars" and 0 <= int(value) <= 3:
                sb["wifiBars"] = int(value)
            elif flag == "--cellularMode":
                sb["cellularMode"] = _CELL[value]
            elif flag == "--cellularBars" and 0 <= int(value) <= 4:
                sb["cellularBars"] = int(value)
            elif flag == "--operatorName":
                sb["operatorName"] = value
            elif flag == "--batteryState":
                sb["batteryState"] = _BATTERY_STATES[value]
            elif flag == "--batteryLevel" and 0 <= int(value) <= 100:
                sb["batteryLevel"] = int(value)
            else:
                raise ValueError(flag)
        except (ValueError, KeyError):
            raise _invalid_argument() from None
    return 0


def cmd_ui(world: World, args: list[str], io: Io) -> int:
    if len(args) < 2 or args[1] != "appearance":
        raise SimError("Usage: simctl ui <device> <option> [<arguments>]", 64)
    dev = world.find(args[0])
    if len(args) == 2:
        io.out(dev.d["appearance"] if dev.booted else "unknown")
        return 0
    if args[2] not in ("light", "dark"):
        raise _invalid_argument()
    dev.require_booted("lookup")
    dev.d["appearance"] = args[2]
    return 0


# ======================================================================== spawn
def spawn(home: SimHome, args: list[str], io: Io) -> int:
    rest = list(args)
    while (rest and rest[0] in ("-s", "--standalone", "-w", "--wait-for-debugger")) or (
        rest[:1] and rest[0].startswith("--arch=")
    ):
        rest.pop(0)
    if len(rest) < 2:
        raise SimError(
            "Usage: simctl spawn [-w | --wait-for-debugger] [-s | --standalone] [-a <arch> | "
            "--arch=<arch>] <device> <path to executable> [<argv 1> <argv 2> ... <argv n>]",
            64,
        )
    ref, exe, argv = rest[0], rest[1], rest[2:]
    name = exe.rsplit("/", 1)[-1]
    with open_world(home) as world:
        dev = world.find(ref)
        dev.require_booted("lookup")
        udid = dev.udid
        if name == "notifyutil":
            return notifyutil(dev, argv, io)
        if name == "launchctl":
            return launchctl(dev, argv, io)
        if name == "logger":
            return logger(dev, argv, io)
        if name != "log":
            raise sim_error("NSPOSIXErrorDomain", 2, f"No such file or directory: {exe}", 2)
    return log_tool(home, udid, argv, io)


def notifyutil(dev: Device, argv: list[str], io: Io) -> int:
    usage = (
        "usage: notifyutil [-q] [-v] [-z msec] [-M] [-R] [command ...]\n"
        "    -s key val    set state value for key\n    -p key        post a notification for key\n"
        "    -g key        get state value for key"
    )
    i = 0
    if not argv:
        io.err(usage)
        return 1
    while i < len(argv):
        a = argv[i]
        if a == "-s" and i + 2 < len(argv):
            key, val = argv[i + 1], argv[i + 2]
            try:
                dev.d["notify"][key] = int(val)
            except ValueError:
                io.err(usage)
                return 1
            i += 3
        elif a == "-p" and i + 1 < len(argv):
            key = argv[i + 1]
            if key == "com.apple.system.lowpowermode":
                dev.power.set_low_power(bool(dev.d["notify"].get(key, 0)))
            i += 2
        elif a == "-g" and i + 1 < len(argv):
            key = argv[i + 1]
            io.out(f"{key} {dev.d['notify'].get(key, 0)}")
            i += 2
        elif a in ("-q", "-v"):
            i += 1
        else:
            io.err(usage)
            return 1
    return 0


def logger(dev: Device, argv: list[str], io: Io) -> int:
    """``logger [-t tag] [-p pri] message…``: one line into the unified log (process ``logger``)."""
    words: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("-t", "-p", "-f"):
            if next(it, None) is None:
                io.err(f"logger: option requires an argument -- {a[1]}")
                io.err("usage: logger [-is] [-f file] [-h host] [-P port] [-p pri] [-t tag] [message ...]")
                return 1
        elif a in ("-i", "-s"):
            continue
        else:
            words.append(a)
    text = " ".join(words)
    if text:
        dev.w.log(dev, dev.sys_path("/usr/bin/logger"), dev.w.new_pid(), text,
                  sender=dev.sys_path("/usr/lib/system/libsystem_c.dylib"))
    return 0


def launchctl(dev: Device, argv: list[str], io: Io) -> int:
    if argv[:1] != ["list"]:
        io.err("Usage: launchctl list [-x] [label]")
        return 64
    io.out("PID\tStatus\tLabel")
    for path, pid in sorted(dev.d.get("sys_pids", {}).items(), key=lambda kv: kv[1]):
        io.out(f"{pid}\t0\tcom.apple.{path.rsplit('/', 1)[-1]}")
    for bid, proc in dev.d["procs"].items():
        io.out(f"{proc['pid']}\t0\tUIKitApplication:{bid}[{proc['pid'] % 0xFFFF:04x}][rb-legacy]")
    return 0


# ---------------------------------------------------------------------- log(1)
class LogArgs:
    def __init__(self) -> None:
        self.verb = ""
        self.style = "default"
        self.level = 0
        self.predicate: str | None = None
        self.processes: list[str] = []
        self.last_ms: int | None = None
        self.timeout_s: float | None = None
        self.info = False
        self.debug = False


_LOG_USAGE = (
    "usage:\n    log <command>\n\nglobal options:\n    -?, --help\n    -q, --quiet\n    -v, --verbose\n\n"
    "commands:\n    collect         gather system logs into a log archive\n"
    "    config          view/change logging system settings\n"
    "    erase           delete system logging data\n"
    "    show            view/search system logs\n"
    "    stream          watch live system logs\n"
    "    stats           show system logging statistics\n\n"
    "further help:\n    log help <command>\n    log help predicates"
)


def parse_log(argv: list[str]) -> LogArgs:
    if not argv or argv[0] not in ("stream", "show"):
        raise SimError(_LOG_USAGE, 64)
    la = LogArgs()
    la.verb = argv[0]
    it = iter(argv[1:])
    for a in it:
        key, eq, inline = a.partition("=")

        def val(key: str = key, eq: str = eq, inline: str = inline) -> str:
            if eq:
                return inline
            try:
                return next(it)
            except StopIteration:
                raise SimError(f"log: option '{key}' requires an argument", 64) from None

        if key == "--style":
            la.style = val()
            if la.style not in ("default", "compact", "json", "ndjson", "syslog"):
                raise SimError(f"log: invalid style: {la.style}", 64)
        elif key == "--level":
            v = val()
            if v not in ("default", "info", "debug"):
                raise SimError(f"log: invalid level: {v}", 64)
            la.level = {"default": 0, "info": 1, "debug": 2}[v]
        elif key == "--predicate":
            la.predicate = val()
        elif key == "--process":
            la.processes.append(val())
        elif key == "--last":
            text = val()
            try:
                la.last_ms = parse_duration_ms(text)
            except DurationError:
                raise SimError(f"log: invalid duration: {text}", 64) from None
        elif key == "--timeout":
            text = val()
            try:
                la.timeout_s = parse_duration_ms(text) / 1000.0
            except DurationError:
                raise SimError(f"log: invalid duration: {text}", 64) from None
        elif key == "--info":
            la.info = True
        elif key == "--debug":
            la.debug = True
        elif key in (
            "--color",
            "--type",
            "--source",
            "--start",
            "--end",
            "--signpost",
            "--mach-continuous-time",
        ):
            if key in ("--color", "--type", "--start", "--end"):
                val()
        else:
            raise SimError(f"log: unrecognized option '{a}'\n{_LOG_USAGE}", 64)
    if la.verb == "show":
        la.level = 2 if la.debug else 1 if la.info else 0
    return la


def _filter(la: LogArgs) -> Callable[[dict[str, Any]], bool]:
    parts = []
    if la.predicate is not None:
        try:
            parts.append(compile_predicate(la.predicate))
        except PredicateError as exc:
            raise SimError(f"log: Bad predicate ({exc}): {la.predicate}", 64) from None
    if la.processes:
        names = set(la.processes)
        parts.append(lambda r: r["path"].rsplit("/", 1)[-1] in names or str(r.get("pid")) in names)

    def keep(rec: dict[str, Any]) -> bool:
        return shown_at_level(rec, la.level) and all(p(rec) for p in parts)

    return keep


def _banner(la: LogArgs) -> str | None:
    if la.predicate is not None:
        return f'Filtering the log data using "{la.predicate}"'
    if la.processes:
        return " OR ".join(f'process == "{p}"' for p in la.processes).join(
            ('Filtering the log data using "', '"')
        )
    return None


class _Printer:
    def __init__(self, style: str, io: Io) -> None:
        self.style = style
        self.io = io
        self.count = 0

    def header(self) -> None:
        if self.style in HEADERS:
            self.io.out(HEADERS[self.style])

    def rec(self, rec: dict[str, Any]) -> None:
        if self.style == "ndjson":
            self.io.out(ndjson_line(rec))
        elif self.style == "json":
            self.io.o.write(("[" if self.count == 0 else ",") + json_object(rec))
            self.io.o.flush()
        else:
            self.io.out(RENDER[self.style](rec))
        self.count += 1

    def end(self) -> None:
        if self.style == "json":
            self.io.out("[]" if self.count == 0 else "]")


def log_tool(home: SimHome, udid: str, argv: list[str], io: Io) -> int:
    la = parse_log(argv)
    keep = _filter(la)
    pr = _Printer(la.style, io)
    banner = _banner(la)
    if la.verb == "show":
        with open_world(home) as world:
            now = world.now()
        recs, _ = home.read_log(0)
        if not (la.info or la.debug):
            io.out("Skipping info and debug messages, pass --info and/or --debug to include.")
        if banner:
            io.out(banner)
        pr.header()
        for rec in recs:
            if rec["udid"] != udid or (la.last_ms is not None and rec["t"] < now - la.last_ms):
                continue
            if keep(rec):
                pr.rec(rec)
        pr.end()
        if la.style == "ndjson":
            io.out(json.dumps({"count": pr.count, "finished": 1}, separators=(",", ":")))
        return 0
    if banner:
        io.out(banner)
    pr.header()
    offset = home.log_size()
    deadline = None if la.timeout_s is None else time.monotonic() + la.timeout_s
    try:
        while deadline is None or time.monotonic() < deadline:
            state = home.read_state()
            if state is not None and state["clock"]["mode"] != "manual":
                with open_world(home):
                    pass  # realtime device time: run what is due so it shows up in the stream
            recs, offset = home.read_log(offset)
            for rec in recs:
                if rec["udid"] == udid and keep(rec):
                    pr.rec(rec)
            time.sleep(_POLL_S)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    pr.end()
    return 0


# ===================================================================== vendor
_BGTEST_HELP = """Virtual iPhone (bgtest) commands:
  simctl bgtest clock
      Print the device time (epoch ms) and the clock mode.
  simctl bgtest clock advance DURATION
      Run every event due in DURATION (500ms, 30s, 15m, 6h, 1d) in order, then return.
  simctl bgtest clock mode manual|realtime|scaled N
  simctl bgtest battery <device> [--level 0-100] [--charging|--unplugged]
  simctl bgtest network <device> on|off
  simctl bgtest lowpower <device> on|off
  simctl bgtest forcequit <device> <bundle id>     (the user swipes the app away)
  simctl bgtest state <device>                     (JSON: apps, pending requests, running tasks)
  simctl bgtest reset [--kind simulator|device] [--profile iphone-flagship|iphone-7]
                                                   (a fresh world)"""


def cmd_bgtest(world: World, args: list[str], io: Io) -> int:
    if not args or args[0] in ("help", "-h", "--help"):
        io.out(_BGTEST_HELP)
        return 0 if args else 64
    verb, rest = args[0], args[1:]
    if verb == "clock":
        return _clock(world, rest, io)
    if verb == "reset":
        kind = "device" if "device" in rest or "--kind=device" in rest else "simulator"
        profile = next((a.split("=", 1)[1] for a in rest if a.startswith("--profile=")), None)
        if "--profile" in rest and rest.index("--profile") + 1 < len(rest):
            profile = rest[rest.index("--profile") + 1]
        from harness.profiles import UnknownProfileError

        try:
            fresh = new_state(kind, world.home, profile)  # type: ignore[arg-type]
        except UnknownProfileError as exc:
            raise SimError(str(exc), 64) from None
        world.state.clear()
        world.state.update(fresh)
        world.clock = type(world.clock)(start_ms=int(world.state["clock"]["ms"]))
        return 0
    if not rest:
        raise SimError(_BGTEST_HELP, 64)
    dev = world.find(rest[0])
    if verb == "battery":
        it = iter(rest[1:])
        for a in it:
            if a == "--level":
                try:
                    level = int(next(it, "x"))
                except ValueError:
                    raise SimError("battery: --level takes 0-100", 64) from None
                if not 0 <= level <= 100:
                    raise SimError("battery: --level takes 0-100", 64)
                dev.power.set_battery(level=level / 100.0)
            elif a == "--charging":
                dev.power.set_battery(charging=True)
            elif a == "--unplugged":
                dev.power.set_battery(charging=False)
            else:
                raise SimError(f"battery: unknown option {a}", 64)
        level = dev.d["battery"]
        power = "charging" if dev.d["charging"] else "unplugged"
        io.out(f"level {round(level * 100) if level >= 0 else -1} {power}")
        return 0
    if verb in ("network", "lowpower"):
        if len(rest) != 2 or rest[1] not in ("on", "off"):
            raise SimError(f"{verb}: on|off", 64)
        if verb == "network":
            dev.d["network"] = rest[1] == "on"
        else:
            dev.power.set_low_power(rest[1] == "on")
        return 0
    if verb == "forcequit":
        if len(rest) != 2:
            raise SimError("forcequit: <device> <bundle id>", 64)
        if not dev.springboard.force_quit(rest[1]):
            raise sim_error(
                "FBSOpenApplicationServiceErrorDomain", 4, f'The request to open "{rest[1]}" failed.', 4
            )
        return 0
    if verb == "state":
        d = dev.d
        doc = {
            "udid": dev.udid,
            "kind": dev.kind,
            "state": d["state"],
            "now_ms": world.now(),
            "low_power": d["lpm"],
            "battery": d["battery"],
            "charging": d["charging"],
            "network": d["network"],
            "front": d["front"],
            "force_quit": d["force_quit"],
            "apps": {bid: dev.springboard.app_state(bid) for bid in d["apps"]},
            "requests": [{**r, "blocked": dev.bgtasks.blocked_reason(r)} for r in d["requests"]],
            "running": d["running"],
            "privacy": d.get("privacy", {}),
            "media": d.get("media", []),
            "log_verbose": bool(d.get("log_verbose", False)),
            "location": d.get("location"),
            "keychain": d.get("keychain", []),
        }
        io.out(json.dumps(doc, indent=2))
        return 0
    raise SimError(f"Unknown bgtest command: {verb}\n{_BGTEST_HELP}", 64)


class _WorldClock:
    """The world's clock as the shared ``clock`` verb drives it (mode and scale live in the state)."""

    def __init__(self, world: World) -> None:
        self._world = world

    @property
    def mode(self) -> ClockMode:
        return self._world.state["clock"]["mode"]  # type: ignore[no-any-return]

    @property
    def scale(self) -> float:
        return float(self._world.state["clock"]["scale"])

    def now_ms(self) -> int:
        return self._world.now()

    def advance(self, delta_ms: int) -> int:
        return self._world.advance(delta_ms)

    def set_mode(self, mode: ClockMode, scale: float = 1.0) -> None:
        self._world.set_clock_mode(mode, scale)


def _clock(world: World, args: list[str], io: Io) -> int:
    if (args and len(args[0]) == 36) or args[:1] == ["booted"]:
        world.find(args[0])
        args = args[1:]
    try:
        io.out(clock_command(_WorldClock(world), args))
    except ClockCommandError as exc:
        raise SimError(f"Error: {exc}", 64) from None
    return 0


# ===================================================================== dispatch
_IN_WORLD: dict[str, Callable[[World, list[str], Io], int]] = {
    "list": cmd_list,
    "boot": cmd_boot,
    "shutdown": cmd_shutdown,
    "erase": cmd_erase,
    "install": cmd_install,
    "uninstall": cmd_uninstall,
    "terminate": cmd_terminate,
    "listapps": cmd_listapps,
    "appinfo": cmd_appinfo,
    "get_app_container": cmd_get_app_container,
    "openurl": cmd_openurl,
    "push": cmd_push,
    "io": cmd_io,
    "status_bar": cmd_status_bar,
    "ui": cmd_ui,
    "bgtest": cmd_bgtest,
    "addmedia": cmd_addmedia,
    "clone": cmd_clone,
    "create": cmd_create,
    "delete": cmd_delete,
    "getenv": cmd_getenv,
    "keychain": cmd_keychain,
    "location": cmd_location,
    "logverbose": cmd_logverbose,
    "pbcopy": cmd_pbcopy,
    "pbpaste": cmd_pbpaste,
    "privacy": cmd_privacy,
    "rename": cmd_rename,
    "runtime": cmd_runtime,
}
_OUTSIDE: dict[str, Callable[[SimHome, list[str], Io], int]] = {
    "launch": launch,
    "bootstatus": bootstatus,
    "spawn": spawn,
}

_HELP = """usage: simctl [--set <path>] [--profiles <path>] <subcommand> ...
       simctl help [subcommand]
Command line utility to control the Simulator

Subcommands:
\taddmedia            Add photos, live photos, videos, or contacts to the library of a device.
\tappinfo             Show information about an installed application.
\tboot                Boot a device or device pair.
\tbootstatus          Checks device boot status.
\tclone               Clone an existing device.
\tcreate              Create a new device.
\tdelete              Delete specified devices, unavailable devices, or all devices.
\terase               Erase a device's contents and settings.
\tget_app_container   Print the path of the installed app's container
\tgetenv              Print an environment variable from a running device.
\tinstall             Install an app on a device.
\tkeychain            Manipulate a device's keychain
\tio                  Set up a device IO operation.
\tlaunch              Launch an application by identifier on a device.
\tlist                List available devices, device types, runtimes, or device pairs.
\tlistapps            Show the installed applications.
\tlocation            Control a device's simulated location
\tlogverbose          enable or disable verbose logging for a device
\topenurl             Open a URL in a device.
\tpbcopy              Copy standard input onto the device pasteboard.
\tpbpaste             Print the contents of the device's pasteboard to standard output.
\tprivacy             Grant, revoke, or reset privacy and permissions
\tpush                Send a simulated push notification
\trename              Rename a device.
\truntime             Perform operations on runtimes
\tshutdown            Shutdown a device.
\tspawn               Spawn a process by executing a given executable on a device.
\tstatus_bar          Set or clear status bar overrides
\tterminate           Terminate an application by identifier on a device.
\tui                  Get or Set UI options
\tuninstall           Uninstall an app from a device.
\tbgtest              (bgtest virtual devices only) virtual time and hardware."""


def simctl(argv: list[str], io: Io | None = None, home: SimHome | None = None) -> int:
    """Run one ``simctl`` command line; returns the exit code (errors already printed)."""
    io = io or Io()
    home = home or SimHome()
    args = list(argv)
    while args[:1] in (["--set"], ["--profiles"]) and len(args) >= 2:
        args = args[2:]
    if not args or args[0] in ("help", "-h", "--help"):
        io.out(_HELP)
        return 0
    sub, rest = args[0], args[1:]
    try:
        if sub in _OUTSIDE:
            return _OUTSIDE[sub](home, rest, io)
        if sub not in _IN_WORLD:
            io.err(f"Unrecognized subcommand: {sub}")
            return 1
        with open_world(home) as world:
            return _IN_WORLD[sub](world, rest, io)
    except SimError as exc:
        io.err(exc.message)
        return exc.code
    except BrokenPipeError:
        return 141
