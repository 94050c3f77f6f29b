"""ActivityManager (placeholder until the apps work lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class ActivityManager:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self.system_pid = device.procs.system_server_pid
