"""Background work through the REAL adb server: what a person at ``adb shell`` sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest
from adb_testutil import TIMEOUT_S, disconnect_awaited, wait_boot_completed

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"
SJS = "androidx.work.impl.background.systemjob.SystemJobService"


@pytest.fixture()
def phone(adb_server: AdbServer) -> Iterator[adbutils.AdbDevice]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        d = adb_server.client().device(farm.serials[0])
        d.install(str(APPS / "nwm_demo.yaml"), nolaunch=True, silent=True)
        yield d


def results(d: adbutils.AdbDevice, what: str) -> list[str]:
    out = d.shell(["logcat", "-d", "-s", "WM-WorkerWrapper:I"])
    return [line for line in out.splitlines() if f"Worker result {what}" in line]


def test_airplane_mode_holds_a_network_job_until_it_is_off(phone: adbutils.AdbDevice) -> None:
    d = phone
    d.shell(["cmd", "connectivity", "airplane-mode", "enable"])
    d.shell(["am", "start", "-a", "android.intent.action.VIEW", "-d", "nwmdemo://enqueue/upload"])
    d.shell(["cmd", "bgtest", "clock", "advance", "30m"])
    assert results(d, "SUCCESS") == []
    dump = d.shell(["dumpsys", "jobscheduler", NWM])
    m = re.search(rf"JOB #u0a\d+/(\d+): [0-9a-f]+ {NWM}/{SJS}", dump)
    assert m, dump
    job = m.group(1)
    assert d.shell(["cmd", "jobscheduler", "get-job-state", NWM, job]) == "waiting"
    r = d.shell2(["cmd", "jobscheduler", "run", NWM, job])
    assert r.returncode == 22
    assert "has functional constraints but --force not specified" in r.output
    d.shell(["cmd", "connectivity", "airplane-mode", "disable"])
    d.shell(["cmd", "bgtest", "clock", "advance", "1m"])
    ok = results(d, "SUCCESS")
    assert len(ok) == 1 and "upload" in ok[0]


def test_reboot_over_adb_reschedules_workers(phone: adbutils.AdbDevice, adb_server: AdbServer) -> None:
    d = phone
    link = "nwmdemo://enqueue/periodic-sync"
    d.shell(["am", "start", "-a", "android.intent.action.VIEW", "-d", link])
    d.shell(["cmd", "bgtest", "clock", "advance", "10s"])
    assert len(results(d, "SUCCESS")) == 1
    assert d.shell(["cmd", "jobscheduler", "run", "-f", NWM, "0"]) == "Running job [FORCED]"
    d.shell(["cmd", "bgtest", "clock", "advance", "10s"])
    log = d.shell(["logcat", "-d", "-s", "WM-WorkerWrapper:D"])
    worker = "dev.brewkits.kmpworkmanager.background.data.KmpWorker"
    assert f"Delaying execution for {worker} because it is being executed before schedule." in log
    client = adb_server.client()
    with disconnect_awaited(client, d.serial):
        d.reboot()
    client.wait_for(d.serial, state="device", timeout=TIMEOUT_S)
    wait_boot_completed(d)
    assert "Rescheduling Workers." in d.shell(["logcat", "-d", "-s", "WM-ForceStopRunnable:D"])
    d.shell(["cmd", "bgtest", "clock", "advance", "2h"])
    assert results(d, "SUCCESS"), "the periodic work did not run after the reboot"
