"""Unified log ndjson parsing: banners, key order, processImagePath, offsets, trailer."""

from __future__ import annotations

import calendar
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.logs.oslog_parser import OslogParser, parse_timestamp

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def test_stream_with_banner_and_trailer() -> None:
    p = OslogParser()
    data = (FIX / "ios_stream.ndjson").read_text()
    recs = p.feed(data) + p.flush()
    assert len(recs) == 9
    assert p.banners[0].startswith("Filtering the log data using")
    assert p.banners[1].startswith("getpwuid_r")
    first = recs[0]
    assert first.process == first.tag == "Runner"
    assert (first.subsystem, first.category) == ("com.apple.BackgroundTasks", "BGTaskScheduler")
    assert first.level == "Default"
    assert (first.pid, first.tid) == (812, 9001)
    # +0200: 10:00 local is 08:00 UTC
    assert first.time_ns == calendar.timegm((2026, 5, 12, 8, 0, 0)) * 10**9 + 100_000_000
    assert recs[2].process == "dasd"
    assert [r.seq for r in recs] == list(range(9))


def test_a_record_reads_as_a_line_not_as_json() -> None:
    """Failure messages quote unified-log records as `log stream --style compact` would."""
    p = OslogParser()
    first = (p.feed((FIX / "ios_stream.ndjson").read_text()) + p.flush())[0]
    line = first.short()
    assert line.startswith("Default Runner[812] [com.apple.BackgroundTasks:BGTaskScheduler] ")
    assert "{" not in line[:1] and '"eventMessage"' not in line
    assert first.message.splitlines()[0] in line


def test_chunked_feed_is_the_same() -> None:
    data = (FIX / "ios_stream.ndjson").read_bytes()
    whole = OslogParser()
    a = whole.feed(data) + whole.flush()
    p = OslogParser()
    b = []
    for i in range(0, len(data), 13):
        b += p.feed(data[i:i + 13])
    b += p.flush()
    assert a == b


def test_timestamp_forms() -> None:
    base = calendar.timegm((2021, 2, 5, 19, 43, 22)) * 10**9
    assert parse_timestamp("2021-02-05 11:43:22.859569-0800") == base + 859_569_000
    assert parse_timestamp("2021-02-05 19:43:22.859569+0000") == base + 859_569_000
    assert parse_timestamp("garbage") is None


def test_non_log_objects_and_bad_json_are_skipped() -> None:
    p = OslogParser()
    recs = p.feed('{"count":3,"finished":1}\n{not json\n[\n{"timestamp":"x"}\n')
    assert recs == [] and p.garbage == 1


@settings(max_examples=100, deadline=None)
@given(st.permutations(["timestamp", "eventMessage", "processImagePath", "subsystem", "messageType"]),
       st.text(max_size=40))
def test_key_order_does_not_matter(order: list[str], message: str) -> None:
    values = {"timestamp": "2026-05-12 10:00:00.000001+0000", "eventMessage": message,
              "processImagePath": "/usr/libexec/dasd", "subsystem": "s", "messageType": "Error"}
    line = json.dumps({k: values[k] for k in order}).replace("/", "\\/")
    [r] = OslogParser().feed(line + "\n")
    assert (r.message, r.process, r.subsystem, r.level_name) == (message, "dasd", "s", "error")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.integers(1, 40))
def test_never_raises(text: str, chunk: int) -> None:
    p = OslogParser()
    for i in range(0, len(text), chunk):
        p.feed(text[i:i + chunk])
    p.flush()
