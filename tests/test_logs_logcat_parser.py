"""Golden and property tests for the logcat parser (real formats from research §8-9)."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.logs.logcat_parser import Interest, LogcatParser, format_threadtime, format_time
from harness.logs.record import LogRecord

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
REF_2026 = calendar.timegm((2026, 6, 1, 0, 0, 0)) * 1_000_000_000


def parse_all(data: bytes | str, *, chunk: int | None = None, interest: Interest | None = None,
              ref: int = REF_2026) -> list[LogRecord]:
    p = LogcatParser(reference_ns=ref)
    if isinstance(data, str):
        data = data.encode()
    out: list[LogRecord] = []
    if chunk is None:
        out += p.feed(data, interest)
    else:
        for i in range(0, len(data), chunk):
            out += p.feed(data[i:i + chunk], interest)
    return out + p.flush()


def test_threadtime_fields_and_year_from_reference() -> None:
    [r] = parse_all("05-12 10:00:00.123  1234  1250 I MyTag   : hello world\n")
    assert (r.pid, r.tid, r.level, r.tag, r.message) == (1234, 1250, "I", "MyTag", "hello world")
    assert r.time_ns == calendar.timegm((2026, 5, 12, 10, 0, 0)) * 1_000_000_000 + 123_000_000
    assert r.raw == "05-12 10:00:00.123  1234  1250 I MyTag   : hello world"


def test_golden_workmanager_retry_run() -> None:
    recs = parse_all((FIX / "wm_retry_run.logcat").read_bytes())
    tags = [r.tag for r in recs]
    assert tags.count("WM-WorkerWrapper") == 3
    assert tags.count("WM-SystemJobScheduler") == 3
    assert len(recs) == 15  # markers and the garbage line are not records
    ww = [r for r in recs if r.tag == "WM-WorkerWrapper"]
    assert ww[-1].message.startswith("Worker result SUCCESS for Work [ id=3f2a9c1e")
    assert [r.seq for r in recs] == sorted(r.seq for r in recs)
    p = LogcatParser(reference_ns=REF_2026)
    p.feed((FIX / "wm_retry_run.logcat").read_bytes())
    p.flush()
    assert (p.garbage, p.markers) == (1, 2)


def test_diagnostics_table_is_one_message_per_section() -> None:
    recs = parse_all((FIX / "wm_diagnostics.logcat").read_bytes())
    diag = [r for r in recs if r.tag == "WM-DiagnosticsWrkr"]
    assert len(diag) == 2
    first = diag[0].message.split("\n")
    assert first[0] == "Recently completed work:"
    assert first[3] == " Id \t Class Name\t Job Id\t State\t Unique Name\t Tags\t"
    assert first[4].startswith("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b\t com.example.wm.UploadWorker\t 12")
    assert len(first) == 6
    assert diag[1].message.startswith("Enqueued work:")
    assert recs[-1].tag == "ActivityManager"


def test_crash_joined_and_stack_tab_kept() -> None:
    recs = parse_all((FIX / "nwm_run.logcat").read_bytes())
    [crash] = [r for r in recs if r.tag == "AndroidRuntime"]
    assert crash.message.split("\n")[0] == "FATAL EXCEPTION: main"
    stack = crash.message.split("\n")[3]
    assert stack == "\tat dev.brewkits.nwm_demo.MainActivity.onCreate(MainActivity.kt:42)"
    assert crash.level == "E"


def test_unicode_messages_and_crlf() -> None:
    data = ("05-12 09:00:00.105  5000  5000 D NativeWorkManager: ✅ Periodic 'p' enqueued\r\n"
            "05-12 09:00:00.106  5000  5000 D X       : \r\n").encode()
    a, b = parse_all(data)
    assert a.message == "✅ Periodic 'p' enqueued" and a.tag == "NativeWorkManager"
    assert (b.tag, b.message) == ("X", "")


def test_invalid_utf8_does_not_lose_the_record() -> None:
    [r] = parse_all(b"05-12 09:00:00.105  5000  5000 I Tag: bad \xff\xfe bytes\n")
    assert r.message == "bad \ufffd\ufffd bytes"


def test_year_epoch_uid_and_zone_formats() -> None:
    data = (
        "2024-05-12 10:00:00.123  1234  1250 I MyTag   : year\n"
        "         1715508000.123  1234  1250 I MyTag   : epoch\n"
        "05-12 10:00:00.123 10123  1234  1250 I MyTag   : uid\n"
        "05-12 10:00:00.123 +0000  1234  1250 I MyTag   : zone\n"
        "05-12 10:00:00.123456  1234  1250 I MyTag   : usec\n"
    )
    y, e, u, z, us = parse_all(data)
    assert y.time_ns == e.time_ns == calendar.timegm((2024, 5, 12, 10, 0, 0)) * 10**9 + 123_000_000
    assert (u.uid, u.pid, u.tid, u.message) == ("10123", 1234, 1250, "uid")
    assert (z.pid, z.message) == (1234, "zone")
    assert us.time_ns % 10**9 == 123_456_000


def test_year_rolls_over_december_to_january() -> None:
    ref = calendar.timegm((2025, 12, 31, 0, 0, 0)) * 10**9
    data = ("12-31 23:59:59.999  1  1 I T: a\n"
            "01-01 00:00:00.001  1  1 I T: b\n")
    a, b = parse_all(data, ref=ref)
    assert b.time_ns - a.time_ns == 2_000_000


def test_records_later_in_the_calendar_than_now_are_last_year() -> None:
    ref = calendar.timegm((2026, 1, 2, 0, 0, 0)) * 10**9
    [r] = parse_all("12-30 10:00:00.000  1  1 I T: old\n", ref=ref)
    assert r.time_ns == calendar.timegm((2025, 12, 30, 10, 0, 0)) * 10**9


def test_a_stamp_earlier_in_the_calendar_than_now_is_this_year_even_half_a_year_back() -> None:
    """A capture from May read in December was dated next May (found from outside: `bgtest
    logs` on an older paste printed 2027 on 2026-12-08); the first stamp is never after now."""
    ref = calendar.timegm((2026, 12, 8, 0, 0, 0)) * 10**9
    [may] = parse_all("05-12 10:00:00.000  1  1 I T: may\n", ref=ref)
    assert may.time_ns == calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9
    [ahead] = parse_all("12-08 09:00:00.000  1  1 I T: a clock ahead of UTC\n", ref=ref)
    assert ahead.time_ns == calendar.timegm((2026, 12, 8, 9, 0, 0)) * 10**9


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_chunking_does_not_change_records(chunk: int) -> None:
    data = b"".join((FIX / n).read_bytes() for n in ("wm_retry_run.logcat", "nwm_run.logcat"))
    assert parse_all(data, chunk=chunk) == parse_all(data)


@pytest.mark.parametrize("chunk", [None, 5, 333])
def test_selective_equals_full_filtered(chunk: int | None) -> None:
    data = b"".join((FIX / n).read_bytes() for n in
                    ("wm_retry_run.logcat", "wm_diagnostics.logcat", "nwm_run.logcat"))
    interest = Interest(frozenset({"WM-WorkerWrapper", "WM-DiagnosticsWrkr", "TaskStore"}), (b"FATAL EXC",))
    want = [r for r in parse_all(data) if r.tag in interest.tags or "FATAL EXC" in r.message]
    got = parse_all(data, chunk=chunk, interest=interest)
    assert got == want
    assert any(r.tag == "AndroidRuntime" and "\tat dev" in r.message for r in got)


def test_needles_share_a_prefix_scan() -> None:
    i = Interest(frozenset({"WM-WorkerWrapper", "WM-Processor", "NativeWorkManager"}))
    assert set(i.needles) == {b"WM-", b"NativeWorkManager"}


def test_discard_partial_drops_cut_line_and_pending() -> None:
    p = LogcatParser(reference_ns=REF_2026)
    out = p.feed(b"05-12 10:00:00.000  1  1 I T: one\n05-12 10:00:00.000  1  1 I T: two\n05-12 10:00:01")
    assert out == []  # "one/two" may continue
    held = p.discard_partial()
    assert held is not None
    assert p.feed(b"05-12 10:00:02.000  1  1 I U: next\n") == []
    assert [r.message for r in p.flush()] == ["next"]


def test_format_time_roundtrips_for_resume() -> None:
    t = calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9 + 7_000_000
    assert format_time(t) == "05-12 10:00:00.007"
    assert format_time(t, "year") == "2026-05-12 10:00:00.007"
    assert format_time(t, "epoch") == f"{t // 10**9}.007"


_TAG = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_.$"), min_size=1,
               max_size=30)
_MSG = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=80).map(str.rstrip)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_TAG, st.lists(_MSG, min_size=1, max_size=3), st.sampled_from("VDIWEF"),
                          st.integers(0, 99999), st.integers(0, 99999), st.integers(0, 10**6)),
                min_size=1, max_size=8),
       st.sampled_from(["threadtime", "year", "epoch"]),
       st.integers(1, 50))
def test_format_then_parse_round_trip(items: list, style: str, chunk: int) -> None:
    base = calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9
    recs = []
    for i, (tag, lines, lvl, pid, tid, dt) in enumerate(items):
        # distinct pid per record so neighbours never share a prefix (they would be joined)
        recs.append(LogRecord(base + dt * 1_000_000 * (i + 1), pid * 10 + i % 10 + 100000 * (i % 2), tid, lvl,
                              tag, "\n".join(lines)))
    text = "".join(format_threadtime(r, style) + "\n" for r in recs)
    got = parse_all(text, chunk=chunk)
    assert [(g.time_ns, g.pid, g.tid, g.level, g.tag, g.message) for g in got] == \
           [(r.time_ns, r.pid, r.tid, r.level, r.tag, r.message) for r in recs]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 64))
def test_parser_never_raises_on_arbitrary_bytes(data: bytes, chunk: int) -> None:
    parse_all(data, chunk=chunk)
    parse_all(data, chunk=chunk, interest=Interest(frozenset({"T", "WM-A", "WM-B"}), (b"x",)))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    parse_all(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["WM-WorkerWrapper", "WM-Processor", "Noise", "NativeWorkManager"]),
                          st.integers(1, 4_194_304), st.integers(1, 4_194_304), _MSG),
                min_size=1, max_size=30),
       st.integers(1, 400), st.sampled_from(["threadtime", "year", "epoch"]))
def test_selective_matches_full_for_any_pid_width(items: list, chunk: int, style: str) -> None:
    """The one-pass column scan must not miss lines whose pid/tid are wider than five digits."""
    base = calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9
    recs = [LogRecord(base + i * 1_000_000, pid, tid, "I", tag, msg)
            for i, (tag, pid, tid, msg) in enumerate(items)]
    text = "".join(format_threadtime(r, style) + "\n" for r in recs)
    interest = Interest(frozenset({"WM-WorkerWrapper", "WM-Processor", "NativeWorkManager"}))
    full = [r for r in parse_all(text) if r.tag in interest.tags]
    assert parse_all(text, chunk=chunk, interest=interest) == full


def test_a_short_line_does_not_hide_the_wanted_line_after_it() -> None:
    """The column scan jumps over the header without looking for newlines: a line shorter than
    the header (a `--------- beginning of` marker, a cut line) is jumped out of, and the wanted
    line right after it must still be found, whatever the short line's length."""
    wanted = "05-12 10:00:00.000  1234  1250 I WM-WorkerWrapper: Worker result SUCCESS for Work [ id=u ]"
    head = "05-12 09:59:59.000   612   612 D Noise   : first line: the parser learns the layout here"
    interest = Interest(frozenset({"WM-WorkerWrapper"}))
    for n in range(0, 45):
        text = f"{head}\n{'-' * n}\n{wanted}\n{head}\n"
        got = parse_all(text, interest=interest)
        assert [r.message for r in got] == ["Worker result SUCCESS for Work [ id=u ]"], n


_SHORT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["WM-WorkerWrapper", "Noise", "NativeWorkManager"]), _MSG,
                          st.lists(_SHORT, max_size=2)), min_size=1, max_size=30),
       st.sampled_from([None, 97, 4096]), st.sampled_from(["threadtime", "year", "epoch"]))
def test_selective_matches_full_between_short_lines(items: list, chunk: int | None, style: str) -> None:
    """Lines without a header (any length) between records: the selective scan still finds
    every wanted record the full parse finds."""
    base = calendar.timegm((2026, 5, 12, 10, 0, 0)) * 10**9
    text = format_threadtime(LogRecord(base, 700, 700, "D", "Noise", "layout"), style) + "\n"
    for i, (tag, msg, shorts) in enumerate(items):
        rec = LogRecord(base + (i + 1) * 1_000_000, 1000 + i, 2000 + i, "I", tag, msg)
        text += format_threadtime(rec, style)
        text += "".join("\n" + s for s in shorts) + "\n"
    interest = Interest(frozenset({"WM-WorkerWrapper", "NativeWorkManager"}))
    full = [r for r in parse_all(text) if r.tag in interest.tags]
    assert parse_all(text, chunk=chunk, interest=interest) == full
