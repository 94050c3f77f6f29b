"""PackageManager and the pm command, in process (golden outputs)."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"


def sh(device: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(device, line)
    return rc, out.decode(), err.decode()


@pytest.fixture()
def device() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(app_models=[APPS / "nwm_demo.yaml"])


def push(device: VirtualAndroidDevice, path: str, data: bytes) -> None:
    device.fs.write(path, data)


def test_list_third_party_with_uid_and_version(device: VirtualAndroidDevice) -> None:
    assert sh(device, "pm list packages -3 -U --show-versioncode") == (
        0, f"package:{NWM} versionCode:127 uid:10000\n", "")


def test_list_includes_system_packages_sorted_and_filters(device: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(device, "pm list packages")
    names = [line.removeprefix("package:") for line in out.splitlines()]
    assert rc == 0 and names == sorted(names)
    assert {"android", "com.android.shell", "com.android.settings", NWM} <= set(names)
    rc, out, _ = sh(device, "pm list packages -s")
    assert NWM not in out and "package:android\n" in out
    assert sh(device, "pm list packages settings")[1] == (
        "package:com.android.providers.settings\npackage:com.android.settings\n")
    rc, out, _ = sh(device, "pm list packages -f nwm")
    path = sh(device, f"pm path {NWM}")[1].strip().removeprefix("package:")
    assert out == f"package:{path}={NWM}\n"
    assert path.startswith("/data/app/~~") and path.endswith(f"/{NWM}-" + path.split(f"/{NWM}-")[1])
    assert path.endswith("==/base.apk")
    assert sh(device, "pm list packages --uid 2000") == (0, "package:com.android.shell uid:2000\n", "")


def test_list_bad_arguments(device: VirtualAndroidDevice) -> None:
    assert sh(device, "pm list packages -z") == (255, "Error: Unknown option: -z\n", "")
    assert sh(device, "pm list") == (255, "Error: didn't specify type of data to list\n", "")


def test_path_of_unknown_package_prints_nothing_rc1(device: VirtualAndroidDevice) -> None:
    assert sh(device, "pm path no.such.pkg") == (1, "", "")
    assert sh(device, "pm path android") == (0, "package:/system/framework/framework-res.apk\n", "")
    rc, _out, err = sh(device, "pm path")
    assert rc == 255 and err.startswith("Exception occurred while executing 'path':\n")


def test_install_an_app_model_then_update_keeps_uid(device: VirtualAndroidDevice) -> None:
    push(device, "/data/local/tmp/wm.yaml", (APPS / "wm_plain.yaml").read_bytes())
    assert sh(device, "pm install -r -t /data/local/tmp/wm.yaml") == (0, "Success\n", "")
    app = device.packages.get("com.example.wmplain")
    assert app is not None and app.uid == 10001 and app.stopped and app.not_launched
    first = app.first_install_ms
    device.clock.advance(60_000)
    assert sh(device, "pm install /data/local/tmp/wm.yaml") == (0, "Success\n", "")
    again = device.packages.get("com.example.wmplain")
    assert again is not None and again.uid == 10001 and again.first_install_ms == first
    assert again.last_update_ms == first + 60_000


def test_install_streamed_from_stdin(device: VirtualAndroidDevice) -> None:
    data = (APPS / "wm_plain.yaml").read_bytes()
    push(device, "/data/local/tmp/s.yaml", data)
    assert sh(device, f"cat /data/local/tmp/s.yaml | pm install -S {len(data)}") == (0, "Success\n", "")
    assert device.packages.get("com.example.wmplain") is not None


def test_a_real_apk_is_refused_as_invalid(device: VirtualAndroidDevice) -> None:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00")
        z.writestr("classes.dex", b"dex\n035\x00")
    push(device, "/data/local/tmp/app.apk", buf.getvalue())
    rc, out, err = sh(device, "pm install -r -t /data/local/tmp/app.apk")
    assert rc == 1 and err == ""
    assert out.startswith("Failure [INSTALL_FAILED_INVALID_APK: Failed to parse /data/app/vmdl")
    assert "/data/local/tmp/app.apk is a zip APK" in out and out.endswith("]\n")
    push(device, "/data/local/tmp/notes.txt", b"hello world\n")
    assert sh(device, "pm install /data/local/tmp/notes.txt")[1].startswith(
        "Failure [INSTALL_FAILED_INVALID_APK: ")


def test_a_malformed_app_model_is_refused_with_file_and_line(device: VirtualAndroidDevice) -> None:
    bad = b"package: com.example.bad\nwork:\n  a:\n    worker: missing\n"
    push(device, "/data/local/tmp/bad.yaml", bad)
    assert sh(device, "pm install /data/local/tmp/bad.yaml") == (
        1,
        "Failure [INSTALL_PARSE_FAILED_MANIFEST_MALFORMED: /data/local/tmp/bad.yaml:4: "
        "work 'a': unknown worker 'missing']\n",
        "",
    )
    assert device.packages.get("com.example.bad") is None


def test_downgrade_is_refused(device: VirtualAndroidDevice) -> None:
    old = (APPS / "nwm_demo.yaml").read_bytes().replace(b"version_code: 127", b"version_code: 5")
    push(device, "/data/local/tmp/old.yaml", old)
    assert sh(device, "pm install -r /data/local/tmp/old.yaml") == (
        1,
        "Failure [INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code 5 is older "
        "than current 127]\n",
        "",
    )


def test_install_of_a_missing_file(device: VirtualAndroidDevice) -> None:
    rc, out, err = sh(device, "pm install /sdcard/nope.apk")
    assert (rc, out) == (255, "")
    assert err.splitlines()[:5] == [
        "Error: Unable to open file: /sdcard/nope.apk",
        "Consider using a file under /data/local/tmp/",
        "Error: Can't open file: /sdcard/nope.apk",
        "Exception occurred while executing 'install':",
        "java.lang.IllegalArgumentException: Error: Can't open file: /sdcard/nope.apk",
    ]


def test_uninstall_and_clear(device: VirtualAndroidDevice) -> None:
    events: list[tuple[str, str]] = []
    device.bus.subscribe("package_cleared", lambda package: events.append(("cleared", package)))
    device.bus.subscribe("package_removed", lambda package: events.append(("removed", package)))
    assert sh(device, f"pm clear {NWM}") == (0, "Success\n", "")
    assert sh(device, "pm clear no.such.pkg") == (1, "", "Failed\n")
    assert sh(device, "pm clear") == (1, "", "Error: no package specified\n")
    assert sh(device, f"pm uninstall {NWM}") == (0, "Success\n", "")
    assert sh(device, f"pm uninstall {NWM}") == (1, "Failure [DELETE_FAILED_INTERNAL_ERROR]\n", "")
    assert events == [("cleared", NWM), ("removed", NWM)]
    assert sh(device, "pm list packages -3") == (0, "", "")


def test_dump_has_the_lines_tools_parse(device: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(device, f"pm dump {NWM}")
    assert rc == 0
    assert "    versionCode=127 minSdk=21 targetSdk=34\n" in out
    assert "    versionName=1.2.7\n" in out
    assert "      firstInstallTime=2026-01-05 09:00:00\n" in out
    assert " stopped=true notLaunched=true " in out
    assert "signatures=PackageSignatures{" in out and "pkgFlags=[ DEBUGGABLE HAS_CODE" in out
    sh(device, f"am start -n {NWM}/.MainActivity")
    assert " stopped=false notLaunched=false " in sh(device, f"pm dump {NWM}")[1]


def test_set_stopped_state(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    assert sh(device, f"pm set-stopped-state {NWM} true") == (0, "", "")
    assert device.packages.get(NWM).stopped  # type: ignore[union-attr]
    assert device.activity.process(NWM) is None


def test_preinstalled_bad_model_raises_with_line(tmp_path: Path) -> None:
    from harness.apps.errors import AppModelError

    bad = tmp_path / "bad.yaml"
    bad.write_text("package: x.y\nversion_code: zero\n")
    with pytest.raises(AppModelError, match=r"bad.yaml:2: version_code"):
        VirtualAndroidDevice(app_models=[bad])


def test_update_kills_the_running_process_but_does_not_stop_the_app(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    pid = device.activity.process(NWM).pid
    push(device, "/data/local/tmp/nwm.yaml", (APPS / "nwm_demo.yaml").read_bytes())
    assert sh(device, "pm install -r /data/local/tmp/nwm.yaml") == (0, "Success\n", "")
    assert device.activity.process(NWM) is None and device.procs.get(pid) is None
    assert not device.packages.get(NWM).stopped  # type: ignore[union-attr]
    log = [e.message for e in device.logd.entries(["main"]) if e.tag == "ActivityManager"]
    assert f"Killing {pid}:{NWM}/u0a0 (adj 0): stop {NWM} due to installPackageLI" in log


def test_resolve_activity_and_system_package_dump(device: VirtualAndroidDevice) -> None:
    line = f"cmd package resolve-activity --brief -c android.intent.category.LAUNCHER {NWM}"
    assert sh(device, line) == (
        0,
        f"priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false\n{NWM}/.MainActivity\n",
        "",
    )
    assert sh(device, "pm resolve-activity --components no.such") == (0, "No activity found\n", "")
    _, out, _ = sh(device, "dumpsys package com.android.shell")
    assert "    versionName=14\n" in out and "pkgFlags=[ SYSTEM " in out


def test_streamed_install_reads_exactly_size_bytes_without_eof(device: VirtualAndroidDevice) -> None:
    """adb's streamed install (``cmd package install -S N``) keeps the stream open after N bytes."""
    import asyncio

    from harness.sim.android.procio import InputSource, OutputSink
    from harness.sim.android.shell.shell import run_command_line

    data = (APPS / "wm_plain.yaml").read_bytes()

    async def go() -> tuple[int, bytes]:
        stdin = InputSource(eof=False)
        stdin.feed(data)  # no feed_eof(): the host waits for the answer first
        out, err = OutputSink(), OutputSink()
        rc = await asyncio.wait_for(
            run_command_line(device, f"cmd package install -r -S {len(data)}", stdin, out, err), 5)
        return rc, out.getvalue()

    assert asyncio.run(go()) == (0, b"Success\n")
