"""The virtual phone's memory and battery accounting: dumpsys meminfo / procstats / batterystats,
device profiles, and the low-memory killer ending a worker on a 1 GB phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.profiles import PROFILES, UnknownProfileError, classify, get_profile
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync
from harness.sizes import SizeError, format_size_kb, parse_size_kb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"
FWM = "dev.fluttercommunity.workmanager_example"


def sh(device: VirtualAndroidDevice, line: str) -> str:
    rc, out, err = run_sync(device, line)
    assert rc == 0, (line, err)
    return out.decode()


def phone(profile: str | None = None) -> VirtualAndroidDevice:
    return VirtualAndroidDevice(app_models=[FIXTURES / "nwm_demo.yaml", FIXTURES / "fwm_demo.yaml"],
                                profile=profile)


def start(device: VirtualAndroidDevice, link: str, home: bool = True) -> None:
    sh(device, f"am start -a android.intent.action.VIEW -d {link}")
    if home:
        sh(device, "input keyevent 3")


# --------------------------------------------------------------------------- sizes
def test_sizes_parse_as_android_counts_them() -> None:
    assert parse_size_kb("45MB") == 45 * 1024
    assert parse_size_kb("512KB") == 512
    assert parse_size_kb("1.5GB") == int(1.5 * 1024 * 1024)
    assert parse_size_kb(50) == 50 * 1024  # a bare number is MB
    assert format_size_kb(46080) == "45MB" and format_size_kb(8396) == "8.2MB"
    for bad in ("lots", "-1MB", "1e9GB", True):
        with pytest.raises(SizeError):
            parse_size_kb(bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- meminfo
def test_meminfo_whole_system_lists_processes_and_ram_totals() -> None:
    out = sh(phone(), "dumpsys meminfo")
    assert out.startswith("Applications Memory Usage (in Kilobytes):\nUptime: ")
    assert re.search(r"^\s+\d{1,3}(,\d{3})*K: system \(pid \d+\)$", out, re.M)
    assert "Total PSS by OOM adjustment:" in out and "Total PSS by category:" in out
    assert re.search(r"^Total RAM: 7,907,000K \(status normal\)$", out, re.M)
    assert "   Tuning: 256 (large 512), oom   322,560K, restore limit   107,520K (high-end-gfx)" in out


def test_meminfo_of_an_app_grows_while_a_dart_worker_runs() -> None:
    device = phone()
    assert sh(device, f"dumpsys meminfo {NWM}").endswith(f"No process found for: {NWM}\n")
    start(device, "nwmdemo://enqueue/upload")  # a native worker, 5 s
    native = _total_pss(sh(device, f"dumpsys meminfo {NWM}"))
    sh(device, "cmd bgtest clock advance 10s")
    idle = _total_pss(sh(device, f"dumpsys meminfo {NWM}"))
    start(device, "nwmdemo://enqueue/flaky")  # DartCallbackWorker: the engine comes with it
    dart = _total_pss(sh(device, f"dumpsys meminfo {NWM}"))
    assert idle < native < idle + 6 * 1024  # a native worker: a few MB (deployment guide: 2-5 MB)
    assert dart - idle >= 30 * 1024  # a Dart worker: the FlutterEngine (guide: 30-50 MB)
    detail = sh(device, f"dumpsys meminfo {NWM}")
    assert re.search(rf"\*\* MEMINFO in pid \d+ \[{re.escape(NWM)}\] \*\*", detail)
    assert "                   Pss  Private  Private  SwapPss      Rss     Heap     Heap     Heap" in detail
    assert re.search(r"^ {11}Java Heap: +\d+ +\d+$", detail, re.M)


def _total_pss(text: str) -> int:
    m = re.search(r"TOTAL PSS:\s+(\d+)", text)
    assert m, text
    return int(m.group(1))


def test_meminfo_bad_option_is_answered_like_ams() -> None:
    assert "Unknown argument: --bogus; use -h for help" in sh(phone(), "dumpsys meminfo --bogus")


# ----------------------------------------------------------------------- procstats
def test_procstats_keeps_the_peak_pss_of_work_that_has_ended() -> None:
    device = phone()
    start(device, "nwmdemo://enqueue/flaky")
    sh(device, "cmd bgtest clock advance 5m")
    out = sh(device, f"dumpsys procstats {NWM}")
    m = re.search(rf"  \* {re.escape(NWM)} / u0a\d+ / v127:\n +TOTAL: [\d.]+% \((\S+?)MB-\S+?-(\d+)MB/", out)
    assert m, out
    assert int(m.group(2)) >= 60  # the Dart engine's peak stays in the samples
    assert re.search(r"^ +Service: [\d.]+% \(", out, re.M)
    assert "Run time Stats:" in out
    assert sh(device, "dumpsys procstats --reset") == "Process stats reset.\n"
    after = sh(device, "dumpsys procstats")  # the idle process is still there, the peak is gone
    assert re.search(r"TOTAL: 0\.00% \(34MB-34MB-34MB/", after), after


# -------------------------------------------------------------------- batterystats
def test_batterystats_counts_nothing_on_the_charger() -> None:
    device = phone()
    assert sh(device, "dumpsys batterystats --reset") == "Battery stats reset.\n"
    start(device, "nwmdemo://enqueue/upload")
    sh(device, "cmd bgtest clock advance 1m")
    out = sh(device, f"dumpsys batterystats --charged {NWM}")
    assert "  System starts: 0, currently on battery: false" in out
    assert "  Time on battery: 0ms (0.0%) realtime" in out
    assert "UID u0a" not in out


def test_batterystats_charges_the_worker_to_its_uid_on_battery() -> None:
    device = phone()
    sh(device, "dumpsys battery unplug")
    sh(device, "dumpsys batterystats --reset")
    start(device, "nwmdemo://enqueue/chain-download")  # 8 s download, then compress, upload
    sh(device, "cmd bgtest clock advance 1h")
    out = sh(device, f"dumpsys batterystats --charged {NWM}")
    uid = device.packages.get(NWM).uid - 10_000
    assert "currently on battery: true" in out
    assert re.search(r"^  Time on battery: 1h 0m 0s 0ms \(100\.0%\) realtime", out, re.M)
    assert "  Estimated power use (mAh):\n    Capacity: 4575, Computed drain: " in out
    line = re.search(rf"^    UID u0a{uid}: ([\d.]+)( fg: [\d.]+)? bg: [\d.]+ \( (.*) \) $", out, re.M)
    assert line, out
    assert "cpu=" in line.group(3) and "wakelock=" in line.group(3) and "wifi=" in line.group(3)
    assert re.search(rf"Wake lock u0a{uid} \*job\*/{re.escape(NWM)}/androidx\.work\.impl\.background"
                     r"\.systemjob\.SystemJobService: 16s 0ms \(3 times\) realtime", out)


def test_a_dart_worker_costs_more_battery_than_a_native_one() -> None:
    costs = {}
    for work, engine in (("urgent", "native"), ("flaky", "dart")):  # both 1 s workers
        device = phone()
        sh(device, "dumpsys battery unplug")
        sh(device, "dumpsys batterystats --reset")
        start(device, f"nwmdemo://enqueue/{work}")
        sh(device, "cmd bgtest clock advance 20s")
        out = sh(device, f"dumpsys batterystats --charged {NWM}")
        cpu = re.search(r"UID u0a\d+: [^(]*\( cpu=([\d.]+)", out)
        assert cpu, out
        costs[engine] = float(cpu.group(1))
    assert costs["dart"] > 2 * costs["native"]


def test_batterystats_bad_package_and_option() -> None:
    device = phone()
    assert sh(device, "dumpsys batterystats com.nope").startswith("Unknown package: com.nope\n")
    assert sh(device, "dumpsys batterystats --nope").startswith("Unknown option: --nope\n")


def test_older_releases_print_the_batterysipper_lines() -> None:
    device = phone("android-legacy")
    sh(device, "dumpsys battery unplug")
    sh(device, "dumpsys batterystats --reset")
    start(device, "nwmdemo://enqueue/upload")
    sh(device, "cmd bgtest clock advance 1m")
    out = sh(device, "dumpsys batterystats --charged")
    assert "    Capacity: 2700, Computed drain: " in out
    assert re.search(r"^    Uid u0a\d+: [\d.]+ \( cpu=[\d.]+ wifi=[\d.]+ wake=[\d.]+ \)$", out, re.M)
    assert re.search(r"^    Uid 1000: [\d.]+ \( cpu=", out, re.M)


# ------------------------------------------------------------------------- profiles
def test_profiles_set_the_build_a_tool_reads() -> None:
    go = phone("android-go")
    assert sh(go, "getprop ro.config.low_ram") == "true\n"
    assert sh(go, "getprop ro.build.version.sdk") == "29\n"
    assert sh(go, "getprop ro.bgtest.profile") == "android-go\n"
    assert sh(go, "getprop ro.build.fingerprint").startswith("nokia/nokia14/nokia14:10/QP1A.190711.020/")
    assert sh(go, "cat /proc/meminfo").startswith("MemTotal:         945412 kB\n")
    assert "(low-ram)" in sh(go, "dumpsys meminfo")
    assert go.jobs.max_active == 8
    flagship = phone()
    assert sh(flagship, "getprop ro.bgtest.profile") == "android-flagship\n"
    assert sh(flagship, "getprop ro.build.version.sdk") == "34\n"
    assert sh(flagship, "getprop ro.config.low_ram") == "\n"


def test_the_legacy_phone_has_no_standby_buckets_nor_airplane_mode_command() -> None:
    device = phone("android-legacy")
    rc, out, err = run_sync(device, f"am set-standby-bucket {NWM} rare")
    assert (rc, err.decode()) == (255, "Unknown command: set-standby-bucket\n")
    rc, out, err = run_sync(device, "cmd connectivity airplane-mode enable")
    assert (rc, out, err.decode()) == (0, b"", "No shell command implementation.\n")
    assert not device.net.airplane
    assert device.standby.bucket(NWM) == 10  # every app runs as ACTIVE before Android P


def test_profile_lookup_and_classification() -> None:
    assert get_profile("iphone-7").os_version.startswith("15")
    with pytest.raises(UnknownProfileError, match="known: android-flagship, android-go, android-legacy"):
        get_profile("iphone-7", "android")
    assert classify("android", sdk=29, low_ram=True) == "android-go"
    assert classify("android", sdk=34, ram_kb=1_000_000) == "android-go"
    assert classify("android", sdk=27, ram_kb=1_857_360) == "android-legacy"
    assert classify("android", sdk=34, ram_kb=7_907_000) == "android-flagship"
    assert classify("android", declared="android-go") == "android-go"
    assert classify("ios", ram_kb=2 * 1024 * 1024) == "iphone-7"
    assert "1 GB" in PROFILES["android-go"].summary() and "low-RAM" in PROFILES["android-go"].summary()


# -------------------------------------------------------------- low-memory killer
def test_the_low_memory_killer_ends_a_heavy_worker_on_a_1gb_phone_only() -> None:
    outcomes = {}
    for profile in ("android-go", "android-flagship"):
        device = phone(profile)
        start(device, "fwmdemo://register/photoBackupTask")
        sh(device, "cmd bgtest clock advance 2m")
        log = sh(device, "logcat -d -s lmkd ActivityManager WM-WorkerWrapper")
        outcomes[profile] = log
    go, flagship = outcomes["android-go"], outcomes["android-flagship"]
    # cached apps die first, then the app running the worker (oom_adj 250: a job's process)
    chrome = r"I lmkd\s*: Kill 'com\.android\.chrome' \(\d+\), uid 10300, oom_adj 950 to free \d+kB"
    assert re.search(chrome, go)
    assert re.search(rf"I lmkd\s*: Kill '{re.escape(FWM)}' \(\d+\), uid \d+, oom_adj 250 to free \d+kB", go)
    assert re.search(rf"Process {re.escape(FWM)} \(pid \d+\) has died", go)
    assert "Worker result SUCCESS" not in go
    assert "lmkd" not in flagship and "Worker result SUCCESS" in flagship


# --------------------------------------------------------------------- iOS profile
def test_the_iphone_7_profile_is_an_iphone_7_on_ios_15(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    def xcrun(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "BGTEST_SIM_HOME": str(tmp_path), "TZ": "UTC"}
        return subprocess.run([sys.executable, "-m", "harness.sim.ios.xcrun", *argv],
                              capture_output=True, text=True, env=env, timeout=30)

    assert xcrun("simctl", "bgtest", "reset", "--profile", "iphone-7").returncode == 0
    doc = json.loads(xcrun("simctl", "list", "-j").stdout)
    booted = doc["devices"]["com.apple.CoreSimulator.SimRuntime.iOS-15-5"]
    assert [d["name"] for d in booted if d["state"] == "Booted"] == ["iPhone 7"]
    assert booted[0]["deviceTypeIdentifier"] == "com.apple.CoreSimulator.SimDeviceType.iPhone-7"
    assert {r["version"] for r in doc["runtimes"]} == {"15.5", "17.2"}
    text = xcrun("simctl", "list", "devices").stdout
    assert "-- iOS 15.5 --\n    iPhone 7 (" in text
    bad = xcrun("simctl", "bgtest", "reset", "--profile", "android-go")
    assert bad.returncode == 64 and "unknown device profile 'android-go'" in bad.stderr


def test_a_phones_profile_is_read_from_what_it_reports() -> None:
    from harness.profiles import android_profile, ios_profile

    go_phone = {"ro.build.version.sdk": "27", "ro.config.low_ram": "true"}
    assert android_profile(go_phone, "MemTotal:         945412 kB\n") == "android-go"
    nexus, pixel = {"ro.build.version.sdk": "27"}, {"ro.build.version.sdk": "34"}
    assert android_profile(nexus, "MemTotal:        1857360 kB\n") == "android-legacy"
    assert android_profile(pixel, "MemTotal:        7907000 kB\n") == "android-flagship"
    assert android_profile({"ro.bgtest.profile": "android-go"}) == "android-go"
    assert ios_profile("iPhone 7") == ios_profile("iPhone SE (1st generation)") == "iphone-7"
    assert ios_profile("iPhone 15") == "iphone-flagship"
