"""Connectivity (svc, airplane mode, netpolicy, app_has_network) and the settings provider."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from os_testutil import new_device, sh

PKG = "com.example.wmplain"
UID = 10000


@pytest.fixture
def dev():
    return new_device(with_app=True)


def test_defaults_wifi_up_unmetered(dev):
    net = dev.net.active_network()
    assert net is not None and net.kind == "WIFI" and not net.metered
    assert dev.net.app_has_network(PKG, UID, "unmetered")
    assert sh(dev, "settings get global wifi_on").out == "1\n"
    assert sh(dev, "settings get global airplane_mode_on").out == "0\n"
    assert sh(dev, "settings get global mobile_data").out == "1\n"


def test_dumpsys_connectivity_short_form(dev):
    lines = sh(dev, "dumpsys connectivity").out.splitlines()
    assert "Active default network: 101" in lines
    i = lines.index("Current Networks:")
    assert lines[i + 1].startswith(
        "  NetworkAgentInfo{network{101}  ni{WIFI CONNECTED extra: }  nc{[ Transports: WIFI "
    )
    assert "NOT_METERED" in lines[i + 1] and lines[i + 1].endswith('SSID: "AndroidWifi"]}  default}')
    assert lines[i + 2].startswith("  NetworkAgentInfo{network{102}  ni{CELLULAR CONNECTED")
    assert "NOT_METERED" not in lines[i + 2]


def test_svc_wifi_data(dev):
    assert sh(dev, "svc wifi disable").out == ""
    assert sh(dev, "settings get global wifi_on").out == "0\n"
    assert dev.net.active_network().kind == "CELLULAR"
    assert dev.net.app_has_network(PKG, UID)
    assert not dev.net.app_has_network(PKG, UID, "unmetered")
    assert dev.net.app_has_network(PKG, UID, "metered")
    sh(dev, "svc data disable")
    assert dev.net.active_network() is None
    assert not dev.net.app_has_network(PKG, UID)
    sh(dev, "svc wifi enable")
    assert dev.net.app_has_network(PKG, UID, "unmetered")
    r = sh(dev, "svc wifi")
    assert r.rc == 1 and r.out.startswith("Control the Wi-Fi manager\n\nusage: svc wifi [enable|disable]")
    r = sh(dev, "svc data on")
    assert (r.rc, r.out) == (
        1,
        "Enable/Disable Mobile Data Connectivity\n\nusage: svc data [enable|disable]\n\n",
    )
    assert sh(dev, "svc").err.startswith("Available commands:")


def test_cmd_wifi_and_phone(dev):
    assert sh(dev, "cmd wifi set-wifi-enabled disabled").rc == 0
    assert sh(dev, "settings get global wifi_on").out == "0\n"
    out = sh(dev, "cmd wifi status").out.splitlines()
    assert out[0] == "Wifi is disabled" and out[-1] == "Wifi is not connected"
    sh(dev, "cmd wifi set-wifi-enabled enabled")
    assert sh(dev, "cmd wifi status").out.splitlines()[-1] == 'Wifi is connected to "AndroidWifi"'
    r = sh(dev, "cmd wifi set-wifi-enabled on")
    assert r.rc == 255 and r.err.startswith("Invalid args for set-wifi-enabled:")
    assert sh(dev, "cmd phone data disable").rc == 0
    assert sh(dev, "settings get global mobile_data").out == "0\n"
    assert sh(dev, "cmd phone data enable").rc == 0


def test_airplane_mode_drops_radios_and_app_network_follows(dev):
    changes = []
    dev.bus.subscribe("network", lambda connected: changes.append(connected))
    assert sh(dev, "cmd connectivity airplane-mode").out == "disabled\n"
    r = sh(dev, "cmd connectivity airplane-mode enable")
    assert (r.rc, r.out) == (0, "")
    assert sh(dev, "cmd connectivity airplane-mode").out == "enabled\n"
    assert sh(dev, "settings get global airplane_mode_on").out == "1\n"
    assert sh(dev, "settings get global wifi_on").out == "3\n"
    assert dev.net.active_network() is None and not dev.net.app_has_network(PKG, UID)
    assert "Active default network: none" in sh(dev, "dumpsys connectivity").out
    sh(dev, "svc wifi enable")  # wifi may come back on in airplane mode
    assert sh(dev, "settings get global wifi_on").out == "2\n"
    assert dev.net.app_has_network(PKG, UID)
    sh(dev, "svc wifi disable")
    sh(dev, "cmd connectivity airplane-mode disable")
    assert dev.net.active_network().kind == "CELLULAR"  # wifi was off when airplane ended
    assert changes == [False, True, False, True]


def test_airplane_restores_wifi(dev):
    sh(dev, "cmd connectivity airplane-mode enable")
    sh(dev, "cmd connectivity airplane-mode disable")
    assert sh(dev, "settings get global wifi_on").out == "1\n"
    assert dev.net.active_network().kind == "WIFI"


def test_setting_alone_does_not_move_radios_except_through_observers(dev):
    sh(dev, "settings put global airplane_mode_on 1")
    # The radios follow the setting only through ConnectivityService; here the cell radio
    # drops (airplane) but wifi_on was not rewritten, so wifi stays up as on a modern phone.
    assert dev.net.active_network().kind == "WIFI"


def test_connectivity_errors(dev):
    r = sh(dev, "cmd connectivity airplane-mode sideways")
    assert r.rc == 255 and r.out.startswith("Connectivity service commands:\n")
    r = sh(dev, "cmd connectivity bogus")
    assert (r.rc, r.out) == (255, "Unknown command: bogus\n")


def test_doze_and_saver_block_app_network(dev):
    sh(dev, "dumpsys battery unplug")
    sh(dev, "input keyevent KEYCODE_SLEEP")
    sh(dev, "dumpsys deviceidle force-idle")
    assert not dev.net.app_has_network(PKG, UID)
    sh(dev, "dumpsys deviceidle step")  # maintenance window
    assert dev.net.app_has_network(PKG, UID)
    sh(dev, "dumpsys deviceidle step")
    assert not dev.net.app_has_network(PKG, UID)
    sh(dev, f"dumpsys deviceidle whitelist +{PKG}")
    assert dev.net.app_has_network(PKG, UID)
    sh(dev, f"dumpsys deviceidle whitelist -{PKG}")
    sh(dev, "dumpsys deviceidle unforce")
    sh(dev, "input keyevent KEYCODE_WAKEUP")
    assert dev.net.app_has_network(PKG, UID)
    sh(dev, "cmd power set-mode 1")
    assert dev.power.saver_enabled and not dev.net.app_has_network(PKG, UID)
    sh(dev, f"cmd deviceidle except-idle-whitelist +{PKG}")
    assert dev.net.app_has_network(PKG, UID)


def test_netpolicy_restrict_background_and_metered(dev):
    assert sh(dev, "cmd netpolicy get restrict-background").out == "Restrict background status: disabled\n"
    assert sh(dev, "cmd netpolicy set restrict-background true").out == ""
    assert sh(dev, "cmd netpolicy get restrict-background").out == "Restrict background status: enabled\n"
    assert dev.net.app_has_network(PKG, UID)  # wifi unmetered: data saver does not apply
    r = sh(dev, "cmd netpolicy set metered-network AndroidWifi true")
    assert (r.rc, r.out) == (255, "")  # AOSP returns -1 even on success
    assert sh(dev, "cmd netpolicy list wifi-networks").out == "AndroidWifi;true\n"
    assert sh(dev, "cmd netpolicy list wifi-networks false").out == ""
    assert dev.net.active_network().metered
    assert not dev.net.app_has_network(PKG, UID)
    assert not dev.net.app_has_network(PKG, UID, "unmetered")
    sh(dev, f"cmd netpolicy add restrict-background-whitelist {UID}")
    assert sh(dev, "cmd netpolicy list restrict-background-whitelist").out == (
        f"Restrict background whitelisted UIDs: {UID}\n"
    )
    assert dev.net.app_has_network(PKG, UID)
    sh(dev, f"cmd netpolicy remove restrict-background-whitelist {UID}")
    assert sh(dev, "cmd netpolicy list restrict-background-whitelist").out == (
        "Restrict background whitelisted UIDs: none\n"
    )
    sh(dev, "cmd netpolicy set restrict-background false")
    sh(dev, f"cmd netpolicy add restrict-background-blacklist {UID}")
    assert not dev.net.app_has_network(PKG, UID)
    sh(dev, "cmd netpolicy set metered-network AndroidWifi undefined")
    assert sh(dev, "cmd netpolicy list wifi-networks").out == "AndroidWifi;none\n"
    assert dev.net.app_has_network(PKG, UID, "unmetered")


@pytest.mark.parametrize(
    ("line", "out"),
    [
        ("cmd netpolicy get", "Error: didn't specify type of data to get\n"),
        ("cmd netpolicy get x", "Error: unknown get type 'x'\n"),
        ("cmd netpolicy set", "Error: didn't specify type of data to set\n"),
        ("cmd netpolicy set restrict-background", "Error: didn't specify BOOLEAN\n"),
        ("cmd netpolicy set metered-network", "Error: didn't specify networkId\n"),
        ("cmd netpolicy set metered-network AndroidWifi", "Error: didn't specify meteredOverride\n"),
        ("cmd netpolicy list", "Error: didn't specify type of data to list\n"),
        ("cmd netpolicy list x", "Error: unknown list type 'x'\n"),
        ("cmd netpolicy add restrict-background-whitelist", "Error: didn't specify UID\n"),
        ("cmd netpolicy add restrict-background-whitelist abc", "Error: UID (abc) should be a number\n"),
        ("cmd netpolicy remove x 1", "Error: unknown remove type 'x'\n"),
        ("cmd netpolicy zap", "Unknown command: zap\n"),
    ],
)
def test_netpolicy_errors(dev, line, out):
    r = sh(dev, line)
    assert (r.rc, r.out) == (255, out)


def test_requirement_validated(dev):
    with pytest.raises(ValueError):
        dev.net.app_has_network(PKG, UID, "fast")


# ---------------------------------------------------------------- settings
def test_settings_get_put_delete_list(dev):
    assert sh(dev, "settings get global no_such_key").out == "null\n"
    r = sh(dev, "settings put global bgtest_key hello")
    assert (r.rc, r.out, r.err) == (0, "", "")
    assert sh(dev, "settings get global bgtest_key").out == "hello\n"
    assert "bgtest_key=hello\n" in sh(dev, "settings list global").out
    assert sh(dev, "settings delete global bgtest_key").out == "Deleted 1 rows\n"
    assert sh(dev, "settings delete global bgtest_key").out == "Deleted 0 rows\n"
    assert sh(dev, "settings --user 0 get system screen_off_timeout").out == "60000\n"
    assert sh(dev, "cmd settings get secure user_setup_complete").out == "1\n"
    listing = sh(dev, "settings list system").out.splitlines()
    assert listing == sorted(listing)


@pytest.mark.parametrize(
    ("line", "err"),
    [
        ("settings frob global x", "Invalid command: frob\n"),
        ("settings get nowhere x", "Invalid namespace 'nowhere'\n"),
        ("settings get global", "Bad arguments\n"),
        ("settings put global key", "Bad arguments\n"),
        ("settings get global a b", "Too many arguments\n"),
        ("settings put global a b tag x", "Argument expected to be 'default'\n"),
        ("settings put global a b tag default x", "Too many arguments\n"),
        ("settings reset global", "Bad arguments\n"),
        ("settings reset global trusted_defaults x", "Too many arguments\n"),
        (
            "settings --user 0 --user 0 get global a",
            "Invalid user: --user specified more than once\nBad arguments\n",
        ),
        ("settings --user all get global a", "Invalid user: all\n"),
    ],
)
def test_settings_errors(dev, line, err):
    r = sh(dev, line)
    assert (r.rc, r.err) == (255, err)


def test_settings_help_and_put_with_tag(dev):
    r = sh(dev, "settings")
    assert r.rc == 255 and r.out.startswith("Settings provider (settings) commands:\n")
    assert sh(dev, "settings help").rc == 255
    assert sh(dev, "settings put global k v mytag default").rc == 0
    assert sh(dev, "settings get global k").out == "v\n"
    r = sh(dev, "settings reset system com.example")
    assert (r.rc, r.err) == (0, "Invalid table; no reset performed\n")
    assert sh(dev, "settings reset secure untrusted_defaults").rc == 0


def test_settings_persist_across_reboot(dev):
    sh(dev, "settings put global wifi_on 0")
    dev.reboot_now()
    assert sh(dev, "settings get global wifi_on").out == "0\n"
    assert dev.net.active_network().kind == "CELLULAR"


_dev_for_property = new_device()


@settings(max_examples=60, deadline=None)
@given(
    key=st.from_regex(r"[a-z][a-z0-9_.]{0,30}", fullmatch=True),
    value=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    ns=st.sampled_from(["global", "system", "secure"]),
)
def test_settings_round_trip_through_the_shell(key, value, ns):
    d = _dev_for_property
    r = sh(d, shlex.join(["settings", "put", ns, key, value]))
    assert r.rc == 0 and r.err == ""
    assert sh(d, shlex.join(["settings", "get", ns, key])).out == value + "\n"
