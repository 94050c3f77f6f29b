"""``bgtest run`` on bgtest's own virtual devices splits itself into lanes (run/lanes.py): how
many, which scenarios share a worker, and that the run reports the same as one in one process.
Counts, not times."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from safety_util import env, start

from harness.devices.adb_server import AdbServer, free_port
from harness.run import lanes
from harness.run.session import embedded_only
from harness.run.settings import Settings
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = {"android": 15, "ios": 7}
CHEAP = ("android",)


def test_the_bundled_run_gets_one_lane_per_core_and_a_small_one_none() -> None:
    assert lanes.default_workers(BUNDLED, CHEAP, cores=2) == 2
    assert lanes.default_workers(BUNDLED, CHEAP, cores=8) == 8  # the Android unit + 7 iOS scenarios
    assert lanes.default_workers(BUNDLED, CHEAP, cores=16) == 8  # never more lanes than units
    assert lanes.default_workers(BUNDLED, CHEAP, cores=1) == 0
    assert lanes.default_workers({"android": 15}, CHEAP, cores=8) == 0  # one unit: one process
    assert lanes.default_workers({"android": 1, "ios": 2}, CHEAP, cores=2) == 0  # too small to gain
    assert lanes.default_workers({"ios": 4}, CHEAP, cores=2) == 2


def test_lanes_use_idle_cores_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy machine gives a session no more CPU for more processes (autogroup): no lanes there."""
    monkeypatch.setattr(lanes, "cores", lambda: 2)
    for load, idle in ((0.0, 2), (0.3, 2), (0.99, 2), (1.0, 1), (1.5, 1), (12.0, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert lanes.idle_cores() == idle, load
    monkeypatch.setattr(lanes, "cores", lambda: 8)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert lanes.idle_cores() == 6


def test_the_cpus_while_the_run_started_count_before_the_load_average(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A run that just ended lifts the load average for a minute; the CPUs' idle time while this
    run loads its scenarios (on one core of its own) says whether the others are free now."""
    stat = tmp_path / "stat"
    stat.write_text("cpu  3512876 381 286968 694857 2272 0 7669 5781 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    assert lanes.cpu_times(stat) == lanes.CpuTimes(idle=694857 + 2272, total=3512876 + 381 + 286968 + 694857
                                                   + 2272 + 7669 + 5781)  # fmt: skip
    assert lanes.cpu_times(tmp_path / "none") is None
    monkeypatch.setattr(lanes, "cores", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 2.0, 2.0))  # the last run, still counted
    start = lanes.CpuTimes(idle=1000, total=5000)
    # 40 ticks on 2 cores: this run on one, the other idle -> both are free for lanes
    assert lanes.idle_cores(start, lanes.CpuTimes(idle=1019, total=5040)) == 2
    # the other core busy with someone else's work -> one process
    assert lanes.idle_cores(start, lanes.CpuTimes(idle=1002, total=5040)) == 1
    # too short a span to tell (under a tenth of a second): the load average decides
    assert lanes.idle_cores(start, lanes.CpuTimes(idle=1005, total=5010)) == 1


def test_a_cheap_platform_shares_one_lane_only_when_the_others_keep_the_rest_busy() -> None:
    assert lanes.shared_lanes(BUNDLED, 2, CHEAP) == {"android"}
    assert lanes.shared_lanes(BUNDLED, 8, CHEAP) == {"android"}
    assert lanes.shared_lanes(BUNDLED, 9, CHEAP) == set()  # -n 9: Android gets workers of its own
    assert lanes.shared_lanes({"android": 40}, 4, CHEAP) == set()  # -n 4 of an Android-only run
    assert lanes.shared_lanes({"ios": 3}, 2, CHEAP) == set()


def test_units_of_work_group_the_shared_platform_and_keep_the_others_apart() -> None:
    shared = {"android"}
    assert lanes.unit_of("scenarios/a.yaml::doze [x][android]", shared) == "android"
    assert lanes.unit_of("scenarios/b.yaml::reboot[android]", shared) == "android"
    ios = "scenarios/c.yaml::low power[ios]"
    assert lanes.unit_of(ios, shared) == ios
    assert lanes.unit_of("tests/test_x.py::test_y", shared) == "tests/test_x.py::test_y"


def test_only_bgtest_s_own_devices_count_as_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(free_port()))  # nothing attached, never 5037
    monkeypatch.setenv("PATH", "/nonexistent")  # no xcrun
    monkeypatch.delenv("BGTEST_XCRUN", raising=False)
    monkeypatch.delenv("BGTEST_IOS_DEVICE", raising=False)

    def built(**given: Any) -> Settings:
        return Settings.build(os.environ, **given)

    assert embedded_only(built(), ["android", "ios"])
    assert not embedded_only(built(allow_embedded=False), ["android"])
    assert not embedded_only(built(device="emulator-5554"), ["android"])
    assert not embedded_only(built(adb_server="127.0.0.1:5038"), ["android"])
    assert not embedded_only(built(xcrun="/usr/bin/xcrun"), ["ios"])
    assert not embedded_only(built(ios_device="8D5377A5-D783-0F39-5ACD-5C76F65CFFAC"), ["ios"])
    (tmp_path / "xcrun").write_text("#!/bin/sh\n")
    (tmp_path / "xcrun").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))  # a Mac: its simulators may be real ones
    assert not embedded_only(built(), ["ios"]) and embedded_only(built(), ["android"])


def test_bgtest_run_picks_lanes_only_on_its_own_devices_and_never_against_n(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from harness.run_cli import _lanes
    from harness.scenario.loader import load_paths

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(free_port()))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("BGTEST_XCRUN", raising=False)
    monkeypatch.delenv("BGTEST_IOS_DEVICE", raising=False)
    monkeypatch.setattr(lanes, "idle_cores", lambda since=None: 2)
    bundled = load_paths([ROOT / "scenarios"]).scenarios

    def lanes_of(workers: int | None, **given: Any) -> tuple[int, frozenset[str]]:
        options: dict[str, Any] = {"device": None, "adb_server": None, "platform": None, "no_embedded": False,
                                   "xcrun": None, "device_filters": None}  # fmt: skip
        return _lanes(bundled, workers, **{**options, **given})

    assert lanes_of(None) == (2, {"android"})
    assert lanes_of(0) == (0, set()) and lanes_of(1) == (0, set())  # as asked: one process
    assert lanes_of(3) == (3, {"android"})  # -n as given; the virtual phone still serves one lane
    assert lanes_of(None, device="emulator-5554") == (0, set())  # a real device: only with -n
    assert lanes_of(2, device="emulator-5554") == (2, set())  # …and then every worker leases its own
    assert lanes_of(None, xcrun="/usr/bin/xcrun") == (0, set())
    assert lanes_of(None, no_embedded=True) == (0, set())


def test_a_device_attached_to_the_adb_server_turns_the_lanes_off(
    monkeypatch: pytest.MonkeyPatch, adb_server: AdbServer
) -> None:
    from harness.run_cli import _lanes
    from harness.scenario.loader import load_paths

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))  # where bgtest looks first
    monkeypatch.setattr(lanes, "idle_cores", lambda since=None: 2)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("BGTEST_XCRUN", raising=False)
    bundled = load_paths([ROOT / "scenarios"]).scenarios
    some = [s for s in bundled if "android" in s.platforms][:4]
    some += [s for s in bundled if "ios" in s.platforms][:2]
    assert _lanes(some, None, None, None, None, False, None, None) == (2, {"android"})  # nothing there
    models = [ROOT / "fixtures" / "apps" / "nwm_demo.yaml"]
    with VirtualAndroidFarm(adb_server=adb_server, app_models=models):  # a phone someone plugged in
        assert _lanes(some, None, None, None, None, False, None, None) == (0, set())
        assert _lanes(some, 2, None, None, None, False, None, None) == (2, set())  # asked: shared out


def test_blocks_of_scenarios_running_at_once_stay_whole_and_the_first_prints_live() -> None:
    from harness.report.live import Blocks

    shown: list[str] = []
    blocks = Blocks(shown.append)
    a = blocks.begin("gw0", "a", "ios")
    b = blocks.begin("gw1", "b", "android")
    blocks.emit(a, "a1")
    blocks.emit(b, "b1")
    blocks.emit(a, "a2")
    assert shown == ["a1", "a2"]  # a owns the screen; b is held
    c = blocks.begin("gw1", "c", "android")  # gw1's next scenario: b has ended
    blocks.emit(c, "c1")
    blocks.end(a)
    assert shown == ["a1", "a2", "b1", "c1"]  # b whole, then c, which goes on live
    blocks.emit(c, "c2")
    d = blocks.begin("gw0", "d", "ios")
    blocks.emit(d, "d1")
    assert shown[-1] == "c2"
    blocks.end(c)
    blocks.emit(d, "d2")
    assert shown == ["a1", "a2", "b1", "c1", "c2", "d1", "d2"]
    e = blocks.begin("gw1", "e", "android")
    blocks.emit(e, "e1")
    blocks.flush()  # the run is over: nothing is lost
    assert shown[-1] == "e1"
    alone: list[str] = []
    one = Blocks(alone.append)  # one process: every line at once
    for name in ("x", "y"):
        key = one.begin("", name, "android")
        one.emit(key, name)
    assert alone == ["x", "y"]


# ------------------------------------------------------------------ end to end
FILES = ["retry_backoff.yaml", "force_stop.yaml", "ios_refresh_simulated_launch.yaml",
         "ios_simulator_refuses_submit.yaml"]  # fmt: skip


def _run(tmp_path: Path, name: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[Any]]:
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()), COLUMNS="250")
    env.pop("BGTEST_XCRUN", None)
    env.pop("BGTEST_IOS_DEVICE", None)
    report = tmp_path / name
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *(f"scenarios/{f}" for f in FILES), "--report",
         str(report), *extra],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    results = json.loads((report / "results.json").read_text()) if (report / "results.json").exists() else []
    return proc, results


def _content(results: list[Any]) -> list[Any]:
    """What a result says, without which device (serial) it ran on or how long it took."""
    def steps(r: Any) -> list[Any]:
        return [(s["summary"], s["status"], s["device_end_ms"] - r["device_start_ms"]) for s in r["steps"]]

    return [(r["name"], r["platform"], r["status"], steps(r)) for r in results]


def test_lanes_on_virtual_devices_report_what_one_process_does(tmp_path: Path) -> None:
    """``-n 2`` on the virtual devices: the lanes the default picks on two idle cores (the default
    itself depends on the machine's load: test_bgtest_run_picks_lanes… counts it)."""
    parallel, by_lanes = _run(tmp_path, "lanes", "-n", "2")
    assert parallel.returncode == 0, parallel.stdout + parallel.stderr
    android = {r["device"]["serial"] for r in by_lanes if r["platform"] == "android"}
    assert len(android) == 1  # one worker, one virtual phone, for both Android scenarios

    one, in_one = _run(tmp_path, "one", "-n", "0")
    assert one.returncode == 0, one.stdout + one.stderr
    assert "lanes: the scenarios run side by side" not in one.stdout  # -n 0: one process, as asked

    assert _content(by_lanes) == _content(in_one)  # the same scenarios, steps and verdicts, in order
    for result in in_one:  # every block once, with every step line: relayed live from the workers
        assert parallel.stdout.count(f"▶ {result['name'][:40]}") == 1, parallel.stdout
    assert parallel.stdout.count("device +") == one.stdout.count("device +")
    # the workers' device notes come over the relay too, each once (two workers may start iPhones)
    assert parallel.stdout.count("no Android device attached: started a virtual one") == 1
    assert parallel.stdout.count("no iOS simulator booted: started a virtual iPhone") == 1
    assert [r["name"] for r in in_one] == [r["name"] for r in by_lanes]
    for proc in (parallel, one):  # the summary lists the scenarios in the run's order either way
        summary = proc.stdout[proc.stdout.index("─ summary ─"):]
        places = [summary.index(r["name"][:40]) for r in in_one]
        assert places == sorted(places), summary


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_a_run_in_lanes_restores_the_lent_phone_and_starts_nothing_more(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """The Android lane's phone lives in the controller: after the signal it still serves the
    worker that puts it back (doze unforced), the run exits 130/143 and the next Android scenario
    never runs."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a.yaml").write_text("name: a hangs\nsteps:\n  - doze: deep\n  - shell: [echo, reached]\n"
                                   "  - shell: [logcat]\n")  # fmt: skip
    (folder / "b.yaml").write_text("name: b must not start\nsteps:\n  - shell: [echo, started]\n")
    report = tmp_path / "report"
    ios = ROOT / "scenarios" / "ios_refresh_simulated_launch.yaml"  # the other lane's work
    environ = env(COLUMNS="250")
    environ.pop("BGTEST_XCRUN", None)
    proc = start("run", str(folder), str(ios), "-n", "2", "--report", str(report), environ=environ)
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:  # the relay prints the worker's step lines as they end
        seen.append(line)
        if "✓ shell: echo reached" in line:
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, "".join(seen) + out + err
    results = {r["name"]: r for r in json.loads((report / "results.json").read_text())}
    assert "b must not start" not in results
    assert results["a hangs"]["exit_code"] == code
    assert any("doze" in what for what in results["a hangs"]["restored"]), results["a hangs"]["restored"]
