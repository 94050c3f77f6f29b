"""DeviceIdleController: the deep and light machines over device time, and the shell's exact texts."""

from __future__ import annotations

import pytest
from os_testutil import HOUR, MIN, new_device, sh, unplug_and_sleep

from harness.sim.android.os.deviceidle import format_duration

PKG = "com.example.wmplain"


@pytest.fixture
def dev():
    return new_device(with_app=True)


def deep(dev) -> str:
    return sh(dev, "dumpsys deviceidle get deep").out.strip()


def light(dev) -> str:
    return sh(dev, "dumpsys deviceidle get light").out.strip()


def test_plugged_screen_on_stays_active_and_step_is_a_no_op(dev):
    assert deep(dev) == "ACTIVE" and light(dev) == "ACTIVE"
    dev.clock.advance(3 * HOUR)
    assert sh(dev, "cmd deviceidle step").out == "Stepped to deep: ACTIVE\n"
    assert sh(dev, "cmd deviceidle step light").out == "Stepped to light: ACTIVE\n"


def test_unplug_and_screen_off_walk_the_deep_states_on_aosp_timeouts(dev):
    unplug_and_sleep(dev)
    assert deep(dev) == "INACTIVE" and light(dev) == "INACTIVE"
    dev.clock.advance(30 * MIN - 1)
    assert deep(dev) == "INACTIVE"
    dev.clock.advance(1)
    assert deep(dev) == "IDLE_PENDING"
    dev.clock.advance(30 * MIN)
    assert deep(dev) == "SENSING"
    dev.clock.advance(3_000)
    assert deep(dev) == "LOCATING"
    dev.clock.advance(5_000)
    assert deep(dev) == "IDLE"
    assert light(dev) == "OVERRIDE"
    assert "mState=IDLE mLightState=OVERRIDE" in sh(dev, "dumpsys deviceidle").out


def test_state_moves_go_to_the_events_log(dev):
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    sh(dev, "input keyevent KEYCODE_WAKEUP")
    events = [(e.tag, e.message) for e in dev.logd.entries(["events"]) if e.tag.startswith("device_idle")]
    assert events == [
        ("device_idle", "[1,no activity]"),
        ("device_idle_light", "[1,no activity]"),
        ("device_idle", "[2,s:shell]"),
        ("device_idle", "[3,s:shell]"),
        ("device_idle", "[4,s:shell]"),
        ("device_idle", "[5,s:shell]"),
        ("device_idle_light", "[7,s:shell]"),
    ]
    sh(dev, "cmd deviceidle unforce")
    events = [(e.tag, e.message) for e in dev.logd.entries(["events"]) if e.tag.startswith("device_idle")]
    assert events[-2:] == [("device_idle", "[0,exit-force]"), ("device_idle_light", "[0,exit-force]")]


def test_light_doze_runs_before_deep(dev):
    unplug_and_sleep(dev)
    dev.clock.advance(1 * MIN)
    assert light(dev) == "IDLE"
    dev.clock.advance(5 * MIN)
    assert light(dev) == "IDLE_MAINTENANCE"
    dev.clock.advance(1 * MIN)
    assert light(dev) == "IDLE"  # next light idle: 10 min
    dev.clock.advance(10 * MIN)
    assert light(dev) == "IDLE_MAINTENANCE"


def test_maintenance_windows_at_1h_2h_4h_6h_spacing(dev):
    windows: list[tuple[int, str]] = []
    dev.bus.subscribe("deviceidle", lambda deep, light: windows.append((dev.clock.now_ms(), deep)))
    unplug_and_sleep(dev)
    assert sh(dev, "dumpsys deviceidle force-idle").out == "Now forced in to deep idle mode\n"
    dev.clock.advance(24 * HOUR)
    starts = [t for t, s in windows if s == "IDLE_MAINTENANCE"]
    idles = [t for t, s in windows if s == "IDLE"]
    gaps = [b - a for a, b in zip(idles, starts, strict=False)]
    assert gaps[:5] == [1 * HOUR, 2 * HOUR, 4 * HOUR, 6 * HOUR, 6 * HOUR]
    windows_len = [b - a for a, b in zip(starts, idles[1:], strict=False)]
    assert windows_len[:3] == [5 * MIN, 10 * MIN, 10 * MIN]


def test_restricts_follows_idle_and_maintenance(dev):
    idle = dev.idle
    assert not idle.restricts(PKG)
    unplug_and_sleep(dev)
    sh(dev, "dumpsys deviceidle force-idle")
    assert idle.deep_idle() and idle.restricts(PKG) and not idle.in_maintenance()
    assert sh(dev, "cmd deviceidle step").out == "Stepped to deep: IDLE_MAINTENANCE\n"
    assert idle.in_maintenance() and not idle.restricts(PKG)
    sh(dev, "cmd deviceidle step")
    assert idle.restricts(PKG)
    assert sh(dev, f"cmd deviceidle whitelist +{PKG}").out == f"Added: {PKG}\n"
    assert not idle.restricts(PKG)


def test_force_idle_works_while_plugged_and_unforce_returns_to_active(dev):
    r = sh(dev, "cmd deviceidle force-idle")
    assert (r.rc, r.out) == (0, "Now forced in to deep idle mode\n")
    assert deep(dev) == "IDLE" and sh(dev, "cmd deviceidle get force").out == "true\n"
    dev.clock.advance(HOUR)
    assert deep(dev) == "IDLE_MAINTENANCE"
    r = sh(dev, "cmd deviceidle unforce")
    assert r.out == "Light state: ACTIVE, deep state: ACTIVE\n"


def test_unforce_with_screen_off_and_unplugged_keeps_the_state(dev):
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    assert sh(dev, "cmd deviceidle unforce").out == "Light state: OVERRIDE, deep state: IDLE\n"


def test_screen_on_wakes_unless_forced(dev):
    unplug_and_sleep(dev)
    dev.clock.advance(2 * HOUR)
    assert deep(dev) == "IDLE"
    sh(dev, "input keyevent 224")
    assert deep(dev) == "ACTIVE" and light(dev) == "ACTIVE"
    sh(dev, "cmd deviceidle force-idle")
    sh(dev, "input keyevent KEYCODE_POWER")  # screen off
    sh(dev, "input keyevent KEYCODE_POWER")  # screen on: forced, stays idle
    assert deep(dev) == "IDLE"


def test_charging_wakes(dev):
    unplug_and_sleep(dev)
    dev.clock.advance(2 * HOUR)
    sh(dev, "dumpsys battery reset")
    assert deep(dev) == "ACTIVE"


def test_step_sequence_after_unplug(dev):
    unplug_and_sleep(dev)
    outs = [sh(dev, "dumpsys deviceidle step").out.strip() for _ in range(6)]
    assert outs == [
        "Stepped to deep: IDLE_PENDING",
        "Stepped to deep: SENSING",
        "Stepped to deep: LOCATING",
        "Stepped to deep: IDLE",
        "Stepped to deep: IDLE_MAINTENANCE",
        "Stepped to deep: IDLE",
    ]
    assert sh(dev, "cmd deviceidle step light").out == "Stepped to light: OVERRIDE\n"
    assert sh(dev, "cmd deviceidle step sideways").out == "Unknown idle mode: sideways\n"


def test_force_idle_light(dev):
    unplug_and_sleep(dev)
    assert sh(dev, "cmd deviceidle force-idle light").out == "Now forced in to light idle mode\n"
    assert light(dev) == "IDLE" and deep(dev) == "INACTIVE"
    sh(dev, "cmd deviceidle force-idle")
    r = sh(dev, "cmd deviceidle force-idle light")
    assert (r.rc, r.out) == (255, "Unable to go light idle; stopped at OVERRIDE\n")
    assert sh(dev, "cmd deviceidle get force").out == "false\n"


def test_disable_enable_enabled_texts(dev):
    assert sh(dev, "cmd deviceidle enabled").out == "1\n"
    assert sh(dev, "cmd deviceidle disable").out == "Deep idle mode disabled\nLight idle mode disabled\n"
    assert sh(dev, "cmd deviceidle disable").out == ""
    assert sh(dev, "cmd deviceidle enabled deep").out == "0\n"
    r = sh(dev, "cmd deviceidle force-idle")
    assert (r.rc, r.out) == (255, "Unable to go deep idle; not enabled\n")
    r = sh(dev, "dumpsys deviceidle force-idle")
    assert (r.rc, r.out) == (0, "Unable to go deep idle; not enabled\n")  # dumpsys itself exits 0
    assert sh(dev, "cmd deviceidle enable light").out == "Light idle mode enable\n"
    assert sh(dev, "cmd deviceidle enabled all").out == "0\n"
    assert sh(dev, "cmd deviceidle enable all").out == "Deep idle mode enabled\n"
    assert sh(dev, "cmd deviceidle enabled").out == "1\n"
    assert sh(dev, "cmd deviceidle disable bogus").out == "Unknown idle mode: bogus\n"
    assert sh(dev, "cmd deviceidle enabled bogus").out == "Unknown idle mode: bogus\n"


def test_get_options(dev):
    assert sh(dev, "cmd deviceidle get").out == "Argument required\n"
    assert sh(dev, "cmd deviceidle get foo").out == "Unknown get option: foo\n"
    assert sh(dev, "cmd deviceidle get screen").out == "true\n"
    assert sh(dev, "cmd deviceidle get charging").out == "true\n"
    assert sh(dev, "cmd deviceidle get network").out == "true\n"
    assert sh(dev, "cmd deviceidle get quick").out == "false\n"
    unplug_and_sleep(dev)
    assert sh(dev, "cmd deviceidle get screen").out == "false\n"
    assert sh(dev, "cmd deviceidle get charging").out == "false\n"


def test_whitelist_commands(dev):
    r = sh(dev, "cmd deviceidle whitelist")
    assert r.out.splitlines() == [
        "system-excidle,com.android.providers.downloads,10036",
        "system-excidle,com.android.vending,10089",
        "system-excidle,com.google.android.gms,10150",
        "system,com.google.android.gms,10150",
    ]
    assert sh(dev, "cmd deviceidle whitelist +no.such.app").out == "Unknown package: no.such.app\n"
    assert sh(dev, f"cmd deviceidle whitelist +{PKG} ={PKG}").out == f"Added: {PKG}\ntrue\n"
    assert sh(dev, "cmd deviceidle whitelist").out.splitlines()[-1] == f"user,{PKG},10000"
    assert sh(dev, f"cmd deviceidle whitelist -{PKG}").out == f"Removed: {PKG}\n"
    assert sh(dev, f"cmd deviceidle whitelist -{PKG}").out == ""
    assert sh(dev, f"cmd deviceidle whitelist ={PKG}").out == "false\n"
    r = sh(dev, f"cmd deviceidle whitelist {PKG}")
    assert (r.rc, r.out) == (255, f"Package must be prefixed with +, -, or =: {PKG}\n")


def test_whitelist_survives_reboot_and_force_is_dropped(dev):
    sh(dev, f"cmd deviceidle whitelist +{PKG}")
    sh(dev, "cmd deviceidle force-idle")
    dev.reboot_now()
    assert deep(dev) == "ACTIVE"
    assert sh(dev, f"cmd deviceidle whitelist ={PKG}").out == "true\n"


def test_sys_and_except_idle_whitelists(dev):
    assert sh(dev, "cmd deviceidle sys-whitelist").out == "com.google.android.gms,10150\n"
    assert (
        sh(dev, "cmd deviceidle sys-whitelist -com.google.android.gms").out
        == "Removed com.google.android.gms\n"
    )
    assert sh(dev, "cmd deviceidle sys-whitelist").out == ""
    assert "Removed from whitelist system apps:" in sh(dev, "dumpsys deviceidle").out
    assert (
        sh(dev, "cmd deviceidle sys-whitelist +com.google.android.gms").out
        == "Restored com.google.android.gms\n"
    )
    r = sh(dev, "cmd deviceidle sys-whitelist gms")
    assert (r.rc, r.out) == (255, "Package must be prefixed with + or - gms\n")
    r = sh(dev, "cmd deviceidle except-idle-whitelist")
    assert (r.rc, r.out) == (255, "No arguments given\n")
    assert sh(dev, f"cmd deviceidle except-idle-whitelist +{PKG}").out == f"Added: {PKG}\n"
    assert sh(dev, f"cmd deviceidle except-idle-whitelist ={PKG}").out == "true\n"
    r = sh(dev, f"cmd deviceidle except-idle-whitelist -{PKG}")
    assert (r.rc, r.out) == (255, f"Unknown argument: -{PKG}\n")
    # except-idle exempts from battery saver but not from Doze
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    assert dev.idle.restricts(PKG)
    assert dev.idle.is_power_save_whitelisted(PKG)


def test_tempwhitelist(dev):
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    assert dev.idle.restricts(PKG)
    assert sh(dev, f"cmd deviceidle tempwhitelist {PKG}").out == ""
    assert not dev.idle.restricts(PKG)
    assert sh(dev, "cmd deviceidle tempwhitelist").out == "UID=10000: +10s0ms - shell\n"
    dev.clock.advance(4_000)
    assert sh(dev, "cmd deviceidle tempwhitelist").out == "UID=10000: +6s0ms - shell\n"
    dev.clock.advance(6_000)
    assert dev.idle.restricts(PKG)
    assert sh(dev, "cmd deviceidle tempwhitelist").out == ""
    sh(dev, f"cmd deviceidle tempwhitelist -d 3600000 {PKG}")  # capped at 5 minutes
    assert sh(dev, "cmd deviceidle tempwhitelist").out == "UID=10000: +5m0s0ms - shell\n"
    assert (
        "  Temp whitelist schedule:\n    UID=10000: +5m0s0ms - shell\n" in sh(dev, "dumpsys deviceidle").out
    )
    assert sh(dev, f"cmd deviceidle tempwhitelist -r {PKG}").out == ""
    assert dev.idle.restricts(PKG)
    r = sh(dev, "cmd deviceidle tempwhitelist -r")
    assert (r.rc, r.out) == (255, "[-r] requires a package name\n")
    r = sh(dev, "cmd deviceidle tempwhitelist nope.pkg")
    assert (r.rc, r.out) == (
        255,
        "Failed: android.content.pm.PackageManager$NameNotFoundException: nope.pkg\n",
    )
    r = sh(dev, "cmd deviceidle tempwhitelist -d")
    assert (r.rc, r.out) == (255, "-d requires a duration\n")


def test_motion_and_force_inactive(dev):
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    sh(dev, "cmd deviceidle unforce")
    r = sh(dev, "cmd deviceidle motion")
    assert r.out == "Light state: INACTIVE, deep state: INACTIVE\n"
    out = sh(dev, "dumpsys deviceidle").out
    assert "  mInactiveTimeout=+10m0s0ms\n" in out
    dev.clock.advance(10 * MIN)
    assert deep(dev) == "IDLE_PENDING"
    dev2 = new_device()
    r = sh(dev2, "cmd deviceidle force-inactive")
    assert r.out == "Light state: INACTIVE, deep state: INACTIVE\n"


def test_quick_doze_with_battery_saver(dev):
    sh(dev, "dumpsys battery unplug")
    sh(dev, "settings put global low_power 1")
    sh(dev, "input keyevent KEYCODE_SLEEP")
    assert deep(dev) == "QUICK_DOZE_DELAY"
    assert sh(dev, "cmd deviceidle get quick").out == "true\n"
    dev.clock.advance(MIN)
    assert deep(dev) == "IDLE"


def test_network_loss_makes_light_wait_for_network(dev):
    unplug_and_sleep(dev)
    dev.clock.advance(MIN)
    assert light(dev) == "IDLE"
    sh(dev, "cmd connectivity airplane-mode enable")
    sh(dev, "svc wifi disable")
    assert sh(dev, "cmd deviceidle get network").out == "false\n"
    dev.clock.advance(5 * MIN)
    assert light(dev) == "WAITING_FOR_NETWORK"
    sh(dev, "svc wifi enable")
    assert light(dev) == "IDLE_MAINTENANCE"


def test_jobs_done_ends_a_deep_maintenance_window_early(dev):
    sh(dev, "cmd deviceidle force-idle")
    dev.clock.advance(HOUR)
    assert deep(dev) == "IDLE_MAINTENANCE"
    dev.idle.set_jobs_active(True)
    assert "  mJobsActive=true\n" in sh(dev, "dumpsys deviceidle").out
    dev.idle.set_jobs_active(False)
    assert deep(dev) == "IDLE"


def test_full_dump_layout(dev):
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    out = sh(dev, "dumpsys deviceidle").out
    lines = out.splitlines()
    assert lines[0] == "  Settings:"
    assert "    inactive_to=+30m0s0ms" in lines
    assert "    idle_to=+1h0m0s0ms" in lines
    assert "    max_idle_to=+6h0m0s0ms" in lines
    assert "    idle_factor=2.0" in lines
    assert "  Idling history:" in lines
    assert "  Whitelist system apps:" in lines
    i = lines.index("  mLightEnabled=true  mDeepEnabled=true")
    assert lines[i + 1] == "  mForceIdle=true"
    assert lines[i + 3 : i + 7] == [
        "  mScreenOn=false",
        "  mScreenLocked=false",
        "  mNetworkConnected=true",
        "  mCharging=false",
    ]
    assert "  mState=IDLE mLightState=OVERRIDE" in lines
    assert "  mNextAlarmTime=+1h0m0s0ms" in lines


def test_dumpsys_options_and_unknown_command(dev):
    assert sh(dev, "dumpsys deviceidle -x").out == "Unknown option: -x\n"
    assert sh(dev, "dumpsys deviceidle -h").out.startswith("Device idle controller (deviceidle) commands:")
    r = sh(dev, "cmd deviceidle frobnicate")
    assert (r.rc, r.out) == (255, "Unknown command: frobnicate\n")
    assert sh(dev, "dumpsys deviceidle -a get deep").out == "ACTIVE\n"


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0"),
        (1, "+1ms"),
        (1_500, "+1s500ms"),
        (30 * MIN, "+30m0s0ms"),
        (-(51 * MIN + 29_853), "-51m29s853ms"),
        (5_399_687, "+1h29m59s687ms"),
        (90_000_000, "+1d1h0m0s0ms"),
    ],
)
def test_format_duration_matches_timeutils(ms, text):
    assert format_duration(ms) == text
