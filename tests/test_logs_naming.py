"""Naming work in the expectation engine (issue #9 item 5), without a device.

A plain WorkManager work without tags prints only its WorkSpec UUID and worker class; its
unique work name is only in WorkManager's diagnostics. The engine must not decide a check for
a name it cannot see yet while such work is in the window, must say when to ask for the
diagnostics, must deliver the earlier events under the names the diagnostics reveal -- once --
and, when nothing names the work, must say what it saw.
"""

from __future__ import annotations

from harness.logs.expect import PASSED, Expectation, ExpectationEngine, Match
from harness.logs.logcat_parser import LogcatParser
from harness.logs.vocab import VocabState, load_vocabulary

U = "9112628b-d1b8-4b09-9ded-3673fbbf8baa"
S = 1_000_000_000
T0 = 1_767_603_600 * S  # 2026-01-05 09:00:00 UTC
GEN = f"WorkGenerationalId(workSpecId={U}, generation=0)"
RUN = [
    (0, "1523", "D WM-SystemJobScheduler", f"Scheduling work ID {U}Job ID 0"),
    (1, "1522", "D WM-SystemJobService", f"onStartJob for {GEN}"),
    (1, "1523", "D WM-Processor", f"Processor: processing {GEN}"),
    (1, "1523", "D WM-WorkerWrapper", "Starting work for com.example.wmplain.ReportWorker"),
    (3, "1524", "I WM-WorkerWrapper",
     f"Worker result FAILURE for Work [ id={U}, tags={{ com.example.wmplain.ReportWorker }} ]"),
]
DIAG = (f"Recently completed work:\n\n\n Id \t Class Name\t Job Id\t State\t Unique Name\t Tags\t\n"
        f"{U}\t com.example.wmplain.ReportWorker\t 0\t FAILED\t report\t com.example.wmplain.ReportWorker\t")


def lines(items: list[tuple[int, str, str, str]]) -> bytes:
    out = []
    for sec, tid, head, msg in items:
        level, tag = head.split(" ", 1)
        for part in msg.split("\n"):
            out.append(f"01-05 09:00:{sec:02d}.000  1522 {tid:>5} {level} {tag}: {part}")
    return ("\n".join(out) + "\n").encode()


def engine_with(*exps: Expectation) -> tuple[ExpectationEngine, list]:
    engine = ExpectationEngine(VocabState([load_vocabulary("androidx_workmanager")]))
    engine.origin_ns = T0
    return engine, [engine.add(e, T0) for e in exps]


def feed(engine: ExpectationEngine, data: bytes) -> None:
    parser = LogcatParser(reference_ns=T0)
    for rec in parser.feed(data) + parser.flush():
        engine.feed(rec)


def test_a_unique_work_name_waits_for_diagnostics_then_counts_the_earlier_events_once() -> None:
    by_name = Expectation(Match(task="report", state="enqueued"), within_ns=10 * S)
    by_glob = Expectation(Match(task="*e*", state="enqueued"), count="== 1", within_ns=60 * S)
    by_class = Expectation(Match(task="ReportWorker", state="failed"), within_ns=10 * S)
    engine, (name, glob, cls) = engine_with(by_name, by_glob, by_class)
    feed(engine, lines(RUN))
    assert cls.status == PASSED  # the class names it from its own lines
    engine.advance_to(T0 + 30 * S)  # past the 10 s window: the unique name is still unknown
    assert name.status == "pending"
    assert engine.wants_diagnostics() is True
    assert engine.wants_diagnostics() is False  # each work is asked about once
    feed(engine, lines([(31, "1525", "I WM-DiagnosticsWrkr", DIAG)]))
    assert name.status == PASSED, name.reason  # the enqueue at +0s, named now
    engine.finish(T0 + 90 * S)
    assert glob.status == PASSED, glob.failure_message()  # ReportWorker's and report's enqueue: one


def test_without_diagnostics_the_failure_says_what_it_saw_and_what_to_do() -> None:
    engine, (check,) = engine_with(Expectation(Match(task="report", state="enqueued"), within_ns=10 * S))
    feed(engine, lines(RUN))
    engine.advance_to(T0 + 30 * S)
    assert check.status == "pending"
    engine.release_unlinked()  # nobody could ask (a WorkManager before 2.4): stop waiting
    assert check.status == "failed"
    text = check.failure_message()
    assert "no events at all" not in text
    assert "the log names: " in text and "ReportWorker" in text
    assert U in text and "(worker ReportWorker)" in text
    assert "diagnostics were not asked for" in text and "name the task by its worker class" in text


def test_work_named_by_a_tag_needs_no_diagnostics() -> None:
    tagged = [(s, t, h, m.replace("tags={ com", "tags={ sync, com")) for s, t, h, m in RUN]
    engine, (check,) = engine_with(Expectation(Match(task="sync", state="started"), within_ns=10 * S))
    feed(engine, lines(tagged))
    assert check.status == PASSED
    assert engine.wants_diagnostics() is False


def test_the_workspec_uuid_names_the_work_too() -> None:
    engine, (check,) = engine_with(Expectation(Match(task=U, state="enqueued"), within_ns=10 * S))
    feed(engine, lines(RUN))
    assert check.status == PASSED


def test_on_ios_the_task_id_and_the_bgtask_identifier_both_name_the_task() -> None:
    """native_workmanager runs a periodic task under its own BGTask identifier: the system's
    lines name the identifier, the plugin's line ties it to the task id (issue #9 item 5)."""
    from harness.logs.record import LogRecord

    ident = "dev.brewkits.native_workmanager.refresh"
    engine = ExpectationEngine(VocabState([load_vocabulary("native_workmanager_ios")]))
    by_id, by_ident = (engine.add(Expectation(Match(task=t, state="started"), within_ns=60 * S), T0)
                       for t in ("periodic-sync", ident))
    scheduled = f"Scheduled task 'periodic-sync' with identifier '{ident}'"
    for i, (subsystem, message) in enumerate([
        ("", f"[NativeWorkManager] BGTaskSchedulerManager: {scheduled}"),
        ("com.apple.BackgroundTasks", f"Running task: <BGAppRefreshTask: {ident}>"),
    ]):
        rec = LogRecord(T0 + (i + 1) * S, 80, 9, "Default", "", message, subsystem=subsystem, process="App")
        engine.feed(rec)
    assert by_id.status == PASSED, by_id.failure_message()
    assert by_ident.status == PASSED, by_ident.failure_message()
