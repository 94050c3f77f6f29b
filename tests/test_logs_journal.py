"""The journal: resume after a break with -T and no lost or duplicated record, reboots,
selective materialisation, artifacts."""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.logs.expect import Expectation, ExpectationEngine, Match
from harness.logs.journal import Journal
from harness.logs.logcat_parser import format_threadtime
from harness.logs.record import LogRecord
from harness.logs.vocab import VocabState, load_vocabulary

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
T0 = calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9
MS = 1_000_000


def line(ms: int, msg: str, tag: str = "Num", pid: int = 100, tid: int = 100) -> str:
    return format_threadtime(LogRecord(T0 + ms * MS, pid, tid, "I", tag, msg)) + "\n"


class FakeLogcat:
    """A device's log buffer numbering its lines; `open(since)` behaves like `logcat -T since`
    (inclusive of that millisecond) and breaks after `cut` bytes, mid-line if it falls there."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.buffer: list[tuple[int, str]] = []  # (ms, text)
        self.opens: list[str | None] = []
        self.cut: int | None = None
        self.delivered_all = False  # the last open streamed everything: the reader may stop

    def log(self, ms: int, n: int, tid: int = 100) -> None:
        self.buffer.append((ms, line(ms, f"line {n}", tid=tid)))

    def reboot(self) -> None:
        self.buffer.clear()

    def open(self, since: str | None) -> Iterator[bytes]:
        self.opens.append(since)
        start_ms = -1
        if since is not None:
            _month_day, clock = since.split(" ")
            h, m, s = clock.split(":")
            start_ms = (int(h) - 10) * 3_600_000 + int(m) * 60_000 + round(float(s) * 1000)
        data = "".join(text for ms, text in self.buffer if ms >= start_ms).encode()
        if self.cut is not None:
            data = data[: self.cut]
        pos = 0
        while pos < len(data):
            n = self.rng.randint(1, 90)
            if self.cut is None and pos + n >= len(data):
                self.delivered_all = True
            yield data[pos:pos + n]
            pos += n


def numbers(j: Journal) -> list[int]:
    return [int(r.message.split()[1]) for r in j.records if r.message.startswith("line ")]


def test_resume_at_the_boundary_drops_only_repeats() -> None:
    j = Journal()
    j.feed(line(0, "line 0") + line(5, "line 1") + line(5, "line 2", tid=101))
    j.disconnected()
    assert j.resume_since() == "05-12 10:00:00.005"
    assert j.resume_args() == ["-T", "05-12 10:00:00.005"]
    # logcat -T is inclusive: 1 and 2 come again, 3 is new in the same millisecond
    j.feed(line(5, "line 1") + line(5, "line 2", tid=101) + line(5, "line 3", tid=102) + line(9, "line 4"))
    j.flush()
    assert numbers(j) == [0, 1, 2, 3, 4]
    # line 2 was the last record before the break -- it could have had more lines, so the
    # parser dropped it and took it whole from the resumed stream: only line 1 repeats
    assert j.dropped_duplicates == 1
    assert j.resume_since() is None  # no break pending


def test_break_inside_a_multiline_record_yields_it_once_and_whole() -> None:
    multi = line(7, "a\nb\nc", tag="WM-DiagnosticsWrkr")
    j = Journal()
    j.feed(line(1, "line 0"))
    j.feed(multi[: len(multi) * 2 // 3])  # two complete lines of three, and a cut
    j.disconnected()
    j.feed(line(1, "line 0") + multi + line(8, "line 1"))
    j.flush()
    diag = j.tag("WM-DiagnosticsWrkr")
    assert [r.message for r in diag] == ["a\nb\nc"]
    assert numbers(j) == [0, 1]


def test_reboot_empties_buffers_and_keeps_the_half_record() -> None:
    j = Journal()
    j.feed(line(1, "line 0") + line(2, "x\ny", tag="T"))  # the T record may still continue
    j.disconnected()
    j.rebooted()
    assert j.resume_since() is None
    j.feed(line(30_000, "line 1"))
    j.flush()
    assert numbers(j) == [0, 1]
    assert [r.message for r in j.tag("T")] == ["x\ny"]
    assert j.reboots == 1


@pytest.mark.parametrize("seed", range(12))
def test_follow_survives_breaks_and_a_reboot_without_loss_or_duplicates(seed: int) -> None:
    rng = random.Random(seed)
    dev = FakeLogcat(rng)
    n, ms = 0, 0
    for _ in range(60):
        ms += rng.choice([0, 0, 1, 3])  # many lines share a millisecond
        dev.log(ms, n, tid=100 + n % 3)
        n += 1
    j = Journal()
    plan = ["break", "break", "reboot", "break", "end"]
    state = {"step": 0, "n": n, "ms": ms}

    def on_disconnect(_exc: BaseException | None) -> None:
        step = plan[state["step"]]
        state["step"] += 1
        if step == "reboot":
            state["n_at_reboot"] = state["n"]
            dev.reboot()
            j.rebooted()
            state["ms"] += 60_000
        for _ in range(rng.randint(5, 30)):  # the device keeps logging while we are away
            state["ms"] += rng.choice([0, 1, 2])
            dev.log(state["ms"], state["n"], tid=100 + state["n"] % 3)
            state["n"] += 1
        dev.cut = None if plan[state["step"]] == "end" else rng.randint(0, 3000)

    dev.cut = rng.randint(200, 3000)
    j.follow(dev, should_stop=lambda: dev.delivered_all, on_disconnect=on_disconnect, max_reconnects=10)
    j.flush()
    got = numbers(j)
    # everything logged is seen once, except what the reboot wiped before we read it
    assert got == sorted(set(got))
    assert got[-1] == state["n"] - 1
    lost = set(range(state["n"])) - set(got)
    # only lines the reboot wiped before they were read can be missing: one tail before it
    assert all(k < state["n_at_reboot"] for k in lost)
    assert not lost or max(lost) == state["n_at_reboot"] - 1
    assert set(range(state["n_at_reboot"], state["n"])) <= set(got)
    assert any(o is not None for o in dev.opens[1:])  # resumed with -T at least once
    assert dev.opens[plan.index("reboot") + 1] is None  # after the reboot: the whole new buffer


def test_follow_without_reboot_loses_nothing() -> None:
    rng = random.Random(7)
    dev = FakeLogcat(rng)
    for k in range(200):
        dev.log(k // 4, k, tid=100 + k % 2)
    cuts = iter([500, 1700, 4000, None])
    dev.cut = next(cuts)

    def on_disconnect(_e: BaseException | None) -> None:
        dev.cut = next(cuts)

    j = Journal()
    j.follow(dev, should_stop=lambda: dev.delivered_all, on_disconnect=on_disconnect, max_reconnects=5)
    j.flush()
    assert numbers(j) == list(range(200))
    assert j.dropped_duplicates > 0


def test_selective_journal_keeps_everything_for_the_artifact(tmp_path: Path) -> None:
    engine = ExpectationEngine(VocabState([load_vocabulary("native_workmanager")]))
    j = Journal(engine=engine, reference_ns=T0)
    engine.add(Expectation(Match(task="upload-1", state="succeeded")), anchor_ns=0)
    j.refresh_interest()
    data = (FIX / "nwm_run.logcat").read_bytes()
    for i in range(0, len(data), 100):
        j.feed(data[i:i + 100])
    j.flush()
    assert "ActivityManager" not in j.by_tag  # not materialised live
    assert {"WM-WorkerWrapper", "NativeWorkManager", "TaskStore"} <= set(j.by_tag)
    assert engine.checks[0].status == "passed"
    assert [e.state for e in j.task("upload-1")] == ["enqueued", "started", "succeeded"]
    everything = j.all_records()
    assert any(r.tag == "ActivityManager" for r in everything)
    out = j.save(tmp_path / "journal.log")
    text = out.read_text()
    assert text.count("FATAL EXCEPTION") == 1 and "Force finishing activity" in text
    assert len(text.splitlines()) == sum(len(r.raw.split("\n")) for r in everything)


def test_history_for_a_late_raw_expectation() -> None:
    engine = ExpectationEngine(VocabState([load_vocabulary("native_workmanager")]))
    j = Journal(engine=engine, reference_ns=T0)
    j.feed((FIX / "nwm_run.logcat").read_bytes())
    j.flush()
    first = j.records[0].time_ns
    check = engine.add(Expectation(Match(tag="HttpRequestWorker", message=r"Status 200")), first,
                       history=j.history_since(first))
    assert check.status == "passed"


def test_ios_journal() -> None:
    j = Journal(platform="ios", vocab=VocabState([load_vocabulary("native_workmanager_ios")]))
    j.feed((FIX / "ios_stream.ndjson").read_bytes())
    j.flush()
    assert len(j.records) == 9
    assert [e.state for e in j.task("periodic-sync")] == ["succeeded"]


def test_selective_journal_materialises_always_tags_and_follows_new_expectations() -> None:
    engine = ExpectationEngine(VocabState([load_vocabulary("native_workmanager")]))
    j = Journal(engine=engine, reference_ns=T0, always_tags=frozenset({"bgtest"}))
    j.feed(line(1, "marker-1", tag="bgtest") + line(2, "hello", tag="Other"))
    assert [r.message for r in j.tag("bgtest")] == ["marker-1"]
    assert j.tag("Other") == []
    engine.add(Expectation(Match(tag="Other", message="again")), T0)  # the journal hears of it
    j.feed(line(3, "again", tag="Other") + line(4, "x", tag="Y"))
    assert [r.message for r in j.tag("Other")] == ["again"]
    assert engine.checks[0].status == "passed"


def test_resume_in_the_first_millisecond_skips_what_came_before_the_start() -> None:
    """A virtual device in manual time logs a whole scenario in one millisecond. The next
    scenario's journal starts at the last line (`-T 1`); a break and `-T` at that millisecond
    shows the earlier scenario's lines again: they are older than the journal, not new."""

    def at0(n: int) -> str:
        return line(0, f"line {n}", tid=100 + n)  # one thread each: no joined records

    j = Journal()
    j.feed(at0(2) + at0(10) + at0(11))  # -T 1: the last line of the earlier scenario first
    j.disconnected()
    assert j.resume_since() == "05-12 10:00:00.000"
    j.feed(at0(0) + at0(1) + at0(2) + at0(10) + at0(11) + at0(12) + line(3, "line 13"))
    j.flush()
    assert numbers(j) == [2, 10, 11, 12, 13]
    assert j.dropped_duplicates == 4  # lines 0 and 1 (before the start), 2 and 10 (repeats)
