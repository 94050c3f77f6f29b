"""What the device's own log says about its state over time: screen, Doze, battery, saver, the app's process.

The timeline report draws these as lanes, like Battery Historian does from a bugreport. Only
lines the platform really prints are read (the Android formats are AOSP's; the event-log tags
come from ``services/core/java/com/android/server/EventLogTags.logtags`` and
``DeviceIdleController``), so a phone and the virtual device draw the same picture. Lines
that are not about state are ignored; nothing is guessed between two lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .record import LogRecord

# DeviceIdleController.STATE_* and LIGHT_STATE_* as the event log prints them (numbers).
DEEP_STATES = {
    0: "ACTIVE",
    1: "INACTIVE",
    2: "IDLE_PENDING",
    3: "SENSING",
    4: "LOCATING",
    5: "IDLE",
    6: "IDLE_MAINTENANCE",
    7: "QUICK_DOZE_DELAY",
}
LIGHT_STATES = {
    0: "ACTIVE",
    1: "INACTIVE",
    3: "PRE_IDLE",
    4: "IDLE",
    5: "WAITING_FOR_NETWORK",
    6: "IDLE_MAINTENANCE",
    7: "OVERRIDE",
}
# BatteryManager.BATTERY_PLUGGED_* bits in the battery_status event.
_PLUGGED = {0: "unplugged", 1: "AC", 2: "USB", 4: "wireless", 8: "dock"}

_EVENT_ARGS = re.compile(r"^\[(.*)\]$")
_START_PROC = re.compile(r"^Start proc (\d+):([^/\s]+)/")
_KILLING = re.compile(r"^Killing (\d+):([^/\s]+)/\S+ \(adj -?\d+\): (.*)$")
_FORCE_STOP = re.compile(r"^Force stopping (\S+) ")
_DIED = re.compile(r"^Process (\S+) \(pid (\d+)\) has died")
_GONE = ("killed", "stopped")
_SAVER = re.compile(r"^Battery saver (enabled|disabled|turned on|turned off)\b")


@dataclass(frozen=True, slots=True)
class StateChange:
    """From ``time_ms`` on, ``lane`` had ``value``, as ``line`` (the device's own log line) says."""

    time_ms: int
    lane: str  # screen | doze_deep | doze_light | battery_level | plugged | saver | process
    value: str
    line: str


def _args(message: str) -> list[str]:
    found = _EVENT_ARGS.match(message.strip())
    return found.group(1).split(",") if found else []


def _is_app(process: str, package: str | None) -> bool:
    """The app's own processes: the package, or one of its ``package:name`` processes."""
    return package is not None and (process == package or process.startswith(package + ":"))


def _change(rec: LogRecord, package: str | None) -> list[tuple[str, str]]:
    """The (lane, value) pairs one record sets; most records set none."""
    tag, msg = rec.tag, rec.message
    if tag in ("device_idle", "device_idle_light"):
        args = _args(msg)
        if args and args[0].strip().isdigit():
            table = DEEP_STATES if tag == "device_idle" else LIGHT_STATES
            number = int(args[0])
            lane = "doze_deep" if tag == "device_idle" else "doze_light"
            return [(lane, table.get(number, str(number)))]
    elif tag == "battery_level":
        args = _args(msg)  # [level,voltage,temperature]
        if args and args[0].strip().isdigit():
            return [("battery_level", args[0].strip())]
    elif tag == "battery_status":
        args = _args(msg)  # [status,health,present,plugged,technology]
        if len(args) >= 4 and args[3].strip().isdigit():
            return [("plugged", _PLUGGED.get(int(args[3]), "plugged"))]
    elif tag == "battery_saver_mode":
        args = _args(msg)  # [fullPrev,adaptivePrev,fullNow,adaptiveNow,interactive,features,reason]
        if len(args) >= 3 and args[2].strip() in ("0", "1"):
            return [("saver", "on" if args[2].strip() == "1" else "off")]
    elif tag == "BatterySaverController":
        found = _SAVER.match(msg)
        if found:
            return [("saver", "on" if found.group(1) in ("enabled", "turned on") else "off")]
    elif tag == "PowerManagerService":
        if msg.startswith("Going to sleep"):
            return [("screen", "off")]
        if msg.startswith("Waking up"):
            return [("screen", "on")]
    elif tag == "screen_toggled":
        value = msg.strip()
        if value in ("0", "1"):
            return [("screen", "on" if value == "1" else "off")]
    elif tag == "ActivityManager":
        return _process_change(msg, package)
    return []


def _process_change(msg: str, package: str | None) -> list[tuple[str, str]]:
    found = _START_PROC.match(msg)
    if found and _is_app(found.group(2), package):
        return [("process", "running")]
    found = _FORCE_STOP.match(msg)
    if found and found.group(1) == package:
        return [("process", "stopped")]
    found = _KILLING.match(msg)
    if found and _is_app(found.group(2), package):
        # a force-stop kills too; its "Force stopping" line came first and says more
        return [] if found.group(3).startswith("stop ") else [("process", "killed")]
    found = _DIED.match(msg)
    if found and _is_app(found.group(1), package):
        return [("process", "died")]
    return []


def state_changes(records: Iterable[LogRecord], package: str | None = None) -> list[StateChange]:
    """Every state change the log shows, in order; repeats of the current value are dropped."""
    current: dict[str, str] = {}
    out: list[StateChange] = []
    for rec in records:
        for lane, value in _change(rec, package):
            if current.get(lane) == value or (value == "died" and current.get(lane) in _GONE):
                continue  # "has died" after a kill or force-stop says nothing new
            current[lane] = value
            out.append(StateChange(rec.time_ms, lane, value, rec.short()))
    return out
