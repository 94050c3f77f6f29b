"""The process table behind pidof and ps (placeholder until the shell work lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class ProcessTable:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self.system_server_pid = 600
