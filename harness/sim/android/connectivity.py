"""Connectivity: wifi, mobile data, airplane mode, metered networks, per-app blocking.

Owner: os-model (placeholder until that work lands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class Connectivity:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
