"""Signals at exact points of a failing iOS run, restore included (issue #11, point 1).

The virtual iPhone is reached through the ``bgtest-xcrun`` stand-in; here a wrapper around it
counts bgtest's xcrun calls and, at the N-th, sends SIGINT or SIGTERM to the ``bgtest run``
that called it before doing the call. On a real Mac this was the failure: a signal within
0.3 s after a failing step left Low Power Mode on while bgtest printed "device state restored".
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_util import ROOT, env, start

from harness.devices.ios import IosDevice, Xcrun
from harness.sim.ios.launcher import RunningIos, start_ios, xcrun_path
from harness.sim.ios.state import SimHome

SCENARIO = (
    "name: Low Power Mode, then a failing step\n"
    "platforms: [ios]\n"

    "app: {model: nwm_ios_demo}\n"
    "steps:\n"
    "  - launch\n"
    "  - low_power: on\n"
    "  - expect: {message: never logged by anyone}\n"
    "finally:\n"
    "  - stop_app\n"
)


@pytest.fixture(scope="module")
def iphone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIos]:
    home = SimHome(tmp_path_factory.mktemp("iphone") / "home")
    running = start_ios(kind="simulator", wda_port=0, clock="manual", reset=True, home=home)
    running.battery = _device(running).battery_info()  # type: ignore[attr-defined]  # as it was before
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ios-points")
    (root / "fixtures").symlink_to(ROOT / "fixtures")
    (root / "scenarios").mkdir()
    (root / "scenarios" / "lpm.yaml").write_text(SCENARIO)
    wrapper = root / "xcrun"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import fcntl, os, signal, sys\n"
        "at, sig, folder = int(os.environ['AT']), int(os.environ['SIG']), os.environ['COUNT_DIR']\n"
        "streaming = 'stream' in sys.argv  # the journal's log stream: not a point of the run\n"
        "with open(os.path.join(folder, 'calls'), 'a+') as fh:\n"
        "    fcntl.flock(fh, fcntl.LOCK_EX)\n"
        "    if not streaming:\n"
        "        fh.seek(0)\n"
        "        n = len(fh.readlines()) + 1\n"
        "        fh.write(' '.join(sys.argv[1:]) + '\\n')\n"
        "        if n == at:\n"
        "            os.kill(os.getppid(), sig)\n"
        f"os.execv({xcrun_path()!r}, [{xcrun_path()!r}] + sys.argv[1:])\n"
    )
    wrapper.chmod(0o755)
    return root


def _run(iphone: RunningIos, folder: Path, at: int, sig: int) -> tuple[int, list[str], dict]:
    count = Path(tempfile.mkdtemp(dir=folder, prefix=f"count-{at}-{sig}-"))
    report = count / "report"
    proc = start(
        "run",
        "scenarios/lpm.yaml",
        "--platform",
        "ios",
        "--report",
        str(report),
        "--xcrun",
        str(folder / "xcrun"),
        cwd=folder,
        environ=env(
            BGTEST_SIM_HOME=str(iphone.home.path),
            BGTEST_WDA_URL=iphone.url,
            AT=str(at),
            SIG=str(sig),
            COUNT_DIR=str(count),
        ),
    )
    out, err = proc.communicate(timeout=180)
    assert "Traceback" not in out + err, out + err
    calls = (count / "calls").read_text().splitlines()
    results = json.loads((report / "results.json").read_text()) if (report / "results.json").exists() else []
    return proc.returncode, calls, (results[0] if results else {})


def _device(iphone: RunningIos) -> IosDevice:
    return IosDevice(iphone.udid, Xcrun(xcrun_path(), env={"BGTEST_SIM_HOME": str(iphone.home.path)}))


def _nothing_forced(iphone: RunningIos, result: dict) -> None:
    device = _device(iphone)
    assert device.low_power_state() is False
    assert device.battery_info() == iphone.battery  # type: ignore[attr-defined]
    for item in result.get("restored", []):
        assert "FAILED" not in item


@pytest.fixture(scope="module")
def calls(iphone: RunningIos, folder: Path) -> list[str]:
    """The xcrun calls of an uninterrupted run (which fails at its expect step)."""
    code, calls, result = _run(iphone, folder, 0, 0)
    assert code == 1 and result["status"] == "failed", result
    _nothing_forced(iphone, result)
    (folder / "calls.txt").write_text("\n".join(calls))
    return calls


def test_signals_all_through_the_ios_restore(iphone: RunningIos, folder: Path, calls: list[str]) -> None:
    back = max(i for i, c in enumerate(calls, 1) if "lowpowermode 0" in c)  # Low Power Mode put back
    for at in range(back - 3, back + 2):  # the restore's snapshot, the setter, its notification
        sig = signal.SIGTERM if at % 2 else signal.SIGINT
        code, _, result = _run(iphone, folder, at, sig)
        assert code == 128 + sig, (at, calls[at - 1])
        _nothing_forced(iphone, result)
