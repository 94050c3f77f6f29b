"""The verbs about installed apps: ``install``, ``uninstall``, ``terminate``, ``listapps``,
``appinfo``, ``get_app_container``, ``openurl`` and ``push`` (``launch`` is ``simctl_launch.py``)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from .facts import SYSTEM_APPS, SimError, sim_error

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any, TextIO

    from .device import Device, World
    from .simctl import Io


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
