"""The screen's verbs: ``io screenshot``, ``status_bar`` overrides and ``ui appearance``."""

from __future__ import annotations

import sys

from .facts import SimError, invalid_argument, sim_error

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

    from .device import World
    from .simctl import Io


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


def status_bar_list(sb: dict[str, Any]) -> list[str]:
    """The lines ``status_bar <device> list`` prints for these overrides (research ios.md §1.4:
    with none, only the two heading lines)."""
    lines = ["Current Status Bar Overrides:", "============================="]
    if "time" in sb:
        lines.append(f"Time: {sb['time']}")
    if "dataNetwork" in sb:
        lines.append(f"DataNetworkType: {sb['dataNetwork']}")
    if "wifiMode" in sb or "wifiBars" in sb:
        lines.append(f"WiFi Mode: {sb.get('wifiMode', 2)}, WiFi Bars: {sb.get('wifiBars', 3)}")
    if "cellularMode" in sb or "cellularBars" in sb:
        lines.append(f"Cell Mode: {sb.get('cellularMode', 3)}, Cell Bars: {sb.get('cellularBars', 4)}")
    if "operatorName" in sb:
        lines.append(f"Operator Name: {sb['operatorName']}")
    if "batteryState" in sb or "batteryLevel" in sb:
        state = sb.get("batteryState", 2)
        lines.append(
            f"Battery State: {state}, Battery Level: {sb.get('batteryLevel', 100)}, "
            f"Not Charging: {int(state == 0)}"
        )
    return lines


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
        for line in status_bar_list(sb):
            io.out(line)
        return 0
    rest = args[2:]
    if not rest or len(rest) % 2:
        raise invalid_argument()
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
            raise invalid_argument() from None
    return 0


def cmd_ui(world: World, args: list[str], io: Io) -> int:
    if len(args) < 2 or args[1] != "appearance":
        raise SimError("Usage: simctl ui <device> <option> [<arguments>]", 64)
    dev = world.find(args[0])
    if len(args) == 2:
        io.out(dev.d["appearance"] if dev.booted else "unknown")
        return 0
    if args[2] not in ("light", "dark"):
        raise invalid_argument()
    dev.require_booted("lookup")
    dev.d["appearance"] = args[2]
    return 0
