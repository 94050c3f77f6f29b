"""The real ``bgtest run`` in an 80-column tmux pane, as a newcomer sees it.

No table wraps (``capture-pane -J`` joins what the terminal wrapped, so a line longer than the
pane would show), nothing of pytest's progress output leaks, and the status line is on the
screen before the first scenario's result.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 80

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture()
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    """A private tmux server (its own socket): never the user's."""
    base = ["tmux", "-L", f"bgtest-{os.getpid()}", "-f", "/dev/null"]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True)


def _screen(tmux: list[str]) -> list[str]:
    out = subprocess.run([*tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", "run"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rstrip() for line in out.splitlines()]


def test_bgtest_run_in_80_columns(tmux: list[str], tmp_path: Path) -> None:
    done, stream = tmp_path / "exit-status", tmp_path / "stream"
    command = (
        f"cd {shlex.quote(str(ROOT))} && ANDROID_ADB_SERVER_PORT={free_port()} "
        f"{shlex.quote(sys.executable)} -m harness.cli run scenarios/ --platform android "
        f"--report {shlex.quote(str(tmp_path / 'report'))}; echo $? > {shlex.quote(str(done))}; "
        f"{shlex.join(tmux)} wait-for -S finished; sleep 600"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "TMUX")}
    # the pane waits for a key before running, so pipe-pane records the stream from its start
    subprocess.run([*tmux, "new-session", "-d", "-s", "run", "-x", str(WIDTH), "-y", "40",
                    "bash", "--norc", "-c", "read -r _; " + command], check=True, env=env)
    subprocess.run([*tmux, "pipe-pane", "-t", "run", f"cat > {shlex.quote(str(stream))}"], check=True)
    subprocess.run([*tmux, "send-keys", "-t", "run", "Enter"], check=True)
    subprocess.run([*tmux, "wait-for", "finished"], check=True, timeout=900)
    lines = _screen(tmux)
    screen = "\n".join(lines)
    assert done.read_text().strip() == "0", screen
    raw = stream.read_text(errors="replace")
    spinner = min((raw.find(c) for c in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" if c in raw), default=-1)
    assert 0 <= spinner < raw.find("✓"), "the status line comes first"
    android = [p for p in (ROOT / "scenarios").glob("*.yaml") if not p.name.startswith("ios_")]
    assert f"{len(android)} passed in" in screen and "summary" in screen
    too_long = [line for line in lines if len(line) > WIDTH]
    assert not too_long, screen
    leftovers = [line for line in lines if line.strip() in (".", "F", "s") or "[100%]" in line
                 or ("PASSED" in line and not line.startswith("PASSED"))]
    assert not leftovers, screen
    assert "[REDACTED]" not in screen  # nothing of an ordinary run is a secret
    for python_repr in ("=True", "=>=", "[{'", "\\\\."):
        assert python_repr not in screen
