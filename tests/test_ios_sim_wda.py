"""facebook-wda's own client against the virtual iPhone's WebDriverAgent-compatible server."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import wda

from harness.sim.ios.device import open_world
from harness.sim.ios.launcher import start_ios
from harness.sim.ios.state import SimHome

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_demo.yaml"
BID = "dev.brewkits.nwmDemo"


@pytest.fixture()
def device_wda(tmp_path: Path) -> Iterator[tuple[wda.Client, SimHome]]:
    home = SimHome(tmp_path / "home")
    running = start_ios(kind="device", wda_port=0, clock="manual", home=home)
    with open_world(home) as world:
        world.find("booted").springboard.install(str(APP))
    try:
        yield wda.Client(running.url), home
    finally:
        running.stop()


def test_status_session_and_close(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    st = c.status()
    assert st["ready"] is True and st["sessionId"] is None and "simulatorVersion" not in st["ios"]
    s = c.session(BID)
    assert s.session_id and s.bundle_id == BID
    assert c.status()["sessionId"] == s.session_id
    s.close()  # DELETE /session/<sid>/ with the trailing slash
    assert c.status()["sessionId"] is None


def test_app_launch_state_terminate(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    s = c.session()
    s.app_launch(BID)
    assert s.app_state(BID).value == 4
    assert c.app_current()["bundleId"] == BID
    s.home()
    assert s.app_state(BID).value == 3
    assert s.app_terminate(BID).value is True
    assert s.app_terminate(BID).value is False
    assert s.app_state(BID).value == 1
    assert s.app_state("com.example.not.installed").value == 0


def test_screenshot_and_source(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    png = c.screenshot(format="raw")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    xml = c.source()
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<XCUIElementTypeApplication" in xml and 'name="NWM Demo"' in xml  # the home screen icon


def test_low_power_mode_through_settings(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, home = device_wda
    s = c.session("com.apple.Preferences")
    s(name="Battery").click()
    switch = s(type="XCUIElementTypeSwitch", name="Low Power Mode")
    assert switch.get().value == "0"
    switch.click()
    assert switch.get().value == "1"
    with open_world(home) as world:
        assert world.find("booted").d["lpm"] is True
    assert s.battery_info() == {"level": 0.8, "state": 1}


def test_unknown_element_and_bad_session(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    s = c.session()
    assert s(name="Nothing Here").get(timeout=0, raise_error=False) is None
    bad = wda.Client(c._BaseClient__wda_url, _session_id="NOPE")  # type: ignore[attr-defined]
    with pytest.raises(wda.WDAInvalidSessionIdError):
        bad._session_http.get("/wda/batteryInfo")


def test_simulator_settings_has_no_low_power_switch(tmp_path: Path) -> None:
    home = SimHome(tmp_path / "home")
    running = start_ios(kind="simulator", wda_port=0, clock="manual", home=home)
    try:
        c = wda.Client(running.url)
        assert c.status()["ios"]["simulatorVersion"] == "17.2"
        s = c.session("com.apple.Preferences")
        assert s(name="General").exists
        assert not s(name="Battery").exists
        assert s.battery_info() == {"level": -1, "state": 0}
        assert s.device_info()["isSimulator"] is True
    finally:
        running.stop()


def test_lock_unlock_and_app_list(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    c.lock()
    assert c.locked() is True
    s = c.session(BID)  # facebook-wda unlocks before it creates a session
    assert c.locked() is False
    assert [a["bundleId"] for a in s.app_list()] == [BID]
    s.deactivate(3)  # home for 3 s of device time, then back
    assert s.app_state(BID).value == 4
    assert s.window_size() == (393, 852) and s.scale == 3


def test_force_quit_in_the_app_switcher(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, home = device_wda
    s = c.session(BID)
    s.swipe(196, 840, 196, 500, 0.5)  # from the home indicator, up and hold: the app switcher
    assert s.app_state(BID).value == 3
    card = s(name="NWM Demo").get(timeout=0)
    x, y = card.bounds.center
    s.swipe(x, y, x, 60, 0.1)  # swipe the card away
    assert s.app_state(BID).value == 1
    with open_world(home) as world:
        assert world.find("booted").d["force_quit"] == [BID]
    assert not s(name="NWM Demo", className="XCUIElementTypeOther").exists


def test_bgtest_sim_ios_prints_the_environment_and_serves_wda(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "BGTEST_SIM_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "sim",
            "ios",
            "--kind",
            "device",
            "--wda-port",
            "0",
            "--clock",
            "manual",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(4))
        assert lines["BGTEST_XCRUN"].endswith("bgtest-xcrun")
        assert lines["BGTEST_SIM_HOME"] == str(tmp_path / "home")
        assert lines["DEVICE_URL"] == lines["BGTEST_WDA_URL"]
        status = wda.Client(lines["BGTEST_WDA_URL"]).status()
        assert status["ready"] is True and "simulatorVersion" not in status["ios"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0


def test_screenshots_are_in_pixels_through_wda_and_simctl(device_wda: tuple[wda.Client, SimHome],
                                                          tmp_path: Path) -> None:
    c, home = device_wda
    png = c.screenshot(format="raw")
    assert struct.unpack(">II", png[16:24]) == (1179, 2556)  # 393 x 852 points at scale 3
    out = tmp_path / "shot.png"
    env = {**os.environ, "BGTEST_SIM_HOME": str(home.path)}
    r = subprocess.run([sys.executable, "-m", "harness.sim.ios.xcrun", "simctl", "io", "booted", "screenshot",
                        str(out)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert struct.unpack(">II", out.read_bytes()[16:24]) == (1179, 2556)


def test_session_routes_facebook_wda_calls(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    s = c.session()
    settings = s.appium_settings()
    assert settings["snapshotMaxDepth"] == 50
    assert s.appium_settings({"snapshotMaxDepth": 10})["snapshotMaxDepth"] == 10
    s.orientation = "LANDSCAPE"
    assert s.orientation == "LANDSCAPE"
    assert s.window_size() == (852, 393)
    s.orientation = "PORTRAIT"
    s.set_clipboard("hello")
    s.open_url("nwmdemo://enqueue/upload")
    assert c.app_current()["bundleId"] == BID
    s.home()
    s.double_tap(10, 400)
    s.tap_hold(10, 400, 0.5)
    with pytest.raises(wda.WDARequestError, match="keyboard focus"):
        s.send_keys("abc")


def test_performiohidevent_element_scroll_and_touch_and_hold(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    s = c.session(BID)
    assert c.app_current()["name"] == ""  # XCUIApplication.identifier, as WDA answers it
    s.press_duration("home", 0.2)  # POST /wda/performIoHidEvent, consumer page, Menu
    assert c.app_current()["bundleId"] == "com.apple.springboard"
    s.press_duration("volumeUp", 0.1)  # reaches no modelled screen, still OK
    s.press_duration("power", 0.1)
    assert c.locked() is True
    c.unlock()
    icons = s(name="Home screen icons").get(timeout=2)
    icons.scroll()  # toVisible
    icons.scroll("down", 0.5)
    icons._wda_req("post", "/scroll", {"name": "NWM Demo"})
    icons._wda_req("post", "/scroll", {"predicateString": "label == 'Settings'"})
    with pytest.raises(wda.WDARequestError, match="didn't match any elements"):
        icons._wda_req("post", "/scroll", {"name": "Not There"})
    with pytest.raises(wda.WDARequestError, match="Unsupported scroll type"):
        icons._wda_req("post", "/scroll", {})
    icons.tap_hold(0.5)
    assert c.app_current()["bundleId"] == "com.apple.springboard"  # a long press opens nothing here
    with pytest.raises(wda.WDARequestError, match="must be numbers"):
        s._session_http.post("/wda/performIoHidEvent", {"usage": 0x40})


def test_sessions_of_built_in_apps_and_siri(device_wda: tuple[wda.Client, SimHome]) -> None:
    c, _ = device_wda
    health = c.session("com.apple.Health")
    assert c.app_current()["bundleId"] == "com.apple.Health"
    assert health.app_state("com.apple.Health").value == 4
    assert 'name="Health"' in c.source()
    health.siri_activate("open NWM Demo")  # Siri opens an app by its name
    assert c.app_current()["bundleId"] == BID
    health.siri_activate("open WebDriverAgentRunner-Runner")  # not an app here: Siri only talks
    health.siri_activate("what time is it")
    assert c.app_current()["bundleId"] == BID
    with pytest.raises(wda.WDARequestError, match="text"):
        health._session_http.post("/wda/siri/activate", {})
    with pytest.raises(wda.WDARequestError, match=r"Cannot launch com\.example\.none"):
        c.session("com.example.none")
