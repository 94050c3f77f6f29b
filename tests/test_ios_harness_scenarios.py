"""iOS scenarios end to end: the session picks (or starts) a virtual iPhone, the runner drives it.

The bundled ``scenarios/ios_*.yaml`` pass in virtual time; a simulator asked to run a BGTask
without a hook says why in plain words; the state guard turns Low Power Mode back off after a
failure; actions iOS cannot do are validation errors naming the platform.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.run.session import DeviceSession
from harness.run.settings import Settings
from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_file, load_text

ROOT = Path(__file__).resolve().parents[1]
IOS_SCENARIOS = sorted((ROOT / "scenarios").glob("ios_*.yaml"))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeviceSession]:
    notes: list[str] = []
    # no xcrun on this machine: the embedded virtual iPhone
    settings = Settings.build(os.environ, report_dir=tmp_path_factory.mktemp("reports"))
    sess = DeviceSession(settings, note=notes.append)
    yield sess
    assert any("started a virtual iPhone" in n for n in notes)
    sess.close()


def run_text(session: DeviceSession, text: str):  # type: ignore[no-untyped-def]
    [scenario] = load_text(text, str(ROOT / "scenarios" / "inline.yaml"), base_dir=ROOT / "scenarios")
    return session.run(scenario, "ios")


@pytest.mark.parametrize("path", IOS_SCENARIOS, ids=lambda p: p.stem)
def test_bundled_ios_scenarios_pass(session: DeviceSession, path: Path) -> None:
    [scenario] = load_file(path)
    result = session.run(scenario, "ios")
    assert result.status == "passed", result.failure
    assert result.platform == "ios" and result.device.get("virtual") == "yes"
    expected_kind = "device" if "ios-device" in scenario.tags else "simulator"
    assert result.device.get("kind") == expected_kind


def test_there_are_five_ios_checklist_scenarios() -> None:
    assert {p.stem for p in IOS_SCENARIOS} >= {
        "ios_refresh_simulated_launch",
        "ios_simulator_refuses_submit",
        "ios_low_power",
        "ios_force_quit",
        "ios_processing_needs_power",
    }


def test_run_task_on_a_simulator_without_a_hook_says_why(session: DeviceSession) -> None:
    result = run_text(
        session,
        """
name: run a BGTask on the Simulator with no hook
platforms: [ios]
app: {model: nwm_demo}
steps:
  - launch: {deep_link: "nwmdemo://enqueue/periodic-sync"}
  - run_task: periodic-sync
""",
    )
    assert result.status == "error"
    step = result.steps[-1]
    assert step.kind == "run_task" and step.status == "error"
    assert "BGTaskSchedulerErrorDomain Code=1" in step.message
    assert "_simulateLaunchForTaskWithIdentifier" in step.message and "hook" in step.message
    assert "dev.brewkits.native_workmanager.refresh" in step.message  # the identifier it resolved


def test_a_request_the_simulator_refuses_is_never_enqueued(session: DeviceSession) -> None:
    """The Simulator refuses BGTaskScheduler requests (Code=1) in the submit call itself: an
    `enqueued` check must fail there, not pass on the submit line that precedes the refusal."""
    result = run_text(
        session,
        """
name: a refused request is not pending
platforms: [ios]
app: {model: nwm_demo}
steps:
  - launch: {deep_link: "nwmdemo://enqueue/periodic-sync"}
  - expect: {task: dev.brewkits.native_workmanager.refresh, state: enqueued, within: 1m}
""",
    )
    assert result.status == "failed", result.failure
    assert "enqueued" in result.failure


def test_failure_restores_low_power_mode(session: DeviceSession) -> None:
    result = run_text(
        session,
        """
name: Low Power Mode is restored after a failure
platforms: [ios]
tags: [ios-device]
app: {model: nwm_ios_demo}
steps:
  - launch
  - low_power: on
  - expect: {message: "this line is never logged", within: 10m}
""",
    )
    assert result.status == "failed"
    assert "Low Power Mode off" in result.restored
    device = session.ios("device")
    assert device.low_power_state() is False
    files = {p.name for p in Path(result.artifacts).iterdir()}
    assert {"journal.txt", "failing-window.txt", "screenshot.png", "manifest.json"} <= files
    assert not any(name.startswith("dumpsys") for name in files)  # Android's, not asked of an iPhone
    assert "bgtest-step-" in (Path(result.artifacts) / "journal.txt").read_text()


def test_wrong_bundle_is_a_bgtest_message(session: DeviceSession) -> None:
    result = run_text(
        session,
        """
name: an app that is not installed
platforms: [ios]
app: {bundle_id: com.example.nothere, library: bgtaskscheduler}
steps:
  - launch
""",
    )
    assert result.status == "error"
    assert "com.example.nothere is not installed" in result.steps[-1].message


def test_actions_ios_cannot_do_are_validation_errors() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(
            """
name: doze on an iPhone
platforms: [ios]
app: {bundle_id: com.example.app, library: bgtaskscheduler}
steps:
  - doze: deep
""",
            "inline.yaml",
        )
    assert "ios" in str(info.value).lower() and "doze" in str(info.value).lower()


def test_unknown_udid_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.sim.ios.launcher import xcrun_path

    monkeypatch.setenv("BGTEST_SIM_HOME", str(tmp_path / "home"))
    settings = Settings.build(os.environ, device="00000000-0000-0000-0000-000000000000", xcrun=xcrun_path())
    sess = DeviceSession(settings, note=lambda _: None)
    [scenario] = load_file(IOS_SCENARIOS[0])
    result = sess.run(scenario, "ios")
    sess.close()
    assert result.status == "error"
    assert "00000000-0000-0000-0000-000000000000" in result.failure and "no such simulator" in result.failure


def test_the_other_ios_actions_in_one_scenario(session: DeviceSession) -> None:
    result = run_text(
        session,
        """
name: push, background, screenshot, lock, reboot and battery on an iPhone
platforms: [ios]
tags: [ios-device]
app: {model: nwm_ios_demo}
steps:
  - launch: {arguments: ["-verbose", "1"], env: {API_BASE: "https://staging.example.com"}}
  - push:
      payload:
        aps: {content-available: 1}
        native_wm: {action: enqueue_task, data: {taskId: periodic-sync}}
  - expect: {task: dev.brewkits.native_workmanager.refresh, state: enqueued, within: 1m}
  - background
  - capture: {what: screenshot, name: home}
  - screen: off
  - screen: on
  - reboot
  - expect: {process: SpringBoard, message: "SpringBoard finished launching", within: 2m}
  - battery: {level: 15}
""",
    )
    assert result.status == "passed", result.failure
    assert (Path(result.artifacts) / "home.png").read_bytes().startswith(b"\x89PNG")
    assert any(r.startswith("battery 80% unplugged") for r in result.restored)


def test_a_simulator_scenario_is_skipped_when_only_an_iphone_is_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess

    from harness.sim.ios.launcher import xcrun_path

    monkeypatch.setenv("BGTEST_SIM_HOME", str(tmp_path / "home"))
    subprocess.run([xcrun_path(), "simctl", "bgtest", "reset", "--kind", "device"], check=True)
    settings = Settings.build(os.environ, allow_embedded=False, xcrun=xcrun_path())
    sess = DeviceSession(settings, note=lambda _: None)
    [scenario] = load_file(ROOT / "scenarios" / "ios_simulator_refuses_submit.yaml")
    result = sess.run(scenario, "ios")
    sess.close()
    assert result.status == "skipped"
    assert "tagged ios-simulator" in result.failure


def test_devices_lists_booted_simulators_and_wda(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from harness.devices.ios_pool import print_ios_targets
    from harness.sim.ios.launcher import start_ios, xcrun_path
    from harness.sim.ios.state import SimHome

    home = SimHome(tmp_path / "home")
    running = start_ios(kind="device", wda_port=0, clock="manual", reset=True, home=home)
    try:
        monkeypatch.setenv("BGTEST_SIM_HOME", str(home.path))
        out = io.StringIO()
        print_ios_targets(Console(file=out, width=200), xcrun_path(), wda_url=running.url)
        text = out.getvalue()
    finally:
        running.stop()
    assert running.udid in text and "virtual iPhone (device)" in text and "iOS 17.2" in text
    assert running.url in text  # the WDA endpoint answered /status
    out = io.StringIO()
    monkeypatch.setattr("harness.devices.ios_pool.wda_urls", lambda *_: ["http://127.0.0.1:9"])
    monkeypatch.setenv("PATH", str(tmp_path))  # no xcrun anywhere
    print_ios_targets(Console(file=out, width=200), None)
    assert "no xcrun here" in out.getvalue() and "no WebDriverAgent answering" in out.getvalue()


def test_nslog_lines_of_an_app_without_a_declared_executable_reach_the_journal(
    session: DeviceSession,
) -> None:
    # fwm_ios_demo does not name its executable: the filter asks the installed app (appinfo)
    result = run_text(
        session,
        """
name: the app's own process passes the log filter
platforms: [ios]
tags: [ios-device]
app: {model: fwm_ios_demo}
steps:
  - launch: {deep_link: "fwmios://enqueue/hourly-sync"}
  - expect: {message: "BGAppRefreshTask submitted dev.fluttercommunity.fwm.hourly-sync", within: 1m}
""",
    )
    assert result.status == "passed", result.failure
