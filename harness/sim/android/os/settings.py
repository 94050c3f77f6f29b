"""The settings provider: ``global``/``system``/``secure`` tables and the ``settings`` program.

Services read their switches from here (``low_power``, ``airplane_mode_on``, ``wifi_on`` …) and
``observe`` the keys they own, so ``settings put global low_power 1`` from a shell reaches the
power service exactly as it does on a phone, where the setting *is* the interface.
Values survive reboot (the provider persists them). Observers fire only when a value changes, as
the provider notifies: re-putting the value a setting already holds does nothing (see ``power.py``
for where that bites on a real phone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import SystemContext

NAMESPACES = ("global", "system", "secure")

#: What a freshly set-up Android 14 phone holds for the keys the OS model reads.
_DEFAULTS: dict[str, dict[str, str]] = {
    "global": {
        "adb_enabled": "1",
        "airplane_mode_on": "0",
        "app_standby_enabled": "1",
        "auto_time": "1",
        "development_settings_enabled": "1",
        "device_provisioned": "1",
        "low_power": "0",
        "low_power_sticky": "0",
        "mobile_data": "1",
        "stay_on_while_plugged_in": "0",
        "wifi_on": "1",
    },
    "system": {
        "screen_brightness": "102",
        "screen_off_timeout": "60000",
    },
    "secure": {
        "android_id": "5a1e0c0ffee0b9e7",
        "user_setup_complete": "1",
    },
}

Observer = Callable[[str | None], object]


class Settings:
    """Three string tables plus per-key observers."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self._tables: dict[str, dict[str, str]] = {ns: dict(vals) for ns, vals in _DEFAULTS.items()}
        self._observers: dict[tuple[str, str], list[Observer]] = defaultdict(list)

    def get(self, ns: str, key: str) -> str | None:
        return self._tables[ns].get(key)

    def get_int(self, ns: str, key: str, default: int = 0) -> int:
        """The value as Settings.Global.getInt reads it: a bad or missing value gives ``default``."""
        value = self._tables[ns].get(key)
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def put(self, ns: str, key: str, value: str) -> None:
        table = self._tables[ns]
        if table.get(key) == value:
            return
        table[key] = value
        self._notify(ns, key, value)

    def set_quiet(self, ns: str, key: str, value: str) -> None:
        """Write without notifying: a service recording its own state change (no feedback loop)."""
        self._tables[ns][key] = value

    def delete(self, ns: str, key: str) -> int:
        """Remove ``key``; the number of rows deleted (0 or 1), as the provider answers."""
        if self._tables[ns].pop(key, None) is None:
            return 0
        self._notify(ns, key, None)
        return 1

    def items(self, ns: str) -> list[tuple[str, str]]:
        return sorted(self._tables[ns].items())

    def observe(self, ns: str, key: str, fn: Observer) -> None:
        self._observers[(ns, key)].append(fn)

    def _notify(self, ns: str, key: str, value: str | None) -> None:
        for fn in list(self._observers.get((ns, key), ())):
            fn(value)
