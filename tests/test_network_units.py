"""Issue 13's small pieces, each on its own: the worker's outcome rules, network conditions,
the clock waiting for held I/O, proxy records in the journal, a scenario's unmatched rules."""

from __future__ import annotations

import asyncio

import pytest

from harness.apps.model import Worker
from harness.logs.expect import ExpectationEngine
from harness.logs.journal import Journal
from harness.logs.vocab import VocabState
from harness.network.records import PROXY_TAG, RequestRecord
from harness.network.rules import Answer, Conditions, RuleError, RuleSet, parse_loss
from harness.network.session import ScenarioNetwork
from harness.sim.android.os.httpclient import proxy_address
from harness.sim.clock import VirtualClock


def _worker(**extra: object) -> Worker:
    return Worker.model_validate({"class": "W", "http": [{"url": "https://h/x"}], **extra})


@pytest.mark.parametrize(("retry_on", "status", "result"), [
    (None, 503, "retry"), (None, 429, "failure"), (None, 401, "failure"), (None, 404, "failure"),
    ([429, "5xx"], 429, "retry"), (["4xx"], 401, "retry"), (None, 200, "success"),
])
def test_the_answer_decides_the_result_by_the_workers_rules(
        retry_on: list[object] | None, status: int, result: str) -> None:
    worker = _worker(**({"retry_on": retry_on} if retry_on is not None else {}))
    assert worker.http_outcome(status, "success") == result


def test_no_answer_is_the_network_error_outcome() -> None:
    assert _worker(on_network_error="failure").http_outcome(None, "success") == "failure"
    assert _worker().http_outcome(None, "success") == "retry"


def test_a_bad_retry_status_is_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="retry_on"):
        _worker(retry_on=["50x"])


def test_loss_is_deterministic_and_conditions_add_to_rules() -> None:
    rules = RuleSet.parse([
        {"host": "api.example.com", "respond": 200, "latency": "1s", "bandwidth": "10KB/s"}])
    rules.set_conditions(Conditions(latency_ms=2000, loss=parse_loss("50%"), bandwidth_bytes_s=1000))
    first, second = (rules.decide("api.example.com", "GET", "/x") for _ in range(2))
    assert (first.answer, first.latency_ms, first.bandwidth_bytes_s) == (Answer("status", 200), 3000, 1000)
    assert second.answer == Answer("timeout")  # every second request is lost at 50 %
    other = rules.decide("cdn.example.com", "GET", "/y")
    assert (other.rule, other.answer, other.latency_ms) == (None, Answer("pass"), 2000)
    with pytest.raises(RuleError, match="30%"):
        parse_loss("lots")


def test_advance_async_runs_no_later_event_until_held_io_is_done() -> None:
    async def scenario() -> list[str]:
        clock = VirtualClock(start_ms=0)
        seen: list[str] = []

        def start_io() -> None:
            future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(lambda: (seen.append(f"answer@{clock.now_ms()}"),
                                                          future.set_result(None)))
            clock.hold(future)

        clock.schedule_at(1000, start_io)
        clock.schedule_at(2000, lambda: seen.append(f"later@{clock.now_ms()}"))
        await clock.advance_async(5000)
        seen.append(f"end@{clock.now_ms()}")
        return seen

    assert asyncio.run(scenario()) == ["answer@1000", "later@2000", "end@5000"]


def test_io_started_outside_an_advance_is_answered_before_the_next_event() -> None:
    """A worker started by ``am start`` (not by a clock advance): its request is still out
    when the next advance comes, and no event may run before its answer."""
    async def scenario() -> list[str]:
        clock = VirtualClock(start_ms=0)
        seen: list[str] = []
        answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        clock.hold(answer)
        clock.schedule_at(500, lambda: seen.append(f"timer@{clock.now_ms()}"))
        asyncio.get_running_loop().call_soon(lambda: (seen.append(f"answer@{clock.now_ms()}"),
                                                      answer.set_result(None)))
        await clock.advance_async(1000)
        return seen

    assert asyncio.run(scenario()) == ["answer@0", "timer@500"]


def test_proxy_records_are_searched_and_kept_in_the_saved_journal() -> None:
    journal = Journal(engine=ExpectationEngine(VocabState([])), selective=True)
    assert journal.selective  # the device's own lines live in the spool, re-read for the artifact
    journal.feed(b"01-05 09:00:00.000  100  100 I Tag: before\n01-05 09:00:02.000  100  100 I Tag: after\n")
    journal.flush()
    base = journal.all_records()[0].time_ns
    record = RequestRecord(time_ns=base + 1_000_000_000, method="GET", url="https://h/x", status=503,
                           outcome="503", duration_ms=0, attempt=1, rule=1)
    journal.add_external(record.to_log_record())
    assert [r.message for r in journal.tag(PROXY_TAG)] == [record.message()]
    assert [r.tag for r in journal.all_records()][-3:] == ["Tag", PROXY_TAG, "Tag"]


def test_a_scenario_reports_rules_that_matched_nothing_including_replaced_ones() -> None:
    class Proxy:
        def __init__(self) -> None:
            from harness.network.records import RequestLog
            self.rules, self.log, self.port = RuleSet(), RequestLog(), 8123

        def set_rules(self, rules: list[object]) -> None:
            self.rules.replace(rules)  # type: ignore[arg-type]

    class Device:
        routed: list[int] = []  # noqa: RUF012

        def route_to_proxy(self, port: int) -> None:
            self.routed.append(port)

    proxy, device, seen = Proxy(), Device(), []
    net = ScenarioNetwork(seen.append, proxy=lambda: proxy)  # type: ignore[arg-type,return-value]
    net.set_rules(device, RuleSet.parse([{"host": "api.exmaple.com", "respond": 503}]).rules)
    net.set_rules(device, RuleSet.parse([
        {"host": "api.example.com", "respond": 200},
        {"host": "api.example.com", "path": "/never", "respond": 404}]).rules)
    proxy.rules.decide("api.example.com", "GET", "/sync")
    assert device.routed == [8123]  # routed once
    problems = net.finish()
    assert len(problems) == 2 and "api.exmaple.com" in problems[0] and "/never" in problems[1]
    assert proxy.rules.rules == [] and not net.active


@pytest.mark.parametrize(("value", "address"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)), (":0", None), ("null", None), (None, None), ("host", None)])
def test_the_devices_proxy_setting(value: str | None, address: tuple[str, int] | None) -> None:
    assert proxy_address(value) == address


def test_what_the_network_did_is_a_line_per_server_from_the_records() -> None:
    """The failure's network part (network/explain.py): faults and answers per request kind, in
    the order they happened, with device times; nothing when every answer was good."""
    from harness.network.explain import what_the_network_did
    from harness.network.records import RequestRecord

    def rec(s: int, url: str, outcome: str, method: str = "POST") -> RequestRecord:
        status = int(outcome) if outcome.isdigit() else None
        return RequestRecord(time_ns=s * 1_000_000_000, method=method, url=url, status=status,
                             outcome=outcome, duration_ms=None, attempt=1, rule=1)

    def rel(ns: int) -> str:
        return f"+{ns // 1_000_000_000}s"

    up = "https://api.example.com/upload?api_key=[REDACTED]"
    records = [rec(180, up, "timeout"), rec(300, up, "timeout"), rec(400, up, "201"),
               rec(10, "https://cdn.example.com/a.png", "503", "GET"),
               rec(20, "https://auth.example.com/token", "reset")]
    assert what_the_network_did(records, rel) == [
        "the server at api.example.com: POST /upload timed out 2× (proxy records at device +180s, +300s); "
        "answered 201 1× (+400s)",
        "the server at cdn.example.com: GET /a.png answered 503 1× (proxy records at device +10s)",
        "the server at auth.example.com: POST /token reset the connection 1× (proxy records at device +20s)",
    ]
    assert what_the_network_did([rec(5, up, "201"), rec(6, up, "304")], rel) == []
    many = [rec(i, f"https://h{i}.example.com/x", "dns") for i in range(6)]
    lines = what_the_network_did(many, rel)
    assert len(lines) == 4 and lines[0].endswith("did not resolve 1× (proxy records at device +0s)")
    assert lines[-1].startswith("… and 3 more server(s)")
