"""JobScheduler: jobs, constraints, Doze/quota gating, cmd jobscheduler, dumpsys jobscheduler.

Owner: apps (placeholder until that work lands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class JobScheduler:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
