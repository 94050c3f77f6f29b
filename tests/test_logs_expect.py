"""Each expectation kind passing and failing, with the message a person acts on."""

from __future__ import annotations

import calendar
import uuid as uuidlib

import pytest

from harness.logs.expect import (
    Comparison,
    Expectation,
    ExpectationEngine,
    ExpectationError,
    Match,
    required_literal,
)
from harness.logs.record import LogRecord
from harness.logs.vocab import VocabState, load_vocabulary

T0 = calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9
S = 10**9
MIN = 60 * S


def rec(t: int, tag: str, msg: str, level: str = "I", pid: int = 5000) -> LogRecord:
    return LogRecord(T0 + t, pid, pid + 1, level, tag, msg, raw=f"{level}/{tag}: {msg}")


def ev(t: int, task: str, state: str) -> LogRecord:
    """A real native_workmanager / WorkManager line meaning `state` for `task`."""
    uid = str(uuidlib.uuid5(uuidlib.NAMESPACE_DNS, task))
    work = f"Work [ id={uid}, tags={{ kmp-worker-task,{task},HttpRequestWorker }} ]"
    lines = {
        "enqueued": ("NativeWorkManager", "D", f"✅ OneTime '{task}' enqueued via direct WorkManager "
                                               "(delay=0ms, heavy=false, policy=REPLACE)"),
        "started": ("TaskStore", "D", f"Updating task {task} status to running, resultData length: 0"),
        "succeeded": ("WM-WorkerWrapper", "I", f"Worker result SUCCESS for {work}"),
        "retried": ("WM-WorkerWrapper", "I", f"Worker result RETRY for {work}"),
        "failed": ("WM-WorkerWrapper", "I", f"Worker result FAILURE for {work}"),
        "cancelled": ("NativeWorkManager", "D", f"⚠️ WorkInfo CANCELLED: {task}"),
    }
    tag, level, msg = lines[state]
    return rec(t, tag, msg, level)


def engine() -> ExpectationEngine:
    return ExpectationEngine(VocabState([load_vocabulary("native_workmanager")]))


def succeed(task: str, within: int | None = None, **kw: object) -> Expectation:
    return Expectation(Match(task=task, state="succeeded"), within_ns=within, **kw)  # type: ignore[arg-type]


# -- within / count ---------------------------------------------------------------------------
def test_within_passes_as_soon_as_seen() -> None:
    e = engine()
    c = e.add(succeed("sync", within=2 * 3600 * S), T0)
    e.feed(ev(1 * S, "sync", "enqueued"))
    assert c.status == "pending"
    assert e.next_deadline() == T0 + 2 * 3600 * S
    e.feed(ev(90 * MIN, "sync", "succeeded"))
    assert c.status == "passed" and c.decided_ns == T0 + 90 * MIN


def test_within_fails_at_the_deadline_with_the_tasks_last_events() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="sync", state="succeeded"), within_ns=2 * 3600 * S,
                          text="expect: {task: sync, state: succeeded, within: 2h}", where="doze.yaml:14"),
              T0)
    e.feed(ev(1 * S, "sync", "enqueued"))
    e.feed(ev(15 * MIN, "sync", "started"))
    e.feed(ev(16 * MIN, "sync", "retried"))
    e.advance_to(T0 + 2 * 3600 * S - 1)
    assert c.status == "pending"
    e.advance_to(T0 + 2 * 3600 * S)
    assert c.status == "failed"
    msg = c.failure_message({"deviceidle": "IDLE", "battery": "unplugged, 80%"})
    first = msg.splitlines()[0]
    assert first == "expected: expect: {task: sync, state: succeeded, within: 2h}  (doze.yaml:14)"
    assert "window (device time): 2026-05-12 10:00:00.000 → 2026-05-12 12:00:00.000 (2h)" in msg
    assert "seen 0 time(s), expected at least 1" in msg
    assert "last events of sync:" in msg
    assert "2026-05-12 10:16:00.000 retried" in msg
    assert "deviceidle: IDLE" in msg and "battery: unplugged, 80%" in msg


def test_missing_task_says_so() -> None:
    e = engine()
    c = e.add(succeed("nope", within=MIN), T0)
    e.advance_to(T0 + MIN)
    assert "task nope: no events at all in the log" in c.failure_message()


def test_count_exactly_one_fails_early_on_the_second() -> None:
    e = engine()
    c = e.add(succeed("sync", within=3600 * S, count=1), T0)
    e.feed(ev(10 * MIN, "sync", "succeeded"))
    assert c.status == "pending"  # exactly one: only the end of the window can tell
    e.feed(ev(30 * MIN, "sync", "succeeded"))
    assert c.status == "failed" and "seen 2 time(s) by " in c.reason and "expected exactly 1" in c.reason
    assert "matching records (2):" in c.failure_message()


def test_an_early_failure_says_its_count_is_what_was_seen_by_then_not_the_windows_total() -> None:
    """A periodic sync that ran three times in the window failed `count: 1` as "seen 2 time(s)":
    the check decided at the second run and stopped counting (found from outside)."""
    e = engine()
    e.origin_ns = T0
    c = e.add(succeed("sync", within=3 * 3600 * S, count=1), T0)
    for hour in range(3):
        e.feed(ev(hour * 3600 * S + 2 * S, "sync", "succeeded"))
    assert c.status == "failed"
    assert c.reason == ("seen 2 time(s) by +1h2s, expected exactly 1; counting stopped there (more could "
                        "not change the verdict)")


def test_count_exactly_one_passes_when_the_window_closes() -> None:
    e = engine()
    c = e.add(succeed("sync", within=3600 * S, count="1"), T0)
    e.feed(ev(10 * MIN, "sync", "succeeded"))
    e.feed(ev(61 * MIN, "other", "enqueued"))  # a later record closes the window too
    assert c.status == "passed"


def test_count_at_least_three() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="up", state="retried"), count=">= 3", within_ns=3600 * S), T0)
    for k in range(1, 3):
        e.feed(ev(k * MIN, "up", "retried"))
    assert c.status == "pending"
    e.feed(ev(3 * MIN, "up", "retried"))
    assert c.status == "passed"
    c2 = e.add(Expectation(Match(task="up", state="retried"), count=">= 4", within_ns=10 * MIN), T0)
    assert c2.status == "pending"  # replayed 3 events from history
    e.advance_to(T0 + 10 * MIN)
    assert c2.status == "failed" and "seen 3 time(s), expected at least 4" in c2.reason


def test_window_ignores_events_before_the_anchor() -> None:
    e = engine()
    e.feed(ev(1 * S, "sync", "succeeded"))
    c = e.add(succeed("sync", within=MIN), T0 + 10 * S)
    e.advance_to(T0 + 10 * S + MIN)
    assert c.status == "failed"
    assert "(outside window)" in c.failure_message()


# -- never ------------------------------------------------------------------------------------
def test_never_passes_when_the_window_closes_clean() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="sync", state="failed"), never=True, within_ns=3600 * S), T0)
    e.feed(ev(5 * MIN, "sync", "succeeded"))
    assert c.status == "pending"
    e.advance_to(T0 + 3600 * S)
    assert c.status == "passed"


def test_never_fails_on_the_first_match_and_quotes_it() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="sync", state="failed"), never=True, within_ns=3600 * S),
              T0)
    e.feed(ev(5 * MIN, "sync", "failed"))
    assert c.status == "failed" and "expected exactly 0" in c.reason
    assert "Worker result FAILURE for Work" in c.failure_message()
    assert "sync failed: never" in c.failure_message()


def test_count_zero_string_is_never() -> None:
    e = engine()
    c = e.add(Expectation(Match(tag="AndroidRuntime"), count="0"), T0)
    e.feed(rec(S, "AndroidRuntime", "FATAL EXCEPTION: main", "E"))
    assert c.status == "failed"


# -- raw matches --------------------------------------------------------------------------------
def test_raw_match_tag_level_message() -> None:
    e = engine()
    c = e.add(Expectation(Match(tag="HttpRequestWorker", level="error", message=r"Failed - Status 5\d\d"),
                          within_ns=MIN), T0)
    e.feed(rec(S, "HttpRequestWorker", "Failed - Status 503", "I"))  # wrong level: near miss
    e.feed(rec(2 * S, "HttpRequestWorker", "Success - Status 200", "E"))  # wrong message: near miss
    assert c.status == "pending"
    e.advance_to(T0 + MIN)
    assert c.status == "failed"
    msg = c.failure_message()
    assert "closest records:" in msg and "Failed - Status 503" in msg and "Success - Status 200" in msg
    c2 = e.add(Expectation(Match(tag="HttpRequestWorker", level="E", message=r"Status 5\d\d"),
                           within_ns=MIN), T0 + MIN)
    e.feed(rec(MIN + S, "HttpRequestWorker", "Failed - Status 502", "E"))
    assert c2.status == "passed"


def test_ios_raw_match_by_subsystem_and_process() -> None:
    e = ExpectationEngine()
    c = e.add(Expectation(Match(subsystem="com.apple.BackgroundTasks", message="Running task"),
                          within_ns=MIN), T0)
    c2 = e.add(Expectation(Match(process="dasd", message="CANCELED"), never=True, within_ns=MIN), T0)
    r = LogRecord(T0 + S, 1, 1, "Default", "Runner", "Running task: <BGAppRefreshTask: x>",
                  subsystem="com.apple.BackgroundTasks", process="Runner")
    e.feed(r)
    e.advance_to(T0 + MIN)
    assert (c.status, c2.status) == ("passed", "passed")


# -- in_order ---------------------------------------------------------------------------------
def _order() -> Expectation:
    return Expectation(in_order=(Match(task="up", state="enqueued"), Match(task="up", state="retried"),
                                 Match(tag="HttpRequestWorker", message="Status 200"),
                                 Match(task="up", state="succeeded")), within_ns=3600 * S)


def test_in_order_passes() -> None:
    e = engine()
    c = e.add(_order(), T0)
    e.feed(ev(1 * S, "up", "enqueued"))
    e.feed(ev(2 * S, "up", "succeeded"))  # out of order: ignored, not yet its turn
    e.feed(ev(3 * S, "up", "retried"))
    e.feed(rec(4 * S, "HttpRequestWorker", "Success - Status 200, Body size: 2 bytes"))
    assert c.status == "pending"
    e.feed(ev(5 * S, "up", "succeeded"))
    assert c.status == "passed"


def test_in_order_fails_naming_the_missing_step() -> None:
    e = engine()
    c = e.add(_order(), T0)
    e.feed(ev(1 * S, "up", "enqueued"))
    e.feed(ev(2 * S, "up", "succeeded"))
    e.advance_to(T0 + 3600 * S)
    assert c.status == "failed"
    assert "stopped after step 1 of 4: never saw up retried" in c.reason
    msg = c.failure_message()
    assert "steps seen in order (1/4):" in msg and "1. up enqueued" in msg


# -- latency ----------------------------------------------------------------------------------
def lat(budget: int, within: int | None = None) -> Expectation:
    return Expectation(Match(task="up", state="succeeded"), latency=Comparison("<=", budget // 10**6, "ms"),
                       within_ns=within)


def test_latency_passes() -> None:
    e = engine()
    c = e.add(lat(MIN), T0)
    e.feed(ev(S, "up", "enqueued"))
    e.feed(ev(41 * S, "up", "succeeded"))
    assert c.status == "passed" and "enqueued → succeeded took 40s" in c.reason


def test_latency_fails_as_soon_as_the_budget_is_spent() -> None:
    e = engine()
    c = e.add(lat(MIN), T0)
    e.feed(ev(S, "up", "enqueued"))
    e.advance_to(T0 + S + MIN)
    assert c.status == "pending"
    e.advance_to(T0 + S + MIN + 1)
    assert c.status == "failed"
    assert "up: no succeeded within 1m of enqueued at 2026-05-12 10:00:01.000" in c.reason
    assert "last events of up:" in c.failure_message()


def test_latency_fails_when_success_comes_late() -> None:
    e = engine()
    c = e.add(lat(MIN), T0)
    e.feed(ev(S, "up", "enqueued"))
    e.feed(ev(2 * MIN, "up", "succeeded"))  # its time closes the budget before it counts
    assert c.status == "failed" and "no succeeded within 1m of enqueued" in c.reason


def test_latency_without_start_fails_when_the_window_closes() -> None:
    e = engine()
    c = e.add(lat(MIN, within=10 * MIN), T0)
    e.advance_to(T0 + 10 * MIN)
    assert c.status == "failed" and "was never enqueued in the window" in c.reason


# -- success_rate ----------------------------------------------------------------------------
def test_success_rate_over_listed_tasks_passes_early() -> None:
    e = engine()
    tasks = tuple(f"load-{i}" for i in range(20))
    c = e.add(Expectation(success_rate=">= 95%", tasks=tasks, within_ns=3600 * S), T0)
    for i in range(19):
        e.feed(ev((i + 1) * S, f"load-{i}", "succeeded"))
    assert c.status == "passed" and "19/20 tasks succeeded (95.0%" in c.reason


def test_success_rate_with_a_glob_fails_listing_the_missing_tasks() -> None:
    e = engine()
    c = e.add(Expectation(success_rate=">= 95%", tasks=("load-*",), within_ns=3600 * S), T0)
    for i in range(20):
        e.feed(ev(S + i, f"load-{i}", "enqueued"))
    for i in range(18):
        e.feed(ev(MIN + i * S, f"load-{i}", "succeeded"))
    e.feed(ev(30 * MIN, "load-18", "failed"))
    e.feed(ev(30 * MIN, "other", "succeeded"))
    e.advance_to(T0 + 3600 * S)
    assert c.status == "failed"
    assert "18/20 tasks succeeded (90.0%, wanted at least 95%)" in c.reason
    msg = c.failure_message()
    assert "tasks without success (2): load-18, load-19" in msg
    assert "failed" in msg.split("last events of load-18:")[1]


# -- fail_fast_on -----------------------------------------------------------------------------
def test_fail_fast_on_crash_while_waiting() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="up", state="succeeded"), within_ns=3600 * S,
                          fail_fast_on=(Match(tag="AndroidRuntime", message="FATAL EXCEPTION"),)), T0)
    e.feed(ev(S, "up", "enqueued"))
    e.feed(rec(2 * S, "AndroidRuntime", "FATAL EXCEPTION: main\nProcess: dev.x, PID: 5000", "E"))
    assert c.status == "failed" and c.decided_ns == T0 + 2 * S  # not at the 1 h deadline
    msg = c.failure_message()
    assert "fail-fast pattern log record with tag AndroidRuntime, message /FATAL EXCEPTION/ matched" in msg
    assert "E/AndroidRuntime: FATAL EXCEPTION: main" in msg


def test_fail_fast_only_guard_passes_clean() -> None:
    e = engine()
    c = e.add(Expectation(fail_fast_on=(Match(message="FATAL EXCEPTION"),), within_ns=MIN), T0)
    e.feed(rec(S, "Other", "fine"))
    e.advance_to(T0 + MIN)
    assert c.status == "passed"


def test_finish_decides_open_windows() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="up", state="failed"), never=True), T0)
    c2 = e.add(succeed("up"), T0)
    e.feed(ev(S, "up", "enqueued"))
    e.finish(T0 + MIN)
    assert (c.status, c2.status) == ("passed", "failed")
    assert "no within: only what had happened by then" in c2.failure_message()


# -- specs and pre-filtering --------------------------------------------------------------------
def test_count_and_rate_parsing() -> None:
    assert Comparison.count(1) == Comparison("==", 1) and Comparison.count(">= 3") == Comparison(">=", 3)
    assert Comparison.count("0") == Comparison("==", 0) and Comparison.count("!= 2") == Comparison("!=", 2)
    with pytest.raises(ExpectationError, match="not a count"):
        Expectation(Match(tag="T"), count="lots")
    assert Comparison.rate(">= 95%").value == pytest.approx(0.95)
    with pytest.raises(ExpectationError, match="not a success rate"):
        Expectation(Match(task="x"), success_rate="most")
    assert Comparison.latency(">= 30s") == Comparison(">=", 30_000, "ms")


def test_bad_specs_say_what_to_write() -> None:
    with pytest.raises(ExpectationError, match="say which state"):
        engine().add(Expectation(Match(task="x")), T0)
    with pytest.raises(ValueError, match="'enqueued', 'started'"):
        Match(task="x", state="done")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        Match(tag="T", message="(")
    with pytest.raises(ExpectationError, match="empty match"):
        Expectation(Match())
    with pytest.raises(ExpectationError, match="list the tasks"):
        engine().add(Expectation(success_rate=">= 95%"), T0)


def test_interest_and_required_literals() -> None:
    e = engine()
    e.add(Expectation(Match(tag="HttpRequestWorker", message="x")), T0)
    e.add(Expectation(fail_fast_on=(Match(message=r"FATAL EXCEPTION: \w+"),)), T0)
    i = e.interest()
    assert i is not None and {"HttpRequestWorker", "WM-WorkerWrapper", "NativeWorkManager"} <= i.tags
    assert b"FATAL EXCEPTION: " in i.literals
    e.add(Expectation(Match(level="E")), T0)
    assert e.interest() is None  # a bare level cannot be pre-filtered: parse everything
    assert required_literal(r"foo|barbaz") is None
    assert required_literal(r"Worker result (SUCCESS|RETRY) for") == "Worker result "
    assert required_literal(r"(?i)fatal") is None


def test_in_order_repeated_step_needs_two_records() -> None:
    e = engine()
    step = Match(tag="bgtest", message="tick")
    c = e.add(Expectation(in_order=(step, step), within_ns=MIN), T0)
    e.feed(rec(S, "bgtest", "tick"))
    assert c.status == "pending"
    e.feed(rec(2 * S, "bgtest", "tick"))
    assert c.status == "passed"


# -- one meaning: globs, operators, levels, categories -----------------------------------------
def test_never_with_a_glob_fails_when_one_matching_task_retried() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="api-*", state="retried"), never=True, within_ns=3600 * S), T0)
    e.feed(ev(S, "api-1", "enqueued"))
    e.feed(ev(2 * S, "other", "retried"))
    assert c.status == "pending"
    e.feed(ev(3 * S, "api-1", "retried"))
    assert c.status == "failed" and "api-1 ×1" in c.reason


def test_count_with_a_glob_counts_every_matching_task() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="load-*", state="succeeded"), count=">= 200", within_ns=3600 * S), T0)
    for i in range(199):
        e.feed(ev(S + i, f"load-{i}", "succeeded"))
    assert c.status == "pending"
    e.feed(ev(S + 500, "load-199", "succeeded"))
    assert c.status == "passed"


def test_a_glob_that_matches_nothing_says_so() -> None:
    e = engine()
    c = e.add(Expectation(Match(task="api-*", state="succeeded"), within_ns=MIN), T0)
    e.feed(ev(S, "sync", "succeeded"))
    e.advance_to(T0 + MIN)
    assert c.status == "failed"
    assert "no task in the log matches api-*; the log names: sync" in c.failure_message()


def test_in_order_and_latency_accept_globs() -> None:
    e = engine()
    order = e.add(Expectation(in_order=(Match(task="api-*", state="enqueued"),
                                        Match(task="api-*", state="succeeded"))), T0)
    lat_ = e.add(Expectation(Match(task="api-*", state="succeeded"), latency="<= 1m", within_ns=10 * MIN), T0)
    e.feed(ev(S, "api-1", "enqueued"))
    e.feed(ev(2 * S, "api-2", "enqueued"))
    e.feed(ev(30 * S, "api-1", "succeeded"))
    assert order.status == "passed"
    e.feed(ev(3 * MIN, "api-2", "succeeded"))  # api-2 took 2m58s: over the bound
    assert lat_.status == "failed" and lat_.reason.startswith("api-2: no succeeded within 1m")


def test_latency_keeps_its_operator() -> None:
    at_least = Expectation(Match(task="up", state="succeeded"), latency=">= 30s", within_ns=10 * MIN)
    e = engine()
    quick = e.add(at_least, T0)
    e.feed(ev(S, "up", "enqueued"))
    e.feed(ev(11 * S, "up", "succeeded"))  # 10 s: too quick for ">= 30s"
    assert quick.status == "failed" and "wanted at least 30s" in quick.reason
    e2 = engine()
    slow = e2.add(at_least, T0)
    e2.feed(ev(S, "up", "enqueued"))
    e2.feed(ev(2 * MIN, "up", "succeeded"))
    assert slow.status == "passed"


def test_level_is_the_lowest_level_that_matches() -> None:
    e = engine()
    warn = e.add(Expectation(Match(tag="Http", level="warn"), count=2, within_ns=MIN), T0)
    e.feed(rec(S, "Http", "debug line", "D"))
    e.feed(rec(2 * S, "Http", "a warning", "W"))
    e.feed(rec(3 * S, "Http", "an error", "E"))
    e.advance_to(T0 + MIN)
    assert warn.status == "passed", warn.reason


def test_category_narrows_an_ios_match() -> None:
    e = ExpectationEngine(None)
    match = Match(subsystem="com.apple.dasd", category="scheduler")
    c = e.add(Expectation(match, count=1, within_ns=MIN), T0)
    base = dict(pid=1, tid=1, level="Default", tag="dasd", message="x", subsystem="com.apple.dasd")
    e.feed(LogRecord(T0 + S, category="lifecycle", **base))  # type: ignore[arg-type]
    e.feed(LogRecord(T0 + 2 * S, category="scheduler", **base))  # type: ignore[arg-type]
    e.advance_to(T0 + MIN)
    assert c.status == "passed", c.reason


def test_a_record_at_the_anchors_millisecond_but_before_its_marker_is_outside_the_window() -> None:
    """A virtual clock stands still between steps: launch, force-stop and the expect after them
    share one millisecond. A start logged before the force-stop's marker (seq 10) is not in the
    force-stop's window; one logged after it is (found from outside: a false pass of "started
    within 1m after a force-stop", a false fail of "never started after it")."""
    e = engine()
    before = ev(0, "sync-a", "started")
    before.seq = 5
    e.feed(before)
    started = Match(task="sync-*", state="started")
    c = e.add(Expectation(started, within_ns=MIN), T0, anchor_seq=10)
    never = e.add(Expectation(started, within_ns=MIN, never=True), T0, anchor_seq=10)
    assert c.status == "pending" and never.status == "pending"
    after = ev(0, "sync-b", "started")
    after.seq = 12
    e.feed(after)
    assert c.status == "passed" and never.status == "failed"


def test_a_task_whose_request_was_refused_says_so_not_no_events_at_all() -> None:
    """On the Simulator BGTaskScheduler.submit fails (Code=1): an expectation that the refresh was
    enqueued failed with "no events at all in the log", as if the app never asked."""
    e = ExpectationEngine(VocabState([load_vocabulary("bgtaskscheduler")]))
    e.origin_ns = T0
    c = e.add(Expectation(Match(task="com.example.refresh", state="enqueued"), within_ns=MIN), T0)
    request = "<BGAppRefreshTaskRequest: com.example.refresh, earliestBeginDate: (null)>"
    refusal = f"Error submitting task request: {request} Error Domain=BGTaskSchedulerErrorDomain Code=1"
    for t, msg in ((1, f"submitTaskRequest: {request}"), (2, refusal)):
        e.feed(LogRecord(T0 + t * 1_000_000, 900, 901, "Default", "Runner", msg, raw=msg, process="Runner",
                         subsystem="com.apple.BackgroundTasks", category="Framework"))
    e.advance_to(T0 + MIN)
    assert c.status == "failed"
    assert ("task com.example.refresh: its request was refused, so it was never pending: +2ms "
            in c.failure_message()), c.failure_message()
