"""WorkManager's and JobScheduler's limits, seen through the REAL adb server as on a phone.

androidx.work: a periodic request under 15 min is clamped in interval and flex together
(WorkSpec.setPeriodic), and at most Configuration.maxSchedulerLimit (20) WorkSpecs are handed
to JobScheduler at once. AOSP JobServiceContext logs a job that outlives its run-time limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

PKG = "dev.bgtest.limits"
APP = """
package: dev.bgtest.limits
library: androidx.work
debug_logging: true
deep_link_schemes: [lim]
hooks:
  - deep_link: lim://go/{name}
    enqueue: ["{name}"]
  - deep_link: lim://many/{count}
    params: {count: {type: int}}
    enqueue: [slow]
    repeat: "{count}"
work:
  five-minutes:
    kind: periodic
    worker: quick
    interval: 5m
  slow:
    worker: slow
  hang:
    worker: hanger
workers:
  quick:
    class: dev.bgtest.limits.QuickWorker
    duration: 1s
  slow:
    class: dev.bgtest.limits.SlowWorker
    duration: 1m
  hanger:
    class: dev.bgtest.limits.HangWorker
    outcomes: [hang, success]
"""


@pytest.fixture()
def phone(adb_server: AdbServer, tmp_path: Path) -> Iterator[adbutils.AdbDevice]:
    model = tmp_path / "limits.yaml"
    model.write_text(APP)
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        d = adb_server.client().device(farm.serials[0])
        d.install(str(model), nolaunch=True, silent=True)
        yield d


def go(d: adbutils.AdbDevice, link: str) -> None:
    r = d.shell2(["am", "start", "-a", "android.intent.action.VIEW", "-d", link])
    assert r.returncode == 0, r.output


def wm_jobs(d: adbutils.AdbDevice) -> int:
    return len(re.findall(rf"JOB #u0a\d+/\d+: [0-9a-f]+ {PKG}/", d.shell(["dumpsys", "jobscheduler", PKG])))


def test_five_minute_periodic_is_clamped_with_its_flex_and_runs_at_once(phone: adbutils.AdbDevice) -> None:
    d = phone
    go(d, "lim://go/five-minutes")
    warn = d.shell(["logcat", "-d", "-s", "WM-WorkSpec:W"])
    assert "Interval duration lesser than minimum allowed value; Changed to 900000" in warn
    d.shell(["cmd", "bgtest", "clock", "advance", "30s"])
    ran = d.shell(["logcat", "-d", "-s", "WM-WorkerWrapper:I"])
    assert "Worker result SUCCESS" in ran, "the first period waited for a 5 min flex the app never asked for"


def test_at_most_twenty_workspecs_reach_jobscheduler_the_rest_follow(phone: adbutils.AdbDevice) -> None:
    d = phone
    go(d, "lim://many/30")
    assert wm_jobs(d) == 20
    d.shell(["cmd", "bgtest", "clock", "advance", "3h"])
    done = d.shell(["logcat", "-d", "-s", "WM-WorkerWrapper:I"]).count("Worker result SUCCESS")
    assert done == 30
    assert wm_jobs(d) == 0


def test_a_job_past_its_run_time_limit_is_logged_by_jobservicecontext(phone: adbutils.AdbDevice) -> None:
    d = phone
    go(d, "lim://go/hang")
    d.shell(["cmd", "bgtest", "clock", "advance", "11m"])
    log = d.shell(["logcat", "-d", "-s", "JobServiceContext:I"])
    sjs = re.escape("androidx.work.impl.background.systemjob.SystemJobService")
    assert re.search(
        r"Client timed out while executing \(no jobFinished received\)\. Sending onStop: "
        rf"[0-9a-f]+ #u0a\d+/\d+ {PKG}/{sjs}", log), log
