"""In-memory filesystem shared by the shell, sync (push/pull) and stat.

Owner: shell (placeholder until that work lands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class FileSystem:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
