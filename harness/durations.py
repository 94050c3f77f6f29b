"""Durations as people write them: ``500ms``, ``30s``, ``15m``, ``6h``, ``1d``, ``1h30m``.

One parser for the scenario language, the CLI and the virtual devices' vendor commands, so a
duration means the same thing everywhere.
"""

from __future__ import annotations

import math
import re

MAX_DURATION_MS = 366 * 86_400_000
"""The longest duration any part of bgtest accepts (a year and a day): a longer one is a typo
or an attack, and its arithmetic (``1e400``, 5000 digits) would overflow or run for ever."""
_MAX_TEXT = 64
"""Longest duration text parsed: ``1d2h3m4s5ms`` is 11 characters; 5000 digits are refused unread."""

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
        if isinstance(text, float) and math.isnan(text):
            raise DurationError("not a duration: .nan; write e.g. 500ms, 30s, 15m, 6h, 1d")
        if text < 0:
            raise DurationError(f"a duration cannot be negative: {text}")
        if isinstance(text, int) and text > MAX_DURATION_MS:
            return _bounded(math.inf, text)  # float() of a huge int overflows
        return _bounded(float(text) * 1000, text)
    s = str(text).strip().replace(" ", "")
    if len(s) > _MAX_TEXT:
        raise DurationError(f"not a duration: {len(s)} characters long; write e.g. 30s, 15m, 6h, 1d")
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return _bounded(float(s) * 1000, text)
    if not s or not _WHOLE.match(s):
        raise DurationError(
            f"not a duration: {text!r}; write a number and a unit: 500ms, 30s, 15m, 6h, 1d"
        )
    total = 0.0
    for number, unit in _PART.findall(s):
        total += float(number) * _UNIT_MS[unit]
    return _bounded(total, text)


def _bounded(ms: float, written: object) -> int:
    """Whole milliseconds, or a :class:`DurationError` for infinity and anything past the cap."""
    if math.isfinite(ms) and ms <= MAX_DURATION_MS:
        return int(round(ms))
    if isinstance(written, float) and math.isinf(written):
        shown = "infinity"
    elif isinstance(written, int) and written > 10**20:
        shown = "a number that large"  # repr() of a 5000-digit int itself raises
    else:
        shown = repr(written)
    raise DurationError(
        f"duration too long: {shown}; the longest bgtest accepts is {format_duration_ms(MAX_DURATION_MS)}"
    )


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
