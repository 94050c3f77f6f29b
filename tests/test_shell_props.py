"""System properties: the Android 14 identity, getprop's formats, setprop's policy, boot lifecycle."""

from __future__ import annotations

import re

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync


@pytest.fixture
def dev() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(serial="emulator-virt-7", model="Pixel 7")


def sh(dev: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(dev, line)
    return rc, out.decode(), err.decode()


def test_identity(dev: VirtualAndroidDevice) -> None:
    p = dev.props
    assert p.get("ro.build.version.sdk") == "34"
    assert p.get("ro.build.version.release") == "14"
    assert p.get("ro.product.model") == "Pixel 7"
    assert p.get("ro.product.device") == p.get("ro.product.name") == "panther"
    assert p.get("ro.serialno") == "emulator-virt-7"
    assert p.get("ro.debuggable") == "0" and p.get("ro.secure") == "1" and p.get("ro.build.type") == "user"
    assert p.get("ro.bgtest.virtual") == "1"
    assert p.get("persist.sys.timezone") == "UTC"
    fp = p.get("ro.build.fingerprint")
    assert re.fullmatch(r"google/panther/panther:14/[A-Z0-9.]+/\d+:user/release-keys", fp)
    assert "arm64-v8a" in p.get("ro.product.cpu.abilist")


def test_model_from_the_constructor() -> None:
    d = VirtualAndroidDevice(serial="x", model="Pixel 8")
    assert (d.props.get("ro.product.model"), d.props.get("ro.product.device")) == ("Pixel 8", "shiba")
    assert d.props.get("ro.product.cpu.abilist") == "arm64-v8a"  # Pixel 8 is 64-bit only
    other = VirtualAndroidDevice(serial="y", model="Galaxy Virtual 1")
    assert other.props.get("ro.product.model") == "Galaxy Virtual 1"
    assert other.props.get("ro.product.device") == "galaxyvirtual1"


def test_getprop_forms(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "getprop ro.product.model") == (0, "Pixel 7\n", "")
    assert sh(dev, "getprop no.such.prop") == (0, "\n", "")
    assert sh(dev, "getprop no.such.prop fallback") == (0, "fallback\n", "")
    assert sh(dev, "getprop ro.build.version.sdk fallback") == (0, "34\n", "")
    rc, out, _ = sh(dev, "getprop")
    lines = out.splitlines()
    keys = [line[1 : line.index("]")] for line in lines]
    assert rc == 0 and keys == sorted(keys)
    assert all(re.fullmatch(r"\[[^\]]+\]: \[.*\]", line) for line in lines)
    assert "[ro.bgtest.virtual]: [1]" in lines and "[sys.boot_completed]: [1]" in lines


def test_setprop_policy(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "setprop ro.secure 0") == (
        1,
        "",
        "Failed to set property 'ro.secure' to '0'.\nSee dmesg for error reason.\n",
    )
    assert sh(dev, "setprop persist.sys.locale fr-FR")[0] == 1
    assert dev.props.get("persist.sys.locale") == "en-US"
    assert sh(dev, "setprop debug.bgtest.flag on; getprop debug.bgtest.flag") == (0, "on\n", "")
    assert sh(dev, "setprop log.tag.WM-Worker VERBOSE; echo $?") == (0, "0\n", "")
    assert sh(dev, "setprop only-one")[0:2] == (
        1,
        "usage: setprop NAME VALUE\n\nSets an Android system property.\n",
    )
    assert sh(dev, "setprop 'bad name' x") == (1, "", "Invalid character ' ' in name 'bad name'\n")
    assert sh(dev, "setprop .x y") == (1, "", "Property names must not start or end with a '.'\n")


def test_boot_lifecycle(dev: VirtualAndroidDevice) -> None:
    assert dev.props.get("sys.boot_completed") == "1"
    dev.power_off()
    assert sh(dev, "getprop sys.boot_completed; getprop dev.bootcomplete")[1] == "\n\n"
    dev.power_on()
    assert sh(dev, "getprop init.svc.bootanim")[1] == "running\n"
    dev.finish_boot()
    assert sh(dev, "getprop sys.boot_completed; getprop init.svc.bootanim")[1] == "1\nstopped\n"
