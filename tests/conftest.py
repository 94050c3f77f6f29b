"""Shared fixtures: one private adb server for the whole test session (never port 5037)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from harness.devices.adb_server import AdbServer


@pytest.fixture(scope="session", autouse=True)
def _private_state_dir() -> Iterator[None]:
    """bgtest's state ledger (and anything else in its state folder) away from the user's."""
    with tempfile.TemporaryDirectory(prefix="bgtest-state-") as folder:
        old = os.environ.get("BGTEST_STATE_DIR")
        os.environ["BGTEST_STATE_DIR"] = folder
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("BGTEST_STATE_DIR", None)
            else:
                os.environ["BGTEST_STATE_DIR"] = old


@pytest.fixture(scope="session")
def adb_server() -> Iterator[AdbServer]:
    """The real adb binary from adbutils, started on a free private port, killed at the end."""
    server = AdbServer.start_private()
    try:
        yield server
    finally:
        server.stop()
