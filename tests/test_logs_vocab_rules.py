"""Each vocabulary rule the real-log corpus needed (issue #9 item 8), with a line that shows it.

Lines are in the format people paste (`-v brief`, Console.app), parsed the way `bgtest logs`
parses them. Where a line comes from the corpus its excerpt is named.
"""

from __future__ import annotations

import pytest

from harness.logs.expect import ExpectationEngine
from harness.logs.record import LogRecord
from harness.logs.vocab import TaskEvent, VocabState, load_vocabulary, merged_vocabularies

U = "9b6d0618-f951-4dfc-92a8-38c1e902c481"
V = "af669ab4-ab24-41ac-aa04-562427276d19"


def rec(tag: str, message: str, t_ms: int = 0, pid: int = 7035, process: str = "") -> LogRecord:
    return LogRecord(t_ms * 1_000_000, pid, pid, "D", tag, message, seq=t_ms, process=process)


def read(lines: list[LogRecord], vocab: str = "androidx_workmanager") -> list[tuple[str, str]]:
    state = VocabState([load_vocabulary(vocab)])
    out: list[TaskEvent] = []
    for r in lines:
        out += state.events(r)
    out += state.release_unlinked()
    return [(e.task, e.state) for e in out]


@pytest.mark.parametrize("tag", ["WM-WorkerWrapper", "WorkerWrapper"])
def test_workmanager_before_2_1_logged_without_the_wm_prefix(tag: str) -> None:
    # codelab91-studio-noyear-backtick:1
    line = f"Worker result SUCCESS for Work [ id={U}, tags={{ com.merseyside.OrdersWorker }} ]"
    assert read([rec(tag, line)]) == [("OrdersWorker", "succeeded")]


def test_failed_because_it_threw_is_a_failure_and_its_failure_line_the_same_run() -> None:
    # codelab492-studio-legacy-threw:1, then what WorkerWrapper.onWorkFinished logs next
    work = f"Work [ id={U}, tags={{ com.example.RefreshDataWorker }} ]"
    assert read([rec("WM-WorkerWrapper", f"{work} failed because it threw an exception/error", 0),
                 rec("WM-WorkerWrapper", f"Worker result FAILURE for {work}", 3)]) == [
        ("RefreshDataWorker", "failed")]


def test_onstartjob_greedy_processor_and_worker_line_are_one_start_named_by_the_class() -> None:
    # bggeo1638-brief-wm28:6-10
    gen = f"WorkGenerationalId(workSpecId={U}, generation=0)"
    assert read([
        rec("WM-SystemJobService", f"onStartJob for {gen}", 0),
        rec("WM-GreedyScheduler", f"Starting work for {U}", 1),
        rec("WM-Processor", f"Processor: processing {gen}", 2),
        rec("WM-WorkerWrapper", "Starting work for com.transistorsoft.util.BackgroundTaskWorker", 3),
    ]) == [("BackgroundTaskWorker", "started")]


def test_a_worker_line_with_no_processor_line_before_it_is_a_start_of_the_class() -> None:
    # homeassistant7390-threadtime-replace:1
    line = "Starting work for io.homeassistant.companion.android.websocket.WebsocketManager"
    assert read([rec("WM-WorkerWrapper", line)]) == [("WebsocketManager", "started")]


def test_two_open_starts_do_not_guess_which_class_is_whose() -> None:
    gen = "WorkGenerationalId(workSpecId={}, generation=0)"
    assert read([
        rec("WM-Processor", f"Processor: processing {gen.format(U)}", 0),
        rec("WM-Processor", f"Processor: processing {gen.format(V)}", 1),
        rec("WM-WorkerWrapper", "Starting work for com.example.AWorker", 2),
    ]) == [(U, "started"), (V, "started")]


def test_greedy_cancelling_work_is_a_cancellation_constraints_not_met_is_not() -> None:
    # homeassistant7390-threadtime-replace:6
    assert read([rec("WM-GreedyScheduler", f"Cancelling work ID {U}")]) == [(U, "cancelled")]
    assert read([rec("WM-GreedyScheduler", f"Constraints not met: Cancelling work ID {U}")]) == []


def test_scheduling_without_the_space_before_job_and_its_job_id() -> None:
    # bggeo1638-brief-wm28:5, WorkManager 2.8+
    state = VocabState([load_vocabulary("androidx_workmanager")])
    state.events(rec("SystemJobScheduler", f"Scheduling work ID {U}Job ID 33"))
    [ev] = state.release_unlinked()
    assert (ev.task, ev.state, ev.ids) == (U, "enqueued", (U, "33"))


def test_an_unterminated_paste_still_reads_its_tags() -> None:
    # fwm121-brief-unterminated:1
    line = f"Worker result SUCCESS for Work [ id={U}, tags={{ be.tramckrijte.workmanager.BackgroundWorker }} "
    assert read([rec("WM-WorkerWrapper", line)]) == [("BackgroundWorker", "succeeded")]


def test_a_user_tag_names_the_task_before_the_class_in_either_order() -> None:
    # flutterdownloader657-title-retry:1
    line = (f"Worker result RETRY for Work [ id={U}, tags={{ vn.hunghd.flutterdownloader.DownloadWorker, "
            "flutter_download_task } ]")
    assert read([rec("WorkerWrapper", line)]) == [("flutter_download_task", "retried")]


def test_a_line_that_lost_its_header_is_tried_against_every_rule() -> None:
    # flutterdownloader987-brief-headless-cancel:1
    line = f" Work [ id={U}, tags={{ flutter_download_task }} ] was cancelled"
    assert read([LogRecord(0, 0, 0, "", "", line)]) == [("flutter_download_task", "cancelled")]


IOS = "bgtaskscheduler"


def ios(message: str, t_ms: int = 0, process: str = "Runner") -> LogRecord:
    return rec(process, message, t_ms, pid=0, process=process)


def test_simulated_launch_that_ran_is_a_start_the_acknowledgement_is_not() -> None:
    # rnbgfetch230-xcode-simulated-ok:3-4
    assert read([ios("Simulating launch for task with identifier com.transistorsoft.fetch", 0),
                 ios("Starting simulated task: <BGAppRefreshTask: com.transistorsoft.fetch>", 100)], IOS) == [
        ("com.transistorsoft.fetch", "started")]


@pytest.mark.parametrize(("flag", "state"), [("1", "succeeded"), ("0", "failed")])
def test_marking_complete_with_success_is_read_on_the_line_that_names_the_task(flag: str, state: str) -> None:
    # bggeo295-console-app-bgrefresh:6-7
    got = VocabState([load_vocabulary(IOS)])
    events = got.events(ios(f"Marking task (null) complete with success: {flag}", 0))
    assert events == []
    [ev] = got.events(ios("Complete task request activity: bgRefresh-com.transistorsoft.fetch:DAA282", 1))
    assert (ev.task, ev.state) == ("com.transistorsoft.fetch", state)
    assert "bgRefresh-com.transistorsoft.fetch:DAA282" in ev.ids


def test_a_complete_activity_line_alone_is_no_event() -> None:
    assert read([ios("Complete task request activity: bgRefresh-com.transistorsoft.fetch:DAA282")], IOS) == []


def test_dasd_cancelling_a_replaced_request_is_not_a_cancellation() -> None:
    # fwm557-console-dasd-replaced:1, 6, 7
    ident = "be.tramckrijte.workmanagerExample.iOSBackgroundProcessingTask"
    assert read([
        ios(f"submitTaskRequest: <BGProcessingTaskRequest: {ident}, earliestBeginDate: 2024-05-20>", 0),
        ios(f"CANCELED: bgProcessing-{ident}:751E8D at priority 10 <private>!", 9, "dasd"),
        ios(f"Submitted Activity: bgProcessing-{ident}:200A93 at priority 10 (Mon May 20 2024)", 13, "dasd"),
    ], IOS) == [(ident, "enqueued")]


def test_a_cancel_the_app_asked_for_is_a_cancellation() -> None:
    ident = "com.example.cleanup"
    assert read([
        ios(f"cancelTaskRequestWithIdentifier: {ident}", 60_000),
        ios(f"CANCELED: bgProcessing-{ident}:9A9A at priority 10 <private>!", 60_010, "dasd"),
    ], IOS) == [(ident, "cancelled")]


def test_native_workmanager_task_id_and_bgtask_identifier_name_the_same_task() -> None:
    state = VocabState([load_vocabulary("native_workmanager_ios")])
    ident = "dev.brewkits.native_workmanager.refresh"
    state.events(ios(f"[NativeWorkManager] BGTaskSchedulerManager: Scheduled task 'periodic-sync' with "
                     f"identifier '{ident}'"))
    [ev] = state.events(ios(f"Running task: <BGAppRefreshTask: {ident}>", 1000))
    assert ev.state == "started" and ev.is_for(ident) and ev.is_for("periodic-sync")


def test_every_library_of_a_platform_applies_a_shared_rule_once() -> None:
    vocab = merged_vocabularies(["androidx_workmanager", "flutter_workmanager", "native_workmanager"])
    state = VocabState([vocab])
    line = f"Worker result SUCCESS for Work [ id={U}, tags={{ sync, com.example.SyncWorker }} ]"
    assert [(e.task, e.state) for e in state.events(rec("WM-WorkerWrapper", line))] == [("sync", "succeeded")]


def test_a_submit_the_framework_refuses_is_not_enqueued() -> None:
    # research/ios.md §3: "submitTaskRequest: %@" then "Error submitting task request: %@, error: %@"
    ident = "dev.brewkits.native_workmanager.refresh"
    refused = [
        ios(f"submitTaskRequest: <BGAppRefreshTaskRequest: {ident}, earliestBeginDate: (null)>", 0),
        ios(f"Error submitting task request: <BGAppRefreshTaskRequest: {ident}, earliestBeginDate: (null)>, "
            'error: Error Domain=BGTaskSchedulerErrorDomain Code=1 "(null)"', 0),
    ]
    assert read(refused, IOS) == []
    other = "com.example.other"  # a refusal names its own request only
    assert read([refused[0], ios(refused[1].message.replace(ident, other), 0)], IOS) == [(ident, "enqueued")]


def test_an_accepted_submit_is_enqueued_at_its_own_time() -> None:
    ident = "com.example.sync"
    submit = ios(f"submitTaskRequest: <BGProcessingTaskRequest: {ident}, earliestBeginDate: (null)>", 10)
    state = VocabState([load_vocabulary(IOS)])
    assert state.events(submit) == []  # its next line may still refuse it
    [ev] = state.events(ios("some other line of the app", 11))
    assert (ev.task, ev.state, ev.time_ns) == (ident, "enqueued", 10_000_000)
    state = VocabState([load_vocabulary(IOS)])
    state.events(submit)
    [ev] = state.release_awaiting(up_to_ns=10_000_000)  # a barrier after it: nothing refused it
    assert ev.state == "enqueued"


def test_an_engine_sees_an_accepted_submit_at_the_barrier_and_never_a_refused_one() -> None:
    ident = "com.example.sync"
    engine = ExpectationEngine(VocabState([load_vocabulary(IOS)]))
    engine.feed(ios(f"submitTaskRequest: <BGAppRefreshTaskRequest: {ident}, earliestBeginDate: (null)>", 5))
    engine.advance_to(5_000_000)
    assert [(e.task, e.state) for e in engine.events] == [(ident, "enqueued")]
    engine = ExpectationEngine(VocabState([load_vocabulary(IOS)]))
    engine.feed(ios(f"submitTaskRequest: <BGAppRefreshTaskRequest: {ident}, earliestBeginDate: (null)>", 5))
    engine.feed(ios(f"Error submitting task request: <BGAppRefreshTaskRequest: {ident}, earliestBeginDate: "
                    '(null)>, error: Error Domain=BGTaskSchedulerErrorDomain Code=3 "(null)"', 5))
    engine.advance_to(5_000_000)
    assert engine.events == []
