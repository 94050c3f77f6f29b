"""Scenarios a newcomer wrote from the deployment guide with only docs/scenario-language.md,
run on the virtual phone through the real adb server; each file's tag says the verdict it must
get (`expect-pass` / `expect-fail`; a failing one's `# fails-at: LINE: TEXT` comment says where
it must fail and why). They caught a virtual phone that ran a restricted app's
hourly sync every two hours (QuotaController caps sessions, not only run time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.run.runner import ScenarioRunner
from harness.run.session import app_under_test
from harness.scenario.loader import load_paths
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "guide_scenarios"
FILES = sorted(HERE.glob("*.yaml"))


@pytest.fixture(scope="module")
def device(adb_server: AdbServer) -> Iterator[AndroidDevice]:
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[ROOT / "fixtures/apps/nwm_demo.yaml"]) as farm:
        yield AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_guide_scenario_gets_the_verdict_it_names(device: AndroidDevice, path: Path) -> None:
    loaded = load_paths([path])
    assert not loaded.diagnostics, [d.message for d in loaded.diagnostics]
    (scenario,) = loaded.scenarios
    want = "passed" if "expect-pass" in scenario.tags else "failed"
    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()
    assert result.status == want, (result.status, result.failure)
    fails_at = re.search(r"^# fails-at: (\d+): (.+)$", path.read_text(), re.MULTILINE)
    if fails_at:  # where and why: the failing step's file:line first, then the reason
        line, why = fails_at.groups()
        assert result.failure.startswith(f"{path}:{line}: "), result.failure
        assert why in result.failure, result.failure


def test_a_failing_scenario_leaves_no_forced_state_behind(device: AndroidDevice) -> None:
    (scenario,) = load_paths([HERE / "doze_then_fail.yaml"]).scenarios
    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()
    assert result.status == "failed" and "device state:" in result.failure
    restored = ", ".join(result.restored)
    for what in ("doze unforced", "airplane mode off", "battery saver off", "battery reset", "bucket"):
        assert what in restored, restored
    shell = device.shell
    assert shell(["dumpsys", "deviceidle", "get", "deep"]).out.strip() == "ACTIVE"
    assert shell(["settings", "get", "global", "airplane_mode_on"]).out.strip() == "0"
    assert shell(["settings", "get", "global", "low_power"]).out.strip() == "0"
