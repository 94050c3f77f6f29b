"""The iOS journal (harness/devices/ios_journal.py): ``log stream --style ndjson`` plus app stdout.

Against the virtual iPhone through ``bgtest-xcrun``: marker barriers in device time, the
unified log's subsystem/category/level, stdout lines of ``launch --console-pty`` as records of
the app, a reboot that ends and restarts the stream, and the children stopped at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.ios import IosDevice
from harness.devices.ios_journal import IosDeviceJournal
from harness.logs.expect import ExpectationEngine
from harness.logs.vocab import VocabState, load_vocabulary
from harness.run.embedded import EmbeddedIphone

APP = str(Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_ios_demo.yaml")
BUNDLE = "dev.brewkits.nwmIosDemo"
NS = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[IosDevice]:
    embedded = EmbeddedIphone().start()
    device = embedded.device("simulator")
    device.install(APP)  # type: ignore[attr-defined]
    yield device  # type: ignore[misc]
    embedded.stop()


@pytest.fixture
def journal(sim: IosDevice) -> Iterator[IosDeviceJournal]:
    engine = ExpectationEngine(VocabState([load_vocabulary("native_workmanager_ios")]))
    jr = IosDeviceJournal(sim, engine)
    jr.start()
    yield jr
    jr.stop()


def wait_for(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def device_now_ms(device: IosDevice) -> int:
    return int(device.simctl(["bgtest", "clock", device.udid]).out.split()[0])


def test_barrier_is_device_time(sim: IosDevice, journal: IosDeviceJournal) -> None:
    first = journal.barrier("[t1] one")
    assert first is not None and first.process == "logger" and "[t1] one" in first.message
    assert abs(first.time_ns // NS - device_now_ms(sim)) < 1000
    sim.advance(3_600_000)
    second = journal.barrier("[t2] two")
    assert second is not None
    assert 3_600_000 <= (second.time_ns - first.time_ns) // NS < 3_700_000


def test_unified_log_fields_and_task_events(sim: IosDevice, journal: IosDeviceJournal) -> None:
    assert journal.barrier("[t3] start") is not None
    sim.launch(BUNDLE)
    sim.open_url("nwmios://enqueue/periodic-sync")
    assert journal.barrier("[t4] after") is not None
    records = journal.records()
    errors = [r for r in records if r.message.startswith("Error submitting task request")]
    assert errors and errors[0].subsystem == "com.apple.BackgroundTasks"
    assert errors[0].category == "Framework" and errors[0].level_name == "error"
    assert errors[0].process == "Runner" and "BGTaskSchedulerErrorDomain Code=1" in errors[0].message
    # the Simulator refuses the request in the same call: its submit line is no enqueue
    events = journal.journal.task("dev.brewkits.native_workmanager.refresh")
    assert not [ev for ev in events if ev.rule == "bg-submit"], events


def test_app_stdout_becomes_records_of_the_app(sim: IosDevice, journal: IosDeviceJournal) -> None:
    before = journal.barrier("[t5] before")
    assert before is not None
    pid = sim.launch(BUNDLE)
    assert wait_for(lambda: any(r.category == "stdout" for r in journal.records()))
    out = [r for r in journal.records() if r.category == "stdout"]
    assert out[0].process == "Runner" and out[0].pid == pid
    assert any(r.message == "[NativeWorkManager] BGTaskSchedulerManager: Handlers registered" for r in out)
    assert all(r.time_ns >= before.time_ns for r in out)
    assert "<stdout>" in out[0].raw
    # a debug hook run prints the task's result on stdout: a succeeded event for the vocabulary
    sim.open_url("nwmios://enqueue/periodic-sync")
    sim.open_url("nwmios://bgtest/run/dev.brewkits.native_workmanager.refresh")
    sim.advance(60_000)
    assert wait_for(lambda: any(ev.state == "succeeded" for ev in journal.journal.task("periodic-sync")))


def test_relaunch_ends_the_old_console(sim: IosDevice, journal: IosDeviceJournal) -> None:
    sim.launch(BUNDLE)
    first = sim.consoles[-1]
    sim.launch(BUNDLE)  # --terminate-running-process: the old app and its console end
    assert wait_for(lambda: first.proc.poll() is not None)


def test_reboot_restarts_the_stream(sim: IosDevice, journal: IosDeviceJournal) -> None:
    assert journal.barrier("[t6] before reboot") is not None
    with sim.rebooting(journal, timeout=60):
        sim.reboot()
    after = journal.barrier("[t7] after reboot", timeout=30)
    assert after is not None
    # a real simulator's `log stream` dies with it and the reader starts a new one (reboots == 1);
    # the stand-in's stream may live on — either way the new boot's lines are in the journal
    assert journal.journal.reboots in (0, 1)
    booted = [r for r in journal.records() if "SpringBoard finished launching" in r.message]
    assert booted and booted[-1].time_ns <= after.time_ns


def test_stop_ends_every_child(sim: IosDevice) -> None:
    jr = IosDeviceJournal(sim)
    jr.start()
    assert jr.barrier("[t8] up") is not None
    sim.launch(BUNDLE)
    stream, console = jr._proc, sim.consoles[-1]
    jr.stop()
    assert stream is not None and stream.poll() is not None
    assert console.proc.poll() is not None
    assert sim.on_console is None



def test_predicate_keeps_what_the_scenario_reads(sim: IosDevice) -> None:
    jr = IosDeviceJournal(sim, predicate='process == "logger" OR subsystem == "com.apple.BackgroundTasks"')
    jr.start()
    try:
        assert jr.barrier("[t10] filtered") is not None
        sim.launch(BUNDLE, console=False)
        sim.open_url("nwmios://enqueue/periodic-sync")
        assert jr.barrier("[t11] after") is not None
        records = jr.records()
        assert any(r.subsystem == "com.apple.BackgroundTasks" for r in records)
        assert all(r.process == "logger" or r.subsystem == "com.apple.BackgroundTasks" for r in records)
        assert not any("handleEnqueue called" in r.message for r in records)  # NSLog: no subsystem
    finally:
        jr.stop()


def test_a_barrier_reuses_the_standing_line_until_a_request(
    sim: IosDevice, journal: IosDeviceJournal
) -> None:
    """Issue 17: on the virtual iPhone (its clock moves only when asked) a barrier with nothing
    asked since the last line reuses it; any request, or a clock advance (which writes its own
    line), makes the next barrier a fresh line after it."""
    first = journal.barrier("[t14] first")
    assert "[t14] first" in first.message
    made = sim.requests_made()
    assert journal.barrier("[t15] again") is first and sim.requests_made() == made  # no request
    sim.installed_apps()  # any request: something may have happened
    third = journal.barrier("[t16] after a request")
    assert "[t16]" in third.message and sim.requests_made() == made + 2
    sim.advance(1_000)
    made = sim.requests_made()
    fourth = journal.barrier("[t17] after an advance")  # the advance's own line, no new call
    assert fourth.message.startswith("bgtest-clock-") and sim.requests_made() == made
    assert (fourth.time_ns - third.time_ns) // NS == 1_000


def test_stdout_of_an_advance_is_in_before_the_next_barrier(
    sim: IosDevice, journal: IosDeviceJournal
) -> None:
    sim.launch(BUNDLE)
    sim.open_url("nwmios://enqueue/periodic-sync")
    first = journal.barrier("[t12] before")
    assert first is not None
    sim.open_url("nwmios://bgtest/run/dev.brewkits.native_workmanager.refresh")
    sim.advance(60_000)  # the task's 2 s worker finishes inside this minute
    after = journal.barrier("[t13] after")
    assert after is not None
    done = [r for r in journal.records() if "Task 'periodic-sync' completed successfully" in r.message]
    assert done, "the stdout line printed during the advance arrived after the barrier"
    assert first.time_ns <= done[-1].time_ns < after.time_ns


def test_stdout_printed_before_a_marker_of_the_same_millisecond_is_outside_its_window() -> None:
    """The virtual iPhone's clock stands still between steps: a deep link's stdout line, the
    force-quit's marker after it and the `never` window the marker opens share one millisecond.
    The line is outside that window, as a log line is; one printed after the marker is in."""
    from types import SimpleNamespace

    from harness.logs.expect import Expectation, Match
    from harness.logs.record import LogRecord

    device = SimpleNamespace(is_virtual=True, udid="U", mark_in_force=lambda: None)
    engine = ExpectationEngine(VocabState([load_vocabulary("native_workmanager_ios")]))
    jr = IosDeviceJournal(device, engine)  # type: ignore[arg-type]
    t = 1_767_603_600_000 * NS
    console = SimpleNamespace(pid=7, process_name="Runner")

    def logged(seq: int, message: str) -> LogRecord:
        rec = LogRecord(time_ns=t, pid=1, tid=0, level="Default", tag="logger", message=message, seq=seq)
        with jr.journal.lock:
            jr.journal.append(rec)
        return rec

    logged(0, "bgtest-step-launch")
    for line in ("[NativeWorkManager] BGTaskSchedulerManager: Handlers registered",
                 "[NativeWorkManager] BGTaskSchedulerManager: Using BGAppRefreshTask"):
        jr._stdout_record(console, line)  # (stamped a nanosecond apart)
    marker = logged(1, "bgtest-step-stop-app")
    printed = Match(message="Using BGAppRefreshTask")
    with jr.journal.lock:
        never = engine.add(Expectation(printed, within_ns=60_000 * NS, never=True), t,
                           history=list(jr.journal.records), anchor_seq=marker.seq)
        seen = engine.add(Expectation(printed, within_ns=60_000 * NS), t,
                          history=list(jr.journal.records), anchor_seq=marker.seq)
    assert never.status == "pending" and seen.status == "pending"
    jr._stdout_record(console, "[NativeWorkManager] BGTaskSchedulerManager: Using BGAppRefreshTask")
    assert never.status == "failed" and seen.status == "passed"
