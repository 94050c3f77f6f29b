"""App models through the REAL adb server: install, launch, force-stop + reboot, broadcasts."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest
from adb_testutil import TIMEOUT_S, disconnect_awaited, wait_boot_completed

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"
DIAG = "androidx.work.diagnostics.REQUEST_DIAGNOSTICS"


@pytest.fixture()
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


def device(adb_server: AdbServer, farm: VirtualAndroidFarm) -> adbutils.AdbDevice:
    return adb_server.client().device(farm.serials[0])


def test_adbutils_install_of_an_app_model(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    d = device(adb_server, farm)
    d.install(str(APPS / "nwm_demo.yaml"), nolaunch=True, silent=True)
    assert d.shell("pm list packages -3") == f"package:{NWM}"
    info = d.app_info(NWM)
    assert info is not None and (info.version_name, info.version_code) == ("1.2.7", 127)
    assert info.path.endswith("/base.apk")
    # adbutils removes its staging copy afterwards, as on a phone
    assert "unknown.apk" not in d.shell("ls /data/local/tmp")


def test_adb_cli_streamed_install_of_an_app_model(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                                  tmp_path: Path) -> None:
    # the adb client itself insists on a .apk name; the content is the app model. The device
    # lists cmd and abb_exec, so the CLI streams it (abb_exec:package install -S <size>).
    apk = tmp_path / "wm_plain.apk"
    shutil.copy(APPS / "wm_plain.yaml", apk)
    r = adb_server.adb("-s", farm.serials[0], "install", str(apk))
    assert r.stdout == "Performing Streamed Install\nSuccess\n"
    assert device(adb_server, farm).shell("pm path com.example.wmplain").startswith("package:/data/app/~~")


def test_a_real_apk_is_refused(adb_server: AdbServer, farm: VirtualAndroidFarm, tmp_path: Path) -> None:
    apk = tmp_path / "real.apk"
    with zipfile.ZipFile(apk, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00")
    r = adb_server.adb("-s", farm.serials[0], "install", str(apk), check=False)
    assert r.returncode == 1
    assert "Failure [INSTALL_FAILED_INVALID_APK: " in r.stdout + r.stderr
    with pytest.raises(adbutils.AdbInstallError, match="INSTALL_FAILED_INVALID_APK"):
        device(adb_server, farm).install(str(apk), nolaunch=True, silent=True)


def test_a_malformed_model_is_refused_with_its_line(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                                    tmp_path: Path) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_text("package: com.example.bad\nlibrary: workmanager\n")
    r = adb_server.adb("-s", farm.serials[0], "install", str(bad), check=False)
    assert r.returncode == 1
    # streamed, the package manager names it as a phone does a session's file: base.apk
    assert "Failure [INSTALL_PARSE_FAILED_MANIFEST_MALFORMED: base.apk:2: library: " in r.stdout + r.stderr


def test_am_start_w_over_adb(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    d = device(adb_server, farm)
    d.install(str(APPS / "nwm_demo.yaml"), nolaunch=True, silent=True)
    out = d.shell(["am", "start", "-W", "-n", f"{NWM}/.MainActivity"])
    assert out.splitlines() == [
        f"Starting: Intent {{ cmp={NWM}/.MainActivity }}",
        "Status: ok",
        "LaunchState: COLD",
        f"Activity: {NWM}/.MainActivity",
        "TotalTime: 412",
        "WaitTime: 421",
        "Complete",
    ]
    pid = d.shell(["pidof", NWM])
    assert pid.isdigit()
    logs = d.shell(["logcat", "-d", "-s", "ActivityManager"])
    assert f"Start proc {pid}:{NWM}/u0a0 for next-top-activity {{{NWM}/.MainActivity}}" in logs


def test_force_stop_and_reboot_keep_the_app_stopped(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    d = device(adb_server, farm)
    serial = farm.serials[0]
    d.install(str(APPS / "nwm_demo.yaml"), nolaunch=True, silent=True)
    d.shell(["am", "start", "-n", f"{NWM}/.MainActivity"])
    assert d.shell2(["am", "force-stop", NWM]).returncode == 0
    assert d.shell2(["pidof", NWM]).returncode == 1
    client = adb_server.client()
    with disconnect_awaited(client, serial):
        d.reboot()
    client.wait_for(serial, state="device", timeout=TIMEOUT_S)
    wait_boot_completed(d)
    assert "stopped=true" in d.shell(["dumpsys", "package", NWM])
    # no BOOT_COMPLETED for a stopped app: its process did not start
    assert d.shell2(["pidof", NWM]).returncode == 1
    # and a broadcast skips it unless --include-stopped-packages
    out = d.shell(["am", "broadcast", "-a", DIAG, "-p", NWM])
    assert out.splitlines() == [f"Broadcasting: Intent {{ act={DIAG} flg=0x400000 pkg={NWM} }}",
                                "Broadcast completed: result=0"]
    assert d.shell2(["pidof", NWM]).returncode == 1
    d.shell(["am", "broadcast", "-a", DIAG, "-p", NWM, "--include-stopped-packages"])
    assert d.shell2(["pidof", NWM]).returncode == 0


def test_adbutils_app_helpers_and_adb_uninstall(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    d = device(adb_server, farm)
    d.install(str(APPS / "nwm_demo.yaml"), nolaunch=True, silent=True)
    d.app_start(NWM)  # monkey -p PKG -c android.intent.category.LAUNCHER 1
    assert d.shell2(["pidof", NWM]).returncode == 0
    current = d.app_current()
    assert (current.package, current.activity) == (NWM, f"{NWM}.MainActivity")
    assert NWM in d.list_packages()
    d.app_stop(NWM)
    assert d.shell2(["pidof", NWM]).returncode == 1
    d.app_clear(NWM)
    r = adb_server.adb("-s", farm.serials[0], "uninstall", NWM)
    assert r.stdout == "Success\n"
    assert d.shell("pm list packages -3") == ""
