"""Connectivity: wifi, mobile data, airplane mode (``offline`` / ``online`` / ``airplane``)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import model_validator

from harness.actions.base import Action, RunContext
from harness.devices.base import Facet
from harness.scenario.fields import OnOff
from harness.scenario.step import StepBase

# --------------------------------------------------------------------------- step models

PRESETS = {
    "offline": {"wifi": False, "data": False},
    "online": {"wifi": True, "data": True, "airplane": False},
    "airplane": {"airplane": True},
}
"""``network: offline`` and its siblings: the switches each word sets."""


class Network(StepBase):
    kind: ClassVar[str] = "network"
    primary: ClassVar[str | None] = "preset"
    wifi: OnOff | None = None
    data: OnOff | None = None
    airplane: OnOff | None = None

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str) and value in PRESETS:
            return dict(PRESETS[value])
        raise ValueError(
            f"not a network preset: {value!r}; write offline, online, airplane, "
            "or a mapping such as {wifi: off, data: on}"
        )

    @classmethod
    def compact_schema(cls, properties: dict[str, Any]) -> dict[str, Any] | None:
        return {"enum": list(PRESETS)}

    @model_validator(mode="after")
    def _something(self) -> Network:
        if self.wifi is None and self.data is None and self.airplane is None:
            raise ValueError("network needs wifi, data or airplane (or offline / online / airplane)")
        return self


# --------------------------------------------------------------------------- driver capabilities


class HasNetwork(Protocol):
    def network(
        self, wifi: bool | None = None, data: bool | None = None, airplane: bool | None = None
    ) -> None: ...



# --------------------------------------------------------------------------- actions


class NetworkAction(Action[Network]):
    model: ClassVar = Network
    summary = "network: `offline`, `online`, `airplane`, or `{wifi:, data:, airplane:}` on/off"
    example = "network: offline"
    android = "`svc wifi|data enable|disable`, `cmd connectivity airplane-mode enable|disable`"
    ios = "device: WDA Control Center; the Simulator has no network switch (fails at run time)"
    touches = frozenset({Facet.NETWORK})

    def run(self, step: Network, ctx: RunContext, device: HasNetwork) -> None:
        device.network(wifi=step.wifi, data=step.data, airplane=step.airplane)
