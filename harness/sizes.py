"""Memory sizes as people write them: ``512KB``, ``45MB``, ``1.5GB``; kept as whole kibibytes.

One parser for the app-model format (a worker's memory), the device profiles and the metric
expectations of the scenario language, so ``50MB`` means the same number everywhere. Units are
binary, as Android's own tools print them (``dumpsys meminfo`` counts in kB = 1024 bytes and
``procstats`` prints ``45MB`` for 45 × 1024 kB); a bare number is megabytes.
"""

from __future__ import annotations

import math
import re

MAX_SIZE_KB = 64 * 1024 * 1024
"""The largest size accepted (64 GB): more than any phone has, so a bigger one is a typo."""

_UNIT_KB = {"kb": 1, "k": 1, "mb": 1024, "m": 1024, "gb": 1024 * 1024, "g": 1024 * 1024}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(kb|k|mb|m|gb|g)?$", re.IGNORECASE)


class SizeError(ValueError):
    """A size that does not follow the ``<number><unit>`` form."""


def parse_size_kb(text: str | int | float) -> int:
    """Parse ``text`` into whole kibibytes (``"45MB"`` → 46080); a bare number is megabytes."""
    if isinstance(text, bool):
        raise SizeError(f"not a size: {text!r}; write e.g. 512KB, 45MB, 1.5GB")
    if isinstance(text, (int, float)):
        value, unit = float(text), "mb"
    else:
        s = str(text).strip()
        m = _SIZE.match(s) if len(s) <= 32 else None
        if m is None:
            raise SizeError(f"not a size: {text!r}; write a number and a unit: 512KB, 45MB, 1.5GB")
        value, unit = float(m.group(1)), (m.group(2) or "mb").lower()
    if math.isnan(value) or value < 0:
        raise SizeError(f"not a size: {text!r}; a size is a positive number with KB, MB or GB")
    kb = value * _UNIT_KB[unit]
    if not math.isfinite(kb) or kb > MAX_SIZE_KB:
        raise SizeError(f"size too large: {text!r} (at most 64GB)")
    return round(kb)


def format_size_kb(kb: float) -> str:
    """``46080`` → ``45MB``; ``1536`` → ``1.5MB``: the way procstats prints a size (DebugUtils)."""
    if kb >= 1024 * 1024:
        value, unit = kb / (1024 * 1024), "GB"
    elif kb >= 1024:
        value, unit = kb / 1024, "MB"
    else:
        value, unit = kb, "KB"
    return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
