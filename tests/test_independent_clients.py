"""The virtual devices through clients nobody here wrote: isim (simctl), facebook-wda, Mobly,
adb-shell.

Every operation of ``tests/independent_clients.py`` must pass; a failure lists each failing
operation with its error. ``bench/bench_independent_clients.py`` prints the same share.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from adb_shell.auth.keygen import keygen
from independent_clients import (
    DEBIAN_ADB,
    IOS_APP,
    Outcome,
    adb_cli_operations,
    adb_shell_operations,
    isim_operations,
    mobly_operations,
    run,
    wda_operations,
    xcrun_on_path,
)

from harness.devices.adb_server import AdbServer, adb_binary, free_port
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


def test_adb_shell_drives_the_virtual_adbd_directly(tmp_path: Path) -> None:
    key = tmp_path / "adbkey"
    keygen(str(key))  # adb-shell's own key pair; the device is told to trust its public half
    with VirtualAndroidFarm(count=1, host_keys=[Path(f"{key}.pub").read_text()]) as farm:
        ops, close = adb_shell_operations(farm.ports[0], key, tmp_path)
        try:
            _assert_all_pass(run("adb-shell", ops))
        finally:
            close()


@pytest.mark.e2e
def test_the_adb_36_command_line(adb_server: AdbServer, tmp_path: Path) -> None:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        _assert_all_pass(run("adb 36", adb_cli_operations(adb_server, farm.serials[0], tmp_path)))


@pytest.mark.e2e
@pytest.mark.skipif(not DEBIAN_ADB.exists(), reason="Debian's adb is not installed (apt-get install adb)")
def test_debians_older_adb_command_line(tmp_path: Path) -> None:
    server = AdbServer(port=free_port(), binary=str(DEBIAN_ADB), owned=True)
    server.adb("start-server", timeout=30)
    try:
        with VirtualAndroidFarm(count=1, adb_server=server) as farm:
            _assert_all_pass(run("adb 29", adb_cli_operations(server, farm.serials[0], tmp_path)))
    finally:
        server.stop()
