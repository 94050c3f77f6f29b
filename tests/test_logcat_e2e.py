"""logcat through the REAL adb server: `adb logcat`, adbutils live streams, a reboot mid-stream."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import adbutils
import pytest

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e


@pytest.fixture()
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


def log(farm: VirtualAndroidFarm, level: str, tag: str, message: str, advance_ms: int = 0) -> None:
    device = farm.devices[0]

    def write() -> None:
        if advance_ms:
            device.clock.advance(advance_ms)
        device.log(level, tag, message, pid=4242, tid=4243)

    farm.call(write)


def read_until(conn: adbutils.AdbConnection, needle: bytes, timeout: float = 60.0) -> bytes:
    """Read a live stream until ``needle`` arrives (the deadline only guards a hang)."""
    conn.conn.settimeout(timeout)
    data = b""
    while needle not in data:
        chunk = conn.conn.recv(65536)
        if not chunk:
            raise AssertionError(f"stream ended before {needle!r}: {data[-300:]!r}")
        data += chunk
    return data


def wait_for(pred, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.02)


def test_adb_logcat_dump_filters_and_formats(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    log(farm, "I", "E2eTag", "hello from the device")
    log(farm, "D", "Other", "not for you")
    out = adb_server.adb("-s", serial, "logcat", "-d").stdout
    assert out.startswith("--------- beginning of main\n")
    assert "  4242  4243 I E2eTag  : hello from the device\n" in out
    brief = adb_server.adb("-s", serial, "logcat", "-d", "-v", "brief", "E2eTag:I", "*:S").stdout
    assert brief == "--------- beginning of main\nI/E2eTag  ( 4242): hello from the device\n"
    bad = adb_server.adb("-s", serial, "logcat", "-x", check=False)
    assert bad.returncode == 1 and "logcat: Unknown option '-x'." in bad.stderr


def test_adbutils_live_stream_and_close_ends_the_reader(adb_server: AdbServer,
                                                        farm: VirtualAndroidFarm) -> None:
    device = farm.devices[0]
    d = adb_server.client().device(farm.serials[0])
    conn = d.shell("logcat -v time", stream=True)
    try:
        read_until(conn, b"System now ready")
        wait_for(lambda: farm.call(lambda: len(device.logd._subs)) == 1)
        for i in range(3):
            log(farm, "I", "Live", f"tick {i}", advance_ms=1000)
        data = read_until(conn, b"tick 2")
        assert b"09:00:03.000 I/Live    ( 4242): tick 2\n" in data.split(b"tick 1\n")[1]
    finally:
        conn.close()
    wait_for(lambda: farm.call(lambda: len(device.logd._subs)) == 0)


def test_reboot_ends_the_stream_and_T_resumes_in_the_new_boot(adb_server: AdbServer,
                                                             farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    client = adb_server.client()
    d = client.device(serial)
    conn = d.shell("logcat -v threadtime", stream=True)
    try:
        log(farm, "I", "Boot1", "before reboot", advance_ms=10)
        data = read_until(conn, b"before reboot\n")
        last_time = data.rstrip(b"\n").split(b"\n")[-1][:18].decode()
        d.reboot()
        with pytest.raises((AssertionError, OSError, socket.timeout)):
            read_until(conn, b"never printed", timeout=10)
    finally:
        conn.close()
    client.wait_for(serial, state="device", timeout=60)
    wait_for(lambda: d.shell("getprop sys.boot_completed") == "1")
    log(farm, "I", "Boot2", "after reboot")
    out = adb_server.adb("-s", serial, "logcat", "-d", "-T", last_time).stdout
    assert "after reboot" in out and "before reboot" not in out
