"""The settings provider: global/system/secure tables behind the settings command.

Owner: os-model (placeholder until that work lands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class Settings:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
