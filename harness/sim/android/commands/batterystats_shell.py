"""``dumpsys batterystats [--reset] [--charged] [PKG]``: battery use since the last reset, per uid.

Formats (AOSP ``BatteryStatsService.dump``, ``BatteryStats.dumpLocked``, and for Android 12+
``BatteryUsageStats.dump`` / ``UidBatteryConsumer.dump`` / ``PowerComponents.dump``; checked
against a Pixel 8a ``--charged`` capture):

- ``--reset`` prints ``Battery stats reset.`` and nothing else; an unknown package
  ``Unknown package: X`` and an unknown option ``Unknown option: X``, each followed by the help;
- the period block starts ``Statistics since last charge:`` / ``  System starts: N, currently on
  battery: B``; times are ``formatTimeMs`` (``1h 2m 3s 4ms ``, note the trailing space);
- Android 12+ (API 31+): ``  Estimated power use (mAh):`` / ``    Capacity: C, Computed drain:
  D, actual drain: L-H`` / ``    Global`` / ``      <component>: X apps: Y duration: T`` /
  ``    UID u0a35: X ( cpu=… (1s200ms) wakelock=… ) `` (Android 14 adds `` fg: … bg: …`` after
  the total); charges use ``formatCharge`` (``%.2f`` under 10, ``%.1f`` under 100 …);
- before Android 12: ``    Uid u0a35: X ( cpu=… wake=… wifi=… radio=… )`` (BatterySipper).
"""

from __future__ import annotations

import time

from ..os.batterystats import BatterySnapshot, UidStats
from ..os.jobscheduler import format_uid
from ..registry import CommandContext, dumpsys_section

_HELP = """Battery stats (batterystats) dump options:
  [--checkin] [--proto] [--history] [--history-start] [--charged] [-c]
  [--daily] [--reset] [--reset-all] [--write] [--new-daily] [--read-daily]
  [-h] [<package.name>]
  --checkin: generate output for a checkin report; will write (and clear) the
             last old completed stats when they had been reset.
  -c: write the current stats in checkin format.
  --proto: write the current aggregate stats (without history) in proto format.
  --history: show only history data.
  --history-start <num>: show only history data starting at given time offset.
  --history-create-events <num>: create <num> of battery history events.
  --charged: only output data since last charged.
  --daily: only output full daily data.
  --reset: reset the stats, clearing all current data.
  --reset-all: reset the stats, clearing all current and past data.
  --write: force write current collected stats to disk.
  --new-daily: immediately create and write new daily stats record.
  --read-daily: read-load last written daily stats.
  --settings: dump the settings key/values related to batterystats
  --cpu: dump cpu stats for debugging purpose
  --power-profile: dump the power profile constants
  --usage: write battery usage stats. Optional arguments:
     --proto: output as a binary protobuffer
     --model power-profile: use the power profile model even if measured energy is available
  <package.name>: optional name of package to filter output by.
  -h: print this help text."""

SYSTEM_JOB_SERVICE = "androidx.work.impl.background.systemjob.SystemJobService"
_OLD_NAMES = {"cpu": "cpu", "wakelock": "wake", "wifi": "wifi", "mobile_radio": "radio"}


def format_charge(value: float) -> str:
    """``BatteryStats.formatCharge``: fewer decimals as the value grows."""
    if value == 0:
        return "0"
    for bound, fmt in ((0.00001, "%.8f"), (0.0001, "%.7f"), (0.001, "%.6f"), (0.01, "%.5f"),
                       (0.1, "%.4f"), (1, "%.3f"), (10, "%.2f"), (100, "%.1f")):
        if value < bound:
            return fmt % value
    return f"{value:.0f}"


def format_time_ms(ms: float) -> str:
    """``BatteryStats.formatTimeMs``: ``1h 2m 3s 4ms `` (units from the largest non-zero one)."""
    return _format_time(ms, " ")


def format_time_ms_no_space(ms: float) -> str:
    """``formatTimeMsNoSpace``: ``1h2m3s4ms``."""
    return _format_time(ms, "").rstrip()


def _format_time(ms: float, sep: str) -> str:
    ms = int(ms)
    seconds, rest = divmod(ms, 1000)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    out = []
    started = False
    for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")):
        if value or started:
            out.append(f"{value}{unit}{sep}")
            started = True
    out.append(f"{rest}ms{sep}")
    return "".join(out)


def _ratio(part: float, whole: float) -> str:
    return f"{(100.0 * part / whole) if whole else 0.0:.1f}%"


@dumpsys_section("batterystats")
def dumpsys_batterystats(ctx: CommandContext) -> int:
    device = ctx.device
    stats = device.batterystats
    req_uid: int | None = None
    for arg in ctx.argv[1:]:
        if arg in ("-h", "--help"):
            ctx.out(_HELP)
            return 0
        if arg in ("--reset", "--reset-all"):
            stats.reset()
            ctx.out("Battery stats reset.")
            return 0
        if arg in ("--charged", "--write", "--history"):
            continue
        if arg.startswith("-"):
            ctx.out(f"Unknown option: {arg}")
            ctx.out(_HELP)
            return 0
        installed = device.packages.get(arg)
        if installed is None:
            ctx.out(f"Unknown package: {arg}")
            ctx.out(_HELP)
            return 0
        req_uid = installed.uid
    snap = stats.snapshot()
    sdk = int(device.props.get("ro.build.version.sdk", "34") or 34)
    _dump_period(ctx, snap, sdk, req_uid)
    return 0


def _dump_period(ctx: CommandContext, snap: BatterySnapshot, sdk: int, req_uid: int | None) -> None:
    out = ctx.out
    real = snap.realtime_ms
    bat = snap.on_battery_ms
    out("Statistics since last charge:")
    out(f"  System starts: {snap.system_starts}, currently on battery: {str(snap.on_battery).lower()}")
    out(f"  Estimated battery capacity: {snap.capacity_mah} mAh")
    out(f"  Time on battery: {format_time_ms(bat)}({_ratio(bat, real)}) realtime, "
        f"{format_time_ms(bat)}({_ratio(bat, real)}) uptime")
    off = snap.screen_off_battery_ms
    out(f"  Time on battery screen off: {format_time_ms(off)}({_ratio(off, bat)}) realtime, "
        f"{format_time_ms(off)}({_ratio(off, bat)}) uptime")
    out(f"  Time on battery screen doze: {format_time_ms(0)}({_ratio(0, bat)})")
    out(f"  Total run time: {format_time_ms(real)}realtime, {format_time_ms(real)}uptime")
    discharge = snap.discharge_low_mah
    out(f"  Discharge: {format_charge(discharge)} mAh")
    on_share = snap.screen_on_battery_ms / bat if bat else 0.0
    out(f"  Screen off discharge: {format_charge(discharge * (1 - on_share))} mAh")
    out("  Screen doze discharge: 0 mAh")
    out(f"  Screen on discharge: {format_charge(discharge * on_share)} mAh")
    start = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(snap.start_ms / 1000))
    out(f"  Start clock time: {start}")
    on = snap.screen_on_battery_ms
    out(f"  Screen on: {format_time_ms(on)}({_ratio(on, bat)}) {snap.screen_on_count}x, "
        f"Interactive: {format_time_ms(on)}({_ratio(on, bat)})")
    out()
    if sdk >= 31:
        _power_use_modern(ctx, snap, sdk)
    else:
        _power_use_legacy(ctx, snap)
    out()
    _wakelocks(ctx, snap, req_uid)


def _power_use_modern(ctx: CommandContext, snap: BatterySnapshot, sdk: int) -> None:
    out = ctx.out
    out("  Estimated power use (mAh):")
    low, high = snap.discharge_low_mah, snap.discharge_high_mah
    actual = format_charge(low) if low == high else f"{format_charge(low)}-{format_charge(high)}"
    out(f"    Capacity: {format_charge(snap.capacity_mah)}, Computed drain: "
        f"{format_charge(snap.computed_drain_mah)}, actual drain: {actual}")
    out("    Global")
    durations = {"screen": snap.screen_on_battery_ms,
                 "cpu": sum(s.cpu_ms for s in snap.uids.values()),
                 "wakelock": sum(s.wakelock_ms for s in snap.uids.values())}
    for name in ("screen", "cpu", "mobile_radio", "wifi", "wakelock", "idle"):
        device_mah, apps_mah = snap.device_power.get(name, 0.0), snap.apps_power.get(name, 0.0)
        if device_mah == 0 and apps_mah == 0:
            continue
        line = f"      {name}: {format_charge(device_mah)} apps: {format_charge(apps_mah)}"
        if durations.get(name):
            line += f" duration: {format_time_ms(durations[name])}"
        out(line)
    for uid, stats in sorted(snap.uids.items(), key=lambda kv: -kv[1].total_mah()):
        total = stats.total_mah()
        if total == 0:
            continue
        states = ""
        if sdk >= 34:
            bg_share = stats.bg_ms / (stats.bg_ms + stats.fg_ms) if stats.bg_ms + stats.fg_ms else 1.0
            fg, bg = total * (1 - bg_share), total * bg_share
            states = "".join(f" {k}: {format_charge(v)}" for k, v in (("fg", fg), ("bg", bg)) if v)
        out(f"    UID {format_uid(uid)}: {format_charge(total)}{states} ( {_components(stats)} ) ")


def _components(stats: UidStats) -> str:
    durations = {"cpu": stats.cpu_ms, "wakelock": stats.wakelock_ms, "wifi": stats.wifi_ms,
                 "mobile_radio": stats.mobile_radio_ms, "screen": stats.screen_ms}
    parts = []
    for name, mah in stats.power().items():
        ms = durations.get(name, 0)
        if mah == 0 and not ms:
            continue
        parts.append(f"{name}={format_charge(mah)}" + (f" ({format_time_ms_no_space(ms)})" if ms else ""))
    return " ".join(parts)


def _power_use_legacy(ctx: CommandContext, snap: BatterySnapshot) -> None:
    out = ctx.out
    out("  Estimated power use (mAh):")
    low, high = snap.discharge_low_mah, snap.discharge_high_mah
    actual = format_charge(low) if low == high else f"{format_charge(low)}-{format_charge(high)}"
    out(f"    Capacity: {snap.capacity_mah}, Computed drain: {format_charge(snap.computed_drain_mah)}, "
        f"actual drain: {actual}")
    rows: list[tuple[float, str]] = []
    for key, label in (("screen", "Screen"), ("idle", "Idle")):
        if snap.device_power[key]:
            rows.append((snap.device_power[key], f"    {label}: {format_charge(snap.device_power[key])}"))
    for uid, stats in snap.uids.items():
        power = stats.power()
        total = sum(v for k, v in power.items() if k != "screen")
        if total == 0:
            continue
        parts = " ".join(
            f"{_OLD_NAMES[k]}={format_charge(v)}" for k, v in power.items() if v and k in _OLD_NAMES)
        rows.append((total, f"    Uid {format_uid(uid)}: {format_charge(total)} ( {parts} )"))
    for _, line in sorted(rows, key=lambda r: -r[0]):
        out(line)


def _wakelocks(ctx: CommandContext, snap: BatterySnapshot, req_uid: int | None) -> None:
    """The job wakelocks JobScheduler held for each app (``*job*/<component>``)."""
    rows = [(uid, s) for uid, s in snap.uids.items() if s.wakelock_ms and (req_uid is None or uid == req_uid)]
    if not rows:
        return
    ctx.out("  All partial wake locks:")
    for uid, stats in sorted(rows, key=lambda r: -r[1].wakelock_ms):
        package = _package_of(ctx, uid)
        ctx.out(f"  Wake lock {format_uid(uid)} *job*/{package}/{SYSTEM_JOB_SERVICE}: "
                f"{format_time_ms(stats.wakelock_ms)}({stats.wakelock_count} times) realtime")
    ctx.out()


def _package_of(ctx: CommandContext, uid: int) -> str:
    for app in ctx.device.packages.installed():
        if app.uid == uid:
            return str(app.package)
    return str(uid)
