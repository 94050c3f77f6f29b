"""Waits follow the device's clock: advanced where it moves only when asked, waited for (with
progress for the live bar) where it runs by itself — a realtime or scaled virtual device too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.devices.base import vendor_clock_rate
from harness.run.runner import RunObserver, ScenarioRunner
from harness.run.session import app_under_test
from harness.scenario.loader import load_text
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]


def test_the_vendor_clock_line_says_the_rate() -> None:
    assert vendor_clock_rate("1767603678372 manual") is None
    assert vendor_clock_rate("1767603678372 realtime") == 1.0
    assert vendor_clock_rate("1767603678372 scaled 60") == 60.0


@pytest.fixture(scope="module")
def scaled(adb_server: AdbServer) -> Iterator[AndroidDevice]:
    """A virtual device whose clock runs by itself, 40 device seconds per wall second."""
    with VirtualAndroidFarm(adb_server=adb_server, clock_mode="scaled", scale=40.0) as farm:
        yield AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)


def test_a_running_clock_is_waited_for_with_progress(scaled: AndroidDevice) -> None:
    (scenario,) = load_text("name: t\nsteps:\n  - wait: 8s\n", file=str(ROOT / "scenarios" / "w.yaml"))
    progress: list[tuple[int, int, str]] = []
    observer = RunObserver(on_wait=lambda done, total, what: progress.append((done, total, what)))
    result = ScenarioRunner(scenario, scaled, app_under_test(scenario, "android"), observer=observer).run()
    assert result.status == "passed", result.failure
    assert scaled.clock_rate() == 40.0
    # the clock was not jumped: the runner waited, and said how far the wait had got
    assert progress and all(total == 8000 for _, total, _ in progress)
    assert [done for done, _, _ in progress] == sorted(done for done, _, _ in progress)
    assert result.steps[0].device_end_ms - result.steps[0].device_start_ms >= 8000
