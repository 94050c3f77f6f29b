"""Device-information commands and files that tools (Mobly, farm scripts) read, through the
REAL adb binary bundled with adbutils (``adb_server.binary``) and adbutils' client."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e


@pytest.fixture()
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as f:
        yield f


@pytest.fixture()
def d(adb_server: AdbServer, farm: VirtualAndroidFarm) -> adbutils.AdbDevice:
    return adb_server.client().device(farm.serials[0])


def adb(adb_server: AdbServer, serial: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([adb_server.binary, "-P", str(adb_server.port), "-s", serial, *args],
                          capture_output=True, text=True, env=adb_server.env, stdin=subprocess.DEVNULL,
                          timeout=60)


def test_adb_bugreport_pulls_the_zip_bugreportz_names(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                                      tmp_path: Path) -> None:
    r = adb(adb_server, farm.serials[0], "bugreport", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    zips = list(tmp_path.glob("bugreport-*.zip"))
    assert len(zips) == 1, (r.stdout, r.stderr, list(tmp_path.iterdir()))
    with zipfile.ZipFile(zips[0]) as zf:
        main = zf.read("main_entry.txt").decode()
        text = zf.read(main).decode()
    assert "== dumpstate:" in text and "------ SYSTEM LOG" in text
    assert "Build fingerprint: '" in text


def test_wm_size_and_density_with_an_override(d: adbutils.AdbDevice) -> None:
    assert d.shell("wm size") == "Physical size: 1080x2400"
    assert d.shell("wm density") == "Physical density: 420"
    assert d.window_size() == (1080, 2400)
    d.shell("wm size 720x1280")
    assert d.shell("wm size").splitlines() == ["Physical size: 1080x2400", "Override size: 720x1280"]
    d.shell("wm size reset")
    assert d.shell("wm size") == "Physical size: 1080x2400"


def test_dumpsys_display_follows_the_screen(d: adbutils.AdbDevice) -> None:
    assert "mScreenState=ON" in d.shell("dumpsys display")
    d.shell("input keyevent KEYCODE_SLEEP")
    out = d.shell("dumpsys display")
    assert "mScreenState=OFF" in out
    assert re.search(r"DisplayDeviceInfo\{\"Built-in Screen\": .*1080 x 2400.*density 420", out)


def test_users_tty_cpus_brightness(d: adbutils.AdbDevice) -> None:
    assert d.shell("am get-current-user") == "0"
    assert d.shell("pm list users").splitlines() == ["Users:", "\tUserInfo{0:Owner:4c13} running"]
    r = d.shell2("tty")
    assert (r.returncode, r.output.strip()) == (1, "not a tty")
    assert d.shell("cat /sys/devices/system/cpu/online") == "0-7"
    assert d.shell("cat /sys/devices/system/cpu/possible") == "0-7"
    assert d.shell("ls -d /sys/devices/system/cpu/cpu[0-9]*").split() == [
        f"/sys/devices/system/cpu/cpu{n}" for n in range(8)]
    assert d.shell("settings get system screen_brightness").isdigit()


def test_tty_under_a_pty(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    r = adb(adb_server, farm.serials[0], "shell", "-tt", "tty")
    assert r.stdout.strip() == "/dev/pts/0", r


def test_wifi_address_from_ip_and_ifconfig(d: adbutils.AdbDevice) -> None:
    out = d.shell("ip addr show wlan0")
    assert re.search(r"^\s+inet 192\.168\.1\.57/24 brd 192\.168\.1\.255 scope global wlan0$", out, re.M), out
    assert d.wlan_ip() == "192.168.1.57"
    assert "inet addr:192.168.1.57" in d.shell("ifconfig wlan0")
    d.shell("svc wifi disable")
    assert "inet " not in d.shell("ip addr show wlan0")
    r = d.shell2("ip addr show eth9")
    assert r.returncode == 1 and 'Device "eth9" does not exist.' in r.output


def test_uiautomator_dump_is_a_hierarchy_of_the_screen(d: adbutils.AdbDevice) -> None:
    assert d.shell("uiautomator dump") == "UI hierchary dumped to: /sdcard/window_dump.xml"
    root = ET.fromstring(d.sync.read_bytes("/sdcard/window_dump.xml"))
    assert root.tag == "hierarchy"
    assert root[0].get("bounds") == "[0,0][1080,2400]"
    assert d.dump_hierarchy().startswith("<?xml")


def test_screenrecord_is_honest_about_the_missing_encoder(d: adbutils.AdbDevice) -> None:
    assert "Usage: screenrecord [options] <filename>" in d.shell("screenrecord --help")
    r = d.shell2("screenrecord --time-limit 1 /sdcard/demo.mp4")
    assert r.returncode == 1 and "unable to create video/avc codec" in r.output
    assert d.shell2("ls /sdcard/demo.mp4").returncode == 1
