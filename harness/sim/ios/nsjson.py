"""JSON as simctl prints it (Foundation's NSJSONSerialization, pretty-printed) and its dates.

research ios.md §1.1: two-space indent, ``" : "`` between key and value, ``\\/`` for ``/``.
"""

from __future__ import annotations

import json
import time

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any


def sim_json(obj: Any, depth: int = 0) -> str:
    """simctl's NSJSONSerialization style: two-space indent, ``" : "``, escaped slashes, and an
    empty array or object opened and closed on lines of their own with a blank line between."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{\n\n" + pad + "}"
        items = [f"{inner}{_scalar(str(k))} : {sim_json(v, depth + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if not obj:
            return "[\n\n" + pad + "]"
        return "[\n" + ",\n".join(inner + sim_json(v, depth + 1) for v in obj) + "\n" + pad + "]"
    return _scalar(obj)


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).replace("/", "\\/")


def iso_date(ms: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000.0))
