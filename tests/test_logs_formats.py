"""`bgtest logs` reads every capture format people save, detected per file (issue #9 item 6).

Android captures come from the virtual device's own `logcat -v FORMAT` (it prints what
logd/logprint print); the Android Studio, `flutter run` and iOS layouts are written out from
the examples in research/ios.md and the real pastes in tests/real_logs. Every format must give
the same task timeline; lines without a header are counted, never fatal; a file in no known
format is one line and exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from harness.cli import _register, app
from harness.logs.formats import sniff
from harness.logs.timeline import read_timeline
from harness.logs.vocab import vocabulary_for_log
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
U = "9112628b-d1b8-4b09-9ded-3673fbbf8baa"
_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def device() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice(app_models=[APPS / "wm_plain.yaml"])
    rc, _out, err = run_sync(d, "am start -a android.intent.action.VIEW -d wmplain://work/sync")
    assert rc == 0, err
    d.clock.advance(11 * 60_000)  # the periodic sync runs 10 min after enqueue and succeeds
    return d


def events(path: Path, platform: str | None = None) -> list[tuple[str, str]]:
    return [(e.task, e.event) for e in read_timeline(path, platform=platform).events]


WANT = [("sync", "enqueued"), ("sync", "started"), ("sync", "succeeded"), ("sync", "enqueued")]


@pytest.mark.parametrize(("modifiers", "name"), [
    ("threadtime", "threadtime"), ("threadtime,year", "threadtime"), ("threadtime,uid", "threadtime"),
    ("threadtime,epoch", "threadtime-epoch"), ("threadtime,usec,zone", "threadtime"),
    ("brief", "brief"), ("brief,uid", "brief"), ("time", "time"), ("time,year", "time"),
    ("time,epoch", "time-epoch"), ("time,usec,zone", "time"), ("tag", "tag"), ("process", "process"),
    ("long", "long"), ("long,epoch", "long"), ("long,year,uid", "long"),
    ("color", "threadtime"), ("time,color", "time"),  # ANSI codes around each line: read through
])
def test_every_logcat_format_gives_the_same_timeline(
        device: VirtualAndroidDevice, tmp_path: Path, modifiers: str, name: str) -> None:
    args = " ".join(f"-v {m}" for m in modifiers.split(","))
    rc, out, err = run_sync(device, f"logcat -d {args}")
    assert rc == 0, err
    path = tmp_path / "capture.txt"
    path.write_bytes(out)
    assert sniff(path)[1:] == (name, "android")
    # Without timestamps one run's lines and the next period's scheduling, 3 s later, cannot be
    # told apart: the re-enqueue of the same WorkSpec is read as part of the run (a known limit).
    timed = name not in ("brief", "tag", "process")
    assert events(path) == (WANT if timed else WANT[:-1])


STUDIO_LEGACY = f"""\
2026-01-05 09:00:00.000 1522-1523/com.example.wmplain D/WM-SystemJobScheduler: Scheduling work ID {U}Job ID 0
01-05 09:10:03.000 1522-1525/? I/WM-WorkerWrapper: Worker result SUCCESS for Work [ id={U}, tags={{ sync }} ]
"""
STUDIO_2022 = f"""\
2026-01-05 09:00:00.000  1522-1523  WM-SystemJobScheduler   com.example.wmplain                  D  \
Scheduling work ID {U}Job ID 0
2026-01-05 09:10:03.000  1522-1525  WM-WorkerWrapper        com.example.wmplain                  I  \
Worker result SUCCESS for Work [ id={U}, tags={{ sync }} ]
"""
FLUTTER_RUN = f"""\
Launching lib/main.dart on sdk gphone64 x86 64 in debug mode...
Running Gradle task 'assembleDebug'...
D/WM-SystemJobScheduler( 1522): Scheduling work ID {U}Job ID 0
Syncing files to device sdk gphone64 x86 64...
I/WM-WorkerWrapper( 1522): Worker result SUCCESS for Work [ id={U}, tags={{ sync }} ]
"""
HARD_WRAPPED = f"""\
D/WM-SystemJobScheduler( 1522): Scheduling work ID {U}Job ID 0
I/WM-WorkerWrapper( 1522): Worker result SUCCESS for Work [ id=9112628b-d1b8-4b09-9ded-
3673fbbf8baa, tags={{ sync }} ]
"""


@pytest.mark.parametrize(("text", "name"), [
    (STUDIO_LEGACY, "studio-legacy"), (STUDIO_2022, "studio-2022"), (FLUTTER_RUN, "flutter-run"),
    (HARD_WRAPPED, "brief"),
])
def test_android_studio_flutter_run_and_wrapped_pastes(tmp_path: Path, text: str, name: str) -> None:
    path = tmp_path / "paste.txt"
    path.write_text(text)
    assert sniff(path)[1] == name
    assert events(path) == [("sync", "enqueued"), ("sync", "succeeded")]


def test_a_tag_format_line_quoted_in_backticks_is_read(tmp_path: Path) -> None:
    """`-v tag` lines pasted as inline code, as in Evernote/android-job issue #538: the opening
    backtick is Markdown, as it is for the other logcat formats."""
    path = tmp_path / "paste.txt"
    path.write_text(f"`D/WM-SystemJobScheduler: Scheduling work ID {U}Job ID 0`\n"
                    f"`I/WM-WorkerWrapper: Worker result SUCCESS for Work [ id={U}, tags={{ sync }} ]`\n")
    assert sniff(path)[1] == "tag"
    assert events(path) == [("sync", "enqueued"), ("sync", "succeeded")]


IDENT = "com.example.refresh"
SUBMIT = f"submitTaskRequest: <BGAppRefreshTaskRequest: {IDENT}, earliestBeginDate: 2026-05-12 08:15:00>"
RUNNING = f"Running task: <BGAppRefreshTask: {IDENT}>"
CANCEL = f"CANCELED: bgRefresh-{IDENT}:4F1A2B at priority 10 <private>!"
IOS = {
    "log-ndjson": "Filtering the log data using \"process == \\\"Runner\\\"\"\n" + "".join(
        json.dumps({"timestamp": f"2026-05-12 10:0{i}:00.000000+0200", "eventMessage": msg,
                    "processImagePath": f"/x/{proc}", "processID": 1, "threadID": 2, "messageType": "Default",
                    "eventType": "logEvent", "subsystem": "com.apple.BackgroundTasks" * (proc == "Runner")})
        + "\n" for i, (proc, msg) in enumerate([("Runner", SUBMIT), ("Runner", RUNNING), ("dasd", CANCEL)])),
    "log-syslog": f"""\
Timestamp                       (process)[PID]
2026-05-12 10:00:00.000000+0200  localhost Runner[989]: (BackgroundTasks) [com.apple.bg:Framework] {SUBMIT}
2026-05-12 10:01:00.000000+0200  localhost Runner[989]: (BackgroundTasks) {RUNNING}
2026-05-12 10:02:00.000000+0200  localhost dasd[120]: {CANCEL}
""",
    "log-compact": f"""\
Timestamp               Ty Process[PID:TID]
2026-05-12 10:00:00.000 Df Runner[989:1a2b] [com.apple.BackgroundTasks:Framework] {SUBMIT}
2026-05-12 10:01:00.000 Df Runner[989:1a2b] [com.apple.BackgroundTasks:Framework] {RUNNING}
2026-05-12 10:02:00.000 Df dasd[120:33] (DuetActivityScheduler) {CANCEL}
""",
    "log-default": f"""\
Timestamp                       Thread     Type        Activity             PID    TTL
2026-05-12 10:00:00.000000+0200 0x1a2b     Default     0x0                  989    0    Runner: {SUBMIT}
2026-05-12 10:01:00.000000+0200 0x1a2b     Default     0x0                  989    0    Runner: {RUNNING}
2026-05-12 10:02:00.000000+0200 0x33       Default     0x0                  120    0    dasd: {CANCEL}
""",
    "console-app": f"default\t10:00:00.000000+0200\tRunner\t{SUBMIT}\n"
                   f"default\t10:01:00.000000+0200\tRunner\t{RUNNING}\n"
                   f"default\t10:02:00.000000+0200\tdasd\t{CANCEL}\n",
    "xcode-console": f"2026-05-12 10:00:00.000000+0200 Runner[989:4242] {SUBMIT}\n"
                     f"(lldb) e -l objc -- (void)[[BGTaskScheduler sharedScheduler] "
                     f"_simulateLaunchForTaskWithIdentifier:@\"{IDENT}\"]\n"
                     f"2026-05-12 10:01:00.000000+0200 Runner[989:4243] {RUNNING}\n",
    "idevicesyslog": f"May 12 10:00:00 iPhone Runner(BackgroundTasks)[989] <Notice>: {SUBMIT}\n"
                     f"May 12 10:01:00 iPhone Runner(BackgroundTasks)[989] <Notice>: {RUNNING}\n"
                     f"May 12 10:02:00 iPhone dasd[120] <Notice>: {CANCEL}\n",
}


@pytest.mark.parametrize("name", sorted(IOS))
def test_every_unified_log_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / "ios.log"
    path.write_text(IOS[name])
    assert sniff(path)[1:] == (name, "ios")
    got = events(path)
    cancel = [(IDENT, "cancelled")] if name != "xcode-console" else []
    want = [(IDENT, "enqueued"), (IDENT, "started"), *cancel]
    assert got == want


def test_times_are_iso_8601_device_time_as_printed(tmp_path: Path) -> None:
    path = tmp_path / "ios.log"
    path.write_text(IOS["log-syslog"])
    assert read_timeline(path).events[0].time == "2026-05-12T10:00:00.000000+02:00"
    path.write_text(STUDIO_2022)
    assert read_timeline(path).events[1].time == "2026-01-05T09:10:03.000"


def test_json_output_one_object_per_event(tmp_path: Path) -> None:
    path = tmp_path / "studio.txt"
    path.write_text(STUDIO_2022)
    result = runner.invoke(app, ["logs", "--json", str(path)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [set(r) for r in rows] == [{"time", "task", "ids", "event", "file", "line"}] * 2
    assert rows[1] == {"time": "2026-01-05T09:10:03.000", "task": "sync", "ids": [U, "sync", "0"],
                       "event": "succeeded", "file": str(path), "line": 2} or rows[1]["ids"][0] == U
    assert rows[0]["event"] == "enqueued" and rows[0]["task"] == "sync"  # named by the later line
    assert "format studio-2022 (android)" in result.stderr


def test_lines_without_a_header_are_counted_and_listed_with_verbose(tmp_path: Path) -> None:
    path = tmp_path / "brief.txt"
    path.write_text(f"D/WM-SystemJobScheduler( 1522): Scheduling work ID {U}Job ID 0\n\n"
                    "garbage that lost its header\nI/Other( 1522): x\n")
    plain = runner.invoke(app, ["logs", str(path)])
    assert plain.exit_code == 0
    assert "1 line without a header" in plain.stdout and "garbage" not in plain.stdout
    verbose = runner.invoke(app, ["logs", "--verbose", str(path)])
    assert "line 3: garbage that lost its header" in verbose.stdout


def test_a_device_file_is_refused_unread_and_a_pipe_is_read(tmp_path: Path) -> None:
    """`bgtest logs /dev/zero` read until the kernel killed it; a pipe (`<(adb logcat -d)`)
    ends, so it stays welcome."""
    result = runner.invoke(app, ["logs", "/dev/zero"])
    assert result.exit_code == 2 and "it is a character device" in result.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat > {fifo}"], stdin=subprocess.PIPE)
    assert writer.stdin is not None
    writer.stdin.write(STUDIO_LEGACY.encode())
    writer.stdin.close()
    result = runner.invoke(app, ["logs", str(fifo)])
    writer.wait(timeout=30)
    assert result.exit_code == 0 and "succeeded" in result.stdout


def test_a_file_in_no_known_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(STUDIO_LEGACY)
    bad = tmp_path / "notes.md"
    bad.write_text("# release notes\n\n* fixed a crash\n* faster sync\n")
    result = runner.invoke(app, ["logs", str(bad), str(good), str(tmp_path / "missing.log")])
    assert result.exit_code == 2
    errors = [x for x in result.stderr.splitlines() if x]
    assert len(errors) == 2
    assert errors[0].startswith(f"bgtest logs: {bad}: no line has a log header bgtest knows; tried ")
    assert "xcode-console" in errors[0] and "idevicesyslog" in errors[0]
    assert "missing.log: cannot read" in errors[1]
    assert "format studio-legacy" in result.stdout  # the good file is still read
    assert "Traceback" not in result.output


def test_an_unknown_library_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "good.txt"
    path.write_text(STUDIO_LEGACY)
    result = runner.invoke(app, ["logs", "--library", "workmanagr", str(path)])
    assert result.exit_code == 2
    assert "unknown library 'workmanagr' for android; known: androidx.work" in result.stderr


def test_short_lines_do_not_hide_the_next_line_from_the_column_scan(tmp_path: Path) -> None:
    """Android Studio's tag sits in a padded column the scan jumps to without looking for
    newlines: a line shorter than that column (a wrapped tail, a blank-ish line) must not
    carry the jump into the next line and hide it. The selective read equals the full one."""
    noise = f"2026-01-05 09:00:00.000  1522-1530  {'Noise':<23} {'com.example.wmplain':<36} D  tick"
    lines = [noise]
    for n in range(0, 45):
        lines += ["x" * n, STUDIO_2022.splitlines()[n % 2], noise]
    path = tmp_path / "studio.txt"
    path.write_text("\n".join(lines) + "\n")
    full = read_timeline(path, selective=False)
    assert full.capture.format == "studio-2022"
    assert [(e.task, e.event, e.line) for e in read_timeline(path).events] == \
        [(e.task, e.event, e.line) for e in full.events]
    assert len(full.events) >= 20


def test_an_empty_capture_and_a_mapped_one_read_alike(tmp_path: Path) -> None:
    """A non-empty file is read mapped (not copied); an empty one is refused as empty."""
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty capture"):
        read_timeline(empty)
    path = tmp_path / "studio.txt"
    path.write_text(STUDIO_2022)
    got = [(e.task, e.event) for e in read_timeline(path).events]
    assert got == [("sync", "enqueued"), ("sync", "succeeded")]


# -- the selective scan against the full read (issue 9: the scan was rewritten for speed) -----
_EVENTS = {  # tag -> a message the androidx.work vocabulary turns into an event
    "WM-WorkerWrapper": f"Worker result SUCCESS for Work [ id={U}, tags={{ sync }} ]",
    "WM-SystemJobScheduler": f"Scheduling work ID {U}Job ID 0",
    "WorkerWrapper": f"Worker result FAILURE for Work [ id={U}, tags={{ sync }} ]",
}
_TAGS = [*_EVENTS, "WM-Processor", "ActivityManager", "W", "WM-X", "Noise", "WorkerWrapperX"]


def _studio(tag: str, msg: str, pid: int, s: int) -> str:
    return f"2026-01-05 09:{s // 60:02d}:{s % 60:02d}.000 {f'{pid}-{pid + 1}':>11}  {tag:<23} " \
           f"{'com.example.wmplain':<36} I  {msg}"


def _brief(tag: str, msg: str, pid: int, _s: int) -> str:
    return f"I/{tag:<8}({pid:>5}): {msg}"


def _capture_lines(header: Callable[[str, str, int, int], str]) -> st.SearchStrategy[list[str]]:
    text = st.text(alphabet=" 0123456789-:./()WMIabc", max_size=60)
    headed = st.builds(lambda tag, event, msg, pid, s: header(tag, _EVENTS.get(tag, msg) if event else msg,
                                                               pid, s),
                       st.sampled_from(_TAGS), st.booleans(), text, st.integers(1, 9_999_999),
                       st.integers(0, 3599))
    short_head = st.builds(lambda n: "2026-01-05 09:00"[:n], st.integers(1, 16))
    return st.lists(st.one_of(headed, headed, headed, text, short_head, st.just("")), max_size=40)


@pytest.mark.parametrize("header", [_studio, _brief], ids=["studio-2022", "brief"])
@settings(max_examples=150)
@given(data=st.data())
def test_the_selective_scan_finds_every_event_the_full_read_finds(
        tmp_path_factory: pytest.TempPathFactory, header: Callable[[str, str, int, int], str],
        data: st.DataObject) -> None:
    """Headers of wanted and unwanted tags, pids wide enough to move the tag column, lines with
    no header (short ones that start like a header too), blank lines: reading only the lines
    the scan picks gives the same events, at the same lines, as reading every line."""
    lines = [header(tag, _EVENTS[tag], 1522, 0) for tag in _EVENTS] + data.draw(_capture_lines(header))
    path = tmp_path_factory.mktemp("scan") / "capture.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    full = read_timeline(path, selective=False)
    picked = read_timeline(path)
    assert picked.capture.format == full.capture.format
    assert [(e.task, e.event, e.line, e.time) for e in picked.events] == \
        [(e.task, e.event, e.line, e.time) for e in full.events]
    # and every record a vocabulary can read — a wanted tag's, with its continuation lines, or
    # a line with no header that stands alone — is read alike
    wanted = vocabulary_for_log(None, "android").tags
    kept = {(r.seq, r.message) for r in picked.capture.records}
    assert {(r.seq, r.message) for r in full.capture.records if r.tag in wanted or not r.tag} <= kept


@pytest.mark.parametrize(
    "line",
    ["05-12 10:00:00.123  1234  1250 I WM-WorkerWrapper: {msg}",
     "05-12 10:00:00.123 I/WM-WorkerWrapper( 1234): {msg}",
     "[ 05-12 10:00:00.123  1234: 1250 I/WM-WorkerWrapper ]\n{msg}\n"],
    ids=["threadtime", "time", "long"],
)
def test_a_year_less_capture_is_dated_no_later_than_the_file_was_saved(tmp_path: Path, line: str) -> None:
    """The year of `MM-DD` comes from the file's mtime: a May log saved in December is from
    that May, not the next (it was printed as 2027 on 2026-12-08)."""
    path = tmp_path / "may.log"
    msg = f"Worker result SUCCESS for Work [ id={U}, tags={{ nightly }} ]"
    path.write_text(line.format(msg=msg) + "\n")
    saved = 1_796_688_000  # 2026-12-08 00:00 UTC
    os.utime(path, (saved, saved))
    out = runner.invoke(app, ["logs", "--json", str(path)])
    assert json.loads(out.stdout.splitlines()[0])["time"] == "2026-05-12T10:00:00.123", out.output
