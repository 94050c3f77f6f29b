"""Shared fixtures: one private adb server for the whole test session (never port 5037)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.devices.adb_server import AdbServer


@pytest.fixture(scope="session")
def adb_server() -> Iterator[AdbServer]:
    """The real adb binary from adbutils, started on a free private port, killed at the end."""
    server = AdbServer.start_private()
    try:
        yield server
    finally:
        server.stop()
