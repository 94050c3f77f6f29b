"""Helpers for the OS-model tests: a fresh virtual device in manual time and a shell runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

APPS = Path(__file__).resolve().parent.parent / "fixtures" / "apps"
MIN = 60_000
HOUR = 60 * MIN


@dataclass
class Result:
    rc: int
    out: str
    err: str


def sh(device: VirtualAndroidDevice, line: str) -> Result:
    rc, out, err = run_sync(device, line)
    return Result(rc, out.decode(), err.decode())


def new_device(with_app: bool = False) -> VirtualAndroidDevice:
    models = [APPS / "wm_plain.yaml"] if with_app else []
    return VirtualAndroidDevice(clock_mode="manual", app_models=models)


def unplug_and_sleep(device: VirtualAndroidDevice) -> None:
    """The doc recipe's first steps: battery unplugged, screen off."""
    assert sh(device, "dumpsys battery unplug").rc == 0
    assert sh(device, "input keyevent KEYCODE_SLEEP").rc == 0
