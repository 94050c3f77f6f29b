"""The unified log of the virtual iPhone as ``log stream|show`` prints it (research ios.md §2).

A record is stored once (``log.ndjson`` in the sim home, compact keys) and rendered per
``--style``: ``ndjson`` (one object a line, keys in a scrambled but repeatable order, ``/``
escaped as ``\\/``, no ``process`` key), ``json`` (the same objects pretty-printed with ``" : "``
inside one ``[{…},{…}]`` array), ``syslog``, ``compact`` and ``default``.
"""

from __future__ import annotations

import json
import os
import random
from datetime import datetime, timezone, tzinfo
from typing import Any

#: messageType names and the level each needs to be shown.
LEVELS = {"Default": 0, "Info": 1, "Debug": 2, "Error": 0, "Fault": 0}
_TYPE_NUM = {"Default": 0, "Info": 1, "Debug": 2, "Error": 16, "Fault": 17}
_COMPACT_TY = {"Default": "Df", "Info": "I ", "Debug": "Db", "Error": "E ", "Fault": "F "}

BOOT_UUID_KEY = "boot"


def _zone() -> tzinfo:
    name = os.environ.get("TZ", "")
    if name and name not in ("UTC", "UTC0", "GMT"):
        try:
            from zoneinfo import ZoneInfo

            return ZoneInfo(name.lstrip(":"))
        except Exception:
            return timezone.utc
    return timezone.utc


def _local(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, tz=_zone())


def timestamp_text(ms: float) -> str:
    """``2026-01-05 09:00:00.000000+0000`` — the ``timestamp`` field and the syslog column."""
    dt = _local(ms)
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f") + dt.strftime("%z")


def _compact_time(ms: float) -> str:
    dt = _local(ms)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def process_name(rec: dict[str, Any]) -> str:
    return str(rec.get("path", "")).rsplit("/", 1)[-1]


def shown_at_level(rec: dict[str, Any], level: int) -> bool:
    return LEVELS.get(rec.get("type", "Default"), 0) <= level


# ------------------------------------------------------------------- rendering
def to_log_object(rec: dict[str, Any]) -> dict[str, Any]:
    """The fields ``log`` prints for one event (what ``--style json/ndjson`` shows)."""
    ms = float(rec["t"])
    sender = rec.get("sender") or rec["path"]
    uuid = rec.get("uuid", "00000000-0000-0000-0000-000000000000")
    return {
        "traceID": int(rec.get("seq", 0)) * 4096 + 0x2B0C4,
        "eventMessage": rec["msg"],
        "eventType": rec.get("event", "logEvent"),
        "source": None,
        "formatString": rec.get("fmt", rec["msg"]),
        "activityIdentifier": int(rec.get("activity", 0)),
        "subsystem": rec.get("subsystem", ""),
        "category": rec.get("category", ""),
        "threadID": int(rec.get("tid", 0)),
        "senderImageUUID": uuid,
        "backtrace": {"frames": [{"imageOffset": 20_000 + int(rec.get("seq", 0)) % 9000, "imageUUID": uuid}]},
        "bootUUID": rec.get("boot", ""),
        "processImagePath": rec["path"],
        "senderImagePath": sender,
        "timestamp": timestamp_text(ms),
        # mach_absolute_time: 24 MHz ticks since boot on Apple silicon
        "machTimestamp": int(float(rec.get("up", 0.0)) * 24_000) + 1_000_000_000,
        "messageType": rec.get("type", "Default"),
        "processImageUUID": uuid,
        "processID": int(rec.get("pid", 0)),
        "senderProgramCounter": 20_000 + int(rec.get("seq", 0)) % 9000,
        "parentActivityIdentifier": 0,
        "timezoneName": "",
        "userID": 501,
    }


_ORDERS: list[list[str]] = []


def _shuffled(obj: dict[str, Any], seed: int) -> dict[str, Any]:
    """The object with its keys in one of 16 fixed scrambled orders (the real order is arbitrary)."""
    if not _ORDERS:
        keys = list(obj)
        for n in range(16):
            order = list(keys)
            random.Random(n).shuffle(order)
            _ORDERS.append(order)
    order = _ORDERS[seed % 16]
    if len(order) != len(obj):
        return obj
    return {k: obj[k] for k in order}


def _escape_slashes(text: str) -> str:
    return text.replace("/", "\\/")


def ndjson_line(rec: dict[str, Any]) -> str:
    obj = _shuffled(to_log_object(rec), int(rec.get("seq", 0)))
    return _escape_slashes(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def json_object(rec: dict[str, Any]) -> str:
    obj = _shuffled(to_log_object(rec), int(rec.get("seq", 0)))
    return _escape_slashes(json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", " : ")))


def _tag(rec: dict[str, Any]) -> str:
    sub = rec.get("subsystem", "")
    if sub:
        return f"[{sub}:{rec.get('category', '')}] "
    return ""


def syslog_line(rec: dict[str, Any]) -> str:
    sender = str(rec.get("sender") or rec["path"]).rsplit("/", 1)[-1]
    return (
        f"{timestamp_text(float(rec['t']))}  localhost {process_name(rec)}[{rec.get('pid', 0)}]: "
        f"({sender}) {_tag(rec)}{rec['msg']}"
    )


def compact_line(rec: dict[str, Any]) -> str:
    ty = _COMPACT_TY.get(rec.get("type", "Default"), "Df")
    where = _tag(rec) or f"({str(rec.get('sender') or rec['path']).rsplit('/', 1)[-1]}) "
    return (
        f"{_compact_time(float(rec['t']))} {ty} {process_name(rec)}[{rec.get('pid', 0)}:"
        f"{int(rec.get('tid', 0)):x}] {where}{rec['msg']}"
    )


def default_line(rec: dict[str, Any]) -> str:
    return (
        f"{timestamp_text(float(rec['t']))} {hex(int(rec.get('tid', 0))):<10} "
        f"{rec.get('type', 'Default'):<11} {hex(int(rec.get('activity', 0))):<20} "
        f"{int(rec.get('pid', 0)):<6} {0:<4} {process_name(rec)}: {_tag(rec)}{rec['msg']}"
    )


HEADERS = {
    "syslog": "Timestamp                       (process)[PID]",
    "compact": "Timestamp               Ty Process[PID:TID]",
    "default": "Timestamp                       Thread     Type        Activity             PID    TTL  ",
}

RENDER = {"syslog": syslog_line, "compact": compact_line, "default": default_line}


def field_value(rec: dict[str, Any], key: str) -> Any:
    """The value a predicate key reads from a stored record (None for keys the log does not have)."""
    if key == "process":
        return process_name(rec)
    if key == "processImagePath":
        return rec["path"]
    if key == "senderImagePath":
        return rec.get("sender") or rec["path"]
    if key in ("eventMessage", "composedMessage"):
        return rec["msg"]
    if key == "formatString":
        return rec.get("fmt", rec["msg"])
    if key == "subsystem":
        return rec.get("subsystem", "")
    if key == "category":
        return rec.get("category", "")
    if key == "processID" or key == "processIdentifier":
        return int(rec.get("pid", 0))
    if key == "threadID" or key == "threadIdentifier":
        return int(rec.get("tid", 0))
    if key == "messageType":
        return rec.get("type", "Default")
    if key == "eventType":
        return rec.get("event", "logEvent")
    return None


def message_type_number(name: str) -> int:
    return _TYPE_NUM.get(name, 0)
