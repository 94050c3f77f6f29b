"""PackageManager: installed app models, stopped state, pm commands.

Owner: apps (placeholder until that work lands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class PackageManager:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device

    def install_model_file(self, path: object) -> None:
        raise NotImplementedError("app models arrive with the apps work")
