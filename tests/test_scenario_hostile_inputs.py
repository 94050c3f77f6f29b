"""Hostile and clumsy inputs to the scenario language: special files, sizes, unbounded values.

Each test is an attack that used to hang bgtest, exhaust its memory or end in "internal
error": a FIFO or /dev/zero given as a scenario or an include, files larger than the limit,
infinite and 5000-digit numbers, year-long waits and artifact names that leave the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.durations import MAX_DURATION_MS, DurationError, parse_duration_ms
from harness.report.paths import UnsafeArtifactPath, inside, is_safe_name, safe_name
from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_paths, load_text
from harness.scenario.yamlmarks import MAX_BYTES
from harness.userfiles import UnreadableFile, read_bounded

BASE = "name: t\napp: {package: com.example.app, library: androidx.work}\n"


def _bgtest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: a hang fails the test instead of the suite."""
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_on_a_fifo_refuses_it_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    done = _bgtest("validate", "pipe.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "pipe.yaml:1:1: cannot read scenario file: it is a named pipe (FIFO)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_run_on_a_fifo_is_invalid_input_and_touches_no_device(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    done = _bgtest("run", "--no-embedded", "pipe.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "named pipe (FIFO)" in done.stdout and "nothing was run" in done.stderr


def test_a_symlink_to_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    result = load_paths([tmp_path / "zero.yaml"])
    (diag,) = result.diagnostics
    assert "is a character device (a symbolic link to /dev/zero)" in diag.message


def test_includes_of_special_files_are_refused_where_they_are_written(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "null.yaml").symlink_to("/dev/null")
    text = BASE + "steps:\n  - include: /dev/zero\n  - include: pipe.yaml\n  - include: null.yaml\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, "s.yaml", base_dir=tmp_path)
    found = [(d.line, d.col, d.message) for d in info.value.diagnostics]
    assert [(line, col) for line, col, _ in found] == [(4, 14), (5, 14), (6, 14)]
    assert "/dev/zero: it is a character device" in found[0][2]
    assert "pipe.yaml: it is a named pipe (FIFO)" in found[1][2]
    assert "a symbolic link to /dev/null" in found[2][2]


def test_a_huge_file_is_refused_by_its_size_before_any_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(64 * 1024**3)  # sparse: 64 GiB that a read would try to allocate
    (diag,) = load_paths([huge]).diagnostics
    assert f"it is too large (68,719,476,736 bytes; the limit is {MAX_BYTES:,})" in diag.message
    assert diag.hint is not None and "check the path" not in diag.hint and "split" in diag.hint


def test_only_a_missing_file_is_told_to_check_its_path(tmp_path: Path) -> None:
    (diag,) = load_paths([tmp_path / "nope.yaml"]).diagnostics
    assert diag.hint is not None and diag.hint.startswith("check the path")


@pytest.mark.parametrize(
    ("text", "opened"),
    [
        ("steps:\n  - doze: [deep\n", "the '[' list that begins at line 3, column 11 is not closed"),
        ("steps:\n  - launch: {deep_link: x\n  - wait: 1\n", "the '{' mapping that begins at line 3"),
        ('steps:\n  - expect: {task: "a, state: ok}\n', "the quoted text that begins at line 3, column 20"),
    ],
)
def test_an_unclosed_bracket_or_quote_is_shown_where_it_opened(text: str, opened: str) -> None:
    """PyYAML finds the missing ']' only at the next line or the end of the file: the hint
    names the line the mistake is on."""
    with pytest.raises(ScenarioError) as caught:
        load_text("name: t\n" + text, "s.yaml")
    (diag,) = caught.value.diagnostics
    assert diag.message.startswith("YAML syntax error")
    assert diag.hint is not None and opened in diag.hint


def test_a_file_that_reports_no_size_is_still_read_no_further_than_the_limit() -> None:
    status = Path("/proc/self/status")  # size 0 in stat, a kilobyte or so when read
    with pytest.raises(UnreadableFile, match="grew past the limit of 16 bytes"):
        read_bounded(status, 16)
    assert read_bounded(status, 1 << 20).startswith(b"Name:")


def test_a_missing_file_says_so() -> None:
    with pytest.raises(UnreadableFile, match="No such file or directory"):
        read_bounded("/nonexistent/bgtest.yaml", 10)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "duration too long: infinity"),
        ("1e400", "duration too long: infinity"),
        ("-.inf", "a duration cannot be negative"),
        (".nan", "not a duration: .nan"),
        ("400d", "duration too long: '400d'"),
        ('"1' + "0" * 70 + 's"', "not a duration: 72 characters long"),
        ("9" * 5000, "a number of 5000 characters"),
    ],
)
def test_unbounded_durations_are_messages_at_the_value(value: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(BASE + f"steps:\n  - wait: {value}\n", "w.yaml")
    (diag,) = info.value.diagnostics
    assert message in diag.message and (diag.line, diag.col) == (4, 11)


def test_a_long_wait_needs_max_wait_which_is_itself_bounded() -> None:
    with pytest.raises(ScenarioError, match="longer than this scenario's longest wait"):
        load_text(BASE + "steps:\n  - wait: 31d\n", "w.yaml")
    (s,) = load_text(BASE + "max_wait: 60d\nsteps:\n  - wait: 31d\n", "w.yaml")
    assert s.steps[0].duration == 31 * 86_400_000
    with pytest.raises(ScenarioError, match="duration too long"):
        load_text(BASE + "max_wait: 400d\nsteps:\n  - wait: 31d\n", "w.yaml")


def test_max_wait_is_inherited_from_defaults(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    expect = "steps:\n  - expect: {task: a, state: enqueued, within: 35d}\n"
    f.write_text("defaults: {max_wait: 40d}\n---\n" + BASE + expect)
    assert load_paths([f]).ok


@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_parse_duration_gives_a_bounded_int_or_a_duration_error(value: object) -> None:
    try:
        ms = parse_duration_ms(value)  # type: ignore[arg-type]
    except DurationError:
        return
    assert isinstance(ms, int) and 0 <= ms <= MAX_DURATION_MS


@given(st.text(max_size=200))
def test_any_artifact_name_is_confined_to_its_folder(name: str) -> None:
    cleaned = safe_name(name)
    assert is_safe_name(cleaned) and "/" not in cleaned and not cleaned.startswith(".")
    assert ".." not in cleaned and len(cleaned) <= 100


def test_an_accented_artifact_name_is_suggested_without_its_accents() -> None:
    assert safe_name("ünïcode résumé.png") == "unicode-resume.png"
    assert safe_name("🚀.png") == "png"  # nothing foldable: never an empty or hidden name


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "a/../../b", "..", ".hidden", "a\x00b", "a\\b"])
def test_escaping_artifact_names_are_written_inside(tmp_path: Path, name: str) -> None:
    report = tmp_path / "report"
    report.mkdir()
    path = inside(report, name)
    assert path.parent == report and not is_safe_name(name)


def test_a_symlink_planted_in_the_report_folder_is_not_followed_out(tmp_path: Path) -> None:
    report = tmp_path / "report"
    report.mkdir()
    (report / "journal.txt").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(UnsafeArtifactPath):
        inside(report, "journal.txt")


@pytest.mark.parametrize(
    ("step", "col"),
    [
        ("server: {host: a.b, respnd: [503]}", 25),
        ("server: [{host: a.b, respond: [503]}, {host: a.b, respnd: [1]}]", 55),
    ],
)
def test_a_typo_in_a_server_rule_is_shown_at_its_key_in_server(step: str, col: int) -> None:
    """The model wraps the step's value (`server.rules[0]`); the message names what was written."""
    with pytest.raises(ScenarioError) as caught:
        load_text(BASE + f"steps:\n  - {step}\n", "s.yaml")
    (diag,) = caught.value.diagnostics
    assert diag.message == "unknown field 'respnd' in server"
    assert (diag.line, diag.col) == (4, col)
