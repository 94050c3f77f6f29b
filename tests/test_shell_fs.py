"""The device filesystem: one tree behind the shell, push/pull and stat, with a phone's errors."""

from __future__ import annotations

import stat

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.os.fs import FsError
from harness.sim.android.registry import COMMANDS
from harness.sim.android.shell.shell import run_sync


@pytest.fixture
def dev() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(serial="fs-test")


def sh(dev: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(dev, line)
    return rc, out.decode(), err.decode()


def test_shell_writes_what_stat_and_read_see(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "echo hello > /sdcard/Download/a.txt") == (0, "", "")
    st = dev.fs.stat("/sdcard/Download/a.txt")
    assert st is not None and st.is_file and st.size == 6
    assert st.mtime == dev.clock.now_ms() // 1000 > 0
    assert stat.S_ISREG(st.mode)
    # /sdcard is the same directory as /storage/emulated/0
    assert dev.fs.read("/storage/emulated/0/Download/a.txt") == b"hello\n"


def test_what_the_device_writes_the_shell_sees(dev: VirtualAndroidDevice) -> None:
    dev.fs.write("/data/local/tmp/pushed.bin", b"\x00\x01binary", mode=0o755, mtime=1_700_000_000)
    assert sh(dev, "cat /data/local/tmp/pushed.bin")[1] == "\x00\x01binary"
    _, out, _ = sh(dev, "ls -l /data/local/tmp/pushed.bin")
    assert out == "-rwxr-xr-x 1 shell shell 8 2023-11-14 22:13 /data/local/tmp/pushed.bin\n"
    assert dev.fs.stat("/data/local/tmp/pushed.bin").mtime == 1_700_000_000


def test_mtime_moves_with_the_device_clock(dev: VirtualAndroidDevice) -> None:
    sh(dev, "touch /data/local/tmp/t")
    first = dev.fs.stat("/data/local/tmp/t").mtime
    dev.clock.advance(90_000)
    sh(dev, "touch /data/local/tmp/t")
    assert dev.fs.stat("/data/local/tmp/t").mtime == first + 90


def test_missing_paths(dev: VirtualAndroidDevice) -> None:
    assert dev.fs.stat("/nope") is None and not dev.fs.exists("/nope")
    with pytest.raises(FsError) as e:
        dev.fs.read("/nope")
    assert e.value.reason == "No such file or directory"
    assert sh(dev, "cat /nope") == (1, "", "cat: /nope: No such file or directory\n")
    assert sh(dev, "ls /nope") == (1, "", "ls: /nope: No such file or directory\n")
    assert sh(dev, "rm /nope") == (1, "", "rm: /nope: No such file or directory\n")
    assert sh(dev, "rm -f /nope") == (0, "", "")


def test_mkdir_rm(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "mkdir /data/local/tmp/d") == (0, "", "")
    assert sh(dev, "mkdir /data/local/tmp/d") == (1, "", "mkdir: '/data/local/tmp/d': File exists\n")
    assert sh(dev, "mkdir -p /data/local/tmp/d/e/f && touch /data/local/tmp/d/e/f/g") == (0, "", "")
    assert (
        sh(dev, "mkdir /data/local/tmp/x/y")[2] == "mkdir: '/data/local/tmp/x/y': No such file or directory\n"
    )
    assert sh(dev, "rm /data/local/tmp/d") == (1, "", "rm: /data/local/tmp/d: Is a directory\n")
    assert sh(dev, "rm -rf /data/local/tmp/d; ls /data/local/tmp") == (0, "", "")


def test_read_only_and_permissions(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "mkdir /system/x") == (1, "", "mkdir: '/system/x': Read-only file system\n")
    assert sh(dev, "touch /foo") == (1, "", "touch: '/foo': Read-only file system\n")
    assert sh(dev, "rm /system/bin/ls") == (1, "", "rm: /system/bin/ls: Read-only file system\n")
    assert sh(dev, "ls /data") == (1, "", "ls: /data: Permission denied\n")
    assert sh(dev, "touch /data/system/x")[2] == "touch: '/data/system/x': Permission denied\n"
    with pytest.raises(FsError, match="Read-only file system"):
        dev.fs.write("/system/x", b"", uid=2000)
    dev.fs.write("/data/app/internal.apk", b"device-side writes are not checked")


def test_system_bin_lists_every_command(dev: VirtualAndroidDevice) -> None:
    _, out, _ = sh(dev, "ls /system/bin")
    listed = set(out.split())
    assert set(COMMANDS) <= listed
    assert {"sh", "ls", "getprop", "grep"} <= listed
    assert sh(dev, "/system/bin/echo via-path") == (0, "via-path\n", "")


def test_ls_formats(dev: VirtualAndroidDevice) -> None:
    sh(dev, "mkdir /data/local/tmp/l; touch /data/local/tmp/l/b /data/local/tmp/l/a /data/local/tmp/l/.h")
    assert sh(dev, "ls /data/local/tmp/l")[1] == "a\nb\n"
    assert sh(dev, "ls -a /data/local/tmp/l")[1] == ".\n..\n.h\na\nb\n"
    assert sh(dev, "ls -d /data/local/tmp/l")[1] == "/data/local/tmp/l\n"
    _, out, _ = sh(dev, "ls -l /data/local/tmp/l")
    lines = out.splitlines()
    assert lines[0] == "total 0"
    assert lines[1].startswith("-rw-r--r-- 1 shell shell 0 2026-01-05 09:00 a")


def test_cp_mv(dev: VirtualAndroidDevice) -> None:
    sh(dev, "echo data > /data/local/tmp/src")
    assert sh(dev, "cp /data/local/tmp/src /sdcard/ && cat /sdcard/src") == (0, "data\n", "")
    assert sh(dev, "mv /sdcard/src /sdcard/dst && cat /sdcard/dst && ls /sdcard/src") == (
        1,
        "data\n",
        "ls: /sdcard/src: No such file or directory\n",
    )


def test_glob(dev: VirtualAndroidDevice) -> None:
    sh(dev, "touch /data/local/tmp/a1.txt /data/local/tmp/a2.txt /data/local/tmp/b.log")
    assert sh(dev, "echo /data/local/tmp/a*.txt")[1] == "/data/local/tmp/a1.txt /data/local/tmp/a2.txt\n"
    assert sh(dev, "echo /data/local/tmp/none*")[1] == "/data/local/tmp/none*\n"
    assert sh(dev, "echo '/data/local/tmp/a*'")[1] == "/data/local/tmp/a*\n"


def test_survives_reboot(dev: VirtualAndroidDevice) -> None:
    sh(dev, "echo keep > /sdcard/keep")
    dev.reboot_now()
    assert sh(dev, "cat /sdcard/keep") == (0, "keep\n", "")


def test_ls_more_flags(dev: VirtualAndroidDevice) -> None:
    sh(
        dev,
        "mkdir -p /data/local/tmp/r/sub; echo 12345 > /data/local/tmp/r/big; touch /data/local/tmp/r/sub/x",
    )
    assert sh(dev, "ls -R /data/local/tmp/r")[1] == (
        "/data/local/tmp/r:\nbig\nsub\n\n/data/local/tmp/r/sub:\nx\n"
    )
    assert sh(dev, "ls -F /data/local/tmp/r")[1] == "big\nsub/\n"
    assert sh(dev, "ls -S /data/local/tmp/r")[1] == "sub\nbig\n"
    dev.fs.write("/data/local/tmp/r/huge", b"x" * 1536)
    assert " 1.5K " in sh(dev, "ls -lh /data/local/tmp/r/huge")[1]
    assert sh(dev, "ls -ln /data/local/tmp/r/big")[1].startswith("-rw-r--r-- 1 2000 2000 6 ")


def test_storage_roots_survive_rm_rf(dev: VirtualAndroidDevice) -> None:
    sh(dev, "touch /sdcard/Download/x")
    rc, _, err = sh(dev, "rm -rf /sdcard")
    assert rc == 1 and err == "rm: /sdcard: Permission denied\n"
    assert dev.fs.exists("/sdcard/Download/x")
    assert sh(dev, "rm -rf /sdcard/Download/x; ls /sdcard/Download") == (0, "", "")


def test_read_permissions(dev: VirtualAndroidDevice) -> None:
    """Mode bits decide, with the shell's groups; a private file adbd pushed is the shell's own."""
    assert sh(dev, "cat /system/build.prop") == (1, "", "cat: /system/build.prop: Permission denied\n")
    dev.fs.write("/sdcard/Download/private.txt", b"mine\n", mode=0o600)  # as adb push of a 0600 file
    assert sh(dev, "cat /sdcard/Download/private.txt") == (0, "mine\n", "")
    dev.fs.write("/data/local/tmp/root-only", b"x", mode=0o600, uid=0)
    assert (
        sh(dev, "cat /data/local/tmp/root-only")[2] == "cat: /data/local/tmp/root-only: Permission denied\n"
    )
    assert sh(dev, "ls /system/bin | grep -c '^ls$'") == (0, "1\n", "")
