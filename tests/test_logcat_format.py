"""logcat print formats against logprint.cpp's layouts (golden strings), plus a round-trip property."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sim.android.commands.logcat import PrintFormat, make_formatter
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.os.logd import LogEntry
from harness.sim.android.procio import InputSource, OutputSink
from harness.sim.android.registry import COMMANDS, CommandContext, invoke

T0 = 1_767_603_600_000_000_000  # 2026-01-05 09:00:00 UTC, the virtual device's first instant


def logcat(device: VirtualAndroidDevice, *args: str,
           env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = OutputSink(), OutputSink()
    ctx = CommandContext(device, ["logcat", *args], InputSource(), out, err, env or {})
    rc = asyncio.run(invoke(COMMANDS["logcat"], ctx))
    return rc, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture()
def device() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice()
    d.logd.clear()
    d.clock.advance(123)
    d.log("I", "MyTag", "hello", pid=1234, tid=1250, uid=10123)
    return d


BEGIN = "--------- beginning of main\n"

GOLDEN = {
    ("threadtime",): "01-05 09:00:00.123  1234  1250 I MyTag   : hello\n",
    ("time",): "01-05 09:00:00.123 I/MyTag   ( 1234): hello\n",
    ("brief",): "I/MyTag   ( 1234): hello\n",
    ("tag",): "I/MyTag   : hello\n",
    ("process",): "I( 1234) hello  (MyTag)\n",
    ("thread",): "I( 1234: 1250) hello\n",
    ("raw",): "hello\n",
    ("long",): "[ 01-05 09:00:00.123  1234: 1250 I/MyTag    ]\nhello\n\n",
    ("epoch",): "         1767603600.123  1234  1250 I MyTag   : hello\n",
    ("year",): "2026-01-05 09:00:00.123  1234  1250 I MyTag   : hello\n",
    ("uid",): "01-05 09:00:00.123 10123  1234  1250 I MyTag   : hello\n",
    ("usec",): "01-05 09:00:00.123000  1234  1250 I MyTag   : hello\n",
    ("nsec",): "01-05 09:00:00.123000001  1234  1250 I MyTag   : hello\n",  # logd's 1 ns nudge
    ("zone",): "01-05 09:00:00.123 +0000  1234  1250 I MyTag   : hello\n",
    ("UTC",): "01-05 09:00:00.123 +0000  1234  1250 I MyTag   : hello\n",  # a zone name toggles zone
    ("UTC", "zone"): "01-05 09:00:00.123  1234  1250 I MyTag   : hello\n",
    ("monotonic",): "     0.123  1234  1250 I MyTag   : hello\n",
    ("color",): "\x1b[32m01-05 09:00:00.123  1234  1250 I MyTag   : hello\x1b[0m\n",
    ("year", "uid"): "2026-01-05 09:00:00.123 10123  1234  1250 I MyTag   : hello\n",
    ("time", "year"): "2026-01-05 09:00:00.123 I/MyTag   ( 1234): hello\n",
    ("time", "uid"): "01-05 09:00:00.123 I/MyTag   (10123: 1234): hello\n",
    ("brief", "uid"): "I/MyTag   (10123: 1234): hello\n",
    ("thread", "uid"): "I(10123: 1234: 1250) hello\n",
    ("process", "uid"): "I(10123: 1234) hello  (MyTag)\n",
    ("long", "uid"): "[ 01-05 09:00:00.123 10123: 1234: 1250 I/MyTag    ]\nhello\n\n",
    ("time", "epoch", "usec"): "         1767603600.123000 I/MyTag   ( 1234): hello\n",
    ("time", "year", "zone"): "2026-01-05 09:00:00.123 +0000 I/MyTag   ( 1234): hello\n",
    ("process", "color"): "\x1b[32mI( 1234) hello\x1b[0m  (MyTag)\n",
}


@pytest.mark.parametrize("words", list(GOLDEN), ids=lambda w: "+".join(w))
def test_every_format_matches_logprint(device: VirtualAndroidDevice, words: tuple[str, ...]) -> None:
    args = ["-d"]
    for w in words:
        args += ["-v", w]
    rc, out, err = logcat(device, *args)
    assert (rc, err) == (0, "")
    assert out == BEGIN + GOLDEN[words]


def test_comma_separated_format_list_equals_repeated_v(device: VirtualAndroidDevice) -> None:
    assert logcat(device, "-d", "-v", "year,uid")[1] == logcat(device, "-d", "-v", "year", "-v", "uid")[1]


def test_android_printf_log_sets_the_format_when_no_v(device: VirtualAndroidDevice) -> None:
    assert logcat(device, "-d", env={"ANDROID_PRINTF_LOG": "brief"})[1] == BEGIN + GOLDEN[("brief",)]
    out = logcat(device, "-d", "-v", "tag", env={"ANDROID_PRINTF_LOG": "brief"})[1]
    assert out == BEGIN + GOLDEN[("tag",)]


def test_uid_names_of_short_android_ids(device: VirtualAndroidDevice) -> None:
    device.logd.clear()
    device.log("I", "A", "x", pid=1, tid=1, uid=0)
    device.log("I", "A", "x", pid=1, tid=1, uid=2000)
    device.log("I", "A", "x", pid=1, tid=1, uid=1000)  # "system" is 6 letters: numeric
    lines = logcat(device, "-d", "-v", "uid")[1].splitlines()[1:]
    assert [ln[19:25] for ln in lines] == [" root ", "shell ", " 1000 "]


def test_multiline_message_repeats_the_prefix_per_line(device: VirtualAndroidDevice) -> None:
    device.logd.clear()
    device.log("E", "AndroidRuntime", "FATAL EXCEPTION: main\n\tat a.b(C.java:1)\n\n", pid=7, tid=7)
    out = logcat(device, "-d")[1]
    prefix = "01-05 09:00:00.123     7     7 E AndroidRuntime: "
    assert out == BEGIN + f"{prefix}FATAL EXCEPTION: main\n{prefix}\tat a.b(C.java:1)\n{prefix}\n"
    # long keeps the message whole
    long_out = logcat(device, "-d", "-v", "long")[1]
    assert long_out.endswith("]\nFATAL EXCEPTION: main\n\tat a.b(C.java:1)\n\n\n\n")


def test_empty_message_prints_one_line_and_long_tags_are_not_truncated(
        device: VirtualAndroidDevice) -> None:
    device.logd.clear()
    device.log("D", "", "", pid=5, tid=6)
    device.log("W", "AVeryLongTagName", "m", pid=5, tid=6)
    out = logcat(device, "-d")[1].splitlines()
    assert out[1] == "01-05 09:00:00.123     5     6 D         : "
    assert out[2] == "01-05 09:00:00.123     5     6 W AVeryLongTagName: m"


def test_prefix_is_cut_at_127_bytes_like_logprints_buffer(device: VirtualAndroidDevice) -> None:
    device.logd.clear()
    device.log("I", "T" * 200, "msg", pid=5, tid=6)
    line = logcat(device, "-d")[1].splitlines()[1]
    assert line == ("01-05 09:00:00.123     5     6 I " + "T" * 200)[:127] + "msg"


def test_prefix_cut_counts_bytes_not_characters(device: VirtualAndroidDevice) -> None:
    device.logd.clear()
    device.log("I", "é" * 60, "msg", pid=5, tid=6)
    line = logcat(device, "-d")[1].splitlines()[1]
    assert len(line.encode()) == 127 + len("msg")  # 33 bytes of header + 47 two-byte characters
    assert line.endswith(" I " + "é" * 47 + "msg")


def test_unknown_level_prints_question_mark_only_when_filters_allow() -> None:
    fmt = make_formatter(PrintFormat(verb="brief"))
    assert fmt(LogEntry(1, "main", T0, 1, 1, 0, "X", "t", "m")) == "?/t       (    1): m\n"


# ------------------------------------------------------------------ round trip property
_LINE = re.compile(r"^(\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) +(\d+) +(\d+) ([VDIWEF]) (.*?) *: (.*)$")


def parse_threadtime(text: str) -> list[tuple[int, int, str, str, str]]:
    """A tiny reader: join consecutive lines with an identical prefix into one message."""
    records: list[list] = []
    last_head = None
    for line in text.split("\n")[:-1]:
        if line.startswith("--------- "):
            continue
        m = _LINE.match(line)
        assert m, line
        head = m.group(1, 2, 3, 4, 5)
        if head == last_head:
            records[-1][4] += "\n" + m.group(6)
        else:
            records.append([int(m.group(2)), int(m.group(3)), m.group(4), m.group(5), m.group(6)])
            last_head = head
    return [tuple(r) for r in records]


tags = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="._-$/"), min_size=1,
               max_size=20)  # <= 80 bytes: the prefix stays under logprint's 128-byte cut
messages = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300).filter(
    lambda m: not m.endswith("\n"))


@settings(max_examples=200, deadline=None)
@given(tag=tags, message=messages, pid=st.integers(0, 4_194_304), tid=st.integers(0, 4_194_304),
       level=st.sampled_from("VDIWEF"))
def test_threadtime_round_trips_tags_and_messages(tag: str, message: str, pid: int, tid: int,
                                                  level: str) -> None:
    fmt = make_formatter(PrintFormat(verb="threadtime"))
    text = fmt(LogEntry(1, "main", T0 + 5_000_001, pid, tid, 0, level, tag, message))
    assert parse_threadtime(text) == [(pid, tid, level, tag, message)]
    assert all(line.startswith("01-05 09:00:00.005 ") for line in text.split("\n")[:-1])


@settings(max_examples=300, deadline=None)
@given(ns=st.integers(T0 - 10**17, T0 + 10**17))  # about three years either side
def test_printed_times_parse_back_to_their_millisecond(ns: int) -> None:
    from harness.sim.android.commands.logcat import parse_log_time

    entry = LogEntry(1, "main", ns, 1, 1, 0, "I", "T", "m")
    floor_ms = ns // 1_000_000 * 1_000_000
    year_line = make_formatter(PrintFormat(verb="threadtime", year=True))(entry)
    assert parse_log_time(year_line[:23], T0) == (floor_ms, "")
    epoch_line = make_formatter(PrintFormat(verb="threadtime", epoch=True))(entry)
    assert parse_log_time(epoch_line[:23].strip(), T0) == (floor_ms, "")
    short_line = make_formatter(PrintFormat(verb="threadtime"))(entry)
    assert parse_log_time(short_line[:18], ns) == (floor_ms, "")  # MM-DD: the year of "now"
