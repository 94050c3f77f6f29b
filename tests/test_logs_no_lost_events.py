"""No task event is lost or invented when log calls share a header (issue #9 item 3).

logcat repeats the full header on every line of one multi-line message, so the reader joins
consecutive lines with the same time, pid, tid and tag -- which also joins separate log calls
made by one thread in one millisecond. 1,000 works finishing in the same millisecond must
still give 1,000 results: written into a virtual device's logd, read back through the real adb
server exactly as the live journal reads a phone.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest

from harness.devices.adb_server import AdbServer
from harness.logs.expect import Expectation, ExpectationEngine, Match
from harness.logs.journal import Journal
from harness.logs.logcat_parser import LogcatParser
from harness.logs.vocab import VocabState, load_vocabulary
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

N = 1000
APP_PID = 4242


@pytest.fixture()
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as f:
        yield f


def _finish_all(device: VirtualAndroidDevice, threads: int) -> None:
    """N WorkerWrapper result lines in one device millisecond, on `threads` worker threads."""
    for i in range(N):
        work = f"Work [ id={uuid.UUID(int=i)}, tags={{ load, load-{i}, com.example.LoadWorker }} ]"
        device.log("I", "WM-WorkerWrapper", f"Worker result SUCCESS for {work}", pid=APP_PID,
                   tid=APP_PID + 1 + i % threads, uid=10123)


def _read_through_adb(adb_server: AdbServer, serial: str, journal: Journal) -> None:
    dev = adb_server.client().device(serial)
    conn = dev.shell(["logcat", "-d", "-v", "threadtime", "-b", "all"], stream=True)
    assert isinstance(conn, adbutils.AdbConnection)
    with conn:
        while chunk := conn.conn.recv(65536):
            journal.feed(chunk)
    journal.flush()


@pytest.mark.parametrize("threads", [1, 8, N], ids=["same-thread", "8-threads", "thread-per-work"])
def test_a_thousand_results_in_one_millisecond_are_a_thousand_events(
        farm: VirtualAndroidFarm, adb_server: AdbServer, threads: int) -> None:
    device = farm.devices[0]
    farm.call(_finish_all, device, threads)
    engine = ExpectationEngine(VocabState([load_vocabulary("androidx_workmanager")]))
    every = engine.add(Expectation(Match(task="load", state="succeeded"), count=N), anchor_ns=0)
    some = [engine.add(Expectation(Match(task=f"load-{i}", state="succeeded"), count=1), anchor_ns=0)
            for i in (0, 1, 499, 998, 999)]
    journal = Journal(engine=engine, reference_ns=farm.call(device.clock.now_ns))  # selective, as live
    journal.refresh_interest()
    _read_through_adb(adb_server, farm.serials[0], journal)
    engine.finish()
    results = [e for e in journal.task("load") if e.state == "succeeded"]
    assert len(results) == N
    assert len({e.uuid for e in results}) == N
    assert len({e.time_ns // 1_000_000 for e in results}) == 1  # really one millisecond
    assert every.status == "passed", every.failure_message()
    assert all(c.status == "passed" for c in some)


def test_joined_lines_still_keep_one_multiline_message_whole() -> None:
    """A stack trace is one call: its lines stay one record, and only its first line is an event."""
    text = "".join(
        f"05-12 10:00:00.000  4000  4040 I WM-WorkerWrapper: {line}\n" for line in (
            "Work [ id=ab6c64e1-f244-44ff-8790-b2f79aafd52a, tags={ sync } ] was cancelled",
            "java.util.concurrent.CancellationException: Task was cancelled.",
            "\tat androidx.work.impl.utils.futures.AbstractFuture.get(AbstractFuture.java:475)"))
    parser = LogcatParser(reference_ns=0)
    records = parser.feed(text) + parser.flush()
    assert len(records) == 1 and records[0].message.count("\n") == 2
    events = VocabState([load_vocabulary("androidx_workmanager")]).events(records[0])
    assert [(e.task, e.state, e.line) for e in events] == [("sync", "cancelled", 0)]


def test_real_works_every_result_line_is_one_event(adb_server: AdbServer) -> None:
    """The virtual WorkManager runs 500 works (many finish in the same millisecond): every
    result line the device's log holds is one event, read as the live journal reads it."""
    apps = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
    with VirtualAndroidFarm(count=1, adb_server=adb_server, app_models=[apps / "nwm_demo.yaml"]) as farm:
        dev = adb_server.client().device(farm.serials[0])
        dev.shell(["am", "start", "-a", "android.intent.action.VIEW", "-d", "nwmdemo://enqueue/load?count=500"])
        dev.shell(["cmd", "bgtest", "clock", "advance", "1h"])
        text = dev.shell(["logcat", "-d", "-v", "threadtime", "-s", "WM-WorkerWrapper:I"])
        lines = [x for x in text.splitlines() if "Worker result SUCCESS" in x]
        stamps = Counter(x[:18] for x in lines)
        assert stamps.most_common(1)[0][1] > 1  # results really share a millisecond
        journal = Journal(vocab=VocabState([load_vocabulary("native_workmanager")]),
                          reference_ns=farm.call(farm.devices[0].clock.now_ns))
        _read_through_adb(adb_server, farm.serials[0], journal)
    results = [e for evs in journal.by_task.values() for e in evs if e.rule == "wm-result-success"]
    assert len({(e.record.seq, e.line) for e in results}) == len(lines)
