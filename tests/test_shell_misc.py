"""Small toybox programs: env, basename, dirname, seq, cut, md5sum, chmod, uname."""

from __future__ import annotations

import hashlib

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync


@pytest.fixture(scope="module")
def dev() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(serial="misc")


def sh(dev: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(dev, line)
    return rc, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("basename /sdcard/Download/a.txt .txt", (0, "a\n", "")),
        ("dirname /sdcard/Download/a.txt", (0, "/sdcard/Download\n", "")),
        ("seq 3", (0, "1\n2\n3\n", "")),
        ("seq 5 -2 1", (0, "5\n3\n1\n", "")),
        ("echo 'a:b:c' | cut -d: -f2", (0, "b\n", "")),
        ("echo 'a:b:c' | cut -d: -f1,3", (0, "a:c\n", "")),
        ("echo abcdef | cut -c2-4", (0, "bcd\n", "")),
        ("uname -m", (0, "aarch64\n", "")),
        ("getenforce", (0, "Enforcing\n", "")),
        ("env | grep -c '^PATH=/product/bin:'", (0, "1\n", "")),
        ("X=1 env | grep '^X='", (0, "X=1\n", "")),
    ],
)
def test_programs(dev: VirtualAndroidDevice, line: str, expected: tuple) -> None:
    assert sh(dev, line) == expected


def test_md5sum_checks_a_pushed_file(dev: VirtualAndroidDevice) -> None:
    data = bytes(range(256)) * 100
    dev.fs.write("/data/local/tmp/pushed", data)
    digest = hashlib.md5(data).hexdigest()
    assert sh(dev, "md5sum /data/local/tmp/pushed") == (0, f"{digest}  /data/local/tmp/pushed\n", "")
    assert sh(dev, "sha256sum /nope") == (1, "", "sha256sum: /nope: No such file or directory\n")


def test_chmod(dev: VirtualAndroidDevice) -> None:
    sh(dev, "touch /data/local/tmp/script")
    assert sh(dev, "chmod 755 /data/local/tmp/script; ls -l /data/local/tmp/script")[1].startswith(
        "-rwxr-xr-x"
    )
    assert sh(dev, "chmod go-rx /data/local/tmp/script; ls -l /data/local/tmp/script")[1].startswith(
        "-rwx------"
    )
    assert sh(dev, "chmod 644 /system/bin/ls") == (1, "", "chmod: /system/bin/ls: Read-only file system\n")
