"""Metrics and device profiles as a user meets them: ``bgtest run`` on the embedded virtual devices
(the real adb server, the real runner), results.json, and the skip reasons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def bgtest_run(tmp: Path, scenario: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[Any]]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "scenario.yaml"
    path.write_text(scenario)
    report = tmp / "report"
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(free_port()), "COLUMNS": "250"}
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--no-color", "--report", str(report), *extra,
         str(path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
    )
    results = json.loads((report / "results.json").read_text()) if (report / "results.json").exists() else []
    return proc, results


METRICS = """
name: a chain's memory, battery and queue
platforms: [android]
app: {model: nwm_demo}
steps:
  - battery: unplugged
  - launch: {deep_link: "nwmdemo://enqueue/chain-download"}
  - background
  - expect: {task: chain-upload, state: succeeded, within: 10m}
  - wait: 1h
  - metric: {memory: "<= 100MB", battery: "< 5%/day", queue: "< 10"}
  - metric: {memory: "<= 10MB"}
"""


def test_metric_steps_measure_the_device_and_fail_a_missed_bound(tmp_path: Path) -> None:
    proc, results = bgtest_run(tmp_path, METRICS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (result,) = results
    readings = {(m["step"], m["name"]): m for m in result["metrics"]}
    memory = readings[(5, "memory")]
    assert memory["source"] == "dumpsys procstats" and 30 * 1024 < memory["value"] <= 100 * 1024
    assert memory["ok"] is True and memory["bound"] == "<= 100MB"
    battery = readings[(5, "battery")]
    assert battery["source"] == "dumpsys batterystats" and 0 < battery["value"] < 5 and battery["ok"]
    assert readings[(5, "queue")]["value"] == 0
    assert readings[(6, "memory")]["ok"] is False
    failed = [s for s in result["steps"] if s["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["kind"] == "metric"
    message = failed[0]["message"]
    assert "memory" in message and "expected at most 10MB (dumpsys procstats)" in message


ON_CHARGER = """
name: battery on the charger
platforms: [android]
app: {model: nwm_demo}
steps:
  - launch: {deep_link: "nwmdemo://enqueue/upload"}
  - wait: 10m
  - metric: {battery: "< 2%/day"}
"""


def test_battery_on_the_charger_is_not_measurable_and_does_not_fail(tmp_path: Path) -> None:
    proc, results = bgtest_run(tmp_path, ON_CHARGER)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (reading,) = results[0]["metrics"]
    assert reading["value"] is None and "charger" in reading["reason"]
    assert "not measurable here" in proc.stdout
PHOTO_BACKUP = """
name: the photo backup finishes
platforms: [android]
app: {model: fwm_demo}
device: {profile: PROFILE}
steps:
  - launch: {deep_link: "fwmdemo://register/photoBackupTask"}
  - background
  - expect: {task: photoBackupTask, state: succeeded, within: 5m}
"""


def test_a_1gb_phone_kills_the_heavy_worker_a_flagship_runs(tmp_path: Path) -> None:
    go, results = bgtest_run(tmp_path / "go", PHOTO_BACKUP.replace("PROFILE", "android-go"))
    assert go.returncode == 1, go.stdout + go.stderr
    (result,) = results
    assert result["status"] == "failed" and result["device"]["profile"] == "android-go"
    journal = Path(result["artifacts"]) if result.get("artifacts") else None
    assert journal is None or journal.exists()
    flagship, results = bgtest_run(tmp_path / "flag", PHOTO_BACKUP.replace("PROFILE", "android-flagship"))
    assert flagship.returncode == 0, flagship.stdout + flagship.stderr
    assert results[0]["device"]["profile"] == "android-flagship"




REQUIRES = """
name: only on a Go phone
platforms: [android]
app: {model: nwm_demo}
requires: {profile: android-go}
steps:
  - wait: 1s
"""


def test_requires_skips_with_the_reason_and_profile_flag_sets_the_virtual_device(tmp_path: Path) -> None:
    proc, results = bgtest_run(tmp_path / "default", REQUIRES)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results[0]["status"] == "skipped"
    assert "requires android-go; the virtual device is android-flagship" in results[0]["failure"]
    proc, results = bgtest_run(tmp_path / "go", REQUIRES, "--profile", "android-go")
    assert proc.returncode == 0 and results[0]["status"] == "passed", proc.stdout + proc.stderr
    bad = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--profile", "android-nope",
                          str(tmp_path / "go" / "scenario.yaml")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "unknown device profile 'android-nope'" in bad.stderr
