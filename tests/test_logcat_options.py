"""logcat options: filters, buffers, -t/-T by count and time (incl. the journal's resume), errors."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.procio import InputSource, OutputSink
from harness.sim.android.registry import COMMANDS, CommandContext, invoke


def logcat(device: VirtualAndroidDevice, *args: str, env: dict[str, str] | None = None,
           uid: int = 2000) -> tuple[int, str, str]:
    out, err = OutputSink(), OutputSink()
    ctx = CommandContext(device, ["logcat", *args], InputSource(), out, err, env or {}, uid)
    rc = asyncio.run(invoke(COMMANDS["logcat"], ctx))
    return rc, out.getvalue().decode(), err.getvalue().decode()


def lines(out: str) -> list[str]:
    return out.splitlines()


def messages(out: str) -> list[str]:
    return [ln.split(": ", 1)[1] for ln in out.splitlines() if not ln.startswith("---------")]


@pytest.fixture()
def device() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice()
    d.logd.clear()
    return d


def fill(d: VirtualAndroidDevice) -> None:
    d.log("V", "A", "a-verbose", pid=100)
    d.log("D", "A", "a-debug", pid=100)
    d.log("I", "B", "b-info", pid=200)
    d.log("W", "B", "b-warn", pid=200, buffer="system")
    d.log("E", "C", "c-error", pid=300, buffer="crash")
    d.log("I", "Ev", "[1,2]", pid=300, buffer="events")


# ------------------------------------------------------------------ buffers and markers
def test_default_buffers_markers_in_first_print_order(device: VirtualAndroidDevice) -> None:
    fill(device)
    out = logcat(device, "-d")[1]
    assert [ln for ln in lines(out) if ln.startswith("---------")] == [
        "--------- beginning of main", "--------- beginning of system", "--------- beginning of crash"]
    assert "[1,2]" not in out  # events is not a default buffer


def test_markers_interleave_and_dividers_mark_every_switch(device: VirtualAndroidDevice) -> None:
    device.log("I", "A", "m1")
    device.log("I", "A", "s1", buffer="system")
    device.log("I", "A", "m2")
    plain = [ln for ln in lines(logcat(device, "-d")[1]) if ln.startswith("---")]
    assert plain == ["--------- beginning of main", "--------- beginning of system"]
    divided = [ln for ln in lines(logcat(device, "-d", "-D")[1]) if ln.startswith("---")]
    assert divided == ["--------- beginning of main", "--------- beginning of system",
                       "--------- switch to main"]


def test_buffer_selection_forms(device: VirtualAndroidDevice) -> None:
    fill(device)
    assert messages(logcat(device, "-d", "-b", "events")[1]) == ["[1,2]"]
    assert messages(logcat(device, "-d", "-b", "system,crash")[1]) == ["b-warn", "c-error"]
    assert messages(logcat(device, "-d", "-b", "system", "-b", "crash")[1]) == ["b-warn", "c-error"]
    assert len(messages(logcat(device, "-d", "-b", "all")[1])) == 6
    assert "[1,2]" not in logcat(device, "-d", "-b", "default")[1]
    assert lines(logcat(device, "-d", "-b", "events")[1])[0] == "--------- beginning of events"


def test_no_marker_when_nothing_is_printed(device: VirtualAndroidDevice) -> None:
    assert logcat(device, "-d") == (0, "", "")


# ------------------------------------------------------------------ filters
def test_filterspecs(device: VirtualAndroidDevice) -> None:
    fill(device)
    assert messages(logcat(device, "-d", "*:S", "A")[1]) == ["a-verbose", "a-debug"]
    assert messages(logcat(device, "-d", "-s", "A:D")[1]) == ["a-debug"]
    assert messages(logcat(device, "-d", "*:W")[1]) == ["b-warn", "c-error"]
    assert messages(logcat(device, "-d", "*")[1]) == ["a-debug", "b-info", "b-warn", "c-error"]  # * = *:D
    assert messages(logcat(device, "-d", "B:S")[1]) == ["a-verbose", "a-debug", "c-error"]
    assert messages(logcat(device, "-d", "A:S A:V", "*:S")[1]) == ["a-verbose", "a-debug"]  # last wins
    assert messages(logcat(device, "-d", "*:s,B:i")[1]) == ["b-info", "b-warn"]  # comma list, lower case
    assert messages(logcat(device, "-d", "*:2", "C:6")[1]) == ["a-verbose", "a-debug", "b-info", "b-warn",
                                                                 "c-error"]


def test_android_log_tags_applies_only_without_command_line_filters(device: VirtualAndroidDevice) -> None:
    fill(device)
    env = {"ANDROID_LOG_TAGS": "*:S C:E"}
    assert messages(logcat(device, "-d", env=env)[1]) == ["c-error"]
    assert messages(logcat(device, "-d", "*:S", "A:D", env=env)[1]) == ["a-debug"]
    # what `adb logcat` sends: export ANDROID_LOG_TAGS=''
    assert len(messages(logcat(device, "-d", env={"ANDROID_LOG_TAGS": ""})[1])) == 5


def test_pid_regex_and_max_count(device: VirtualAndroidDevice) -> None:
    fill(device)
    assert messages(logcat(device, "-d", "--pid=200")[1]) == ["b-info", "b-warn"]
    assert messages(logcat(device, "-d", "--pid", "300")[1]) == ["c-error"]
    assert messages(logcat(device, "-d", "-e", "^b-")[1]) == ["b-info", "b-warn"]
    assert messages(logcat(device, "-d", "--regex=err|warn")[1]) == ["b-warn", "c-error"]
    assert messages(logcat(device, "-d", "-m", "2")[1]) == ["a-verbose", "a-debug"]
    assert messages(logcat(device, "-d", "-e", "b-", "-m", "1", "--print")[1]) == [
        "a-verbose", "a-debug", "b-info"]


def test_app_reader_sees_only_its_own_uid(device: VirtualAndroidDevice) -> None:
    device.log("I", "Mine", "mine", uid=10050)
    device.log("I", "Other", "other", uid=10051)
    assert messages(logcat(device, "-d", uid=10050)[1]) == ["mine"]
    assert len(messages(logcat(device, "-d")[1])) == 2  # the shell is in group log


# ------------------------------------------------------------------ -t / -T by count
def test_tail_count_is_taken_before_tag_filters(device: VirtualAndroidDevice) -> None:
    for i in range(6):
        device.log("I", "A" if i % 2 == 0 else "B", f"m{i}")
    assert messages(logcat(device, "-t", "3")[1]) == ["m3", "m4", "m5"]
    assert messages(logcat(device, "-t", "3", "-s", "A")[1]) == ["m4"]  # logd counts, logcat filters
    assert messages(logcat(device, "-t", "100")[1]) == [f"m{i}" for i in range(6)]
    _, out, err = logcat(device, "-t", "0")
    assert err == "WARNING: -t 0 invalid, setting to 1\n" and messages(out) == ["m5"]
    assert messages(logcat(device, "-t", "010")[1]) == [f"m{i}" for i in range(6)]  # octal 8


# ------------------------------------------------------------------ -t / -T by time
def burst(d: VirtualAndroidDevice) -> None:
    d.clock.advance(100)
    d.log("I", "W", "early")
    d.clock.advance(23)  # 09:00:00.123
    d.log("I", "W", "A")
    d.log("I", "W", "B")
    d.log("I", "W", "C")
    d.clock.advance(1)
    d.log("I", "W", "D")


@pytest.mark.parametrize("stamp", ["01-05 09:00:00.123", "2026-01-05 09:00:00.123", "1767603600.123",
                                   "01-05 09:00:00.123000", "01-05 09:00:00.1230"])
def test_time_formats_replay_the_whole_millisecond(device: VirtualAndroidDevice, stamp: str) -> None:
    burst(device)
    rc, out, err = logcat(device, "-t", stamp)
    assert (rc, err) == (0, "")
    assert messages(out) == ["A", "B", "C", "D"]


def test_time_is_strictly_after_the_instant_at_nanosecond_precision(device: VirtualAndroidDevice) -> None:
    burst(device)
    a = device.logd.entries()[1]
    assert a.message == "A" and a.time_ns % 1_000_000 != 0  # logd never stamps a ms boundary
    s, ns = divmod(a.time_ns, 1_000_000_000)
    assert messages(logcat(device, "-t", f"{s}.{ns:09d}")[1]) == ["B", "C", "D"]


def test_time_after_the_last_entry_prints_nothing_in_dump_mode(device: VirtualAndroidDevice) -> None:
    burst(device)
    assert logcat(device, "-t", "01-05 10:00:00.000") == (0, "", "")


def test_time_warnings_and_errors(device: VirtualAndroidDevice) -> None:
    burst(device)
    _, out, err = logcat(device, "-t", "01-05 09:00:00.123 junk")
    assert err == "WARNING: -t '01-05 09:00:00.123' ' junk' time truncated\n"
    assert messages(out) == ["A", "B", "C", "D"]
    assert logcat(device, "-T", "yesterday") == (1, "", "logcat: -T 'yesterday' not in time format.\n")


def dedupe(seen: list[tuple[str, str]], replay: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The journal's rule: drop replayed records of the last seen millisecond it already holds."""
    last_time = seen[-1][0]
    already = Counter(rec for rec in seen if rec[0] == last_time)
    fresh = []
    for rec in replay:
        if rec[0] < last_time:
            continue
        if rec[0] == last_time and already[rec] > 0:
            already[rec] -= 1
            continue
        fresh.append(rec)
    return fresh


def records(out: str) -> list[tuple[str, str]]:
    return [(ln[:18], ln[19:]) for ln in out.splitlines() if not ln.startswith("---------")]


def test_resume_with_T_last_time_has_no_gap_and_dedupes_to_no_duplicate(device: VirtualAndroidDevice) -> None:
    burst(device)
    full = records(logcat(device, "-d")[1])
    for cut in range(1, len(full) + 1):  # the stream broke after `cut` records
        seen = full[:cut]
        _, out, _ = logcat(device, "-t", seen[-1][0])
        assert seen + dedupe(seen, records(out)) == full, cut


def test_identical_lines_in_one_millisecond_are_counted_not_collapsed(device: VirtualAndroidDevice) -> None:
    device.clock.advance(7)
    for _ in range(3):
        device.log("I", "Same", "tick", pid=9, tid=9)
    full = records(logcat(device, "-d")[1])
    seen = full[:2]
    assert seen + dedupe(seen, records(logcat(device, "-t", seen[-1][0])[1])) == full


def test_after_reboot_T_last_time_returns_only_the_new_boot(device: VirtualAndroidDevice) -> None:
    burst(device)
    last = records(logcat(device, "-d")[1])[-1][0]
    device.reboot_now()
    device.log("I", "W", "after")
    out = logcat(device, "-t", last)[1]
    assert "after" in messages(out) and not {"A", "B", "C", "D"} & set(messages(out))


# ------------------------------------------------------------------ logd control
def test_clear_and_sizes(device: VirtualAndroidDevice) -> None:
    fill(device)
    assert logcat(device, "-c") == (0, "", "")
    assert logcat(device, "-d") == (0, "", "")
    assert messages(logcat(device, "-d", "-b", "events")[1]) == ["[1,2]"]  # -c clears the default set
    assert logcat(device, "--clear", "-b", "all") == (0, "", "")
    assert logcat(device, "-d", "-b", "all") == (0, "", "")


def test_get_and_set_buffer_size(device: VirtualAndroidDevice) -> None:
    device.log("I", "T", "x" * 3000)  # 3032 bytes with header: 2 KiB (integer division)
    rc, out, err = logcat(device, "-g")
    assert rc == 0 and err == ""
    assert lines(out) == [
        "main: ring buffer is 1 MiB (2 KiB consumed), max entry is 5120 B, max payload is 4068 B",
        "system: ring buffer is 1 MiB (0 B consumed), max entry is 5120 B, max payload is 4068 B",
        "crash: ring buffer is 256 KiB (0 B consumed), max entry is 5120 B, max payload is 4068 B",
        "kernel: ring buffer is 256 KiB (0 B consumed), max entry is 5120 B, max payload is 4068 B",
    ]
    assert logcat(device, "-G", "16M", "-b", "main") == (0, "", "")
    assert lines(logcat(device, "-g", "-b", "main")[1])[0].startswith("main: ring buffer is 16 MiB (")
    assert logcat(device, "-G", "2K", "-b", "main") == (1, "", "logcat: failed to set the 'main' log size.\n")
    assert logcat(device, "-G", "lots") == (1, "", "logcat: -G must be specified as <num><multiplier>.\n")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("args", "stderr"), [
    (["-x"], "logcat: Unknown option '-x'.\n"),
    (["--bogus"], "logcat: Unknown option '--bogus'.\n"),
    (["--he"], "logcat: Unknown option '--he'.\n"),  # ambiguous: head, help
    (["-b"], "logcat: Option '-b' needs an argument.\n"),
    (["--regex"], "logcat: Option '--regex' needs an argument.\n"),
    (["--clear=1"], "logcat: Option '--clear=1' needs an argument.\n"),
    (["-b", "nope"], "logcat: Unknown buffer 'nope' listed for -b.\n"),
    (["-v", "fancy"], "logcat: Invalid parameter 'fancy' to -v.\n"),
    (["-m", "0"], "logcat: -m '0' isn't an integer greater than zero.\n"),
    (["-m", "2", "-t", "3"], "logcat: Cannot use -m (--max-count) and -t together.\n"),
    (["--pid=0"], "logcat: pid 0 out of range.\n"),
    (["--pid=1", "--pid=2"], "logcat: Only one --pid argument can be provided.\n"),
    (["-d", "Tag:Q"], "logcat: Invalid filter expression 'Tag:Q'.\n"),
    (["-d", ":V"], "logcat: Invalid filter expression ':V'.\n"),
    (["-r", "5"], "logcat: -r requires -f as well.\n"),
])
def test_bad_options_answer_like_logcat(device: VirtualAndroidDevice, args: list[str], stderr: str) -> None:
    assert logcat(device, *args) == (1, "", stderr)


def test_bad_env_filter_and_regex(device: VirtualAndroidDevice) -> None:
    assert logcat(device, "-d", env={"ANDROID_LOG_TAGS": "x:Z"}) == (
        1, "", "logcat: Invalid filter expression in ANDROID_LOG_TAGS.\n")
    rc, _, err = logcat(device, "-d", "-e", "(")
    assert rc == 134 and err.startswith("libc++abi: terminating due to uncaught exception of type "
                                        "std::__1::regex_error:")


def test_help_goes_to_stderr_and_succeeds(device: VirtualAndroidDevice) -> None:
    rc, out, err = logcat(device, "--help")
    assert rc == 0 and out == "" and err.startswith("Usage: logcat [options] [filterspecs]\n")
    assert logcat(device, "-v", "help")[0] == 0


def test_options_after_filterspecs_are_still_options(device: VirtualAndroidDevice) -> None:
    fill(device)
    assert messages(logcat(device, "*:S", "C", "-d")[1]) == ["c-error"]  # getopt permutes


def test_file_output_goes_to_the_device_filesystem(device: VirtualAndroidDevice) -> None:
    fill(device)
    assert logcat(device, "-d", "-f", "/data/local/tmp/log.txt", "-s", "C") == (0, "", "")
    data = device.fs.read("/data/local/tmp/log.txt").decode()
    assert data.endswith(" E C       : c-error\n")


def test_file_rotation_keeps_n_files_of_about_r_kbytes(device: VirtualAndroidDevice) -> None:
    for i in range(100):
        device.log("I", "Rot", f"line {i:03d} " + "r" * 40)
    assert logcat(device, "-d", "-f", "/data/local/tmp/r.log", "-r", "1", "-n", "2") == (0, "", "")
    names = sorted(name for name, _ in device.fs.listdir("/data/local/tmp") if name.startswith("r.log"))
    assert names == ["r.log", "r.log.1", "r.log.2"]
    for name in ("r.log.1", "r.log.2"):
        size = len(device.fs.read(f"/data/local/tmp/{name}"))
        assert 1024 <= size < 1024 + 100  # rotated right after crossing 1 KiB
    newest = device.fs.read("/data/local/tmp/r.log").decode()
    assert newest.endswith("line 099 " + "r" * 40 + "\n")
    assert logcat(device, "-c", "-f", "/data/local/tmp/r.log", "-n", "2") == (0, "", "")
    assert not [n for n, _ in device.fs.listdir("/data/local/tmp") if n.startswith("r.log")]
    assert logcat(device, "-d", "-f", "/system/x.log") == (
        1, "", "logcat: Couldn't open output file: Read-only file system\n")


def test_statistics_head_and_prune_list(device: VirtualAndroidDevice) -> None:
    device.log("I", "T", "x" * 20)
    device.log("I", "T", "y" * 10, buffer="system")
    device.logd.clear(["system"])  # "Total" remembers, "Now" forgets
    out = lines(logcat(device, "-S")[1])
    # main's Total also counts the boot's "System now ready" (62 bytes) the fixture cleared
    assert out == [
        "size/num main               system             crash              kernel             Total",
        "Total    114/2              42/1               0/0                0/0                156/3",
        "Now      52/1                                                                        52/1",
    ]
    assert logcat(device, "-p") == (0, "~! ~1000/!\n", "")
    assert logcat(device, "-P", "~1000/!") == (0, "", "")
    assert logcat(device, "-p") == (0, "~1000/!\n", "")


def test_local_time_zone_from_tz_or_persist_sys_timezone(device: VirtualAndroidDevice) -> None:
    pytest.importorskip("zoneinfo").ZoneInfo("America/New_York")  # needs the tz database
    device.clock.advance(123)
    device.log("I", "Tz", "local", pid=1, tid=1)
    env = {"TZ": "America/New_York"}
    assert lines(logcat(device, "-d", env=env)[1])[1].startswith("01-05 04:00:00.123 ")
    assert lines(logcat(device, "-d", "-v", "zone", env=env)[1])[1].startswith("01-05 04:00:00.123 -0500 ")
    assert messages(logcat(device, "-t", "01-05 04:00:00.123", env=env)[1]) == ["local"]
    assert logcat(device, "-t", "01-05 04:00:00.124", env=env)[1] == ""
    device.props.set("persist.sys.timezone", "Asia/Tokyo")
    assert lines(logcat(device, "-d")[1])[1].startswith("01-05 18:00:00.123 ")
