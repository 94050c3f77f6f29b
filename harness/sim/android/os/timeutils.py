"""``android.util.TimeUtils.formatDuration``: how system dumps print durations.

One implementation for every dump that prints them (deviceidle, jobscheduler, alarm …), so a
``+1h29m59s687ms`` reads the same everywhere, as it does on a phone.
"""

from __future__ import annotations


def format_duration(ms: int | float) -> str:
    """``+1h29m59s687ms``, ``-51m0s3ms``, ``0``: leading units omitted, the rest always shown."""
    ms = int(ms)
    if ms == 0:
        return "0"
    sign = "+" if ms > 0 else "-"
    rest = abs(ms)
    days, rest = divmod(rest, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    out = [sign]
    started = False
    for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")):
        if value or started:
            out.append(f"{value}{unit}")
            started = True
    out.append(f"{millis}ms")
    return "".join(out)
