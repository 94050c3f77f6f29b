"""Battery (dumpsys battery / cmd battery, freezing, drain) and power (screen keys, battery saver)."""

from __future__ import annotations

import pytest
from os_testutil import HOUR, MIN, new_device, sh


@pytest.fixture
def dev():
    return new_device()


GOLDEN_PLUGGED = """Current Battery Service state:
  AC powered: false
  USB powered: true
  Wireless powered: false
  Dock powered: false
  Max charging current: 500000
  Max charging voltage: 5000000
  Charge counter: 3200000
  status: 2
  health: 2
  present: true
  level: 80
  scale: 100
  voltage: 4080
  temperature: 250
  technology: Li-ion
  Charging state: 1
  Charging policy: 1
"""


def test_dump_golden(dev):
    assert sh(dev, "dumpsys battery").out == GOLDEN_PLUGGED


def test_unplug_freezes_and_reset_unfreezes(dev):
    events = []
    dev.bus.subscribe("power_source", lambda plugged: events.append(plugged))
    r = sh(dev, "dumpsys battery unplug")
    assert (r.rc, r.out) == (0, "")
    out = sh(dev, "dumpsys battery").out
    assert out.splitlines()[1] == "  (UPDATES STOPPED -- use 'reset' to restart)"
    assert "  USB powered: false\n" in out and "  Max charging current: 500000\n" in out
    assert not dev.battery.plugged and events == [False]
    dev.clock.advance(2 * HOUR)  # the hardware keeps charging on its cable; the report is frozen
    assert sh(dev, "cmd battery get level").out == "80\n"
    assert sh(dev, "dumpsys battery reset").out == ""
    assert dev.battery.plugged and events == [False, True]
    assert int(sh(dev, "cmd battery get level").out) > 80


def test_force_flag_prints_sequence_numbers(dev):
    a = int(sh(dev, "cmd battery set -f level 100").out)
    assert a == dev.battery.seq
    b = int(sh(dev, "cmd battery unplug -f").out)
    assert b == a + 1  # one broadcast per command, changed or not
    assert int(sh(dev, "cmd battery unplug -f").out) == b + 1  # -f broadcasts even without a change
    assert sh(dev, "cmd battery unplug").out == "" and dev.battery.seq == b + 1  # no change, no -f: none
    c = int(sh(dev, "cmd battery reset -f").out)
    assert c == b + 2
    assert sh(dev, "cmd battery reset -f").out == ""  # not frozen: nothing to reset, nothing printed


def test_get_set_texts_and_errors(dev):
    assert sh(dev, "cmd battery get ac").out == "false\n"
    assert sh(dev, "cmd battery get usb").out == "true\n"
    assert sh(dev, "cmd battery get present").out == "true\n"
    assert sh(dev, "cmd battery get status").out == "2\n"
    assert sh(dev, "cmd battery get temp").out == "250\n"
    sh(dev, "cmd battery set level 15")
    assert sh(dev, "cmd battery get level").out == "15\n"
    sh(dev, "cmd battery set ac 1")
    assert sh(dev, "cmd battery get ac").out == "true\n"
    cases = {
        "cmd battery get": (255, "No property specified\n"),
        "cmd battery set": (255, "No property specified\n"),
        "cmd battery set level": (255, "No value specified\n"),
        "cmd battery set level abc": (255, "Bad value: abc\n"),
        "cmd battery set color 3": (0, "Unknown set option: color\n"),
        "cmd battery get color": (0, "Unknown get option: color\n"),
        "cmd battery set color abc": (0, "Unknown set option: color\n"),
        "cmd battery frob": (255, "Unknown command: frob\n"),
    }
    for line, want in cases.items():
        r = sh(dev, line)
        assert (r.rc, r.out) == want, line
    r = sh(dev, "dumpsys battery --checkin")
    assert (r.rc, r.out) == (0, "Unknown command: --checkin\n")
    r = sh(dev, "dumpsys battery set level abc")
    assert (r.rc, r.out) == (0, "Bad value: abc\n")  # dumpsys exits 0 whatever the shell said


def test_battery_low_and_constraints(dev):
    seen = []
    dev.bus.subscribe("constraints", lambda: seen.append(1))
    sh(dev, "cmd battery unplug")
    sh(dev, "cmd battery set level 15")
    assert dev.battery.low
    sh(dev, "cmd battery set level 18")
    assert dev.battery.low  # hysteresis: closes at 20
    sh(dev, "cmd battery set level 20")
    assert not dev.battery.low
    assert len(seen) >= 4


def test_drain_over_24h_unplugged_screen_off(dev):
    levels = []
    dev.bus.subscribe("battery_level", lambda level: levels.append(level))
    sh(dev, "cmd bgtest cable none")
    sh(dev, "input keyevent KEYCODE_SLEEP")
    assert sh(dev, "cmd battery get status").out == "3\n"
    dev.clock.advance(24 * HOUR)
    level = int(sh(dev, "cmd battery get level").out)
    assert 55 <= level <= 57  # about 1 %/h
    assert levels == sorted(levels, reverse=True) and len(levels) >= 23


def test_screen_on_drains_faster_and_charging_fills(dev):
    sh(dev, "settings put system screen_off_timeout 86400000")
    sh(dev, "cmd bgtest cable none")
    dev.clock.advance(2 * HOUR)
    assert dev.power.interactive
    assert int(sh(dev, "cmd battery get level").out) <= 61
    sh(dev, "cmd bgtest cable ac")
    dev.clock.advance(2 * HOUR)
    assert sh(dev, "cmd battery get level").out == "100\n"
    assert sh(dev, "cmd battery get status").out == "5\n"
    assert sh(dev, "cmd bgtest cable").out == "ac\n"


def test_reboot_drops_the_shell_override(dev):
    sh(dev, "dumpsys battery unplug")
    dev.reboot_now()
    assert dev.battery.plugged and "UPDATES STOPPED" not in sh(dev, "dumpsys battery").out


# ------------------------------------------------------------------ power
def test_power_keys(dev):
    assert dev.power.interactive
    sh(dev, "input keyevent KEYCODE_POWER")
    assert not dev.power.interactive
    assert "  mWakefulness=Asleep\n" in sh(dev, "dumpsys power").out
    assert "  mHoldingDisplaySuspendBlocker=false\n" in sh(dev, "dumpsys power").out
    assert "Display Power: state=OFF\n" in sh(dev, "dumpsys power").out
    sh(dev, "input keyevent 26")
    assert dev.power.interactive
    assert "  mWakefulness=Awake\n" in sh(dev, "dumpsys power").out
    sh(dev, "input keyevent 223")
    assert not dev.power.interactive
    sh(dev, "input keyevent KEYCODE_SLEEP")
    assert not dev.power.interactive
    sh(dev, "input keyevent WAKEUP")
    assert dev.power.interactive
    sh(dev, "input keyevent --longpress KEYCODE_POWER")
    assert dev.power.interactive
    sh(dev, "cmd input keyevent 26")
    assert not dev.power.interactive


def test_power_keys_log_as_power_manager_service(dev):
    sh(dev, "input keyevent KEYCODE_POWER")
    sh(dev, "input keyevent KEYCODE_WAKEUP")
    msgs = [e.message for e in dev.logd.entries(["main", "system"]) if e.tag == "PowerManagerService"]
    assert msgs[-2:] == [
        "Going to sleep due to power_button (uid 1000)...",
        "Waking up from Asleep (uid 1000, reason=WAKE_REASON_WAKE_KEY, details=android.policy:KEY)...",
    ]


def test_screen_times_out_on_battery_but_not_with_stayon(dev):
    sh(dev, "dumpsys battery unplug")
    dev.clock.advance(59_000)
    assert dev.power.interactive
    sh(dev, "input tap 10 10")  # user activity restarts the timeout
    dev.clock.advance(59_000)
    assert dev.power.interactive
    dev.clock.advance(1_000)
    assert not dev.power.interactive
    sh(dev, "dumpsys battery reset")
    sh(dev, "svc power stayon usb")
    sh(dev, "input keyevent KEYCODE_WAKEUP")
    dev.clock.advance(HOUR)
    assert dev.power.interactive


def test_battery_saver_refused_while_plugged(dev):
    r = sh(dev, "cmd power set-mode 1")
    assert (r.rc, r.out, r.err) == (0, "", "")
    assert not dev.power.saver_enabled
    assert sh(dev, "settings get global low_power").out == "0\n"
    sh(dev, "settings put global low_power 1")
    assert sh(dev, "settings get global low_power").out == "1\n"  # the setting flips …
    assert not dev.power.saver_enabled  # … but saver stays off on power
    sh(dev, "dumpsys battery unplug")
    assert not dev.power.saver_enabled  # not applied later on its own
    sh(dev, "settings put global low_power 1")
    assert not dev.power.saver_enabled  # same value: the provider notifies nobody
    sh(dev, "settings put global low_power 0")
    sh(dev, "settings put global low_power 1")
    assert dev.power.saver_enabled


def test_battery_saver_on_battery_and_plug_in_turns_it_off(dev):
    events = []
    dev.bus.subscribe("power_save", lambda enabled: events.append(enabled))
    sh(dev, "dumpsys battery unplug")
    sh(dev, "cmd power set-mode 1")
    assert dev.power.saver_enabled
    assert sh(dev, "settings get global low_power").out == "1\n"
    assert "  Enabled=true\n" in sh(dev, "dumpsys power").out
    sh(dev, "dumpsys battery reset")  # back on USB power
    assert not dev.power.saver_enabled
    assert sh(dev, "settings get global low_power").out == "0\n"
    sh(dev, "dumpsys battery unplug")  # sticky: comes back below 90 %
    assert dev.power.saver_enabled
    sh(dev, "cmd power set-mode 0")
    assert not dev.power.saver_enabled
    assert events == [True, False, True, False]


def test_saver_restricts_apps_but_not_whitelisted(dev):
    sh(dev, "dumpsys battery unplug")
    sh(dev, "settings put global low_power 1")
    assert dev.power.saver_restricts("com.example.app")
    assert not dev.power.saver_restricts("com.android.providers.downloads")  # except-idle whitelist


def test_power_command_errors(dev):
    r = sh(dev, "cmd power set-mode")
    assert (r.rc, r.out) == (
        255,
        'Error: java.lang.IllegalArgumentException: Argument expected after "set-mode"\n',
    )
    r = sh(dev, "cmd power set-mode x")
    assert (r.rc, r.out) == (255, 'Error: java.lang.NumberFormatException: For input string: "x"\n')
    r = sh(dev, "cmd power set-mode 99999999999")
    assert r.rc == 255 and "NumberFormatException" in r.out
    r = sh(dev, "cmd power set-adaptive-power-saver-enabled")
    assert r.rc == 255 and 'Argument expected after "set-adaptive-power-saver-enabled"' in r.err
    r = sh(dev, "cmd power bogus")
    assert (r.rc, r.out) == (255, "Unknown command: bogus\n")


def test_input_usage_errors(dev):
    r = sh(dev, "input")
    assert r.rc == 1 and r.err.startswith("Usage: input")
    r = sh(dev, "input keyevent")
    assert r.rc == 1
    r = sh(dev, "input fly")
    assert r.rc == 1 and r.err.startswith("Error: Unknown command: fly")
    assert sh(dev, "input keyevent KEYCODE_NOT_A_KEY").rc == 0
    assert dev.power.interactive


def test_screen_events_drive_minutes_not_loops(dev):
    sh(dev, "dumpsys battery unplug")
    before = dev.clock.events_run
    dev.clock.advance(24 * HOUR)
    assert dev.clock.events_run - before < 200
    assert not dev.power.interactive and dev.idle.deep_idle()
    assert MIN  # constant import used
