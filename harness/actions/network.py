"""Connectivity: wifi, mobile data, airplane mode (``offline`` / ``online`` / ``airplane``)."""

from __future__ import annotations

from typing import ClassVar, Protocol

from harness.actions.base import Action, RunContext
from harness.devices.base import Facet
from harness.scenario import models as m


class HasNetwork(Protocol):
    def network(
        self, wifi: bool | None = None, data: bool | None = None, airplane: bool | None = None
    ) -> None: ...


class Network(Action[m.Network]):
    model: ClassVar = m.Network
    summary = "network: `offline`, `online`, `airplane`, or `{wifi:, data:, airplane:}` on/off"
    example = "network: offline"
    android = "`svc wifi|data enable|disable`, `cmd connectivity airplane-mode enable|disable`"
    ios = "device: WDA Control Center; the Simulator has no network switch (fails at run time)"
    touches = frozenset({Facet.NETWORK})

    def run(self, step: m.Network, ctx: RunContext, device: HasNetwork) -> None:
        device.network(wifi=step.wifi, data=step.data, airplane=step.airplane)
