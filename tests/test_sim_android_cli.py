"""``bgtest sim android`` as the README uses it: demo apps installed, scenarios run against it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sim(adb_server: AdbServer) -> Iterator[str]:
    """A `bgtest sim android` process on the session's private adb server; yields its serial."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "android", "-P", str(adb_server.port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    serial = proc.stdout.readline().split("\t")[0]
    try:
        assert serial.startswith("127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else serial
        yield serial
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_the_demo_apps_are_installed_by_default(sim: str, adb_server: AdbServer) -> None:
    packages = adb_server.adb("-s", sim, "shell", "pm", "list", "packages").stdout
    assert "package:dev.brewkits.nwm_demo" in packages and "package:com.example.wmplain" in packages


def test_the_readme_install_line_works_as_written(sim: str, adb_server: AdbServer) -> None:
    """README: `adb push MODEL.yaml /data/local/tmp/ && adb shell pm install /data/local/tmp/MODEL.yaml`."""
    adb_server.adb("-s", sim, "shell", "pm", "uninstall", "com.example.wmplain")
    adb_server.adb("-s", sim, "push", "fixtures/apps/wm_plain.yaml", "/data/local/tmp/")
    out = adb_server.adb("-s", sim, "shell", "pm", "install", "/data/local/tmp/wm_plain.yaml").stdout
    assert out.strip() == "Success"
    assert "com.example.wmplain" in adb_server.adb("-s", sim, "shell", "pm", "list", "packages").stdout


def test_bundled_scenarios_run_against_it_in_virtual_time(
    sim: str, adb_server: AdbServer, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "scenarios/doze_periodic_sync.yaml", "--device", sim,
         "--adb-server", f"127.0.0.1:{adb_server.port}", "--report", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, COLUMNS="120"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed in" in proc.stdout and "device +6h" in proc.stdout  # six device hours, advanced
