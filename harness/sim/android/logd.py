"""logd ring buffers (placeholder until the logd work lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class Logd:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device

    def append(self, **record: object) -> None:
        pass
