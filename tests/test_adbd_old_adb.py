"""The virtual device through Debian's older adb (platform-tools 29), where it is installed.

An older client takes other paths through the protocol: no sendrecv_v2, its own idea of
which features matter, older AUTH and install code. The device must serve it as a phone
serves every adb in the field. Skipped where Debian's ``adb`` package is not installed
(``apt-get install adb``); the pinned adb 36 from adbutils is what the rest of the suite uses.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer, free_port
from harness.sim.android.launcher import VirtualAndroidFarm

DEBIAN_ADB = Path("/usr/lib/android-sdk/platform-tools/adb")
APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"


def _version() -> str:
    if not DEBIAN_ADB.exists():
        return ""
    out = subprocess.run([str(DEBIAN_ADB), "version"], capture_output=True, text=True, timeout=10).stdout
    return next((line.split()[1] for line in out.splitlines() if line.startswith("Version ")), "")


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not _version().startswith(("29.", "30.", "31.", "32.", "33.")),
                       reason="Debian's older adb is not installed (apt-get install adb)"),
]


@pytest.fixture(scope="module")
def old_server() -> Iterator[AdbServer]:
    server = AdbServer(port=free_port(), binary=str(DEBIAN_ADB), owned=True)
    server.adb("start-server", timeout=30)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def farm(old_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=old_server) as farm:
        yield farm


def test_older_adb_lists_shells_and_reads_exit_codes(old_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    assert f"{serial}" in old_server.adb("devices", "-l").stdout
    r = old_server.adb("-s", serial, "shell", "echo out; echo err >&2; exit 5", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (5, "out\n", "err\n")
    assert "shell_v2" in old_server.adb("-s", serial, "features").stdout


def test_older_adb_pushes_pulls_and_installs(old_server: AdbServer, farm: VirtualAndroidFarm,
                                            tmp_path: Path) -> None:
    serial = farm.serials[0]
    data = bytes(range(256)) * 2048
    src, back = tmp_path / "a.bin", tmp_path / "b.bin"
    src.write_bytes(data)
    old_server.adb("-s", serial, "push", str(src), "/data/local/tmp/old/a.bin")
    old_server.adb("-s", serial, "pull", "/data/local/tmp/old/a.bin", str(back))
    assert back.read_bytes() == data
    refused = old_server.adb("-s", serial, "push", str(src), "/system/a.bin", check=False)
    assert refused.returncode == 1 and "Read-only file system" in refused.stdout + refused.stderr
    apk = tmp_path / "wm_plain.apk"
    shutil.copy(APPS / "wm_plain.yaml", apk)
    r = old_server.adb("-s", serial, "install", "-r", str(apk))
    assert r.stdout.rstrip().endswith("Success")


def test_older_adb_reverse_and_reboot(old_server: AdbServer, tmp_path: Path) -> None:
    with VirtualAndroidFarm(count=1, adb_server=old_server) as farm:
        serial = farm.serials[0]
        old_server.adb("-s", serial, "reverse", "tcp:8400", "tcp:8401")
        assert "tcp:8400 tcp:8401" in old_server.adb("-s", serial, "reverse", "--list").stdout
        old_server.adb("-s", serial, "shell", "log -t bgtest old-boot")
        old_server.adb("-s", serial, "reboot", timeout=60)
        old_server.adb("-s", serial, "wait-for-device", timeout=60)
        assert "old-boot" not in old_server.adb("-s", serial, "logcat", "-d").stdout
