"""``bgtest run`` / ``bgtest devices`` and the pytest plugin, as a user runs them (subprocesses)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer, free_port
from harness.devices.android import AndroidDevice
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]
BGTEST = [sys.executable, "-m", "harness.cli"]


def bgtest(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BGTEST, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env or _no_server_env(),
        stdin=subprocess.DEVNULL,
    )


def _no_server_env() -> dict[str, str]:
    """No adb server where bgtest looks first: 'nothing attached' (never the user's 5037)."""
    env = dict(os.environ)
    env["ANDROID_ADB_SERVER_PORT"] = str(free_port())
    env["COLUMNS"] = "250"  # long tmp paths stay on one line for the assertions
    return env


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(
        adb_server=adb_server, app_models=[ROOT / "fixtures" / "apps" / "nwm_demo.yaml"]
    ) as f:
        yield f


def test_run_bundled_scenarios_with_nothing_attached_exits_0(tmp_path: Path) -> None:
    proc = bgtest("run", "scenarios/", "--report", str(tmp_path), "--platform", "android")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no Android device attached: started a virtual one" in proc.stdout
    android = [p for p in (ROOT / "scenarios").glob("*.yaml") if not p.name.startswith("ios_")]
    assert f"{len(android)} passed in" in proc.stdout and "─ summary ─" in proc.stdout
    assert "   ✓ doze: deep" in proc.stdout  # the live step lines
    assert (tmp_path / "results.json").exists()


def test_invalid_scenario_exits_2_with_file_line_col(tmp_path: Path) -> None:
    bad = tmp_path / "scenarios" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text("name: x\nsteps:\n  - doze: deeep\n")
    proc = bgtest("run", str(bad))
    assert proc.returncode == 2
    assert (
        f"{bad}:3:" in proc.stdout and "deep" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    )


def test_missing_path_exits_2() -> None:
    proc = bgtest("run", "no/such/dir")
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr


def test_unknown_device_is_a_clear_error(adb_server: AdbServer) -> None:
    proc = bgtest(
        "run",
        "scenarios/retry_backoff.yaml",
        "--device",
        "nope:1",
        "--adb-server",
        f"127.0.0.1:{adb_server.port}",
    )
    assert proc.returncode == 3  # a device or infrastructure error (README: exit codes)
    assert "<nope:1> is not attached" in proc.stdout and "Traceback" not in proc.stdout


def test_run_on_a_named_device_with_junit_properties(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    proc = bgtest(
        "run",
        "scenarios/retry_backoff.yaml",
        "--device",
        farm.serials[0],
        "--adb-server",
        f"127.0.0.1:{adb_server.port}",
        "--junit",
        str(junit),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "started a virtual one" not in proc.stdout
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["device"] == farm.serials[0] and props["platform"] == "android"
    assert props["scenario"].endswith("scenarios/retry_backoff.yaml:2")


def test_failing_scenario_exits_1_with_the_expectation(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenarios" / "fails.yaml"
    scenario.parent.mkdir()
    scenario.write_text(
        "name: upload cannot run offline\n"
        "app: {model: nwm_demo}\n"
        "steps:\n"
        "  - network: airplane\n"
        "  - launch: nwmdemo://enqueue/upload\n"
        "  - expect: {task: upload, state: succeeded, within: 10m}\n"
    )
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    proc = bgtest(
        "run", str(scenario), "--device", farm.serials[0], "--adb-server", f"127.0.0.1:{adb_server.port}"
    )
    assert proc.returncode == 1
    assert f"{scenario}:6: expect upload succeeded, within 10m" in proc.stdout
    assert "restored: airplane mode off" in proc.stdout
    assert "Traceback" not in proc.stdout
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    assert dev.snapshot().airplane == "0"


def test_sigint_in_the_middle_restores_doze(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenarios" / "hang.yaml"
    scenario.parent.mkdir()
    # `logcat` never ends by itself: the run is interrupted while the device is in deep Doze.
    scenario.write_text("name: hangs in doze\nsteps:\n  - doze: deep\n  - shell: [logcat]\n")
    proc = subprocess.Popen(
        [
            *BGTEST,
            "run",
            str(scenario),
            "--device",
            farm.serials[0],
            "--adb-server",
            f"127.0.0.1:{adb_server.port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    deadline = time.monotonic() + 60
    while dev.out(["dumpsys", "deviceidle", "get", "force"]) != "true":
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "interrupted" in out and "doze unforced" in out, out
    assert dev.out(["dumpsys", "deviceidle", "get", "force"]) == "false"
    assert dev.out(["dumpsys", "deviceidle", "get", "deep"]) != "IDLE" or dev.snapshot().doze_forced is False


def test_pytest_collects_scenarios_with_real_line_numbers(
    farm: VirtualAndroidFarm, adb_server: AdbServer
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "scenarios/",
            "--collect-only",
            "-q",
            "--bgtest-device",
            farm.serials[0],
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scenarios/doze_periodic_sync.yaml::periodic sync survives forced Doze[android]" in proc.stdout


def test_devices_lists_the_virtual_device(farm: VirtualAndroidFarm, adb_server: AdbServer) -> None:
    proc = bgtest("devices", "--adb-server", f"127.0.0.1:{adb_server.port}")
    assert proc.returncode == 0
    assert farm.serials[0] in proc.stdout and "virtual (bgtest)" in proc.stdout and "34" in proc.stdout
    assert "android-flagship" in proc.stdout  # the profile column


def test_runs_without_a_usable_home_directory(tmp_path: Path) -> None:
    """adb refuses to start without $HOME/.android; bgtest's private server brings its own."""
    env = _no_server_env()
    env["HOME"] = str(tmp_path / "no-such-home")
    proc = bgtest("run", "scenarios/retry_backoff.yaml", "--report", str(tmp_path / "r"), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (tmp_path / "no-such-home").exists()


def test_k_selects_by_tag(tmp_path: Path) -> None:
    proc = bgtest(
        "run", "scenarios/", "-k", "checklist and reboot", "--platform", "android", "--report", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed in" in proc.stdout and "▶ work runs again after a reboot" in proc.stdout


def test_bgtest_run_prints_no_pytest_leftovers(tmp_path: Path) -> None:
    proc = bgtest("run", "scenarios/retry_backoff.yaml", "--report", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert not [line for line in lines if line.strip() in (".", "F", "E", "s") or "[100%]" in line]
    assert "PASSED" in proc.stdout and "passed in" in proc.stdout and "====" not in proc.stdout
    # the device-state line of a step comes after that step's line
    assert proc.stdout.index("✓ launch: nwmdemo://enqueue/flaky") < proc.stdout.index("▶") + 400


def test_pytest_collects_a_yaml_file_named_on_its_command_line(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "upload.yaml").write_text("name: an upload flow\nsteps:\n  - launch\n")
    (flows / "not_named.yaml").write_text("name: not named\nsteps:\n  - launch\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(flows / "upload.yaml"), "--collect-only", "-q",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "upload.yaml::an upload flow[android]" in proc.stdout and "not named" not in proc.stdout


def test_one_report_folder_scheme_for_both_routes_unique_under_n(tmp_path: Path) -> None:
    names = [
        "001-a-retrying-task-backs-off-then-succeeds-android",
        "002-work-runs-again-after-a-reboot-android",
    ]
    proc = bgtest("run", "scenarios/retry_backoff.yaml", "scenarios/reboot.yaml", "-n", "2",
                  "--report", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.is_dir()) == names
    # pytest itself: the same names, under bgtest-report/ of the folder it runs in
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(ROOT / "scenarios" / "retry_backoff.yaml"), str(ROOT / "scenarios" / "reboot.yaml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, env=_no_server_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = tmp_path / "bgtest-report"
    assert sorted(p.name for p in report.iterdir() if p.is_dir()) == names
    assert (report / "results.json").exists() and (report / "index.html").exists()
