"""The iOS driver (harness/devices/ios.py, wda.py) against the virtual iPhone's xcrun stand-in.

Every iOS action goes through the real interfaces: ``bgtest-xcrun`` as a subprocess (with a
private ``BGTEST_SIM_HOME``) and facebook-wda against the WDA server. What the device did is
read back through the vendor ``simctl bgtest state`` JSON, never through Python internals.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.devices.base import Facet
from harness.devices.ios import (
    IosDevice,
    Xcrun,
    list_simulators,
    parse_device_list,
    parse_listapps,
    parse_openstep_value,
    xcrun_argv,
)
from harness.errors import BgtestError, DeviceError, UnsupportedAction
from harness.run.embedded import EmbeddedIphone
from harness.run.settings import Settings

APP = str(Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_ios_demo.yaml")
BUNDLE = "dev.brewkits.nwmIosDemo"
REFRESH = "dev.brewkits.native_workmanager.refresh"


@pytest.fixture(scope="module")
def iphones():
    embedded = EmbeddedIphone().start()
    yield embedded
    embedded.stop()


@pytest.fixture(scope="module")
def sim(iphones: EmbeddedIphone) -> IosDevice:
    device = iphones.device("simulator")
    device.install(APP)
    return device  # type: ignore[return-value]


@pytest.fixture(scope="module")
def phone(iphones: EmbeddedIphone) -> IosDevice:
    device = iphones.device("device")
    device.install(APP)
    return device  # type: ignore[return-value]


def state(device: IosDevice) -> dict:
    return json.loads(device.simctl(["bgtest", "state", device.udid]).out)


def log_messages(device: IosDevice) -> list[str]:
    out = device.simctl(["spawn", device.udid, "log", "show", "--style", "ndjson", "--debug"]).out
    return [json.loads(line).get("eventMessage", "") for line in out.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------- xcrun itself
def test_xcrun_path_order() -> None:
    """--xcrun over $BGTEST_XCRUN over xcrun on PATH, decided once in the settings."""
    assert xcrun_argv(Settings.build({}).xcrun) == ["xcrun"]
    env = {"BGTEST_XCRUN": "/opt/x/bgtest-xcrun --flag"}
    assert xcrun_argv(Settings.build(env).xcrun) == ["/opt/x/bgtest-xcrun", "--flag"]
    assert xcrun_argv(Settings.build(env, xcrun="/usr/bin/xcrun").xcrun) == ["/usr/bin/xcrun"]


def test_the_driver_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGTEST_XCRUN", "/opt/x/bgtest-xcrun")
    assert xcrun_argv() == ["xcrun"] and Xcrun().argv0 == ["xcrun"]


def test_missing_xcrun_is_a_bgtest_message() -> None:
    with pytest.raises(BgtestError) as info:
        list_simulators(Xcrun("/nonexistent/xcrun"))
    assert "cannot run xcrun (/nonexistent/xcrun)" in info.value.render()
    assert "bgtest sim ios" in info.value.render()


def test_identity_and_kind(sim: IosDevice, phone: IosDevice) -> None:
    assert sim.is_virtual and phone.is_virtual
    assert sim.describe()["kind"] == "simulator" and sim.describe()["state"] == "Booted"
    fresh = IosDevice(phone.udid, phone.xcrun)  # kind discovered, not given
    assert fresh.kind == "device"


# ---------------------------------------------------------------- apps
def test_install_listapps_launch_with_arguments_and_env(sim: IosDevice) -> None:
    assert BUNDLE in sim.installed_apps()
    assert sim.executable(BUNDLE) == "Runner"
    pid = sim.launch(BUNDLE, arguments=["-verbose", "1"], env={"API": "staging"}, console=False)
    proc = state(sim)
    assert proc["apps"][BUNDLE] == 4
    assert sim.pid_of(BUNDLE) == pid
    # relaunch: --terminate-running-process gives a new process
    assert sim.launch(BUNDLE, console=False) != pid


def test_stop_app_twice_is_fine(sim: IosDevice) -> None:
    sim.launch(BUNDLE, console=False)
    sim.stop_app(BUNDLE)
    assert state(sim)["apps"][BUNDLE] == 1
    sim.stop_app(BUNDLE)  # simctl exits 3 "found nothing to terminate": not an error for bgtest
    assert BUNDLE in state(sim)["force_quit"]  # the virtual iPhone models the user's swipe


def test_uninstalled_bundle_and_unknown_udid(sim: IosDevice) -> None:
    with pytest.raises(DeviceError) as info:
        sim.launch("com.example.nope", console=False)
    assert "com.example.nope is not installed" in info.value.render()
    assert sim.udid in info.value.render()
    ghost = IosDevice("00000000-0000-0000-0000-000000000000", sim.xcrun)
    with pytest.raises(DeviceError) as info:
        ghost.check()
    assert "no such simulator" in info.value.render() and "bgtest devices" in info.value.render()
    with pytest.raises(DeviceError) as info:
        ghost.open_url("nwmios://x")
    assert "no such simulator" in info.value.render()


def test_open_url_and_push(sim: IosDevice) -> None:
    sim.launch(BUNDLE, console=False)
    sim.open_url("nwmios://enqueue/periodic-sync")
    assert any("submitTaskRequest: <BGAppRefreshTaskRequest: " + REFRESH in m for m in log_messages(sim))
    with pytest.raises(DeviceError) as info:
        sim.open_url("zzzz://nothing")
    assert "no app handles zzzz://nothing" in info.value.render()
    sim.push(BUNDLE, {"aps": {"content-available": 1}})
    with pytest.raises(UnsupportedAction):
        sim.push(BUNDLE, {"aps": {}, "blob": "x" * 5000})


def test_screenshot_is_png(sim: IosDevice) -> None:
    assert sim.screenshot().startswith(b"\x89PNG\r\n\x1a\n")


def test_reboot_comes_back_booted(sim: IosDevice) -> None:
    before = state(sim)
    with sim.rebooting(None, timeout=60):
        sim.reboot()
    after = state(sim)
    assert after["state"] == "Booted" and after["apps"][BUNDLE] == 1
    assert after["now_ms"] >= before["now_ms"]


def test_virtual_time_advances(sim: IosDevice) -> None:
    start = state(sim)["now_ms"]
    sim.advance(3_600_000)
    assert state(sim)["now_ms"] - start == 3_600_000


def test_a_sliced_advance_runs_on_through_slices_with_nothing_in_them(sim: IosDevice) -> None:
    """Issue 17: a wait that looks after every slice asks the virtual iPhone once for the
    slices in which nothing was logged or printed, and stops after the one that has output."""
    sim.launch(BUNDLE, console=False)
    sim.open_url("nwmios://enqueue/periodic-sync")
    sim.open_url("nwmios://bgtest/run/dev.brewkits.native_workmanager.refresh")  # a 2 s worker
    start, made = state(sim)["now_ms"], sim.requests_made()
    assert sim.advance(600_000, 60_000) == 60_000  # the worker's lines are in the first minute
    assert sim.advance(540_000, 60_000) == 540_000  # then nothing: one call for nine slices
    assert sim.requests_made() == made + 2
    assert state(sim)["now_ms"] - start == 600_000


# ---------------------------------------------------------------- state
def test_low_power_simulator_route_and_restore(sim: IosDevice) -> None:
    saved = sim.snapshot([BUNDLE])
    assert saved.low_power is False
    sim.power_saver(True)
    assert sim.low_power_state() is True and state(sim)["low_power"] is True
    done = sim.restore(saved, [BUNDLE], facets={Facet.SAVER})
    assert done == ["Low Power Mode off"]
    assert state(sim)["low_power"] is False


def test_low_power_device_route_is_settings_through_wda(phone: IosDevice) -> None:
    phone.power_saver(True)  # Settings → Battery → Low Power Mode
    assert state(phone)["low_power"] is True
    assert phone.wda.low_power() is True
    phone.power_saver(False)
    assert state(phone)["low_power"] is False


def test_battery_and_its_restore(phone: IosDevice) -> None:
    saved = phone.snapshot()
    phone.battery("charging", 40)
    assert state(phone)["charging"] is True and phone.battery_info() == {"level": 40, "state": "charging"}
    assert phone.restore(saved, facets={Facet.BATTERY}) == ["battery 80% unplugged"]
    assert phone.battery_info() == {"level": 80, "state": "unplugged"}


def test_background_and_screen_through_wda(phone: IosDevice) -> None:
    phone.launch(BUNDLE, console=False)
    assert phone.wda.app_state_name(BUNDLE) == "foreground"
    phone.background()
    assert phone.wda.app_state(BUNDLE) in (2, 3)
    phone.screen(False)
    assert phone.wda.locked() is True
    phone.screen(True)
    assert phone.wda.locked() is False


def test_network_on_the_virtual_iphone_and_its_restore(phone: IosDevice) -> None:
    saved = phone.snapshot()
    phone.network(wifi=False, data=False)
    assert state(phone)["network"] is False
    assert phone.restore(saved, facets={Facet.NETWORK}) == ["network on"]
    assert state(phone)["network"] is True
    phone.network(airplane=True)
    assert state(phone)["network"] is False
    phone.network(airplane=False)
    assert state(phone)["network"] is True


def test_network_on_a_real_simulator_is_refused_with_a_reason(sim: IosDevice) -> None:
    real = IosDevice(sim.udid, sim.xcrun, kind="simulator")
    real._virtual = False  # what a real xcrun answers to `simctl bgtest clock`
    with pytest.raises(UnsupportedAction) as info:
        real.network(wifi=False)
    assert "shares the Mac's network" in info.value.render()


# ---------------------------------------------------------------- BGTasks
def test_run_task_on_a_simulator_explains_code_1(sim: IosDevice) -> None:
    with pytest.raises(UnsupportedAction) as info:
        sim.simulate_launch(BUNDLE, REFRESH)
    text = info.value.render()
    assert "BGTaskSchedulerErrorDomain Code=1" in text
    assert "_simulateLaunchForTaskWithIdentifier" in text and "pending" in text
    assert "hook" in text


def test_run_and_expire_task_on_a_device_through_lldb(phone: IosDevice) -> None:
    phone.launch(BUNDLE, console=False)
    phone.open_url("nwmios://enqueue/periodic-sync")
    out = phone.simulate_launch(BUNDLE, REFRESH)
    assert "detached" in out
    messages = log_messages(phone)
    assert f"Simulating launch for task with identifier {REFRESH}" in messages
    assert any(m.startswith("Starting simulated task: <BGAppRefreshTask") for m in messages)
    phone.simulate_expiration(BUNDLE, REFRESH)
    assert f"Simulating expiration for task with identifier {REFRESH}" in log_messages(phone)


def test_run_task_needs_the_app_running_and_a_sane_identifier(phone: IosDevice) -> None:
    phone.stop_app(BUNDLE)
    with pytest.raises(DeviceError) as info:
        phone.simulate_launch(BUNDLE, REFRESH)
    assert "needs dev.brewkits.nwmIosDemo running" in info.value.render()
    with pytest.raises(UnsupportedAction):
        phone.simulate_launch(BUNDLE, 'x"];[evil')


# ---------------------------------------------------------------- parsers
def test_device_list_real_format() -> None:
    text = (
        '{\n  "devices" : {\n    "com.apple.CoreSimulator.SimRuntime.iOS-16-1" : [\n      {\n'
        '        "dataPath" : "\\/Users\\/x\\/data",\n'
        '        "udid" : "573D4A53-D1EC-48CA-A554-8DF7A94EFFBD",\n'
        '        "isAvailable" : true,\n'
        '        "deviceTypeIdentifier" : "com.apple.CoreSimulator.SimDeviceType.iPhone-14",\n'
        '        "state" : "Booted",\n        "name" : "iPhone 14"\n      }\n    ]\n  }\n}\n'
    )
    [dev] = parse_device_list(text)
    assert (dev.name, dev.state, dev.os_version) == ("iPhone 14", "Booted", "iOS 16.1")
    assert parse_device_list("not json") == []


def test_old_availability_strings() -> None:
    text = json.dumps(
        {
            "devices": {
                "iOS 10.3": [
                    {"udid": "A", "state": "Shutdown", "name": "x", "availability": "(available)"},
                    {"udid": "B", "state": "Shutdown", "name": "y",
                     "availability": " (unavailable, runtime profile not found)"},
                ]
            }
        }
    )
    assert [d.available for d in parse_device_list(text)] == [True, False]


_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,12}", fullmatch=True)
_VAL = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'), max_size=30)


@given(key=_KEY, value=_VAL, plain=st.from_regex(r"[A-Za-z0-9_]{1,10}", fullmatch=True))
def test_openstep_value_quoted_and_plain(key: str, value: str, plain: str) -> None:
    text = f'{{\n    ApplicationType = User;\n    {key}X = "{value}";\n    {key}Y = {plain};\n}}'
    assert parse_openstep_value(text, key + "X") == value
    assert parse_openstep_value(text, key + "Y") == plain
    assert parse_openstep_value(text, key + "Z") is None


def test_listapps_keys() -> None:
    text = (
        '{\n    "com.acme.Widgets" =     {\n        ApplicationType = User;\n'
        '        CFBundleIdentifier = "com.acme.Widgets";\n    };\n'
        '    "com.apple.mobilesafari" =     {\n        ApplicationType = System;\n    };\n}\n'
    )
    assert parse_listapps(text) == ["com.acme.Widgets", "com.apple.mobilesafari"]



def test_state_guard_clears_status_bar_overrides(sim: IosDevice) -> None:
    saved = sim.snapshot()
    sim.simctl(["status_bar", sim.udid, "override", "--time", "9:41", "--batteryLevel", "50"])
    assert "Time: 9:41" in sim.snapshot().summary()
    assert "status bar overrides cleared" in sim.restore(saved, facets=set())
    assert sim.status_bar().strip().splitlines()[2:] == []
