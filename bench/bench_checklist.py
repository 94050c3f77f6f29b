"""``bgtest checklist`` on the virtual devices, both platforms: wall time against the target (< 60 s).

The baseline, measured in the same run, is ``bgtest run`` of the very scenarios the checklist
wrote (DIR/checklist/), timed between a warm-up checklist run and the timed one: the ratio is
what judging the items, measuring the six metrics and writing checklist.json and the report
cost on top of running the scenarios.

    .venv/bin/python bench/bench_checklist.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0


def _timed(*args: str) -> tuple[float, int]:
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    return time.monotonic() - started, proc.returncode


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-checklist-") as tmp:
        folder = Path(tmp) / "app"
        (folder / "fixtures").mkdir(parents=True)
        (folder / "fixtures" / "apps").symlink_to(ROOT / "fixtures" / "apps")
        checklist = folder / "checklist.yaml"
        checklist.write_text((ROOT / "harness" / "checklist" / "starter.yaml").read_text(encoding="utf-8"))
        report = Path(tmp) / "report"
        _timed("checklist", str(checklist), "--report", str(report))  # writes the scenarios; warms caches
        scenarios = sorted((report / "checklist").glob("*.yaml"))
        base, base_code = _timed("run", str(report / "checklist"), "--report", str(Path(tmp) / "base"), "-q")
        wall, code = _timed("checklist", str(checklist), "--report", str(Path(tmp) / "again"))
    print(f"bgtest checklist, android + ios, {len(scenarios)} scenarios: {wall:.1f} s (exit {code})")
    print(f"baseline bgtest run of the same scenarios:       {base:.1f} s (exit {base_code})")
    print(f"ratio checklist / run: {wall / base:.2f}x")
    print(f"target < {TARGET_S:.0f} s: {'met' if wall < TARGET_S else 'NOT met'} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
