"""Reading memory, battery and queue metrics from dumpsys output: the virtual phone's and real captures."""

from __future__ import annotations

import shlex
from pathlib import Path

from harness.devices.android_metrics import (
    NEVER_ON_BATTERY,
    AndroidMetrics,
    BatteryUse,
    batterystats_use,
    meminfo_total_pss_kb,
    package_uid,
    pending_jobs,
    procstats_app,
    time_ms,
)
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"


def test_parsers_read_real_captures() -> None:
    # a Pixel 8a's `dumpsys batterystats --charged` (Android 16 shape) and an Android 12-era line
    pixel = """Statistics since last charge:
  System starts: 1, currently on battery: true
  Estimated battery capacity: 3595 mAh
  Time on battery: 22m 21s 465ms (96.6%) realtime, 19m 5s 933ms (85.4%) uptime
  Estimated power use (mAh):
    Capacity: 3595, Rated: 3595, Typical: 3700, Computed drain: 132, actual drain: 132
    UID u0a345: 18.6 fg: 0.511 (5m 22s 117ms) bg: 0.0474 fgs: 0.0189 (12s 180ms) cached: 0.0224
"""
    assert batterystats_use(pixel, "u0a345") == BatteryUse(18.6, 3595.0, 22 * 60_000 + 21_465, True)
    old = "  Estimated power use (mAh):\n    Capacity: 3000, Computed drain: 345, actual drain: 300-330\n" \
          "    Uid u0a123: 45.6 ( cpu=40.1 wake=1.2 wifi=3.4 )\n    Uid 1000: 30.1 ( cpu=30.1 )\n"
    old = "  Time on battery: 1h 0m 0s 0ms (100.0%) realtime, 1h 0m 0s 0ms (100.0%) uptime\n" + old
    assert batterystats_use(old, "u0a123") == BatteryUse(45.6, 3000.0, 3_600_000, False)
    assert isinstance(use := batterystats_use(old, "1000"), BatteryUse) and use.uid_mah == 30.1
    assert batterystats_use(old, "u0a999").uid_mah == 0  # type: ignore[union-attr]  # used nothing: unlisted
    charger = "  System starts: 0, currently on battery: false\n  Time on battery: 0ms (0.0%) realtime\n"
    assert batterystats_use(charger, "u0a1") == NEVER_ON_BATTERY
    assert time_ms("1d 2h 3m 4s 5ms") == 93_784_005
    assert procstats_app(
        "  * com.google.android.gms.persistent / u0a13 / v8186448:\n"
        "           TOTAL: 100% (21MB-27MB-40MB/20MB-24MB-38MB over 597)\n",
        "com.google.android.gms.persistent") == ("u0a13", 40 * 1024)
    other = "  * other / u0a1 / v1:\n   TOTAL: 1% (1MB-1MB-1MB/1MB-1MB-1MB over 1)\n"
    assert procstats_app(other, NWM) is None
    assert meminfo_total_pss_kb("           TOTAL PSS:   136994            TOTAL RSS:   210804") == 136994
    assert meminfo_total_pss_kb("No process found for: x") is None
    assert package_uid("package:dev.x uid:10035\n", "dev.x") == 10035


def test_pending_jobs_counts_registered_minus_running() -> None:
    dump = """Registered 3 jobs:
  JOB #u0a35/1: 1a2b dev.x/androidx.work.impl.background.systemjob.SystemJobService
  JOB #u0a35/2: 3c4d dev.x/androidx.work.impl.background.systemjob.SystemJobService
  JOB #u0a36/7: 5e6f other/.Svc
Active jobs:
  Slot #0: 1a2b #u0a35/1 dev.x/androidx.work.impl.background.systemjob.SystemJobService
Recently completed jobs:
  #u0a35/2 finished
"""
    assert pending_jobs(dump, 10035) == 1
    assert pending_jobs(dump, 10036) == 1


def test_metrics_from_the_virtual_phone() -> None:
    device = VirtualAndroidDevice(app_models=[FIXTURES / "nwm_demo.yaml"])

    def shell(argv: list[str]) -> str:
        return run_sync(device, shlex.join(argv))[1].decode()

    metrics = AndroidMetrics(shell, NWM)
    assert metrics.memory().reason == f"no process of {NWM} ran since the scenario started"
    charger = metrics.battery()
    assert charger.value is None and "on its charger" in charger.reason
    shell(["dumpsys", "battery", "unplug"])
    metrics.start({"memory", "battery"})
    shell(["am", "start", "-a", "android.intent.action.VIEW", "-d", "nwmdemo://enqueue/load?count=30"])
    shell(["input", "keyevent", "3"])
    shell(["cmd", "bgtest", "clock", "advance", "100ms"])
    # WorkManager hands JobScheduler 20 of the 30 (maxSchedulerLimit); 16 run at once: 4 wait there
    assert metrics.queue().value == 4
    shell(["cmd", "bgtest", "clock", "advance", "1h"])
    memory, battery, queue = (metrics.measure(n) for n in ("memory", "battery", "queue"))
    # 16 Dart workers at once share native_workmanager's one FlutterEngine: ~130 MB, not 16 engines
    assert memory.source == "dumpsys procstats" and 100 * 1024 < memory.value < 160 * 1024
    assert battery.value is not None and 0 < battery.value < 2 and "uid_mah" in dict(battery.detail)
    assert queue.value == 0
    assert memory.text().endswith("MB (dumpsys procstats)")
