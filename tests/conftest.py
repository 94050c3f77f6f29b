"""Shared fixtures: one private adb server for the whole test session (never port 5037)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from harness.devices.adb_server import AdbServer

# Hypothesis times every example against a 200 ms deadline by default, and its too_slow health
# check times data generation: both are wall-clock assertions, and at load 20 a process can
# wait longer than that for a CPU (a slow example is re-run, and passing then is "Flaky"). The
# properties are what the tests prove; how fast an example runs is bench/'s business. Loaded
# before any test module is imported, so every @settings(...) there starts from this profile.
settings.register_profile("bgtest", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("bgtest")


@contextlib.contextmanager
def _env_folder(variable: str, prefix: str) -> Iterator[None]:
    """``variable`` names a fresh temporary folder while the block runs, then what it was."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        old = os.environ.get(variable)
        os.environ[variable] = folder
        try:
            yield
        finally:
            if old is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = old


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``-n 2`` balances by work stealing, not by xdist's default chunks.

    The default scheduler commits a chunk of tests to a worker in collection order and never
    takes it back: a minutes-long test (the iOS signal points, a whole checklist run) that
    lands near the end of a chunk runs alone while the other worker idles. Work stealing
    splits the collection and lets an idle worker take half of the other's queue.
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import WorkStealingScheduling

    return WorkStealingScheduling(config, log)  # type: ignore[arg-type]


@pytest.fixture(scope="session", autouse=True)
def _private_state_dir() -> Iterator[None]:
    """bgtest's state ledger (and anything else in its state folder) away from the user's."""
    with _env_folder("BGTEST_STATE_DIR", "bgtest-state-"):
        yield


@pytest.fixture(scope="session", autouse=True)
def _private_proxy_ca() -> Iterator[None]:
    """The fault proxy's CA (harness/network) in a folder of the session, not the user's cache."""
    with _env_folder("BGTEST_PROXY_CONFDIR", "bgtest-proxy-ca-"):
        yield


@pytest.fixture(scope="session")
def adb_server() -> Iterator[AdbServer]:
    """The real adb binary from adbutils, started on a free private port, killed at the end."""
    server = AdbServer.start_private()
    try:
        yield server
    finally:
        server.stop()
