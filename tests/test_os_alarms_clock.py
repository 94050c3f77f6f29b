"""AlarmManager deferral under Doze and saver, ``cmd bgtest clock``, standby buckets, dumpsys/cmd."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from os_testutil import HOUR, MIN, new_device, sh, unplug_and_sleep

from harness.durations import MAX_DURATION_MS
from harness.sim.android.os.standby import ACTIVE, NEVER, QUOTAS, RARE, BucketError, parse_bucket

PKG = "com.example.wmplain"
UID = 10000


@pytest.fixture
def dev():
    return new_device(with_app=True)


# ------------------------------------------------------------------ alarms
def test_alarm_fires_on_time(dev):
    fired = []
    t0 = dev.clock.now_ms()
    dev.alarms.set(PKG, UID, t0 + 10 * MIN, lambda: fired.append(dev.clock.now_ms()), exact=True, tag="sync")
    out = sh(dev, "dumpsys alarm").out
    assert "  Pending alarms: 1\n" in out
    assert f"    RTC_WAKEUP #0: Alarm{{0000001 type 0 origWhen {t0 + 10 * MIN} whenElapsed " in out
    assert "      tag=*walarm*:sync\n" in out
    assert "flags=0x1\n" in out  # FLAG_STANDALONE (exact)
    assert "    com.example.wmplain: 1\n" in out
    dev.clock.advance(10 * MIN)
    assert fired == [t0 + 10 * MIN]
    assert "  Pending alarms: 0\n" in sh(dev, "dumpsys alarm").out


def test_alarm_deferred_in_idle_until_maintenance(dev):
    fired = []
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle")
    t0 = dev.clock.now_ms()
    dev.alarms.set(PKG, UID, t0 + 5 * MIN, lambda: fired.append(dev.clock.now_ms()))
    dev.alarms.set(PKG, UID, t0 + 5 * MIN, lambda: fired.append(-dev.clock.now_ms()), allow_while_idle=True)
    dev.clock.advance(10 * MIN)
    assert fired == [-(t0 + 5 * MIN)]  # allow-while-idle ran; the plain one waits
    assert "deferred" in sh(dev, "dumpsys alarm").out
    dev.clock.advance(HOUR)  # the first maintenance window opens 1 h after IDLE began
    assert fired[1] == t0 + HOUR


def test_whitelisted_apps_alarms_still_wait_in_deep_idle_and_light_idle_defers_nothing(dev):
    fired = []
    sh(dev, f"cmd deviceidle whitelist +{PKG}")
    unplug_and_sleep(dev)
    sh(dev, "cmd deviceidle force-idle light")
    t0 = dev.clock.now_ms()
    dev.alarms.set(PKG, UID, t0 + MIN, lambda: fired.append("light"))
    dev.clock.advance(MIN)
    assert fired == ["light"]
    sh(dev, "cmd deviceidle force-idle")
    dev.alarms.set(PKG, UID, dev.clock.now_ms() + MIN, lambda: fired.append("deep"))
    dev.clock.advance(30 * MIN)
    assert fired == ["light"]
    sh(dev, "cmd deviceidle step")
    assert fired == ["light", "deep"]


def test_alarm_clock_stops_doze_from_going_deeper_and_fires_in_idle(dev):
    fired = []
    unplug_and_sleep(dev)
    t0 = dev.clock.now_ms()
    dev.alarms.set(PKG, UID, t0 + 20 * MIN, lambda: fired.append(dev.clock.now_ms() - t0), alarm_clock=True)
    assert "flags=0x3\n" in sh(dev, "dumpsys alarm").out
    r = sh(dev, "cmd deviceidle force-idle")
    assert (r.rc, r.out) == (255, "Unable to go deep idle; stopped at INACTIVE\n")
    dev.clock.advance(20 * MIN)
    assert fired == [20 * MIN]
    r = sh(dev, "cmd deviceidle force-idle")
    assert r.out == "Now forced in to deep idle mode\n"
    dev.alarms.set(PKG, UID, dev.clock.now_ms() + 2 * HOUR, lambda: fired.append("clock"), alarm_clock=True)
    dev.clock.advance(2 * HOUR)
    assert fired[-1] == "clock"  # alarm clocks wake the device from Doze


def test_allow_while_idle_rate_limited_in_deep_idle(dev):
    fired = []
    sh(dev, "cmd deviceidle force-idle")
    t0 = dev.clock.now_ms()
    for i in range(3):
        dev.alarms.set(
            PKG, UID, t0 + MIN * (i + 1), lambda: fired.append(dev.clock.now_ms() - t0), allow_while_idle=True
        )
    dev.clock.advance(30 * MIN)
    assert fired == [1 * MIN, 10 * MIN, 19 * MIN]


def test_alarm_deferred_by_saver_until_off(dev):
    fired = []
    sh(dev, "settings put system screen_off_timeout 86400000")  # screen on: no (quick) doze
    sh(dev, "dumpsys battery unplug")
    sh(dev, "cmd power set-mode 1")
    dev.alarms.set(PKG, UID, dev.clock.now_ms() + MIN, lambda: fired.append(1))
    dev.clock.advance(5 * MIN)
    assert fired == []
    sh(dev, "cmd power set-mode 0")
    assert fired == [1]


def test_cancel_and_force_stop_and_reboot_drop_alarms(dev):
    fired = []
    t = dev.clock.now_ms() + MIN
    a = dev.alarms.set(PKG, UID, t, lambda: fired.append("a"))
    dev.alarms.set(PKG, UID, t, lambda: fired.append("b"))
    assert dev.alarms.cancel(a) and not dev.alarms.cancel(a)
    dev.bus.publish("package_stopped", package=PKG)
    dev.alarms.set("other.pkg", 10001, t, lambda: fired.append("c"))
    dev.reboot_now()
    dev.clock.advance(HOUR)
    assert fired == []


# ------------------------------------------------------------------- clock
def test_clock_prints_time_and_mode(dev):
    r = sh(dev, "cmd bgtest clock")
    now, mode = r.out.split()
    assert int(now) == dev.clock.now_ms() and mode == "manual"


def test_clock_advance_runs_events_in_order(dev):
    order = []
    t0 = dev.clock.now_ms()
    for delay in (5 * HOUR, 1 * HOUR, 3 * HOUR):
        dev.clock.schedule_at(t0 + delay, lambda d=delay: order.append((d, dev.clock.now_ms() - t0)))
    r = sh(dev, "cmd bgtest clock advance 24h")
    assert r.rc == 0
    assert r.out.startswith(f"advanced 1d to {t0 + 24 * HOUR}, ")
    assert order == [(HOUR, HOUR), (3 * HOUR, 3 * HOUR), (5 * HOUR, 5 * HOUR)]


def test_clock_advance_drives_a_doze_day(dev):
    unplug_and_sleep(dev)
    states = []
    dev.bus.subscribe("deviceidle", lambda deep, light: states.append(deep))
    sh(dev, "cmd bgtest clock advance 24h")
    assert states.count("IDLE_MAINTENANCE") >= 4
    assert "IDLE" in states


def test_clock_mode(dev):
    assert sh(dev, "cmd bgtest clock mode scaled 60").out.split()[1:] == ["scaled", "60"]
    assert dev.clock.mode == "scaled" and dev.clock.scale == 60
    assert sh(dev, "cmd bgtest clock mode realtime").out.split()[1] == "realtime"
    assert sh(dev, "cmd bgtest clock mode manual").out.split()[1] == "manual"


@pytest.mark.parametrize(
    "line",
    [
        "cmd bgtest clock advance",
        "cmd bgtest clock advance soon",
        "cmd bgtest clock advance -5m",
        "cmd bgtest clock mode",
        "cmd bgtest clock mode scaled",
        "cmd bgtest clock mode scaled -2",
        "cmd bgtest clock mode scaled fast",
        "cmd bgtest clock mode turbo",
        "cmd bgtest clock rewind",
        "cmd bgtest cable hdmi",
        "cmd bgtest nothing",
    ],
)
def test_clock_bad_arguments(dev, line):
    before = dev.clock.now_ms()
    r = sh(dev, line)
    assert r.rc == 255 and r.err.startswith(("Error:", "Unknown command:")) and "Traceback" not in r.err
    assert dev.clock.now_ms() == before


@settings(max_examples=50, deadline=None)
@given(
    parts=st.lists(
        st.tuples(st.integers(0, 500), st.sampled_from(["ms", "s", "m", "h", "d"])), min_size=1, max_size=3
    )
)
def test_clock_advance_accepts_every_duration_form(parts):
    d = new_device()
    text = "".join(f"{n}{u}" for n, u in parts)
    unit = {"ms": 1, "s": 1000, "m": MIN, "h": HOUR, "d": 24 * HOUR}
    want = sum(n * unit[u] for n, u in parts)
    before = d.clock.now_ms()
    r = sh(d, f"cmd bgtest clock advance {text}")
    if want > MAX_DURATION_MS:  # past a year and a day: refused, the clock untouched
        assert r.rc == 255 and "duration too long" in r.err and d.clock.now_ms() == before
        return
    assert r.rc == 0, r.err
    assert d.clock.now_ms() - before == want


# ----------------------------------------------------------------- standby
def test_buckets(dev):
    assert dev.standby.bucket(PKG) == NEVER  # never launched
    dev.standby.report_launch(PKG)
    assert dev.standby.bucket(PKG) == ACTIVE and not dev.standby.is_inactive(PKG)
    dev.standby.set_inactive(PKG, True)
    assert dev.standby.bucket(PKG) == RARE and dev.standby.is_inactive(PKG)
    assert dev.standby.bucket("com.google.android.gms") == 5
    assert dev.standby.quota(PKG) == QUOTAS[RARE]
    assert QUOTAS[RARE].window_ms == 24 * HOUR and QUOTAS[RARE].allowed_ms == 10 * MIN
    assert QUOTAS[ACTIVE].ej_limit_ms == 30 * MIN and QUOTAS[RARE].ej_limit_ms == 10 * MIN


def test_bucket_events_and_parse(dev):
    seen = []
    dev.bus.subscribe("standby_bucket", lambda package, bucket: seen.append((package, bucket)))
    dev.standby.set_bucket(PKG, 30)
    dev.standby.set_bucket(PKG, 30)
    assert seen == [(PKG, 30)]
    assert parse_bucket("working_set") == 20 and parse_bucket("rare") == 40 and parse_bucket("45") == 45
    with pytest.raises(BucketError, match="Unknown bucket: sleepy"):
        parse_bucket("sleepy")


# ---------------------------------------------------------- dumpsys and cmd
def test_dumpsys_and_cmd_dispatch(dev):
    r = sh(dev, "dumpsys -l")
    assert r.out.startswith("Currently running services:\n")
    for name in ("battery", "deviceidle", "alarm", "power", "connectivity"):
        assert f"  {name}\n" in r.out
    r = sh(dev, "dumpsys nosuch")
    assert (r.rc, r.out, r.err) == (0, "", "Can't find service: nosuch\n")
    r = sh(dev, "cmd nosuch get")
    assert (r.rc, r.out, r.err) == (20, "", "cmd: Can't find service: nosuch\n")
    r = sh(dev, "cmd")
    assert r.rc == 20 and r.err.startswith("cmd: No service specified")
    assert "  deviceidle\n" in sh(dev, "cmd -l").out


def test_dumpsys_everything_has_headers(dev):
    out = sh(dev, "dumpsys").out
    assert "DUMP OF SERVICE battery:\nCurrent Battery Service state:\n" in out
    assert "DUMP OF SERVICE deviceidle:\n" in out
    ending = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(dev.now_ms() // 1000))
    assert f"--------- 0.001s was the duration of dumpsys battery, ending at: {ending}\n" in out
