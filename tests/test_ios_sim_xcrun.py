"""The xcrun stand-in as a real subprocess: output formats, exit codes, bad input (research ios.md §1, §2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sim.ios.predicate import PredicateError, compile_predicate

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_demo.yaml"
BID = "dev.brewkits.nwmDemo"


def xcrun(home: Path, *argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BGTEST_SIM_HOME": str(home), "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "harness.sim.ios.xcrun", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("iosim")


def test_list_json_is_simctl_shaped(home: Path) -> None:
    r = xcrun(home, "simctl", "list", "-j", "devices")
    assert r.returncode == 0
    assert '"devices" : {' in r.stdout and "\\/" in r.stdout  # " : " and escaped slashes
    devices = json.loads(r.stdout)["devices"]["com.apple.CoreSimulator.SimRuntime.iOS-17-2"]
    booted = [d for d in devices if d["state"] == "Booted"]
    assert booted and set(booted[0]) >= {
        "udid",
        "name",
        "state",
        "isAvailable",
        "deviceTypeIdentifier",
        "dataPath",
        "logPath",
    }
    text = xcrun(home, "simctl", "list", "devices").stdout.splitlines()
    assert text[:2] == ["== Devices ==", "-- iOS 17.2 --"]
    assert text[2].startswith("    iPhone 15 (") and "(Booted)" in text[2]


def test_app_lifecycle_and_errors(home: Path) -> None:
    assert xcrun(home, "simctl", "install", "booted", str(APP)).returncode == 0
    r = xcrun(home, "simctl", "launch", "--terminate-running-process", "booted", BID)
    assert r.returncode == 0
    name, pid = r.stdout.strip().split(": ")
    assert name == BID and pid.isdigit()
    assert xcrun(home, "simctl", "terminate", "booted", BID).returncode == 0
    r = xcrun(home, "simctl", "terminate", "booted", BID)
    assert r.returncode == 3
    assert r.stderr.endswith("found nothing to terminate\n")
    assert "(domain=NSPOSIXErrorDomain, code=3)" in r.stderr
    r = xcrun(home, "simctl", "launch", "booted", "com.example.nope")
    assert r.returncode == 4 and 'The request to open "com.example.nope" failed.' in r.stderr
    r = xcrun(home, "simctl", "shutdown", "00000000-0000-0000-0000-000000000000")
    assert (r.returncode, r.stderr) == (148, "Invalid device: 00000000-0000-0000-0000-000000000000\n")
    r = xcrun(home, "simctl", "nosuchsub")
    assert (r.returncode, r.stderr) == (1, "Unrecognized subcommand: nosuchsub\n")
    r = xcrun(home, "nosuchtool")
    assert r.returncode == 72
    r = xcrun(home, "simctl", "listapps", "booted")
    assert (
        r.stdout.startswith("{\n")
        and f'"{BID}" =     {{' in r.stdout
        and "ApplicationType = User;" in r.stdout
    )


def test_log_show_ndjson_and_predicates(home: Path) -> None:
    xcrun(home, "simctl", "install", "booted", str(APP))  # on its own: xdist may run it on another worker
    xcrun(home, "simctl", "launch", "booted", BID)
    xcrun(home, "simctl", "openurl", "booted", "nwmdemo://enqueue/periodic-sync")
    r = xcrun(
        home,
        "simctl",
        "spawn",
        "booted",
        "log",
        "show",
        "--style",
        "ndjson",
        "--predicate",
        'subsystem == "com.apple.BackgroundTasks" AND eventMessage CONTAINS "submitTaskRequest"',
    )
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Skipping info and debug messages")
    assert lines[1].startswith("Filtering the log data using ")
    objs = [json.loads(x) for x in lines[2:]]
    assert objs[-1] == {"count": len(objs) - 1, "finished": 1}
    assert objs[0]["eventMessage"].startswith("submitTaskRequest: <BGAppRefreshTaskRequest: ")
    assert "process" not in objs[0] and objs[0]["processImagePath"].endswith("/Runner.app/Runner")
    r = xcrun(home, "simctl", "spawn", "booted", "log", "stream", "--predicate", 'subsystem == "x')
    assert r.returncode == 64
    reason = 'Unable to parse the format string "subsystem == "x"'
    assert r.stderr == f'log: Bad predicate ({reason}): subsystem == "x\n'


def test_log_stream_banner_then_ndjson(home: Path) -> None:
    r = xcrun(
        home,
        "simctl",
        "spawn",
        "booted",
        "log",
        "stream",
        "--style",
        "ndjson",
        "--predicate",
        'process == "Runner"',
        "--timeout",
        "200ms",
    )
    assert r.returncode == 0
    assert r.stdout == 'Filtering the log data using "process == "Runner""\n'


def test_clock_vendor_command(home: Path) -> None:
    r = xcrun(home, "simctl", "bgtest", "clock")
    now, mode = r.stdout.split()
    assert mode == "manual"
    r = xcrun(home, "simctl", "bgtest", "clock", "advance", "6h")
    assert r.stdout.startswith(f"advanced 6h to {int(now) + 6 * 3_600_000},")
    assert xcrun(home, "simctl", "bgtest", "clock", "advance", "soon").returncode == 64


def test_vendor_state_and_marks_answer_in_one_call(home: Path) -> None:
    """Issue 17: the state document carries what a real Mac needs separate calls for, and
    ``--mark`` leaves the line ``spawn … logger -t bgtest`` would."""
    listed = xcrun(home, "simctl", "list", "-j", "devices").stdout
    entry = json.loads(listed)["devices"]["com.apple.CoreSimulator.SimRuntime.iOS-17-2"][0]
    udid = entry["udid"]
    xcrun(home, "simctl", "status_bar", udid, "override", "--time", "9:41")
    doc = json.loads(xcrun(home, "simctl", "bgtest", "state", udid, "--mark", "bgtest-x1").stdout)
    assert doc["status_bar"] + "\n" == xcrun(home, "simctl", "status_bar", udid, "list").stdout
    assert doc["clock"] == xcrun(home, "simctl", "bgtest", "clock", udid).stdout.strip()
    assert (doc["name"], doc["state"], doc["device_type"]) == (
        entry["name"], entry["state"], entry["deviceTypeIdentifier"]
    )
    advance = ["simctl", "bgtest", "clock", udid, "advance", "1h", "--until-output"]
    r = xcrun(home, *advance, "1m", "--mark", "bgtest-x2")
    assert r.returncode == 0 and r.stdout.startswith("advanced ")
    shown = xcrun(home, "simctl", "spawn", udid, "log", "show", "--style", "ndjson", "--predicate",
                  'process == "logger"').stdout
    lines = [json.loads(line) for line in shown.splitlines() if line.startswith("{") and "bgtest-x" in line]
    assert [rec["eventMessage"] for rec in lines] == ["bgtest-x1", "bgtest-x2"]
    assert xcrun(home, *advance, "0ms").returncode == 64
    assert xcrun(home, "simctl", "bgtest", "state", udid, "--mark").returncode == 64


_KEYS = st.sampled_from(["subsystem", "category", "process", "eventMessage", "processImagePath"])
_OPS = st.sampled_from(["==", "!=", "CONTAINS", "BEGINSWITH", "ENDSWITH", "CONTAINS[c]", "LIKE"])
_VALS = st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_KEYS, _OPS, _VALS), min_size=1, max_size=4),
    st.sampled_from([" AND ", " OR ", " && "]),
)
def test_predicates_compile_and_evaluate(parts: list[tuple[str, str, str]], glue: str) -> None:
    text = glue.join(f'({k} {op} "{v}")' for k, op, v in parts)
    pred = compile_predicate(text)
    rec = {"path": "/x/Runner.app/Runner", "msg": "hello", "subsystem": "com.x", "category": "c"}
    assert pred(rec) in (True, False)


@given(st.text(max_size=20))
def test_bad_predicates_raise_predicate_error_only(text: str) -> None:
    try:
        compile_predicate(text)
    except PredicateError:
        pass


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=80, deadline=None)
@given(
    msg=_TEXT,
    sub=st.sampled_from(["", "com.apple.BackgroundTasks", "dev.fluttercommunity.workmanager"]),
    cat=st.sampled_from(["", "Framework", "debug"]),
    kind=st.sampled_from(["Default", "Info", "Debug", "Error", "Fault"]),
    ms=st.integers(min_value=1_700_000_000_000, max_value=1_900_000_000_000),
    seq=st.integers(min_value=0, max_value=10**6),
)
def test_ndjson_lines_read_back_through_the_harness_parser(
    msg: str, sub: str, cat: str, kind: str, ms: int, seq: int
) -> None:
    from harness.logs.oslog_parser import OslogParser
    from harness.sim.ios.oslog import ndjson_line

    rec = {"seq": seq, "t": float(ms), "pid": 41003, "tid": 7, "path": "/d/Runner.app/Runner", "msg": msg,
           "type": kind, "subsystem": sub, "category": cat}
    parser = OslogParser()
    [out] = parser.feed('Filtering the log data using "x"\n' + ndjson_line(rec) + "\n")
    assert (out.message, out.subsystem, out.category, out.level) == (msg, sub, cat, kind)
    assert (out.process, out.pid, out.time_ns) == ("Runner", 41003, ms * 1_000_000)
