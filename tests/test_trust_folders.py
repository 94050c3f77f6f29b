"""A scenario a folder holds is never left out for the case of its suffix (found from outside:
`scenarios/Upload.YAML` — an editor's or a Windows habit — was not validated and never ran, and
`bgtest run scenarios/` went green without it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.devices.adb_server import free_port
from harness.scenario.loader import load_paths

ROOT = Path(__file__).resolve().parents[1]


def test_a_folder_walk_takes_an_upper_case_suffix(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "Upload.YAML").write_text("name: upper case suffix\nsteps: [background]\n")
    (tmp_path / "scenarios" / "b.yml").write_text("name: yml suffix\nsteps: [background]\n")
    assert sorted(s.name for s in load_paths([tmp_path / "scenarios"]).scenarios) == [
        "upper case suffix", "yml suffix"]
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "scenarios", "-q", "--report", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout + proc.stderr
