"""Several iOS simulators leased like Android devices: through the xcrun stand-in (one
CoreSimulator home with its iPhone and its iPad both booted) and `bgtest run` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.ios_pool import IosTarget, named_udids, wda_pairs
from harness.devices.lease import DeviceLeases
from harness.errors import DeviceError

ROOT = Path(__file__).resolve().parents[1]
IPHONE_UDID = "0A6E414D-82E3-A143-ED0B-BC574F9DA11F"
OTHER_UDID = "75D022CC-D26F-9E97-254F-A345C92A69FE"


@pytest.fixture()
def two_simulators(tmp_path: Path) -> Iterator[tuple[dict[str, str], list[str]]]:
    """The environment for bgtest (the stand-in's home, this test's leases) and the two UDIDs."""
    from harness.sim.ios.launcher import start_ios, xcrun_path
    from harness.sim.ios.state import SimHome

    home = SimHome(tmp_path / "home")
    running = start_ios(kind="simulator", wda_port=0, clock="manual", reset=True, home=home)
    env = dict(os.environ, BGTEST_SIM_HOME=str(home.path), XDG_RUNTIME_DIR=str(tmp_path), COLUMNS="200")
    try:
        listed = subprocess.run([xcrun_path(), "simctl", "list", "devices", "-j"], env=env,
                                capture_output=True, text=True, check=True)
        devices = [d for group in json.loads(listed.stdout)["devices"].values() for d in group]
        off = [d["udid"] for d in devices if d["state"] != "Booted"]
        subprocess.run([xcrun_path(), "simctl", "boot", off[0]], env=env, check=True)
        yield env, [running.udid, off[0]]
    finally:
        running.stop()


def _run(env: dict[str, str], folder: Path, count: int) -> list[str]:
    from harness.sim.ios.launcher import xcrun_path

    flows = folder / "flows"
    flows.mkdir(parents=True)
    for i in range(count):
        (flows / f"s{i}.yaml").write_text(
            f"name: ios lease {i}\nplatforms: [ios]\nsteps:\n  - low_power: on\n  - low_power: off\n")
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(flows), "--xcrun", xcrun_path(), "--no-embedded",
         "--report", str(folder / "report")],
        env=env, capture_output=True, text=True, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [r["device"]["serial"] for r in json.loads((folder / "report" / "results.json").read_text())]


def test_scenarios_spread_over_the_booted_simulators(
    tmp_path: Path, two_simulators: tuple[dict[str, str], list[str]]
) -> None:
    env, udids = two_simulators
    assert sorted(_run(env, tmp_path, 2)) == sorted(udids)  # each simulator used once


def test_a_simulator_another_run_holds_is_not_leased(
    tmp_path: Path, two_simulators: tuple[dict[str, str], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.run.session import DeviceSession
    from harness.run.settings import Settings
    from harness.scenario.loader import load_file
    from harness.sim.ios.launcher import xcrun_path

    env, udids = two_simulators
    monkeypatch.setenv("BGTEST_SIM_HOME", env["BGTEST_SIM_HOME"])
    (tmp_path / "s.yaml").write_text("name: s\nplatforms: [ios]\nsteps:\n  - low_power: on\n")
    [scenario] = load_file(tmp_path / "s.yaml")
    leases = DeviceLeases(tmp_path / "leases")
    settings = Settings.build(os.environ, xcrun=xcrun_path(), allow_embedded=False)
    session = DeviceSession(settings, note=lambda _: None,
                            _leases=leases)
    held = leases.try_acquire([IosTarget(udids[0])])  # as another bgtest process would
    assert held is not None
    try:
        for _ in range(2):
            with session.device_for(scenario, "ios") as device:
                assert device.udid == udids[1]
                assert leases.try_acquire([IosTarget(udids[1])]) is None  # held while the scenario runs
        held.release()
        with session.device_for(scenario, "ios") as one, session.device_for(scenario, "ios") as two:
            assert sorted([one.udid, two.udid]) == sorted(udids)  # two scenarios at once: both simulators
    finally:
        held.release()
        session.close()


def test_wda_endpoints_pair_with_simulators() -> None:
    paired, shared = wda_pairs(f"{IPHONE_UDID}=http://127.0.0.1:8100/, {OTHER_UDID}=http://127.0.0.1:8101")
    assert paired == {IPHONE_UDID: "http://127.0.0.1:8100", OTHER_UDID: "http://127.0.0.1:8101"}
    assert shared is None
    assert wda_pairs("http://mac:8100") == ({}, "http://mac:8100")
    with pytest.raises(DeviceError, match="several WebDriverAgent URLs and no simulator named for each"):
        wda_pairs("http://mac:8100,http://mac:8101")
    assert named_udids(f"{IPHONE_UDID},emulator-5554", OTHER_UDID) == [IPHONE_UDID, OTHER_UDID]
