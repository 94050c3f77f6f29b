"""``bgtest checklist``: the starter, bad checklists (file:line:col, exit 2), a full run on both
virtual platforms (items, six metrics each, checklist.json, the report's top), an alert (exit 1).
The dumpsys parsers the memory and battery metrics rest on are tested in test_metrics_android.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.checklist.items import ITEMS
from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "harness" / "checklist" / "starter.yaml"


def bgtest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()), COLUMNS="200")  # never the user's adb
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "checklist", *args],
        capture_output=True, text=True, timeout=400, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _in_repo(tmp_path: Path, text: str) -> Path:
    """A checklist next to the repository's app models (fixtures/apps), as a team keeps it."""
    folder = tmp_path / "app"
    (folder / "fixtures").mkdir(parents=True)
    (folder / "fixtures" / "apps").symlink_to(ROOT / "fixtures" / "apps")
    path = folder / "checklist.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_writes_the_commented_starter_and_never_overwrites(tmp_path: Path) -> None:
    proc = bgtest("--init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = (tmp_path / "checklist.yaml").read_text(encoding="utf-8")
    assert written == STARTER.read_text(encoding="utf-8") and written.count("#") > 10
    again = bgtest("--init", cwd=tmp_path)
    assert again.returncode == 2 and "not overwritten" in again.stderr


BAD = """\
android:
  app: nwm_demo
  task: periodic-sync
  enqueue: nwmdemo://enqueue/periodic-sync
  colour: blue
ios:
  app: no_such_app
  task: x
  enqueue: nwmios://x
items: [poor_network, battery_saving]
thresholds:
  success_rate: {target: 95%, alert: 97%}
  memory: {target: 80MB, alert: 50MB}
"""


def test_a_bad_checklist_names_every_problem_at_its_place_and_runs_nothing(tmp_path: Path) -> None:
    path = _in_repo(tmp_path, BAD)
    proc = bgtest(str(path), "--report", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"{path}:5:3: unknown key 'colour' in android" in out
    assert f"{path}:7:8: app model 'no_such_app' not found" in out
    assert f"{path}:10:23: unknown checklist item 'battery_saving'" in out and "battery_saver" in out
    assert f"{path}:12:38: thresholds.success_rate: the alert (97%) is not worse than the target (95%)" in out
    assert f"{path}:13:33: thresholds.memory: the alert (50MB) is not worse than the target (80MB)" in out
    assert "nothing was run" in proc.stderr and not (tmp_path / "r").exists()


def test_a_package_the_virtual_phone_does_not_have_is_refused(tmp_path: Path) -> None:
    text = (
        "android:\n  app: {package: com.example.app, library: androidx.work}\n  task: t\n  enqueue: ex://t\n"
    )
    proc = bgtest(str(_in_repo(tmp_path, text)), "--report", str(tmp_path / "r"))
    assert proc.returncode == 2 and "the virtual phone has no app com.example.app" in proc.stderr


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("checklist")
    path = _in_repo(tmp, STARTER.read_text(encoding="utf-8"))
    report = tmp / "report"
    return bgtest(str(path), "--report", str(report)), report


def test_the_starter_checklist_runs_every_item_on_both_virtual_platforms(
    full_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, report = full_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((report / "checklist.json").read_text(encoding="utf-8"))
    items = {i["id"]: i for i in data["items"]}
    assert list(items) == list(ITEMS) and all(
        set(i) == {"id", "title", "status", "detail"} for i in data["items"]
    )
    for automated in ("poor_network", "battery_saver", "force_close", "reboot", "background_execution",
                      "constraints", "permissions", "load"):  # fmt: skip
        assert items[automated]["status"] == "passed", items[automated]
    assert items["low_end"]["status"] == "manual" and "< 2 GB" in items["low_end"]["detail"]
    assert "100 of 100 runs succeeded" in items["load"]["detail"]
    for platform in ("android", "ios"):
        metrics = [m for m in data["metrics"] if m["platform"] == platform]
        names = {m["name"] for m in metrics}
        assert {"success rate", "error rate", "queue depth", "memory per task", "battery impact"} <= names
        assert any(n.startswith("completion time") for n in names)
        for m in metrics:
            assert (m["value"] is None) == (m["status"] == "not measurable"), m
            assert m["source"] and (m["value"] is not None or m["source"].startswith("not measurable here"))
    android = {m["name"]: m for m in data["metrics"] if m["platform"] == "android"}
    assert android["success rate"]["value"] == 100.0
    assert android["memory per task"]["value"] > 0 and "procstats" in android["memory per task"]["source"]
    assert (
        android["battery impact"]["value"] is not None
        and "batterystats" in android["battery impact"]["source"]
    )
    ios = {m["name"]: m for m in data["metrics"] if m["platform"] == "ios"}
    assert ios["memory per task"]["status"] == "not measurable"
    assert "Pre-Deployment Checklist" in proc.stdout and "Success Metrics" in proc.stdout


def test_the_report_puts_the_checklist_and_metrics_on_top(
    full_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _proc, report = full_run
    page = (report / "index.html").read_text(encoding="utf-8")
    assert (
        page.index("Pre-Deployment Checklist") < page.index("Success Metrics") < page.index("class='scenario")
    )
    assert page.count("data-item=") == len(ITEMS) and page.count("data-metric=") >= 12
    assert (report / "checklist" / "android_day.yaml").is_file()  # the scenarios that ran, to rerun alone


def test_an_alert_threshold_crossed_exits_1(tmp_path: Path) -> None:
    text = STARTER.read_text(encoding="utf-8").replace(
        "memory: {target: 50MB, alert: 100MB}", "memory: {target: 5MB, alert: 10MB}"
    )
    text += "items: [constraints]\n"
    proc = bgtest(str(_in_repo(tmp_path, text)), "--report", str(tmp_path / "r"), "--platform", "android")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "r" / "checklist.json").read_text(encoding="utf-8"))
    [memory] = [m for m in data["metrics"] if m["name"] == "memory per task"]
    assert memory["status"] == "alert" and memory["alert"] == 10 * 1024
    assert {m["platform"] for m in data["metrics"]} == {"android"}
