"""Durations as people write them: ``500ms``, ``30s``, ``15m``, ``6h``, ``1d``, ``1h30m``.

One parser for the scenario language, the CLI and the virtual devices' vendor commands, so a
duration means the same thing everywhere.
"""

from __future__ import annotations

import re

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")


class DurationError(ValueError):
    """A duration that does not follow the ``<number><unit>`` form."""


def parse_duration_ms(text: str | int | float) -> int:
    """Parse ``text`` into whole milliseconds.

    A bare number is taken as seconds (what people mean by ``wait: 30``). Raises
    :class:`DurationError` with the accepted forms when the text is not a duration.
    """
    if isinstance(text, bool):
        raise DurationError(f"not a duration: {text!r}; write e.g. 500ms, 30s, 15m, 6h, 1d")
    if isinstance(text, (int, float)):
        if text < 0:
            raise DurationError(f"a duration cannot be negative: {text}")
        return int(round(text * 1000))
    s = str(text).strip().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return int(round(float(s) * 1000))
    if not s or not _WHOLE.match(s):
        raise DurationError(
            f"not a duration: {text!r}; write a number and a unit: 500ms, 30s, 15m, 6h, 1d"
        )
    total = 0.0
    for number, unit in _PART.findall(s):
        total += float(number) * _UNIT_MS[unit]
    return int(round(total))


def format_duration_ms(ms: int) -> str:
    """Render ``ms`` compactly (``1h30m``, ``250ms``) for messages and reports."""
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    if ms or not parts:
        parts.append(f"{ms}ms")
    return sign + "".join(parts)
