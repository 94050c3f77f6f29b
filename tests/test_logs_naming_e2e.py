"""Work is named the way real apps name it (issue #9 item 5), through the real adb server.

The plain WorkManager app model enqueues `report` as unique work with no tag of its own: its
log lines print only the WorkSpec UUID and the worker class. A scenario may name it by its
unique work name (bgtest asks WorkManager's diagnostics, which print it), by its worker class
(simple or fully qualified) or by its UUID; a name that nothing ties to the work fails with
what was seen and what to do, never "no events at all".
"""

from __future__ import annotations

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

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "fixtures" / "apps"


@pytest.fixture(scope="module")
def device(adb_server: AdbServer) -> Iterator[AndroidDevice]:
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[APPS / "wm_plain.yaml"]) as farm:
        yield AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)


def run(device: AndroidDevice, steps: str) -> ScenarioResult:
    text = f"name: t\napp: {{model: wm_plain}}\nsteps:\n{steps}"
    (scenario,) = load_text(text, file=str(ROOT / "scenarios" / "inline.yaml"), base_dir=ROOT / "scenarios")
    return ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()


def test_unique_work_name_comes_from_diagnostics_bgtest_asks_for(device: AndroidDevice) -> None:
    result = run(device, """
  - launch: {deep_link: "wmplain://work/report"}
  - expect: {task: report, state: enqueued, within: 1m}
  - expect: {task: report, state: started, within: 1m}
""")
    assert result.status == "passed", result.failure


@pytest.mark.parametrize("name", ["ReportWorker", "com.example.wmplain.ReportWorker"])
def test_worker_class_names_the_work(device: AndroidDevice, name: str) -> None:
    result = run(device, f"""
  - launch: {{deep_link: "wmplain://work/report"}}
  - expect: {{task: {name}, state: started, within: 1m}}
  - expect: {{task: {name}, state: failed, within: 1m}}
""")
    assert result.status == "passed", result.failure


def test_a_name_nothing_ties_to_the_work_says_what_was_seen(device: AndroidDevice) -> None:
    result = run(device, """
  - launch: {deep_link: "wmplain://work/report"}
  - expect: {task: nightly-report, state: enqueued, within: 1m}
""")
    assert result.status == "failed"
    text = result.failure
    assert "no events at all" not in text
    assert "no event names it" in text
    assert "the log names: " in text and "report" in text and "ReportWorker" in text
    assert "asked WorkManager for its diagnostics" in text and "no row named this task" in text
