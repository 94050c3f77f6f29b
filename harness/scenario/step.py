"""What every step model is: :class:`StepBase`, and the union that picks a step's model by name.

Each action's step model lives in the action's home (``harness/actions/<family>.py``), next to
the action that runs it; ``harness.actions.registry`` lists them, and ``models.py`` builds the
scenario's step lists from that registry with :func:`step_union`.

People write steps as one-key mappings (``- doze: deep``) or bare words (``- stop_app``);
``StepBase._unwrap`` turns those compact forms into the model's fields, so the models stay the
only place that knows what is valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Union

from pydantic import Discriminator, Field, PrivateAttr, Tag, model_validator

from harness.scenario.fields import StrictModel
from harness.scenario.yamlmarks import Span


class StepBase(StrictModel):
    """Common to every step: ``kind`` names the action; ``location`` is where it was written."""

    kind: ClassVar[str]
    primary: ClassVar[str | None] = None
    """The field a compact scalar fills (``doze: deep`` → ``mode``)."""

    label: str | None = Field(None, description="a name for this step in reports")
    _location: Span | None = PrivateAttr(None)
    _field_spans: dict[str, Span] = PrivateAttr(default_factory=dict)

    @property
    def location(self) -> Span | None:
        """``file, line, col`` of the step in its source (an included file for included steps)."""
        return self._location

    def field_location(self, name: str) -> Span | None:
        """Where one parameter was written (falls back to the step)."""
        return self._field_spans.get(name, self._location)

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if isinstance(data, str) and data == cls.kind:
            return cls._normalize({})
        if isinstance(data, dict) and len(data) == 1 and cls.kind in data:
            body = data[cls.kind]
            if body is None:
                return cls._normalize({})
            if isinstance(body, dict):
                return cls._normalize(body)
            return cls._normalize(cls._compact(body))
        return cls._normalize(data)

    @classmethod
    def _normalize(cls, params: Any) -> Any:
        """Last touch on the parameters before field validation (subclasses adjust shapes)."""
        return params

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if cls.primary is None:
            raise ValueError(f"'{cls.kind}' takes no value; write '- {cls.kind}' or a mapping of options")
        return {cls.primary: value}

    @classmethod
    def compact_schema(cls, properties: dict[str, Any]) -> dict[str, Any] | None:
        """JSON Schema of the compact form ``- kind: value`` (None: there is none).

        ``properties`` are the model's own field schemas; by default the compact value is the
        ``primary`` field's. A model whose ``_compact`` reads something else says so here.
        """
        if cls.primary is None or cls.primary not in properties:
            return None
        return {k: v for k, v in properties[cls.primary].items() if k not in ("default", "title")}


def step_kind(value: Any) -> str | None:
    """The action a raw step names: the bare word or the single key (``None`` when unclear)."""
    if isinstance(value, StepBase):
        return value.kind
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if isinstance(key, str) else None
    return None


def step_union(models: Iterable[type[StepBase]]) -> Any:
    """The annotation of one step: the model its name picks, or the ``step`` error."""
    return Annotated[
        Union[tuple(Annotated[m, Tag(m.kind)] for m in models)],  # type: ignore[misc]  # noqa: UP007
        Discriminator(step_kind, custom_error_type="step", custom_error_message="not a known step"),
    ]
