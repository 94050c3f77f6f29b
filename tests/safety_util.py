"""Helpers for the safety attacks: run bgtest as a real subprocess and meet it at known points.

No sleeps: a test learns that bgtest reached a point from something bgtest itself does — a log
line the scenario writes (read with a blocking ``adb logcat``), a connection to a socket the
test holds — and only then sends its signal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from harness.devices.adb_server import AdbServer, free_port

ROOT = Path(__file__).resolve().parents[1]
BGTEST = [sys.executable, "-m", "harness.cli"]


def env(**extra: str) -> dict[str, str]:
    """The test's environment with no adb server where bgtest looks first (never the user's 5037)."""
    out = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    out.update(extra)
    return out


def start(*args: str, cwd: Path = ROOT, environ: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BGTEST, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        env=environ or env(),
    )


def run(
    *args: str, cwd: Path = ROOT, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BGTEST, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ or env(),
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


def sync_tag() -> str:
    return f"SYNC{uuid.uuid4().hex[:10]}"


def wait_for_log(server: AdbServer, serial: str, tag: str, timeout: float = 120) -> str:
    """Block until the device logs a line with ``tag`` (a blocking ``adb logcat``, no polling)."""
    proc = subprocess.Popen(
        [server.binary, "-P", str(server.port), "-s", serial, "logcat", "-v", "brief", "-s", f"{tag}:*"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=server.env,
    )
    timer = threading.Timer(timeout, proc.kill)  # a guard against a hang, not a wait
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if tag in line:
                return line
        raise AssertionError(f"logcat ended before {tag}")
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()
