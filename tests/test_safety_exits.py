"""Exit codes (issue #11, points 2 and 9): every bad input a message and its code, no traceback.

README "Exit codes": 0 passed, 1 a scenario failed, 2 invalid input, 3 device or
infrastructure error, 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest
from safety_util import run, start


def _scenario(folder: Path, body: str = "  - shell: [echo, hi]\n") -> Path:
    path = folder / "scenarios" / "s.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("name: s\nsteps:\n" + body)
    return path


def _clean(proc: object) -> str:
    text = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in text and "INTERNALERROR" not in text
    return text


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("  - wait: .inf\n", "duration too long: infinity"),
        ("  - expect: {task: a, state: succeeded, within: 1e400}\n", "duration too long"),
        (
            '  - expect: {task: a, state: succeeded, count: ">= ' + "9" * 5000 + '"}\n',
            "not a count expression",
        ),
        ("  - wait: 10000000d\n", "3:11"),
    ],
)
def test_unbounded_values_are_invalid_input(tmp_path: Path, step: str, message: str) -> None:
    proc = run("run", str(_scenario(tmp_path, step)), "--no-embedded")
    assert proc.returncode == 2
    assert message in _clean(proc)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "{file}"], "that is a file; --report names a folder"),
        (["--report", "{file}/sub"], "is a file, so no folder can be made there"),
        (["--junit", "{file}/j.xml"], "is a file, so j.xml cannot be written below it"),
        (["--junit", "{dir}"], "that is a folder"),
        (["--platform", "nonsense"], "'nonsense' is not one of 'android', 'ios'"),
        (["-n", "-1"], "-n -1: the number of parallel workers is 0 (one process) or more"),
        (["--redact", "(unclosed"], "--redact '(unclosed': not a valid regular expression"),
    ],
)
def test_bad_options_are_invalid_input_before_anything_runs(
    tmp_path: Path, args: list[str], message: str
) -> None:
    afile = tmp_path / "a-file"
    afile.write_text("x")
    filled = [a.format(file=afile, dir=tmp_path) for a in args]
    proc = run("run", str(_scenario(tmp_path)), *filled)
    assert proc.returncode == 2
    assert message in _clean(proc)
    assert "started a virtual one" not in proc.stdout


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_at_start_up_is_an_exit_code_not_a_traceback(tmp_path: Path, sig: int, code: int) -> None:
    """bgtest is stopped while it asks the adb server for devices (the test's socket, which
    answers nothing): the signal lands exactly there."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        proc = start("run", str(_scenario(tmp_path)), "--adb-server", f"127.0.0.1:{port}")
        conn, _ = listener.accept()  # bgtest is waiting for the server's answer now
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        conn.close()
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err and "interrupted" in (out + err).lower()
