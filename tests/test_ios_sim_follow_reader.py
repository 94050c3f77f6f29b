"""A following command of the xcrun stand-in ends once nobody reads it.

``log stream`` and ``launch --console-pty`` keep running; a real ``log stream`` dies of SIGPIPE
at its next line once its reader is gone. With nothing to write the stand-in's followers would
look at the home every 10 ms for ever — after a SIGKILLed bgtest, orphans that never end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_demo.yaml"
BID = "dev.brewkits.nwmDemo"


def _popen(home: Path, *argv: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BGTEST_SIM_HOME": str(home), "TZ": "UTC"}
    return subprocess.Popen(
        [sys.executable, "-m", "harness.sim.ios.xcrun", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def _run(home: Path, *argv: str) -> str:
    env = {**os.environ, "BGTEST_SIM_HOME": str(home), "TZ": "UTC"}
    done = subprocess.run(
        [sys.executable, "-m", "harness.sim.ios.xcrun", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _ends_when_its_reader_closes(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    try:
        proc.stdout.close()  # the reader is gone, as when bgtest is killed
        assert proc.wait(timeout=60) == 0  # a hang guard, not a timing
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    _run(tmp_path, "simctl", "list", "devices")
    return tmp_path


def test_log_stream_ends_when_its_reader_is_gone(home: Path) -> None:
    proc = _popen(home, "simctl", "spawn", "booted", "log", "stream")
    assert proc.stdout is not None
    assert proc.stdout.readline()  # the banner: it is streaming, with nothing more to write
    _ends_when_its_reader_closes(proc)


def test_console_pty_ends_when_its_reader_is_gone(home: Path) -> None:
    _run(home, "simctl", "install", "booted", str(APP))
    proc = _popen(home, "simctl", "launch", "--console-pty", "booted", BID)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(BID.encode())  # launched; the app keeps running
    _ends_when_its_reader_closes(proc)
