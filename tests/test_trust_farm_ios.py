"""A run that names its devices never goes green on a virtual iPhone started in their place.

Found from outside: `bgtest run scenarios/ --device R58M123ABC` (README: "Run it on your phone")
or `--device-filter virtual=no` on a Linux CI ran the iOS scenarios on the embedded virtual
iPhone and passed them, although docs/farms.md keeps the embedded devices for "nothing named,
nothing attached" only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
IOS_SCENARIO = "scenarios/ios_expire_task.yaml"

pytestmark = pytest.mark.skipif(shutil.which("xcrun") is not None, reason="a Mac has real simulators")


def bgtest(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()), COLUMNS="250")
    env.pop("BGTEST_XCRUN", None)
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=180, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("naming", [["--device", "R58M123ABC"], ["--device-filter", "virtual=no"]],
                         ids=["device", "filter"])
def test_an_ios_scenario_of_a_run_naming_its_devices_errors_instead_of_going_virtual(
    tmp_path: Path, naming: list[str]
) -> None:
    proc = bgtest("run", IOS_SCENARIO, "--report", str(tmp_path), *naming)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "started a virtual iPhone" not in out and "PASSED" not in out
    assert f"no iOS simulator or iPhone among the devices this run names ({' '.join(naming)})" in out
    assert "--platform android" in out and "Traceback" not in out
