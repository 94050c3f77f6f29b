"""The value types scenario fields are written in: durations, on/off, comparisons, scalars.

Step models (each in its action's home, ``harness/actions/``) and the scenario's own models
(``models.py``) both build on these, so ``30s`` or ``">= 3"`` read the same in every field.
Each type carries its JSON Schema, so an editor shows the form bgtest accepts.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)

from harness.durations import DurationError, parse_duration_ms
from harness.scenario.values import Comparison


class StrictModel(BaseModel):
    """A mapping of the language: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Scalar = str | int | float | bool


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("expected a duration such as 500ms, 30s, 15m, 2h, 1d")
    try:
        return parse_duration_ms(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None


_DURATION_RE = r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)\s*)+$|^\s*\d+(\.\d+)?\s*$"
Duration = Annotated[
    int,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": _DURATION_RE}, {"type": "number", "minimum": 0}],
            "description": "a duration: 500ms, 30s, 15m, 2h, 1d (a bare number is seconds)",
        }
    ),
]
"""A duration, written ``500ms``/``30s``/``15m``/``2h``/``1d``, held as milliseconds."""

_ON = {"on": True, "off": False, "true": True, "false": False, "enabled": True, "disabled": False}


def _onoff(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _ON:
        return _ON[value.strip().lower()]
    raise ValueError("expected on or off")


OnOff = Annotated[
    bool, BeforeValidator(_onoff), WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": ["on", "off"]}]})
]


def one_or_many(value: Any) -> Any:
    """``platforms: ios`` means ``[ios]``: a single word where a list is expected."""
    return [value] if isinstance(value, str) else value


def cmp_schema(description: str, numbers: bool, pattern: str) -> dict[str, Any]:
    """JSON Schema of a comparison: the text form (``">= 3"``), plus a bare count if ``numbers``."""
    alts: list[dict[str, Any]] = [{"type": "string", "pattern": pattern}]
    if numbers:
        alts.insert(0, {"type": "integer", "minimum": 0})
    return {"anyOf": alts, "description": description}


OP_RE = r"^\s*(>=|<=|==|!=|>|<|=)?\s*"
"""The optional operator a comparison's text starts with (a pattern prefix)."""

cmp_serializer = PlainSerializer(lambda c: c.text or str(c), return_type=str)
"""A comparison is written back as the user wrote it."""

Count = Annotated[
    Comparison,
    PlainValidator(Comparison.count),
    cmp_serializer,
    WithJsonSchema(cmp_schema('how many matches: 1, "0", ">= 3"', True, OP_RE + r"[0-9]+\s*$")),
]
Rate = Annotated[
    Comparison,
    PlainValidator(Comparison.rate),
    cmp_serializer,
    WithJsonSchema(
        cmp_schema(
            'share of matched tasks that succeeded: ">= 95%"', False, OP_RE + r"[0-9]+(\.[0-9]+)?\s*%\s*$"
        )
    ),
]
Latency = Annotated[
    Comparison,
    PlainValidator(Comparison.latency),
    cmp_serializer,
    WithJsonSchema(
        cmp_schema(
            'enqueued → succeeded bound: "<= 30s"', False, OP_RE + r"([0-9]+(\.[0-9]+)?(ms|s|m|h|d)?)+\s*$"
        )
    ),
]
