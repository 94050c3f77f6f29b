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
import yaml

from harness.checklist.config import Checklist, PlatformPart
from harness.checklist.items import ITEMS, Planned, judge
from harness.checklist.lanes import assign, xdist_args
from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "harness" / "checklist" / "starter.yaml"


def bgtest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()), COLUMNS="200")  # never the user's adb
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "checklist", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
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
    for automated in ("poor_network", "battery_saver", "force_close", "reboot",
                      "background_execution", "constraints", "permissions", "load"):  # fmt: skip
        assert items[automated]["status"] == "passed", items[automated]
    # android-go measured it; the virtual iPhone 7 has no jetsam, so iOS is said, not passed
    assert items["low_end"]["status"] == "manual", items["low_end"]
    assert items["low_end"]["detail"].startswith("android: passed; iOS: not measurable on the virtual iPhone")
    assert "100 of 100 runs succeeded" in items["load"]["detail"]
    assert items["poor_network"]["detail"].startswith("android: passed; ios: passed; iOS: offline only")
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


HEAVY_PERIODIC = """
  photoSync:                          # the camera roll every hour: 250 MB of decoded bitmaps
    kind: periodic
    worker: dart-photo-backup
    interval: 1h
    unique: {name: photoSync, policy: keep}
"""


def test_a_profile_that_breaks_the_task_fails_the_low_end_item_and_only_it(tmp_path: Path) -> None:
    """The team's periodic task needs 250 MB: a flagship runs it, the Android Go phone's low-memory
    killer ends it every time. Exactly one item fails, with the Go phone's verdict."""
    apps = tmp_path / "app" / "fixtures" / "apps"
    apps.mkdir(parents=True)
    model = (ROOT / "fixtures" / "apps" / "fwm_demo.yaml").read_text(encoding="utf-8")
    (apps / "heavy_demo.yaml").write_text(model.replace("\nwork:\n", "\nwork:\n" + HEAVY_PERIODIC, 1))
    path = tmp_path / "app" / "checklist.yaml"
    path.write_text(
        "android:\n  app: heavy_demo\n  task: photoSync\n  enqueue: fwmdemo://register/photoSync\n"
        "items: [low_end, battery_saver, force_close, reboot, constraints]\n",
        encoding="utf-8",
    )
    proc = bgtest(str(path), "--report", str(tmp_path / "r"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    items = {i["id"]: i for i in json.loads((tmp_path / "r" / "checklist.json").read_text())["items"]}
    assert [i for i, item in items.items() if item["status"] != "passed"] == ["low_end"], items
    detail = items["low_end"]["detail"]
    assert detail.startswith("android: failed") and "expect photoSync succeeded" in detail
    assert "on the android-go phone the app's process ended" in detail and "has died" in detail
    results = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert {r["device"]["profile"] for r in results if r["status"] == "failed"} == {"android-go"}


def test_an_app_that_gives_up_on_a_timeout_fails_the_poor_network_item(tmp_path: Path) -> None:
    """The guide: a network timeout is retried. An upload worker that answers a timeout with
    Result.failure() instead fails the poor-network item, at the retry expectation."""
    apps = tmp_path / "app" / "fixtures" / "apps"
    apps.mkdir(parents=True)
    model = (ROOT / "fixtures" / "apps" / "nwm_demo.yaml").read_text(encoding="utf-8")
    upload = '      - {method: POST, url: "https://api.example.com/upload", status: 201, body: 256KB}\n'
    assert upload in model
    (apps / "gives_up.yaml").write_text(model.replace(upload, upload + "    on_network_error: failure\n"))
    path = tmp_path / "app" / "checklist.yaml"
    path.write_text(
        "android:\n  app: gives_up\n  task: periodic-sync\n  enqueue: nwmdemo://enqueue/periodic-sync\n"
        "  network_task: upload\n  network_enqueue: nwmdemo://enqueue/upload\nitems: [poor_network]\n",
        encoding="utf-8",
    )
    proc = bgtest(str(path), "--report", str(tmp_path / "r"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [item] = json.loads((tmp_path / "r" / "checklist.json").read_text(encoding="utf-8"))["items"]
    assert item["status"] == "failed" and "expect upload retried" in item["detail"], item
    # and what the network did to it, from the proxy's records (issue 13)
    assert "android: the network: the server at api.example.com: POST /upload timed out 1×" in item["detail"]
    scenario = (tmp_path / "r" / "checklist" / "android_poor_network.yaml").read_text(encoding="utf-8")
    assert '"host": "api.example.com", "method": "POST", "path": "/upload", "respond": ["timeout", 201]' in (
        scenario
    )


def _planned(folder: Path, **steps: int) -> list[Planned]:
    """Scenario files of ``steps`` steps each (a name's prefix is its platform)."""
    out = []
    for name, count in steps.items():
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"steps": [{"wait": "1m"}] * count}), encoding="utf-8")
        out.append(Planned(path, None, name.split("_")[0]))
    return out


def test_lanes_share_out_the_ios_steps_unless_a_real_ios_device_is_shared(tmp_path: Path) -> None:
    planned = _planned(tmp_path, android_day=8, android_reboot=5, ios_low_power=10, ios_poor_network=10,
                       ios_force_close=8, ios_low_end=4)  # fmt: skip
    assert assign(planned, ios_shared=False) == {
        "android_day.yaml": "1", "android_reboot.yaml": "1", "ios_low_power.yaml": "2",
        "ios_poor_network.yaml": "1", "ios_force_close.yaml": "2", "ios_low_end.yaml": "1",
    }  # fmt: skip  (Android's 5 + 10 + 4 steps against 10 + 8)
    four = assign(planned, ios_shared=False, lanes=4)
    assert [four[f"ios_{n}.yaml"] for n in ("low_power", "poor_network", "force_close", "low_end")] == [
        "4", "3", "2", "1"]  # fmt: skip
    shared = assign(planned, ios_shared=True, lanes=4)
    assert {f: lane for f, lane in shared.items() if f.startswith("ios")} == dict.fromkeys(
        ["ios_low_power.yaml", "ios_poor_network.yaml", "ios_force_close.yaml", "ios_low_end.yaml"], "2"
    )
    assert xdist_args(assign(planned[:2], ios_shared=False)) == []
    args = xdist_args(shared)
    assert args[:4] == ["-n", "2", "--dist", "loadgroup"] and json.loads(args[-1]) == shared
    assert xdist_args(four)[:2] == ["-n", "4"]
    assert xdist_args(assign(planned, ios_shared=True, lanes=1)) == []  # --lanes 1: one after another


def _run(file: str, platform: str, status: str, exit_code: int = 0, failure: str = "") -> dict[str, object]:
    return {"file": f"/r/checklist/{file}.yaml", "platform": platform, "status": status,
            "exit_code": exit_code, "failure": failure, "device": {}}  # fmt: skip


def test_a_run_the_device_cannot_mean_leaves_its_item_manual_and_a_failure_fails_it() -> None:
    """A phone that is not low-end skips the low-end scenario; a real Simulator refuses the network
    switch (exit 2): neither is a pass or a failure. A failed run fails the item whatever else ran."""
    config = Checklist(Path("/r/checklist.yaml"), android=PlatformPart("android", network_task="up"),
                       ios=PlatformPart("ios", network_task="refresh"))  # fmt: skip
    planned = [
        Planned(Path(f"/r/checklist/{n}.yaml"), item, n.split("_")[0])
        for n, item in (("android_low_end", "low_end"), ("ios_low_end", "low_end"),
                        ("android_poor_network", "poor_network"), ("ios_poor_network", "poor_network"))
    ]  # fmt: skip
    skipped = "asks for a android-go device; this phone is android-flagship"
    results = [
        _run("android_low_end", "android", "skipped", failure=skipped),
        _run("ios_low_end", "ios", "passed"),
        _run("android_poor_network", "android", "passed"),
        _run("ios_poor_network", "ios", "error", 2, "<UDID> network: the Simulator shares the Mac's network"),
    ]
    low_end, network = judge(config, ["low_end", "poor_network"], planned, results)
    assert low_end.status == "manual" and skipped in low_end.detail and "< 2 GB RAM" in low_end.detail
    assert network.status == "manual" and "shares the Mac's network" in network.detail
    results[1]["status"] = "failed"
    assert judge(config, ["low_end"], planned, results)[0].status == "failed"


def test_the_low_end_item_does_not_pass_on_an_iphone_without_jetsam() -> None:
    """iOS's low-end trouble is jetsam; the virtual iPhone and a Simulator have none (issue 14):
    a pass there is said to be unmeasurable, a pass on an iPhone counts, a failure anywhere fails."""
    config = Checklist(Path("/r/checklist.yaml"), android=PlatformPart("android"), ios=PlatformPart("ios"))
    planned = [Planned(Path(f"/r/checklist/{n}_low_end.yaml"), "low_end", n) for n in ("android", "ios")]
    android, ios = _run("android_low_end", "android", "passed"), _run("ios_low_end", "ios", "passed")

    def low_end(ios_device: dict[str, str], status: str = "passed") -> tuple[str, str]:
        ios.update(device=ios_device, status=status)
        item = judge(config, ["low_end"], planned, [android, ios])[0]
        return item.status, item.detail

    status, detail = low_end({"virtual": "yes", "kind": "device", "profile": "iphone-7"})
    assert status == "manual", detail
    assert detail.startswith("android: passed; iOS: not measurable on the virtual iPhone")
    assert "jetsam" in detail and "--device UDID" in detail
    status, detail = low_end({"virtual": "no", "kind": "simulator", "profile": "iphone-7"})
    assert status == "manual" and "not measurable on the Simulator" in detail
    assert low_end({"virtual": "no", "kind": "device", "profile": "iphone-7"}) == (
        "passed", "android: passed; ios: passed")
    status, detail = low_end({"virtual": "yes", "kind": "device"}, "failed")
    assert status == "failed" and "not measurable" not in detail


def test_a_success_rate_target_above_100_percent_is_refused(tmp_path: Path) -> None:
    """It could never be met: every run would fail the metric, whatever the app did."""
    from harness.checklist.config import load_checklist
    from harness.scenario.errors import ScenarioError

    text = ("android:\n  app: nwm_demo\n  task: periodic-sync\n  enqueue: nwmdemo://enqueue/periodic-sync\n"
            "thresholds:\n  success_rate: {target: 195%}\n")
    with pytest.raises(ScenarioError) as caught:
        load_checklist(_in_repo(tmp_path, text), tuple(ITEMS))
    (diag,) = caught.value.diagnostics
    assert (diag.line, diag.col) == (6, 26) and "between 0% and 100%" in diag.message


def test_a_misspelt_required_key_is_one_problem_at_the_typo(tmp_path: Path) -> None:
    """``taks:`` is one message — where the typo is, with "did you mean 'task'?" — not also a
    second "android needs 'task'" at the top of the block (issue 14)."""
    from harness.checklist.config import load_checklist
    from harness.scenario.errors import ScenarioError

    text = ("android:\n  app: nwm_demo\n  taks: periodic-sync\n  enqueue: nwmdemo://enqueue/periodic-sync\n"
            "  network_taks: upload\n  network_enqueue: nwmdemo://enqueue/upload\n"
            "load:\n  enqeue: nwmdemo://enqueue/load\n  tasks: load-*\n")
    with pytest.raises(ScenarioError) as caught:
        load_checklist(_in_repo(tmp_path, text), tuple(ITEMS))
    found = [(d.line, d.col, d.message, d.hint) for d in caught.value.diagnostics]
    assert [f[:3] for f in found] == [
        (3, 3, "unknown key 'taks' in android"),
        (5, 3, "unknown key 'network_taks' in android"),
        (8, 3, "unknown key 'enqeue' in load"),
    ]
    assert [f[3].split("?")[0] for f in found] == [
        "did you mean 'task'", "did you mean 'network_task'", "did you mean 'enqueue'"]
    # a misspelt platform is the one problem too, not also "needs android:, ios: or both"
    text = "andriod:\n  app: nwm_demo\n  task: periodic-sync\n  enqueue: nwmdemo://enqueue/periodic-sync\n"
    with pytest.raises(ScenarioError) as caught:
        load_checklist(_in_repo(tmp_path / "1", text), tuple(ITEMS))
    assert [(d.line, d.col, d.message) for d in caught.value.diagnostics] == [
        (1, 1, "unknown key 'andriod' in the checklist")]
    # a key that is simply not there is still said, once
    text = "android:\n  app: nwm_demo\n  enqueue: nwmdemo://enqueue/periodic-sync\n"
    with pytest.raises(ScenarioError) as caught:
        load_checklist(_in_repo(tmp_path / "2", text), tuple(ITEMS))
    assert [(d.line, d.col, d.message) for d in caught.value.diagnostics] == [(2, 3, "android needs 'task'")]
