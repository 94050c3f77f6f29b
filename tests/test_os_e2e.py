"""The OS model through the REAL adb server: what a person at ``adb shell`` sees on the virtual device."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def serial(adb_server: AdbServer) -> Iterator[str]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm.serials[0]


def adb_shell(adb_server: AdbServer, serial: str, *argv: str) -> tuple[int, str, str]:
    r = adb_server.adb("-s", serial, "shell", *argv, check=False)
    return r.returncode, r.stdout, r.stderr


def test_doze_night_through_adb(adb_server: AdbServer, serial: str) -> None:
    assert adb_shell(adb_server, serial, "dumpsys", "battery", "unplug")[0] == 0
    assert adb_shell(adb_server, serial, "input", "keyevent", "KEYCODE_SLEEP")[0] == 0
    rc, out, _ = adb_shell(adb_server, serial, "cmd", "bgtest", "clock", "advance", "6h")
    assert rc == 0 and out.startswith("advanced 6h to ")
    rc, out, _ = adb_shell(adb_server, serial, "dumpsys", "deviceidle")
    assert "  mState=IDLE mLightState=OVERRIDE\n" in out
    assert adb_shell(adb_server, serial, "dumpsys", "deviceidle", "get", "deep")[1] == "IDLE\n"
    assert adb_shell(adb_server, serial, "dumpsys", "battery", "reset")[0] == 0
    assert adb_shell(adb_server, serial, "dumpsys", "deviceidle", "get", "deep")[1] == "ACTIVE\n"


def test_exit_codes_and_error_texts_through_adb(adb_server: AdbServer, serial: str) -> None:
    assert adb_shell(adb_server, serial, "cmd", "nosuch") == (20, "", "cmd: Can't find service: nosuch\n")
    assert adb_shell(adb_server, serial, "cmd", "deviceidle", "whitelist", "pkg") == (
        255,
        "Package must be prefixed with +, -, or =: pkg\n",
        "",
    )
    assert adb_shell(adb_server, serial, "cmd", "power", "set-mode", "1") == (0, "", "")
    assert adb_shell(adb_server, serial, "settings", "get", "global", "low_power") == (0, "0\n", "")
    rc, out, _ = adb_shell(adb_server, serial, "cmd", "battery", "set", "-f", "level", "50")
    assert rc == 0 and out.strip().isdigit()
    assert adb_shell(adb_server, serial, "cmd", "connectivity", "airplane-mode", "enable") == (0, "", "")
    assert adb_shell(adb_server, serial, "cmd", "connectivity", "airplane-mode") == (0, "enabled\n", "")
    assert adb_shell(adb_server, serial, "cmd", "connectivity", "airplane-mode", "disable")[0] == 0
