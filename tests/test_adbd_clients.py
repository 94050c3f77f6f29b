"""The virtual adbd as independent clients see it (issue 16, Android protocol points).

Two real clients: the adb 36 CLI bundled with adbutils (through a private adb server) and
adb-shell (PyPI, pinned in the dev extra), which speaks adbd's protocol directly over TCP
with no adb server in between — it is strict where the server is lenient (it waits for the
device's CLSE, it checks every packet it reads).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from adb_shell.adb_device import AdbDeviceTcp

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

#: Short client timeouts: a missing answer fails in seconds, not after adb-shell's 10 s default.
QUICK = {"transport_timeout_s": 5.0, "read_timeout_s": 5.0}


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


@pytest.fixture()
def fresh(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    """A device of its own, for tests that reboot it."""
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


@pytest.fixture()
def direct(farm: VirtualAndroidFarm) -> Iterator[AdbDeviceTcp]:
    """adb-shell connected straight to the virtual adbd's port."""
    client = AdbDeviceTcp("127.0.0.1", farm.ports[0], default_transport_timeout_s=5.0)
    client.connect(transport_timeout_s=5.0, auth_timeout_s=5.0)
    try:
        yield client
    finally:
        client.close()


# ----------------------------------------------------------------- adb-shell, directly
def test_a_direct_client_runs_shell_and_sync_without_waiting_for_timeouts(direct: AdbDeviceTcp,
                                                                         tmp_path: Path) -> None:
    """Each of these waits for the device's CLSE after its own: without it they hang 5 s and fail."""
    assert direct.shell("echo hi", **QUICK) == "hi\n"
    assert direct.shell("getprop ro.product.model", **QUICK).strip() == "Pixel 8"
    src = tmp_path / "a.txt"
    src.write_bytes(b"hello from adb-shell\n" * 1000)
    direct.push(str(src), "/data/local/tmp/a.txt", **QUICK)
    mode, size, _mtime = direct.stat("/data/local/tmp/a.txt", **QUICK)
    assert size == src.stat().st_size and mode & 0o170000 == 0o100000
    names = {entry.filename.decode() for entry in direct.list("/data/local/tmp", **QUICK)}
    assert "a.txt" in names
    back = tmp_path / "back.txt"
    direct.pull("/data/local/tmp/a.txt", str(back), **QUICK)
    assert back.read_bytes() == src.read_bytes()
    # and the link is still good for more
    assert direct.shell("echo again", **QUICK) == "again\n"


# ------------------------------------------------------------------ the adb 36 CLI
def test_push_into_system_is_refused_as_on_a_user_build(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                                        tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("x\n")
    r = adb_server.adb("-s", farm.serials[0], "push", str(src), "/system/x.txt", check=False)
    assert r.returncode == 1
    assert "remote couldn't create file: Read-only file system" in r.stderr
    ok = adb_server.adb("-s", farm.serials[0], "push", str(src), "/data/local/tmp/x.txt", check=False)
    assert ok.returncode == 0, ok.stderr


def test_shell_t_runs_on_a_pty_that_merges_stderr_into_stdout(adb_server: AdbServer,
                                                               farm: VirtualAndroidFarm) -> None:
    # -tt: force the pty although the test's stdin is not a terminal (one -t would warn and skip it)
    r = subprocess.run(
        [adb_server.binary, "-P", str(adb_server.port), "-s", farm.serials[0], "shell", "-tt",
         "echo out; echo err >&2; exit 3"],
        capture_output=True, env=adb_server.env, stdin=subprocess.DEVNULL, timeout=30,
    )
    assert (r.returncode, r.stdout, r.stderr) == (3, b"out\r\nerr\r\n", b"")
    plain = adb_server.adb("-s", farm.serials[0], "shell", "-T", "echo out; echo err >&2", check=False)
    assert (plain.stdout, plain.stderr) == ("out\n", "err\n")


def test_adb_reboot_returns_only_when_the_device_goes_down(adb_server: AdbServer,
                                                          fresh: VirtualAndroidFarm) -> None:
    """``adb reboot && adb wait-for-device && adb logcat -d`` shows the new boot, never the old one."""
    serial = fresh.serials[0]
    adb_server.adb("-s", serial, "shell", "log -t bgtest before-the-reboot")
    assert "before-the-reboot" in adb_server.adb("-s", serial, "logcat", "-d").stdout
    script = (f"'{adb_server.binary}' -P {adb_server.port} -s {serial} reboot && "
              f"'{adb_server.binary}' -P {adb_server.port} -s {serial} wait-for-device && "
              f"'{adb_server.binary}' -P {adb_server.port} -s {serial} logcat -d")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=adb_server.env,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "before-the-reboot" not in r.stdout
    assert fresh.daemons[0].reboots == 1
