"""``simctl`` verbs that manage devices and their user data: create, clone, delete, rename,
runtime, getenv, logverbose, privacy, addmedia, pbcopy, pbpaste, location, keychain.

Usage lines and service lists follow ``simctl help <verb>`` (Xcode 15/16, as quoted in research
ios.md §1.4 and in the help texts wrappers such as node-simctl and isim copy); success is silent
except where simctl prints a result (``create`` and ``clone`` print the new UDID, ``getenv`` the
value, ``runtime list`` the disk images). Choices no capture shows are marked [U].
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .device import Device, World
from .facts import DEVICE_TYPE_PROFILES, RUNTIMES, SimError, seeded_uuid, sim_error
from .nsjson import sim_json

if TYPE_CHECKING:
    from .simctl import Io


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _type_profile(ref: str) -> dict[str, Any]:
    for t in DEVICE_TYPE_PROFILES:
        if ref in (t["identifier"], t["name"]):
            return t
    raise SimError(f"Invalid device type: {ref}", 161)  # [U] exit code (isim lists 161)


def _runtime_id(ref: str) -> str:
    for identifier, (name, version, _build) in RUNTIMES.items():
        if ref in (identifier, name, version):
            return identifier
    raise SimError(f"Invalid runtime: {ref}", 161)  # [U] exit code


def _runs_on(profile: dict[str, Any], runtime: str) -> bool:
    version = _version(RUNTIMES[runtime][1])
    low = _version(str(profile["minRuntimeVersionString"]))
    high = _version(str(profile["maxRuntimeVersionString"]))
    return low <= version + (0,) * (3 - len(version)) <= high


def _runtime_line(identifier: str) -> str:
    name, version, build = RUNTIMES[identifier]
    return f"{name} ({version} - {build}) - {identifier}"


# ======================================================================= devices
def cmd_create(world: World, args: list[str], io: Io) -> int:
    """``create <name> <device type> [<runtime>]``: with no runtime, the newest that runs the type."""
    if len(args) not in (2, 3):
        raise SimError("Usage: simctl create <name> <device type id> [<runtime id>]", 64)
    name, profile = args[0], _type_profile(args[1])
    if len(args) == 3:
        runtime = _runtime_id(args[2])
    else:
        fits = [r for r in RUNTIMES if _runs_on(profile, r)]
        if not fits:
            raise SimError(f"No runtimes are available for the device type {profile['identifier']}", 161)
        runtime = max(fits, key=lambda r: _version(RUNTIMES[r][1]))
    if not _runs_on(profile, runtime):
        # Xcode 16's answer to a type the runtime does not support (Kotlin/Storytale#80)
        raise SimError(
            f"Unable to create a device for device type: {profile['name']} ({profile['identifier']}), "
            f"runtime: {_runtime_line(runtime)}\nAn error was encountered processing the command "
            "(domain=com.apple.CoreSimulator.SimError, code=403):",
            147,
        )
    dev = world.create_device(name, runtime=runtime, type_id=str(profile["identifier"]))
    io.out(dev.udid)
    return 0


def cmd_clone(world: World, args: list[str], io: Io) -> int:
    """``clone <device> <new name>``: the source must be shut down [U]; prints the new UDID."""
    if len(args) not in (2, 3):
        raise SimError("Usage: simctl clone <device> <new name> [<destination device set path>]", 64)
    src = world.find(args[0])
    if src.booted:
        raise sim_error(
            "com.apple.CoreSimulator.SimError", 405, "Unable to clone device in current state: Booted", 149
        )
    io.out(world.clone_device(src, args[1]).udid)
    return 0


def cmd_delete(world: World, args: list[str], io: Io) -> int:
    """``delete <device>… | unavailable | all``: every virtual device is available, so
    ``unavailable`` deletes nothing."""
    if not args:
        raise SimError("Usage: simctl delete <device> [... <device>] | unavailable | all", 64)
    if args == ["unavailable"]:
        return 0
    targets = world.devices() if args == ["all"] else [world.find(a) for a in args]
    for dev in targets:
        world.delete_device(dev)
    return 0


def cmd_rename(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl rename <device> <name>", 64)
    world.find(args[0]).d["name"] = args[1]
    return 0


def cmd_runtime(world: World, args: list[str], io: Io) -> int:
    """``runtime list [-j] [-v]``: the runtimes as the disk images Xcode 14+ mounts them from."""
    if not args or args[0] != "list":
        raise SimError(
            "Usage: simctl runtime <operation> <arguments>\n\n"
            "list [-j | --json] [-v]\n    List all runtime disk images.", 64
        )
    images = {identifier: _disk_image(identifier) for identifier in sorted(RUNTIMES)}
    if any(a in ("-j", "--json") for a in args[1:]):
        io.out(sim_json({img["identifier"]: img for img in images.values()}))
        return 0
    io.out("== Disk Images ==")
    io.out("-- iOS --")
    for identifier, img in images.items():
        name, _version_text, build = RUNTIMES[identifier]
        io.out(f"{name} ({build}) - {img['identifier']} ({img['state']})")
    total = sum(int(img["sizeBytes"]) for img in images.values()) / 1e9
    io.out("")
    io.out(f"Total Disk Images: {len(images)} ({total:.1f}G)")
    return 0


def _disk_image(identifier: str) -> dict[str, Any]:
    """One entry of ``runtime list -j`` (keys as Xcode 15 prints them, luci/chromium fixtures)."""
    name, version, build = RUNTIMES[identifier]
    image = seeded_uuid(f"runtime-image:{identifier}")
    mount = f"/Library/Developer/CoreSimulator/Volumes/iOS_{build}"
    return {
        "build": build,
        "deletable": True,
        "identifier": image,
        "kind": "Disk Image",
        "mountPath": mount,
        "path": f"/Library/Developer/CoreSimulator/Images/{image}.dmg",
        "platformIdentifier": "com.apple.platform.iphonesimulator",
        "runtimeBundlePath": f"{mount}/Library/Developer/CoreSimulator/Profiles/Runtimes/{name}.simruntime",
        "runtimeIdentifier": identifier,
        "signatureState": "Verified",
        "sizeBytes": 7_336_630_623 if version.startswith("17") else 5_912_440_131,
        "state": "Ready",
        "version": version,
    }


# ================================================================= environment
def launchd_environment(dev: Device) -> dict[str, str]:
    """The simulator launchd's environment ``getenv`` reads (what an app finds in its own)."""
    from .screen import HEIGHT, SCALE, WIDTH  # here: the screen module's imports cost every simctl call

    _name, version, build = RUNTIMES[str(dev.d["runtime"])]
    model = next(
        (str(t["modelIdentifier"]) for t in DEVICE_TYPE_PROFILES if t["identifier"] == dev.d["type"]), ""
    )
    data = str(dev.data_path)
    return {
        "HOME": data,
        "CFFIXED_USER_HOME": data,
        "TMPDIR": f"{data}/tmp/",
        "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
        "SIMULATOR_UDID": dev.udid,
        "SIMULATOR_DEVICE_NAME": str(dev.d["name"]),
        "SIMULATOR_MODEL_IDENTIFIER": model,
        "SIMULATOR_RUNTIME_VERSION": version,
        "SIMULATOR_RUNTIME_BUILD_VERSION": build,
        "SIMULATOR_ROOT": dev.sys_path("") or "/",
        "SIMULATOR_SHARED_RESOURCES_DIRECTORY": data,
        "SIMULATOR_LOG_ROOT": str(dev.w.home.path / "Logs" / dev.udid),
        "SIMULATOR_MAINSCREEN_WIDTH": str(WIDTH * SCALE),
        "SIMULATOR_MAINSCREEN_HEIGHT": str(HEIGHT * SCALE),
        "SIMULATOR_MAINSCREEN_SCALE": f"{SCALE:.6f}",
        "IPHONE_SIMULATOR_ROOT": dev.sys_path("") or "/",
    }


def cmd_getenv(world: World, args: list[str], io: Io) -> int:
    if len(args) != 2:
        raise SimError("Usage: simctl getenv <device> <variable name>", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    value = launchd_environment(dev).get(args[1])
    if value is None:  # [U] text; node-simctl reads any stderr as "not set"
        raise sim_error("NSPOSIXErrorDomain", 2, f"No environment variable named {args[1]}.", 2)
    io.out(value)
    return 0


def cmd_logverbose(world: World, args: list[str], io: Io) -> int:
    """``logverbose [<device>] enable|disable``: CoreSimulator keeps the switch with the device."""
    if not args or args[-1] not in ("enable", "disable") or len(args) > 2:
        raise SimError("Usage: simctl logverbose [<device>] enable|disable", 64)
    dev = world.find(args[0] if len(args) == 2 else "booted")
    dev.d["log_verbose"] = args[-1] == "enable"
    return 0


# ================================================================ user data
#: ``simctl help privacy``'s services (Xcode 15 adds camera and notifications [3P]).
PRIVACY_SERVICES = (
    "calendar", "contacts-limited", "contacts", "location", "location-always", "photos-add", "photos",
    "media-library", "microphone", "motion", "reminders", "siri", "camera", "notifications",
)
_PRIVACY_USAGE = (
    "Usage: simctl privacy <device> <action> <service> [<bundle identifier>]\n\n"
    "    action\n        The action to take:\n"
    "            grant - Grant access without prompting. Requires bundle identifier.\n"
    "            revoke - Revoke access, denying all use of the service. Requires bundle identifier.\n"
    "            reset - Reset access, prompting on next use. Bundle identifier optional.\n"
    "        Some permission changes will terminate the application if running.\n"
    "    service\n        The service:\n            all - Apply the action to all services.\n"
    + "".join(f"            {s}\n" for s in PRIVACY_SERVICES)
)


def cmd_privacy(world: World, args: list[str], io: Io) -> int:
    """TCC as the device keeps it: ``{bundle: {service: "granted"|"denied"}}``; reset forgets.

    A revoke (or reset) ends the app if it is running — TCC takes a granted right away only from
    a new process ("Some permission changes will terminate the application if running") [U which].
    """
    if len(args) < 3 or args[1] not in ("grant", "revoke", "reset"):
        raise SimError(_PRIVACY_USAGE, 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    action, service = args[1], args[2]
    bid = args[3] if len(args) > 3 else None
    if service != "all" and service not in PRIVACY_SERVICES:
        raise SimError(f"Unknown service: {service}\n{_PRIVACY_USAGE}", 64)
    if bid is None and action != "reset":
        raise SimError(f"A bundle identifier is required to {action} access.\n{_PRIVACY_USAGE}", 64)
    services = PRIVACY_SERVICES if service == "all" else (service,)
    tcc: dict[str, dict[str, str]] = dev.d.setdefault("privacy", {})
    for app in [bid] if bid is not None else list(tcc):
        rights = tcc.setdefault(app, {})
        for s in services:
            if action == "reset":
                rights.pop(s, None)
            else:
                rights[s] = "granted" if action == "grant" else "denied"
        if not rights:
            del tcc[app]
        if action != "grant" and dev.springboard.is_running(app):
            dev.springboard.terminate(app)
    return 0


#: What the Photos library (and Contacts for .vcf) take from ``addmedia`` by file extension.
_MEDIA_KINDS = {
    **dict.fromkeys(("jpg", "jpeg", "png", "heic", "gif", "tif", "tiff", "bmp"), "photo"),
    **dict.fromkeys(("mov", "mp4", "m4v"), "video"),
    "vcf": "contact",
}


def cmd_addmedia(world: World, args: list[str], io: Io) -> int:
    """``addmedia <device> <path>…``: photos and videos into the library, ``.vcf`` into Contacts."""
    if len(args) < 2:
        raise SimError("Usage: simctl addmedia <device> <path> [... <path>]", 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    added: list[dict[str, str]] = []
    for raw in args[1:]:
        path = Path(raw).expanduser().resolve()
        if not path.is_file():
            raise sim_error(
                "NSPOSIXErrorDomain", 2,
                f"Simulator device failed to add media.\nlstat of {raw} failed: No such file or directory", 2,
            )
        kind = _MEDIA_KINDS.get(path.suffix.lower().lstrip("."))
        if kind is None:  # [U] text
            raise sim_error(
                "com.apple.CoreSimulator.SimError", 405,
                f"Simulator device failed to add media.\nUnsupported media type: {path.name}", 149,
            )
        added.append({"name": path.name, "kind": kind})
    dev.d.setdefault("media", []).extend(added)
    return 0


def cmd_pbcopy(world: World, args: list[str], io: Io, stdin: TextIO | None = None) -> int:
    """``pbcopy [-v] <device>``: standard input onto the device's pasteboard (the one WDA's
    setPasteboard/getPasteboard use)."""
    refs = [a for a in args if a != "-v"]
    if len(refs) != 1:
        raise SimError("Usage: simctl pbcopy [-v] <device>", 64)
    dev = world.find(refs[0])
    dev.require_booted("lookup")
    dev.d["pasteboard"] = (stdin or sys.stdin).read()
    return 0


def cmd_pbpaste(world: World, args: list[str], io: Io) -> int:
    """``pbpaste [-v] <device>``: the pasteboard's text as it is, no newline added."""
    refs = [a for a in args if a != "-v"]
    if len(refs) != 1:
        raise SimError("Usage: simctl pbpaste [-v] <device>", 64)
    dev = world.find(refs[0])
    dev.require_booted("lookup")
    io.o.write(str(dev.d.get("pasteboard", "")))
    io.o.flush()
    return 0


_LOCATION_USAGE = (
    "Usage: simctl location <device> <action> [arguments]\n\n"
    "    set <latitude>,<longitude>\n        Set the device's simulated location.\n"
    "    clear\n        Stop any running scenario and clear the simulated location."
)


def cmd_location(world: World, args: list[str], io: Io) -> int:
    """``location <device> set <lat>,<lon> | clear`` (Xcode 14+): the simulated location."""
    if len(args) < 2 or args[1] not in ("set", "clear"):
        raise SimError(_LOCATION_USAGE, 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    if args[1] == "clear":
        dev.d["location"] = None
        return 0
    try:
        lat, lon = (float(p) for p in args[2].split(","))
    except (IndexError, ValueError):
        raise SimError(f"Invalid coordinate: {' '.join(args[2:])}\n{_LOCATION_USAGE}", 64) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SimError(f"Invalid coordinate: {args[2]}\n{_LOCATION_USAGE}", 64)
    dev.d["location"] = [lat, lon]
    return 0


def cmd_keychain(world: World, args: list[str], io: Io) -> int:
    """``keychain <device> add-root-cert <path> | add-cert <path> | reset`` (node-simctl's calls)."""
    usage = "Usage: simctl keychain <device> [add-root-cert <path>] [add-cert <path>] [reset]"
    if len(args) < 2 or args[1] not in ("add-root-cert", "add-cert", "reset"):
        raise SimError(usage, 64)
    dev = world.find(args[0])
    dev.require_booted("lookup")
    certs: list[dict[str, str]] = dev.d.setdefault("keychain", [])
    if args[1] == "reset":
        certs.clear()
        return 0
    if len(args) != 3:
        raise SimError(usage, 64)
    path = Path(args[2]).expanduser()
    if not path.is_file():
        raise sim_error("NSPOSIXErrorDomain", 2, f"Failed to read certificate at {args[2]}", 2)  # [U] text
    certs.append({"name": path.name, "trust": "root" if args[1] == "add-root-cert" else "none"})
    return 0
