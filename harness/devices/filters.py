"""Device filters: which of a farm's devices a run may lease, by what the devices are.

``--device-filter 'sdk>=31'``, ``model=Pixel*``, ``profile=android-go``, ``virtual=no`` —
one condition ``FIELD OP VALUE`` per option (or several joined by commas); a device must match
every one. Parsed before any device is touched, so a typo is a usage error (exit 2) that names
the filter, never a run that quietly used no device or every device.

Fields and what they are read from (one ``getprop`` per device; AOSP's property names):

- ``serial``  adb's name for it; ``=`` / ``!=`` with a glob
- ``model``   ``ro.product.model`` ("Pixel 8"); a glob, case-insensitive
- ``sdk``     ``ro.build.version.sdk``; ``= != < <= > >=`` with a number
- ``profile`` bgtest's device profile (harness/profiles.py); a glob
- ``virtual`` ``ro.bgtest.virtual`` (bgtest's virtual devices); ``yes`` / ``no``
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from harness.errors import BgtestError

FIELDS = ("serial", "model", "sdk", "profile", "virtual")
_NUMERIC_OPS: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_CONDITION = re.compile(r"^\s*([A-Za-z_]+)\s*(==|!=|<=|>=|=|<|>)\s*(.*?)\s*$")
_YES, _NO = {"yes", "true", "1"}, {"no", "false", "0"}
EXAMPLE = "sdk>=31, model=Pixel*, profile=android-go, virtual=no"


class FilterError(BgtestError):
    """A filter that cannot be read; the message starts with the filter as given."""

    def __init__(self, text: str, why: str) -> None:
        super().__init__(f"--device-filter {text!r}: {why}", hint=f"write FIELD OP VALUE, e.g. {EXAMPLE}")


@dataclass(frozen=True)
class Condition:
    """One ``FIELD OP VALUE``; ``text`` is how the user wrote it (for messages)."""

    field: str
    op: str
    value: str
    text: str

    def matches(self, facts: Mapping[str, str]) -> bool:
        have = facts.get(self.field, "")
        if self.field == "sdk":
            return have.isdigit() and _NUMERIC_OPS[self.op](int(have), int(self.value))
        if self.field == "virtual":
            found = (have in _YES) == (self.value in _YES)
        elif self.field == "serial":
            found = fnmatch.fnmatchcase(have, self.value)
        else:  # model, profile: "pixel*" finds "Pixel 8"
            found = fnmatch.fnmatchcase(have.lower(), self.value.lower())
        return found if self.op == "=" else not found


def parse_filters(texts: Iterable[str]) -> list[Condition]:
    """Every condition of every ``--device-filter`` (a :class:`FilterError` names a bad one)."""
    conditions = []
    for text in texts:
        parts = [part for part in text.split(",") if part.strip()]
        if not parts:
            raise FilterError(text, "is empty")
        conditions += [_parse(part.strip()) for part in parts]
    return conditions


def _parse(text: str) -> Condition:
    found = _CONDITION.match(text)
    if found is None:
        raise FilterError(text, "is not FIELD OP VALUE (OP: = != < <= > >=)")
    field, op, value = found.group(1).lower(), found.group(2), found.group(3).strip("'\"")
    op = "=" if op == "==" else op
    if field not in FIELDS:
        raise FilterError(text, f"unknown field {field!r}; the fields are {', '.join(FIELDS)}")
    if not value:
        raise FilterError(text, f"no value after {op!r}")
    if field == "sdk":
        if not value.isdigit():
            raise FilterError(text, f"sdk compares API levels (numbers such as 31), not {value!r}")
    elif op not in ("=", "!="):
        raise FilterError(text, f"{field} takes = or != (only sdk is compared with {op})")
    if field == "virtual" and value.lower() not in _YES | _NO:
        raise FilterError(text, f"virtual is yes or no, not {value!r}")
    return Condition(field, op, value.lower() if field == "virtual" else value, text)


def failed(conditions: list[Condition], facts: Mapping[str, str]) -> list[Condition]:
    """The conditions ``facts`` fail (empty: the device is in)."""
    return [c for c in conditions if not c.matches(facts)]


def describe(facts: Mapping[str, str]) -> str:
    """A device as the filters see it, for 'matches no device' messages."""
    return " ".join(f"{name}={facts.get(name) or '-'}" for name in FIELDS if name != "serial")
