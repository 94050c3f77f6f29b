"""The virtual devices through clients nobody here wrote: isim (simctl), facebook-wda, Mobly.

Every operation of ``tests/independent_clients.py`` must pass; a failure lists each failing
operation with its error. ``bench/bench_independent_clients.py`` prints the same share.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from independent_clients import (
    IOS_APP,
    Outcome,
    isim_operations,
    mobly_operations,
    run,
    wda_operations,
    xcrun_on_path,
)

from harness.devices.adb_server import AdbServer, adb_binary
from harness.sim.android.launcher import VirtualAndroidFarm
from harness.sim.ios.device import open_world
from harness.sim.ios.launcher import start_ios
from harness.sim.ios.state import SimHome


def _assert_all_pass(outcomes: list[Outcome]) -> None:
    failed = [f"{o.name}: {o.error}" for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)
    assert outcomes


def test_isim_drives_the_xcrun_stand_in(tmp_path: Path) -> None:
    home = tmp_path / "home"
    start_ios(kind="simulator", wda_port=0, clock="manual", home=SimHome(home)).stop()
    with xcrun_on_path(home, tmp_path / "bin"):
        _assert_all_pass(run("isim", isim_operations(tmp_path)))


def test_facebook_wda_drives_the_wda_server(tmp_path: Path) -> None:
    home = SimHome(tmp_path / "home")
    running = start_ios(kind="device", wda_port=0, clock="manual", home=home)
    try:
        with open_world(home) as world:
            world.find("booted").springboard.install(str(IOS_APP))
        _assert_all_pass(run("facebook-wda", wda_operations(running.url)))
    finally:
        running.stop()


@pytest.fixture()
def mobly_env(adb_server: AdbServer) -> Iterator[None]:
    """Mobly runs ``adb`` from PATH against ANDROID_ADB_SERVER_PORT: the private server's."""
    saved = dict(os.environ)
    env = adb_server.env
    for key in ("ANDROID_ADB_SERVER_PORT", "ANDROID_ADB_SERVER_HOST", "HOME"):
        os.environ[key] = env[key]
    os.environ["PATH"] = f"{Path(adb_binary()).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.e2e
def test_mobly_android_device_drives_the_virtual_android(
    adb_server: AdbServer, mobly_env: None, tmp_path: Path
) -> None:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        ops, teardown = mobly_operations(farm.serials[0], tmp_path)
        try:
            _assert_all_pass(run("mobly", ops))
        finally:
            teardown()
