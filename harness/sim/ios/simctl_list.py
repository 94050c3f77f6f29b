"""``simctl list``: devices, device types, runtimes and pairs, as text or as simctl's JSON."""

from __future__ import annotations

from .facts import DEVICE_TYPE_PROFILES, RUNTIME_ID, RUNTIMES, SimError
from .nsjson import iso_date, sim_json

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

    from .device import Device, World
    from .simctl import Io


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
