"""BGTaskScheduler + dasd on the virtual iPhone, in virtual time (through simctl/lldb in-process)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from harness.sim.ios.lldb import lldb
from harness.sim.ios.simctl import Io, simctl
from harness.sim.ios.state import SimHome

APP = """
package: dev.example.bgdemo
library: native_workmanager
deep_link_schemes: [bgdemo]
hooks:
  - deep_link: bgdemo://enqueue/{task}
    enqueue: ["{task}"]
work:
  sync:
    kind: periodic
    worker: quick
    interval: 1h
    constraints: {network: connected}
    unique: {name: sync, policy: keep}
  backup:
    kind: periodic
    worker: slow
    interval: 1h
    constraints: {charging: true}
    unique: {name: backup, policy: keep}
  netjob:
    kind: periodic
    worker: quick
    interval: 1h
    constraints: {network: connected}
    unique: {name: netjob, policy: keep}
  fails:
    kind: periodic
    worker: broken
    interval: 10m
    unique: {name: fails, policy: keep}
  long:
    kind: periodic
    worker: endless
    interval: 15m
    unique: {name: long, policy: keep}
workers:
  quick: {class: SyncWorker, duration: 2s}
  slow: {class: BackupWorker, duration: 1m}
  endless: {class: LongWorker, duration: 5m}
  broken: {class: BrokenWorker, duration: 1s, outcomes: [failure]}
ios:
  bundle_id: dev.example.bgdemo
  url_schemes: [bgdemo]
  bg_task_identifiers: [dev.brewkits.native_workmanager.task, dev.brewkits.native_workmanager.refresh]
  debug_hooks:
    run_task: "bgdemo://bgtest/run/{identifier}"
  tasks:
    netjob: {type: processing}
"""
REFRESH = "dev.brewkits.native_workmanager.refresh"
PROCESSING = "dev.brewkits.native_workmanager.task"
BID = "dev.example.bgdemo"


class Sim:
    def __init__(self, home: SimHome) -> None:
        self.home = home

    def run(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = simctl(list(argv), Io(out, err), self.home)
        return code, out.getvalue(), err.getvalue()

    def ok(self, *argv: str) -> str:
        code, out, err = self.run(*argv)
        assert code == 0, err
        return out

    def lldb(self, pid: int, selector: str, ident: str) -> int:
        expr = f'expression -l objc -- (void)[[BGTaskScheduler sharedScheduler] {selector}:@"{ident}"]'
        return lldb(
            ["--batch", "-p", str(pid), "-o", expr, "-o", "process detach"],
            Io(io.StringIO(), io.StringIO()),
            self.home,
        )

    def messages(self) -> list[str]:
        recs, _ = self.home.read_log(0)
        return [r["msg"] for r in recs]

    def stdout(self, pid: int) -> str:
        path = self.home.stdout_file(pid)
        return path.read_text() if path.exists() else ""

    def state(self) -> dict:
        return json.loads(self.ok("bgtest", "state", "booted"))


def _sim(tmp_path: Path, kind: str) -> tuple[Sim, int]:
    app = tmp_path / "bgdemo.yaml"
    app.write_text(APP)
    sim = Sim(SimHome(tmp_path / "home"))
    sim.ok("bgtest", "reset", "--kind", kind)
    sim.ok("install", "booted", str(app))
    out = sim.ok("launch", "--terminate-running-process", "booted", BID)
    assert out.startswith(f"{BID}: ")
    return sim, int(out.split(": ")[1])


def test_simulated_launch_on_a_device_runs_the_refresh_task(tmp_path: Path) -> None:
    sim, pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    assert [r["ident"] for r in sim.state()["requests"]] == [REFRESH]
    assert sim.lldb(pid, "_simulateLaunchForTaskWithIdentifier", REFRESH) == 0
    sim.ok("bgtest", "clock", "advance", "5s")
    msgs = sim.messages()
    assert f"Starting simulated task: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert f"Marking simulated task complete: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert sim.state()["requests"] == []  # the simulated launch consumed the pending request


def test_simulated_launch_without_a_pending_request_does_nothing(tmp_path: Path) -> None:
    sim, pid = _sim(tmp_path, "device")
    assert sim.lldb(pid, "_simulateLaunchForTaskWithIdentifier", REFRESH) == 0
    msgs = sim.messages()
    assert f"Simulating launch for task with identifier {REFRESH}" in msgs
    assert not any(m.startswith("Starting simulated task") for m in msgs)
    # what a phone logs then (tests/real_logs/rnbgfetch219-xcode-not-scheduled.log)
    assert msgs[-1] == f"No task request with identifier {REFRESH} has been scheduled"


def test_a_simulated_refresh_launch_has_no_30s_budget(tmp_path: Path) -> None:
    """The debugger's launch runs with a nil dasd activity: nothing expires it but the
    debugger's own _simulateExpiration (decompiled BGTaskScheduler.m; research ios.md §3),
    unlike the same task launched by dasd (test_refresh_budget_expires_a_long_task)."""
    sim, pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/long")
    sim.lldb(pid, "_simulateLaunchForTaskWithIdentifier", REFRESH)
    sim.ok("bgtest", "clock", "advance", "4m")  # the worker takes 5 min; a dasd launch gets 30 s
    msgs = sim.messages()
    assert f"Starting simulated task: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert not any(m.startswith(("Expiring", "Will expire", "Marking simulated")) for m in msgs)
    assert [t["ident"] for t in sim.state()["running"]] == [REFRESH]
    sim.ok("bgtest", "clock", "advance", "2m")  # the work ends by itself: completed, not expired
    msgs = sim.messages()
    assert f"Marking simulated task complete: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert not any(m.startswith("Expiring") for m in msgs)


def test_simulator_refuses_submit_and_the_debug_hook_runs_the_handler(tmp_path: Path) -> None:
    sim, pid = _sim(tmp_path, "simulator")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    msgs = sim.messages()
    assert any("Error Domain=BGTaskSchedulerErrorDomain Code=1" in m for m in msgs)
    assert "[NativeWorkManager] ERROR: BGTaskSchedulerManager: failed to schedule task" in msgs
    assert sim.state()["requests"] == []
    sim.ok("openurl", "booted", f"bgdemo://bgtest/run/{REFRESH}")
    sim.ok("bgtest", "clock", "advance", "5s")
    out = sim.stdout(pid)
    assert "[NativeWorkManager] BGTaskSchedulerManager: App refresh task started" in out
    assert "[NativeWorkManager] Task 'sync' completed successfully" in out


def test_dasd_runs_the_refresh_after_its_earliest_date(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    sim.ok("bgtest", "clock", "advance", "59m")
    assert not any(m.startswith("Running task") for m in sim.messages())
    sim.ok("bgtest", "clock", "advance", "2m")
    assert f"Marking task <BGAppRefreshTask: {REFRESH}> complete with success: 1" in sim.messages()


def test_low_power_mode_drops_the_refresh_request(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("spawn", "booted", "notifyutil", "-s", "com.apple.system.lowpowermode", "1")
    sim.ok("spawn", "booted", "notifyutil", "-p", "com.apple.system.lowpowermode")
    assert (
        sim.ok("spawn", "booted", "notifyutil", "-g", "com.apple.system.lowpowermode")
        == "com.apple.system.lowpowermode 1\n"
    )
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    assert any("BGTaskSchedulerErrorDomain Code=1" in m for m in sim.messages())
    sim.ok("bgtest", "clock", "advance", "3h")
    assert not any(m.startswith("Running task") for m in sim.messages())


def test_low_power_mode_holds_a_pending_request_until_it_ends(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    sim.ok("bgtest", "lowpower", "booted", "on")
    sim.ok("bgtest", "clock", "advance", "2h")
    assert sim.state()["requests"][0]["blocked"] == "Low Power Mode"
    sim.ok("bgtest", "lowpower", "booted", "off")
    sim.ok("bgtest", "clock", "advance", "1s")
    assert any(m.startswith("Running task: <BGAppRefreshTask") for m in sim.messages())


def test_force_quit_blocks_the_refresh_launch_until_the_user_launches(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    sim.ok("bgtest", "forcequit", "booted", BID)
    sim.ok("bgtest", "clock", "advance", "3h")
    assert not any(m.startswith("Running task") for m in sim.messages())
    assert sim.state()["requests"][0]["blocked"] == "app was force-quit by the user"
    sim.ok("launch", "booted", BID)
    sim.ok("bgtest", "clock", "advance", "10s")
    assert any(m.startswith("Running task: <BGAppRefreshTask") for m in sim.messages())


def test_processing_task_requiring_power_waits_for_charging(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/backup")
    assert any("requiresExternalPower=1" in m for m in sim.messages())
    sim.ok("bgtest", "clock", "advance", "5h")
    assert not any(m.startswith("Running task") for m in sim.messages())
    sim.ok("bgtest", "battery", "booted", "--charging")
    sim.ok("bgtest", "clock", "advance", "2m")
    assert f"Marking task <BGProcessingTask: {PROCESSING}> complete with success: 1" in sim.messages()


def test_refresh_budget_expires_a_long_task(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/long")
    sim.ok("bgtest", "clock", "advance", "20m")
    msgs = sim.messages()
    assert f"Expiring task: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert f"Marking task <BGAppRefreshTask: {REFRESH}> complete with success: 0" in msgs


def test_resubmitting_an_identifier_replaces_it(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    sim.ok("openurl", "booted", "bgdemo://enqueue/long")  # same NWM refresh identifier
    requests = sim.state()["requests"]
    assert len(requests) == 1
    assert any(m.startswith("CANCELED: bgRefresh-") for m in sim.messages())


def test_app_goes_background_then_suspended(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    assert sim.state()["apps"][BID] == 4
    sim.ok("launch", "booted", "com.apple.Preferences")
    assert sim.state()["apps"][BID] == 3
    sim.ok("bgtest", "clock", "advance", "6s")
    assert sim.state()["apps"][BID] == 2
    code, _, err = sim.run("terminate", "booted", BID)
    assert code == 0
    code, _, err = sim.run("terminate", "booted", BID)
    assert (code, err.splitlines()[-1]) == (3, "found nothing to terminate")


FWM_APP = """
package: dev.example.fwm
library: flutter_workmanager
work:
  refresh-feed:
    kind: periodic
    worker: feed
    interval: 30m
    unique: {name: dev.example.fwm.feed, policy: keep}
  once:
    worker: feed
workers:
  feed: {class: FeedWorker, duration: 3s}
ios:
  bundle_id: dev.example.fwm
  bg_task_identifiers: [dev.example.fwm.feed]
  launch_arguments: {"-enqueue": "{work}"}
"""


def test_flutter_workmanager_periodic_through_dasd(tmp_path: Path) -> None:
    app = tmp_path / "fwm.yaml"
    app.write_text(FWM_APP)
    sim = Sim(SimHome(tmp_path / "home"))
    sim.ok("bgtest", "reset", "--kind", "device")
    sim.ok("install", "booted", str(app))
    sim.ok("launch", "booted", "dev.example.fwm", "-enqueue", "refresh-feed")
    sim.ok("launch", "booted", "com.apple.Preferences")  # the app leaves the screen and is suspended
    sim.ok("bgtest", "clock", "advance", "31m")
    msgs = sim.messages()
    assert "BGAppRefreshTask submitted dev.example.fwm.feed earliestBeginInSeconds:1800" in msgs
    assert "Running task: <BGAppRefreshTask: dev.example.fwm.feed>" in msgs
    assert "Task completed: refresh-feed, success: true, duration: 3000ms" in msgs
    assert sim.state()["apps"]["dev.example.fwm"] == 2  # suspended again after its task


def test_identifier_not_permitted_is_code_3(tmp_path: Path) -> None:
    app = tmp_path / "fwm.yaml"
    app.write_text(FWM_APP.replace("bg_task_identifiers: [dev.example.fwm.feed]", "bg_task_identifiers: []"))
    sim = Sim(SimHome(tmp_path / "home"))
    sim.ok("bgtest", "reset", "--kind", "device")
    sim.ok("install", "booted", str(app))
    sim.ok("launch", "booted", "dev.example.fwm", "-enqueue", "refresh-feed")
    assert any("BGTaskSchedulerErrorDomain Code=3" in m for m in sim.messages())
    assert sim.state()["requests"] == []


def test_low_battery_holds_requests_until_charging(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("bgtest", "battery", "booted", "--level", "10")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    sim.ok("bgtest", "clock", "advance", "3h")
    assert sim.state()["requests"][0]["blocked"] == "battery low"
    assert sim.ok("bgtest", "battery", "booted", "--charging") == "level 10 charging\n"
    sim.ok("bgtest", "clock", "advance", "1s")
    assert sim.state()["requests"] == []


def test_simulated_expiration_of_a_running_simulated_task(tmp_path: Path) -> None:
    sim, pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/long")
    sim.lldb(pid, "_simulateLaunchForTaskWithIdentifier", REFRESH)
    sim.ok("bgtest", "clock", "advance", "10s")
    sim.lldb(pid, "_simulateExpirationForTaskWithIdentifier", REFRESH)
    msgs = sim.messages()
    assert f"Expiring simulated task: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert f"Marking simulated task complete: <BGAppRefreshTask: {REFRESH}>" in msgs
    assert sim.state()["running"] == []


def test_lldb_attach_to_a_missing_pid_fails(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    err = io.StringIO()
    code = lldb(["--batch", "-p", "99999", "-o", "process detach"], Io(io.StringIO(), err), sim.home)
    assert code == 1 and "process does not exist (pid = 99999)" in err.getvalue()


def test_a_failing_worker_completes_the_task_unsuccessfully(tmp_path: Path) -> None:
    sim, pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/fails")
    sim.ok("bgtest", "clock", "advance", "11m")
    assert f"Marking task <BGAppRefreshTask: {REFRESH}> complete with success: 0" in sim.messages()
    # NativeLogger is off on a device: nothing on stdout
    assert "[NativeWorkManager] Task 'fails' failed after 1 attempt(s)" not in sim.stdout(pid)


def test_pending_request_limits(tmp_path: Path) -> None:
    """1 refresh and 10 processing requests per app; the next one is Code=2 (tooManyPendingTaskRequests)."""
    works = "\n".join(
        f"  p{i}: {{kind: periodic, worker: w, interval: 1h, constraints: {{charging: true}}, "
        f"unique: {{name: dev.example.lim.p{i}}}}}" for i in range(11)
    )
    ids = ", ".join(f"dev.example.lim.{n}" for n in [*(f"p{i}" for i in range(11)), "r0", "r1"])
    app = tmp_path / "lim.yaml"
    app.write_text(
        "package: dev.example.lim\nlibrary: flutter_workmanager\nwork:\n" + works + "\n"
        "  r0: {kind: periodic, worker: w, interval: 1h, unique: {name: dev.example.lim.r0}}\n"
        "  r1: {kind: periodic, worker: w, interval: 1h, unique: {name: dev.example.lim.r1}}\n"
        "workers:\n  w: {class: W}\n"
        f"ios:\n  bundle_id: dev.example.lim\n  bg_task_identifiers: [{ids}]\n"
        "  launch_arguments: {-a: '{work}', -b: '{work}'}\n"
    )
    sim = Sim(SimHome(tmp_path / "home"))
    sim.ok("bgtest", "reset", "--kind", "device")
    sim.ok("install", "booted", str(app))
    sim.ok("launch", "booted", "dev.example.lim", "-a", "r0", "-b", "r1")
    for i in range(11):
        sim.ok("launch", "--terminate-running-process", "booted", "dev.example.lim", "-a", f"p{i}")
    kinds = [r["kind"] for r in sim.state()["requests"]]
    assert kinds.count("refresh") == 1 and kinds.count("processing") == 10
    errors = [m for m in sim.messages() if "Code=2" in m]
    assert len(errors) == 2 and "dev.example.lim.r1" in errors[0] and "dev.example.lim.p10" in errors[1]


def test_scaled_clock_follows_the_wall_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.sim.ios.device as device_mod

    wall = [1000.0]
    monkeypatch.setattr(device_mod, "wall_now", lambda: wall[0])
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/sync")
    start = int(sim.ok("bgtest", "clock").split()[0])
    assert sim.ok("bgtest", "clock", "mode", "scaled", "3600").split()[1:] == ["scaled", "3600"]
    wall[0] += 1.5  # 1.5 wall seconds = 1.5 device hours
    now = int(sim.ok("bgtest", "clock").split()[0])
    assert now - start == 5_400_000
    assert f"Marking task <BGAppRefreshTask: {REFRESH}> complete with success: 1" in sim.messages()


def test_processing_task_requiring_network_waits_for_it(tmp_path: Path) -> None:
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("bgtest", "network", "booted", "off")
    sim.ok("openurl", "booted", "bgdemo://enqueue/netjob")
    assert any("requiresNetworkConnectivity=1" in m for m in sim.messages())
    sim.ok("bgtest", "clock", "advance", "2h")
    assert sim.state()["requests"][0]["blocked"] == "requires network connectivity"
    sim.ok("bgtest", "network", "booted", "on")
    sim.ok("bgtest", "clock", "advance", "5s")
    assert f"Marking task <BGProcessingTask: {PROCESSING}> complete with success: 1" in sim.messages()


def test_processing_task_may_still_run_after_a_force_quit(tmp_path: Path) -> None:
    """DTS: BGProcessingTaskRequests may run after a force-quit (refresh requests do not)."""
    sim, _pid = _sim(tmp_path, "device")
    sim.ok("openurl", "booted", "bgdemo://enqueue/backup")
    sim.ok("bgtest", "forcequit", "booted", BID)
    sim.ok("bgtest", "battery", "booted", "--charging")
    sim.ok("bgtest", "clock", "advance", "2h")
    msgs = sim.messages()
    assert f"Marking task <BGProcessingTask: {PROCESSING}> complete with success: 1" in msgs
    assert any(m.startswith("Handling launch from daemon for activities") for m in msgs)
