"""The plugin's fixtures for tests written in Python."""

from __future__ import annotations

from typing import Any


def test_virtual_android_fixture_is_a_virtual_device_in_virtual_time(virtual_android: Any) -> None:
    assert virtual_android.is_virtual
    before = virtual_android.device_time_ms()
    virtual_android.advance(6 * 3_600_000)
    assert virtual_android.device_time_ms() - before >= 6 * 3_600_000
    assert virtual_android.doze("deep") == "IDLE"
    virtual_android.doze("off")
