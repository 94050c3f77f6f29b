"""Operations that independently written clients perform against the virtual devices (issue 16).

Clients nobody here wrote, each used as its authors document it:

- **isim** (PyPI, pinned in the dev extra): Microsoft's Python wrapper around ``xcrun simctl``.
  It runs ``xcrun`` from ``PATH``, so a test puts a two-line ``xcrun`` shim in front of
  ``bgtest-xcrun``; verbs isim has no method for (``privacy``, ``pbcopy``/``pbpaste``,
  ``location``, ``keychain``) go through the same shim with ``subprocess``, as a plain wrapper
  script would.
- **facebook-wda** (a runtime dependency): the WebDriverAgent client, against the WDA server.
- **Mobly** (PyPI, pinned in the dev extra): Google's ``AndroidDevice`` against a virtual Android
  device through the real adb server.
- **adb-shell** (PyPI, pinned in the dev extra): a pure-Python client of adbd's own protocol,
  straight to the virtual adbd with no adb server between them.
- **the adb command line**: adb 36 (bundled with adbutils) and, where installed, Debian's adb 29.

Each operation is one call a user of that client makes, with the check its caller would make
on the answer. ``run`` returns one :class:`Outcome` per operation: the share of passing ones is
what ``bench/bench_independent_clients.py`` prints and ``tests/test_independent_clients.py``
holds at 100 %.

Not measured, because a real device fails them the same way (so they say nothing about
likeness): isim's ``DevicePair.list_all`` (it raises on an empty pair list, as on a Mac with no
Apple Watch), Mobly's ``adb.instrument`` (needs an instrumentation APK; no virtual app has one).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IOS_APP = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"
IOS_BID = "dev.brewkits.nwmDemo"
ANDROID_APP = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"
ANDROID_PKG = "dev.brewkits.nwm_demo"

Operation = tuple[str, Callable[[], object]]


@dataclass(frozen=True)
class Outcome:
    client: str
    name: str
    ok: bool
    error: str = ""


def run(client: str, ops: list[Operation]) -> list[Outcome]:
    """Run each operation in order; a failure is recorded with its error and the run goes on."""
    out = []
    for name, fn in ops:
        try:
            fn()
        except Exception as exc:  # any failure of the client is the finding
            last = traceback.extract_tb(exc.__traceback__)[-1]
            out.append(Outcome(client, name, False, f"{type(exc).__name__}: {exc} ({last.name})"))
        else:
            out.append(Outcome(client, name, True))
    return out


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


# ============================================================================ isim + simctl
@contextmanager
def xcrun_on_path(home: Path, shim_dir: Path) -> Iterator[dict[str, str]]:
    """``xcrun`` on ``PATH`` runs the stand-in against ``home`` (what a Mac's xcrun would do);
    the process environment is restored afterwards."""
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "xcrun"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m harness.sim.ios.xcrun "$@"\n')
    shim.chmod(0o755)
    saved = {k: os.environ.get(k) for k in ("PATH", "BGTEST_SIM_HOME", "TZ")}
    os.environ["PATH"] = f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["BGTEST_SIM_HOME"] = str(home)
    os.environ["TZ"] = "UTC"
    try:
        yield dict(os.environ)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _simctl(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["xcrun", "simctl", *argv], capture_output=True, text=True, timeout=60)


def isim_operations(work: Path) -> list[Operation]:
    """isim's API from listing to deleting a device it created, then the verbs it lacks."""
    import isim

    media = work / "beach.jpg"
    media.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    shot = work / "shot.png"
    st: dict[str, Any] = {}

    def booted() -> isim.Device:
        return next(d for ds in isim.Device.list_all().values() for d in ds if d.state == "Booted")

    def create() -> None:
        dt = isim.DeviceType.from_name("iPhone 15")
        rt = isim.Runtime.from_name("iOS 17.2")
        st["new"] = isim.Device.create("bgtest probe", dt, rt)
        check(st["new"].state == "Shutdown" and st["new"].name == "bgtest probe", repr(st["new"]))

    def rename() -> None:
        st["new"].rename("bgtest probe 2")
        st["new"].refresh_state()
        check(st["new"].name == "bgtest probe 2", st["new"].name)

    def clone() -> None:
        udid = st["new"].clone("bgtest clone")
        check(isim.Device.from_identifier(udid).name == "bgtest clone", udid)
        st["clone"] = udid

    def boot() -> None:
        st["new"].boot()
        st["new"].refresh_state()
        check(st["new"].state == "Booted", st["new"].state)

    def launch() -> None:
        out = st["dev"].launch(IOS_BID)
        check(out.startswith(f"{IOS_BID}: ") and out.split(": ")[1].strip().isdigit(), out)

    def container() -> None:
        path = st["dev"].get_app_container(IOS_BID)
        check(path.endswith(".app") and "\n" not in path, path)
        data = st["dev"].get_app_container(IOS_BID, "data")
        check("/Containers/Data/Application/" in data, data)

    def screenshot() -> None:
        st["dev"].screenshot(str(shot))
        head = shot.read_bytes()[:24]
        check(head.startswith(b"\x89PNG") and struct.unpack(">II", head[16:24]) == (1179, 2556), repr(head))

    def runtime_images() -> None:
        images = isim.Runtime.list_disk_images()
        check({i["runtimeIdentifier"] for i in images} >= {"com.apple.CoreSimulator.SimRuntime.iOS-17-2"},
              repr(images))

    def privacy(action: str, *rest: str) -> Callable[[], None]:
        def go() -> None:
            r = _simctl("privacy", st["dev"].udid, action, *rest)
            check(r.returncode == 0 and r.stdout == r.stderr == "", f"{r.returncode} {r.stderr}")
        return go

    def privacy_bad_service() -> None:
        r = _simctl("privacy", st["dev"].udid, "grant", "nosuchservice", IOS_BID)
        check(r.returncode != 0 and "Usage: simctl privacy" in r.stderr, f"{r.returncode} {r.stderr}")

    def erase() -> None:
        st["new"].shutdown()
        st["new"].erase()

    def pasteboard() -> None:
        copy = subprocess.run(["xcrun", "simctl", "pbcopy", st["dev"].udid], input="from a script",
                              capture_output=True, text=True, timeout=60)
        check(copy.returncode == 0, copy.stderr)
        paste = _simctl("pbpaste", st["dev"].udid)
        check(paste.stdout == "from a script", repr(paste.stdout))

    def location() -> None:
        for argv in (("set", "37.3349,-122.0090"), ("clear",)):
            r = _simctl("location", st["dev"].udid, *argv)
            check(r.returncode == 0 and r.stdout == "", f"{r.returncode} {r.stderr}")

    def keychain() -> None:
        pem = work / "ca.pem"
        pem.write_text("-----BEGIN CERTIFICATE-----\n")
        for argv in (("add-root-cert", str(pem)), ("reset",)):
            r = _simctl("keychain", st["dev"].udid, *argv)
            check(r.returncode == 0, f"{r.returncode} {r.stderr}")

    def delete_created() -> None:
        st["new"].delete()
        isim.Device.from_identifier(st["clone"]).delete()
        isim.Device.delete_unavailable()
        udids = {d.udid for ds in isim.Device.list_all().values() for d in ds}
        check(st["new"].udid not in udids and st["clone"] not in udids, repr(udids))

    return [
        ("Runtime.list_all", lambda: check(
            any(r.name == "iOS 17.2" for r in isim.Runtime.list_all()), "iOS 17.2")),
        ("DeviceType.list_all", lambda: check(
            any(t.name == "iPhone 15" for t in isim.DeviceType.list_all()), "iPhone 15")),
        ("Device.list_all", lambda: st.__setitem__("dev", booted())),
        ("Device.from_name", lambda: check(
            isim.Device.from_name("iPhone 15").udid == st["dev"].udid, "udid")),
        ("Device.runtime", lambda: check(st["dev"].runtime().version == "17.2", "runtime")),
        ("Device.device_type", lambda: check(st["dev"].device_type().name == "iPhone 15", "type")),
        ("Device.getenv HOME", lambda: check(st["dev"].getenv("HOME").endswith("/data"), "HOME")),
        ("Device.getenv SIMULATOR_UDID", lambda: check(
            st["dev"].getenv("SIMULATOR_UDID") == st["dev"].udid, "udid")),
        ("Device.install", lambda: st["dev"].install(str(IOS_APP))),
        ("Device.launch", launch),
        ("Device.get_app_container", container),
        ("Device.openurl", lambda: st["dev"].openurl("nwmdemo://enqueue/upload")),
        ("simctl spawn launchctl list", lambda: check(  # isim's spawn passes no argv
            "UIKitApplication:" in _simctl("spawn", st["dev"].udid, "launchctl", "list").stdout, "list")),
        ("Device.terminate", lambda: st["dev"].terminate(IOS_BID)),
        ("Device.screenshot", screenshot),
        ("Device.logverbose enable", lambda: st["dev"].logverbose(True)),
        ("Device.logverbose disable", lambda: st["dev"].logverbose(False)),
        ("Device.addmedia", lambda: st["dev"].addmedia(str(media))),
        ("Device.create", create),
        ("Device.rename", rename),
        ("Device.clone", clone),
        ("Device.boot", boot),
        ("Device.boot_status", lambda: st["new"].boot_status()),
        ("Device.shutdown+erase", erase),
        ("Device.delete", delete_created),
        ("Device.uninstall", lambda: st["dev"].uninstall(IOS_BID)),
        ("Runtime.list_disk_images", runtime_images),
        ("simctl privacy grant", privacy("grant", "photos", IOS_BID)),
        ("simctl privacy revoke", privacy("revoke", "location", IOS_BID)),
        ("simctl privacy reset", privacy("reset", "all")),
        ("simctl privacy bad service", privacy_bad_service),
        ("simctl pbcopy + pbpaste", pasteboard),
        ("simctl location set + clear", location),
        ("simctl keychain add-root-cert + reset", keychain),
    ]


# ============================================================================= facebook-wda
def wda_operations(url: str) -> list[Operation]:
    """facebook-wda's Client/Session API, a session on the app and one on a built-in app."""
    import wda

    c = wda.Client(url)
    st: dict[str, Any] = {}

    def session() -> None:
        st["s"] = c.session(IOS_BID)
        check(st["s"].bundle_id == IOS_BID, st["s"].bundle_id)

    def health() -> None:
        h = c.session("com.apple.Health")
        check(c.app_current()["bundleId"] == "com.apple.Health", repr(c.app_current()))
        check(h.app_state("com.apple.Health").value == 4, "state")
        st["s"] = c.session(IOS_BID)  # back to the app under test

    def element() -> Any:
        return st["s"](label="NWM Demo").get(timeout=5)

    def hid_home() -> None:
        st["s"].press_duration("home", 0.1)  # POST /wda/performIoHidEvent
        check(c.app_current()["bundleId"] == "com.apple.springboard", repr(c.app_current()))

    def hid_power() -> None:
        st["s"].press_duration("power", 0.1)
        check(c.locked() is True, "locked")
        c.unlock()

    def scroll_missing() -> None:
        try:
            element()._wda_req("post", "/scroll", {"name": "no such child"})
        except wda.WDARequestError as exc:
            check("didn't match any elements" in str(exc), str(exc))
        else:
            raise AssertionError("scroll to a missing child succeeded")

    return [
        ("status", lambda: check(c.status()["ready"] is True, "ready")),
        ("healthcheck", lambda: c.healthcheck()),
        ("session(bundle_id)", session),
        ("app_state", lambda: check(st["s"].app_state(IOS_BID).value == 4, "foreground")),
        ("app_current", lambda: check(
            set(c.app_current()) >= {"pid", "bundleId", "name", "processArguments"}, repr(c.app_current()))),
        ("app_list", lambda: check(any(a["bundleId"] == IOS_BID for a in st["s"].app_list()), "list")),
        ("window_size", lambda: check(tuple(st["s"].window_size()) == (393, 852), "size")),
        ("scale", lambda: check(st["s"].scale == 3, "scale")),
        ("screenshot raw", lambda: check(c.screenshot(format="raw").startswith(b"\x89PNG"), "png")),
        ("source xml", lambda: check("XCUIElementTypeApplication" in c.source(), "xml")),
        ("source json", lambda: check(c.source(format="json")["type"] == "Application", "json")),
        ("accessible source", lambda: check(isinstance(c.source(accessible=True), dict), "dict")),
        ("element get", element),
        ("element bounds", lambda: check(element().bounds.width > 0, "bounds")),
        ("element label", lambda: check(element().label == "NWM Demo", "label")),
        ("element visible", lambda: check(element().visible is True, "visible")),
        ("element enabled", lambda: check(element().enabled is True, "enabled")),
        ("element scroll visible", lambda: element().scroll()),
        ("element scroll down", lambda: element().scroll("down", 0.5)),
        ("element scroll to missing child", scroll_missing),
        ("element tap_hold", lambda: element().tap_hold(0.5)),
        ("element tap", lambda: element().tap()),
        ("tap", lambda: st["s"].tap(10, 400)),
        ("double_tap", lambda: st["s"].double_tap(10, 400)),
        ("tap_hold", lambda: st["s"].tap_hold(10, 400, 0.5)),
        ("swipe", lambda: st["s"].swipe(200, 600, 200, 300, 0.2)),
        ("press home", lambda: st["s"].press("home")),
        ("press_duration home (performIoHidEvent)", hid_home),
        ("press_duration power (performIoHidEvent)", hid_power),
        ("lock/unlock/locked", lambda: (c.lock(), check(c.locked() is True, "locked"), c.unlock())),
        ("app_launch", lambda: st["s"].app_launch(IOS_BID)),
        ("battery_info", lambda: check(set(st["s"].battery_info()) == {"level", "state"}, "battery")),
        ("device_info", lambda: check(st["s"].device_info()["uuid"] != "", "info")),
        ("orientation", lambda: check(st["s"].orientation == "PORTRAIT", "orientation")),
        ("appium_settings", lambda: check("snapshotMaxDepth" in st["s"].appium_settings(), "settings")),
        ("clipboard", lambda: (
            st["s"].set_clipboard("bgtest"), check(st["s"].get_clipboard() == "bgtest", "clip"))),
        ("open_url", lambda: st["s"].open_url("nwmdemo://enqueue/upload")),
        ("alert exists", lambda: check(st["s"].alert.exists is False, "alert")),
        ("deactivate", lambda: st["s"].deactivate(0.5)),
        ("session of a built-in app (Health)", health),
        ("app_terminate", lambda: check(st["s"].app_terminate(IOS_BID).value is True, "terminated")),
        ("home", lambda: c.home()),
        ("close", lambda: st["s"].close()),
    ]


# ==================================================================================== Mobly
def mobly_operations(serial: str, log_dir: Path) -> tuple[list[Operation], Callable[[], None]]:
    """Mobly's AndroidDevice as a Mobly test uses it; returns the operations and a teardown."""
    from mobly.controllers import android_device

    st: dict[str, Any] = {}

    def create() -> None:
        st["ads"] = android_device.get_instances_with_configs([{"serial": serial}])
        st["ad"] = st["ads"][0]
        st["ad"].log_path = str(log_dir)

    def bug_report() -> None:
        path = st["ad"].take_bug_report(test_name="probe", destination=str(log_dir))
        check(path is not None and Path(path).stat().st_size > 0, repr(path))

    def reboot() -> None:
        before = st["ad"].adb.shell(["cat", "/proc/sys/kernel/random/boot_id"])
        st["ad"].reboot()
        after = st["ad"].adb.shell(["cat", "/proc/sys/kernel/random/boot_id"])
        check(before != after, "the same boot after reboot")

    def push_pull() -> None:
        src, back = log_dir / "probe.txt", log_dir / "probe.back"
        src.write_text("bgtest\n")
        ad().adb.push([str(src), "/data/local/tmp/probe.txt"])
        ad().adb.pull(["/data/local/tmp/probe.txt", str(back)])
        check(back.read_text() == "bgtest\n", back.read_text())

    def install() -> None:
        apk = log_dir / "nwm_demo.apk"  # the virtual device installs app models; adb wants .apk
        shutil.copy(ANDROID_APP, apk)
        ad().adb.install(["-r", "-g", str(apk)])
        check(f"package:{ANDROID_PKG}" in ad().adb.shell(["pm", "list", "packages"]).decode(), "installed")

    def logcat() -> None:
        # Mobly's logcat service cleared the log when it came back after the reboot
        ad().adb.shell(["log", "-t", "BgtestProbe", "after the reboot"])
        out = ad().adb.logcat(["-d", "-s", "BgtestProbe"]).decode()
        check("BgtestProbe: after the reboot" in out, out)

    def teardown() -> None:
        if "ads" in st:
            android_device.destroy(st["ads"])

    ad = lambda: st["ad"]  # noqa: E731
    return [
        ("get_instances_with_configs", create),
        ("build_info", lambda: check(ad().build_info["build_version_sdk"].isdigit(), "sdk")),
        ("model", lambda: check(bool(ad().model), "model")),
        ("is_emulator", lambda: check(ad().is_emulator is False, "emulator")),
        ("is_boot_completed", lambda: check(ad().is_boot_completed(), "boot")),
        ("adb.getprop", lambda: check(ad().adb.getprop("ro.build.version.sdk").isdigit(), "prop")),
        ("adb.getprops", lambda: check(
            len(ad().adb.getprops(["ro.product.model", "ro.build.id"])) == 2, "props")),
        ("adb.current_user_id", lambda: check(ad().adb.current_user_id == 0, "user")),
        ("adb.shell", lambda: check(ad().adb.shell(["echo", "hi"]) == b"hi\n", "echo")),
        ("adb.has_shell_command", lambda: check(ad().adb.has_shell_command("am"), "am")),
        ("start services (logcat)", lambda: android_device._start_services_on_ads(st["ads"])),
        ("take_screenshot", lambda: check(
            Path(ad().take_screenshot(str(log_dir))).stat().st_size > 0, "png")),
        ("take_bug_report", bug_report),
        ("reboot (services paused and resumed)", reboot),
        ("wait_for_boot_completion", lambda: ad().wait_for_boot_completion(timeout=60)),
        ("list_adb_devices", lambda: check(serial in android_device.list_adb_devices(), "listed")),
        ("adb.push + adb.pull", push_pull),
        ("adb.install", install),
        ("adb.logcat -d", logcat),
        ("adb.uninstall", lambda: ad().adb.uninstall([ANDROID_PKG])),
        ("adb.wait_for_device", lambda: ad().adb.wait_for_device()),
        ("adb.forward", lambda: check(ad().adb.forward(["tcp:0", "tcp:8080"]).strip().isdigit(), "port")),
        ("adb.reverse", lambda: ad().adb.reverse(["tcp:18080", "tcp:18080"])),
        ("stop services", lambda: ad().services.stop_all()),
    ], teardown


# ================================================================================= adb-shell
def adb_shell_operations(port: int, key: Path, work: Path) -> tuple[list[Operation], Callable[[], None]]:
    """adb-shell's AdbDeviceTcp straight to the virtual adbd (no adb server): strict about every
    packet and about the device's CLSE after each stream. ``key`` (and ``key.pub``, which the
    device trusts) sign the AUTH token."""
    from adb_shell.adb_device import AdbDeviceTcp
    from adb_shell.auth.sign_cryptography import CryptographySigner

    quick = {"transport_timeout_s": 5.0, "read_timeout_s": 5.0}
    dev = AdbDeviceTcp("127.0.0.1", port, default_transport_timeout_s=5.0)
    src, back = work / "direct.bin", work / "direct.back"
    src.write_bytes(bytes(range(256)) * 512)

    def connect() -> None:
        dev.connect(rsa_keys=[CryptographySigner(str(key))], transport_timeout_s=5.0, auth_timeout_s=5.0)
        check(dev.available, "not available after AUTH")

    def stat() -> None:
        mode, size, _mtime = dev.stat("/data/local/tmp/direct.bin", **quick)
        check(size == src.stat().st_size and mode & 0o170000 == 0o100000, f"{mode:o} {size}")

    def pull() -> None:
        dev.pull("/data/local/tmp/direct.bin", str(back), **quick)
        check(back.read_bytes() == src.read_bytes(), "pulled bytes differ")

    def root() -> None:
        dev.root(**quick)  # a user build refuses: the next shell is still the shell user
        uid = dev.shell("id -u", **quick).strip()
        check(uid == "2000", uid)

    return [
        ("connect (AUTH with the key)", connect),
        ("shell", lambda: check(dev.shell("echo hi", **quick) == "hi\n", "echo")),
        ("shell getprop", lambda: check(
            dev.shell("getprop ro.build.type", **quick).strip() == "user", "type")),
        ("exec_out", lambda: check(dev.exec_out("echo raw", **quick) == "raw\n", "exec_out")),
        ("streaming_shell", lambda: check(
            "".join(dev.streaming_shell("seq 3", **quick)) == "1\n2\n3\n", "seq")),
        ("push", lambda: dev.push(str(src), "/data/local/tmp/direct.bin", **quick)),
        ("stat", stat),
        ("list", lambda: check(any(e.filename == b"direct.bin" for e in dev.list("/data/local/tmp", **quick)),
                               "listed")),
        ("pull", pull),
        ("root on a user build", root),
        ("shell after sync and root", lambda: check(dev.shell("echo again", **quick) == "again\n", "again")),
    ], dev.close


# ============================================================================= the adb CLI
#: Debian's adb (platform-tools 29), where ``apt-get install adb`` put it: an older client that
#: takes other paths through the protocol.
DEBIAN_ADB = Path("/usr/lib/android-sdk/platform-tools/adb")


def adb_cli_operations(server: Any, serial: str, work: Path) -> list[Operation]:
    """The ``adb`` command line (``server``: a ``harness.devices.adb_server.AdbServer`` whose binary
    is the client under test), as a script or a person types it."""

    def adb(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        r = server.adb("-s", serial, *args, check=False, timeout=60)
        if ok:
            check(r.returncode == 0, f"adb {' '.join(args)}: exit {r.returncode}: {r.stderr}")
        return r

    src, back = work / "cli.bin", work / "cli.back"
    src.write_bytes(bytes(range(256)) * 64)
    apk = work / "nwm_demo.apk"
    shutil.copy(ANDROID_APP, apk)

    def exit_code() -> None:
        r = adb("shell", "echo out; echo err >&2; exit 5", ok=False)
        check((r.returncode, r.stdout, r.stderr) == (5, "out\n", "err\n"), repr(r))

    def push_pull() -> None:
        adb("push", str(src), "/data/local/tmp/cli.bin")
        adb("pull", "/data/local/tmp/cli.bin", str(back))
        check(back.read_bytes() == src.read_bytes(), "pulled bytes differ")

    def push_system() -> None:
        r = adb("push", str(src), "/system/cli.bin", ok=False)
        check(r.returncode == 1 and "Read-only file system" in r.stdout + r.stderr, repr(r))  # adb 29: stdout

    def root() -> None:
        r = adb("root", ok=False)
        check("adbd cannot run as root in production builds" in r.stdout + r.stderr, repr(r))

    def screencap() -> None:
        raw = subprocess.run([server.binary, "-P", str(server.port), "-s", serial, "exec-out", "screencap",
                              "-p"], capture_output=True, env=server.env, timeout=60)
        check(raw.returncode == 0 and raw.stdout.startswith(b"\x89PNG"), repr(raw.stdout[:16]))

    def bugreport() -> None:
        adb("bugreport", str(work))
        check(any(p.suffix == ".zip" for p in work.iterdir()), "no zip pulled")

    def reboot() -> None:
        before = adb("shell", "cat /proc/sys/kernel/random/boot_id").stdout
        adb("reboot")
        adb("wait-for-device")
        check(adb("shell", "getprop sys.boot_completed").stdout.strip() == "1", "boot_completed")
        check(adb("shell", "cat /proc/sys/kernel/random/boot_id").stdout != before, "the same boot")

    return [
        ("devices -l", lambda: check(f"{serial}" in server.adb("devices", "-l").stdout, "listed")),
        ("get-state", lambda: check(adb("get-state").stdout.strip() == "device", "state")),
        ("get-serialno", lambda: check(adb("get-serialno").stdout.strip() == serial, "serial")),
        ("shell echo", lambda: check(adb("shell", "echo hi").stdout == "hi\n", "echo")),
        ("shell exit code and stderr", exit_code),
        ("features", lambda: check("shell_v2" in adb("features").stdout, "shell_v2")),
        ("push + pull", push_pull),
        ("push into /system refused", push_system),
        ("install -r", lambda: check("Success" in adb("install", "-r", str(apk)).stdout, "installed")),
        ("pm list packages", lambda: check(ANDROID_PKG in adb("shell", "pm list packages").stdout, "pm")),
        ("uninstall", lambda: check(adb("uninstall", ANDROID_PKG).stdout.strip() == "Success", "gone")),
        ("root on a user build", root),
        ("forward tcp:0", lambda: check(
            adb("forward", "tcp:0", "tcp:8080").stdout.strip().isdigit(), "port")),
        ("reverse + --list", lambda: (adb("reverse", "tcp:18081", "tcp:18081"), check(
            "tcp:18081" in adb("reverse", "--list").stdout, "listed"))),
        ("exec-out screencap -p", screencap),
        ("logcat -d", lambda: (adb("shell", "log -t BgtestCli hello"), check(
            "BgtestCli: hello" in adb("logcat", "-d", "-s", "BgtestCli").stdout, "line"))),
        ("bugreport", bugreport),
        ("reboot && wait-for-device", reboot),
    ]


def share(outcomes: list[Outcome]) -> float:
    return sum(o.ok for o in outcomes) / len(outcomes) if outcomes else 0.0
