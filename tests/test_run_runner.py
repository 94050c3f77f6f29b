"""The runner on the virtual device through the real adb server: each expectation kind passing
and failing with the message a person needs, restore after failure, artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.result import ScenarioResult
from harness.run.runner import ScenarioRunner
from harness.run.session import app_under_test
from harness.scenario.loader import load_text
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "fixtures" / "apps"
PKG = "dev.brewkits.nwm_demo"


@pytest.fixture(scope="module")
def device(adb_server: AdbServer) -> Iterator[AndroidDevice]:
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[APPS / "nwm_demo.yaml"]) as farm:
        yield AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)


def run(device: AndroidDevice, steps: str, tmp_path: Path | None = None, extra: str = "") -> ScenarioResult:
    text = f"name: t\napp: {{model: nwm_demo}}\n{extra}steps:\n{steps}"
    (scenario,) = load_text(text, file=str(ROOT / "scenarios" / "inline.yaml"), base_dir=ROOT / "scenarios")
    runner = ScenarioRunner(scenario, device, app_under_test(scenario, "android"), artifacts_dir=tmp_path)
    return runner.run()


def failure(result: ScenarioResult) -> str:
    assert result.status == "failed", (result.status, result.failure)
    return result.failure


# ----------------------------------------------------------------------- within / count
def test_within_passes_when_the_event_comes(device: AndroidDevice) -> None:
    result = run(
        device,
        """
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, state: succeeded, within: 5m}
""",
    )
    assert result.status == "passed", result.failure
    assert result.tasks["upload"].last_state == "succeeded"
    assert result.device_end_ms - result.device_start_ms < 5 * 60_000  # it did not wait the whole window


def test_within_fails_with_window_and_last_events(device: AndroidDevice) -> None:
    text = failure(
        run(
            device,
            """
  - network: airplane
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, state: succeeded, within: 10m}
""",
            extra="finally:\n  - network: {airplane: off}\n",
        )
    )
    assert "inline.yaml:9" in text and "within 10m" in text
    assert "window (device time)" in text and "last events of upload" in text
    assert "airplane=on" in text  # the device state at that moment


def test_count_exact(device: AndroidDevice) -> None:
    steps = """
  - launch: nwmdemo://enqueue/flaky
  - wait: 10m
  - expect: {task: flaky, state: retried, count: %s}
"""
    assert run(device, steps % "2").status == "passed"
    text = failure(run(device, steps % "3"))
    assert "seen 2 time(s)" in text and "expected exactly 3" in text


def test_never_passes_and_fails(device: AndroidDevice) -> None:
    ok = run(
        device,
        """
  - network: airplane
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, state: started, never: true, within: 1h}
""",
        extra="finally:\n  - network: {airplane: off}\n",
    )
    assert ok.status == "passed", ok.failure
    text = failure(
        run(
            device,
            """
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, state: started, never: true, within: 1h}
""",
        )
    )
    assert "never" in text


def test_in_order(device: AndroidDevice) -> None:
    ok = run(
        device,
        """
  - launch: nwmdemo://enqueue/chain-download
  - expect:
      in_order: [chain-download succeeded, chain-process succeeded, chain-upload succeeded]
      within: 30m
""",
    )
    assert ok.status == "passed", ok.failure
    text = failure(
        run(
            device,
            """
  - launch: nwmdemo://enqueue/chain-download
  - expect:
      in_order: [chain-upload succeeded, chain-download succeeded]
      within: 30m
""",
        )
    )
    assert "in order" in text or "in_order" in text


def test_latency(device: AndroidDevice) -> None:
    ok = run(
        device,
        """
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, latency: "<= 5m", within: 10m}
""",
    )
    assert ok.status == "passed", ok.failure
    text = failure(
        run(
            device,
            """
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, latency: "<= 1s", within: 10m}
""",
        )
    )
    assert "upload" in text


def test_success_rate(device: AndroidDevice) -> None:
    steps = """
  - launch: nwmdemo://enqueue/load?count=20
  - wait: 30m
  - expect: {task: "load-*", success_rate: "%s"}
"""
    assert run(device, steps % ">= 95%").status == "passed"
    assert "20/20" in run(device, steps % "< 50%").failure


def test_fail_fast_on_a_crash(device: AndroidDevice) -> None:
    text = failure(
        run(
            device,
            """
  - launch: nwmdemo://enqueue/upload
  - shell: [log, -t, AndroidRuntime, -p, e, "FATAL EXCEPTION: main"]
  - expect:
      task: upload
      state: succeeded
      within: 10m
      fail_fast_on: [{tag: AndroidRuntime, message: FATAL EXCEPTION}]
""",
        )
    )
    assert "FATAL EXCEPTION" in text


def test_raw_log_match(device: AndroidDevice) -> None:
    ok = run(
        device,
        """
  - stop_app
  - launch
  - expect: {tag: WM-ForceStopRunnable, message: "force-stopped, rescheduling", within: 1m}
""",
    )
    assert ok.status == "passed", ok.failure


def test_wait_until(device: AndroidDevice) -> None:
    ok = run(
        device,
        """
  - launch: nwmdemo://enqueue/flaky
  - wait: {until: flaky succeeded, timeout: 1h}
""",
    )
    assert ok.status == "passed", ok.failure
    assert ok.device_end_ms - ok.device_start_ms < 3_600_000


# ----------------------------------------------------------------------- run_task, shell
def test_run_task_forces_a_waiting_job(device: AndroidDevice) -> None:
    ok = run(
        device,
        """
  - launch: nwmdemo://enqueue/periodic-sync
  - wait: 2m
  - run_task: periodic-sync
  - expect: {task: periodic-sync, state: started, within: 1m}
""",
    )
    assert ok.status == "passed", ok.failure


def test_shell_step_failure_names_the_command(device: AndroidDevice) -> None:
    result = run(device, "  - shell: [ls, /nope]\n")
    assert result.status == "failed" and "`ls /nope` exited 1" in result.failure


# ----------------------------------------------------------------------- restore, artifacts
def test_failing_scenario_restores_state_and_saves_artifacts(device: AndroidDevice, tmp_path: Path) -> None:
    result = run(
        device,
        """
  - battery: unplugged
  - doze: deep
  - network: airplane
  - expect: {task: upload, state: succeeded, within: 1m}
""",
        tmp_path=tmp_path,
    )
    assert result.status == "failed"
    assert any("doze unforced" in r for r in result.restored)
    assert any("airplane" in r for r in result.restored)
    state = device.snapshot()
    assert not state.doze_forced and state.airplane == "0" and not state.battery_frozen
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for name in (
        "journal.txt",
        "failing-window.txt",
        "dumpsys-jobscheduler.txt",
        "dumpsys-deviceidle.txt",
        "dumpsys-battery.txt",
        "workmanager-diagnostics.txt",
        "screenshot.png",
    ):
        assert name in manifest["files"] and (tmp_path / name).exists(), name
    assert manifest["status"] == "failed" and "inline.yaml" in manifest["location"]


def test_scenario_fail_fast_on_stops_at_the_step_that_crashed(device: AndroidDevice) -> None:
    result = run(
        device,
        """
  - launch: nwmdemo://enqueue/upload
  - shell: [log, -t, AndroidRuntime, -p, e, "FATAL EXCEPTION: main"]
  - wait: 1h
""",
        extra="fail_fast_on: [{tag: AndroidRuntime, message: FATAL EXCEPTION}]\n",
    )
    assert result.status == "failed" and "FATAL EXCEPTION" in result.failure
    assert [s.status for s in result.steps] == ["passed", "failed"]  # the wait never ran


def test_an_action_android_cannot_do_is_refused_before_running() -> None:
    from harness.scenario.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        load_text("name: t\nsteps:\n  - expire_task: sync\n", file="x.yaml")
    assert "x.yaml:3:5" in info.value.render() and "not available on android" in info.value.render()


def test_a_message_only_expectation_does_not_match_bgtests_own_markers(device: AndroidDevice) -> None:
    ok = run(device, """
  - launch: nwmdemo://enqueue/upload
  - expect: {message: "FATAL EXCEPTION", never: true, within: 1m}
  - expect: {message: "upload", count: "0"}
""")
    assert ok.status == "failed"  # the app's own lines mention upload …
    assert "FATAL" not in ok.failure  # … but nothing, not even a marker, said FATAL EXCEPTION
