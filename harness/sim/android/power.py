"""PowerManager: screen state and battery saver (low_power).

Owner: os-model (placeholder until that work lands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class PowerManager:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
