"""System properties (placeholder until the shell work lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


class Properties:
    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self._props: dict[str, str] = {}

    def get(self, key: str, default: str = "") -> str:
        return self._props.get(key, default)

    def set(self, key: str, value: str) -> None:
        self._props[key] = value
