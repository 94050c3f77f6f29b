"""``bgtest checklist`` on the virtual devices, both platforms: wall time against the target (< 60 s).

The baseline, measured in the same run, is the same checklist with ``--lanes 1``: its scenarios
one after another, as the checklist ran them before its lanes (lanes.py). The two alternate,
twice each after a warm-up, and the faster of each pair is compared (the machine is shared and
noisy). Where the time goes is printed too: each platform's scenarios, summed from the
checklist's results.json (the iOS ones are nearly all ``xcrun`` process start-ups).

    .venv/bin/python bench/bench_checklist.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0
ROUNDS = 2


def _timed(*args: str) -> tuple[float, int]:
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    return time.monotonic() - started, proc.returncode


def _by_platform(report: Path) -> str:
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    spent: dict[str, list[float]] = {}
    for r in results:
        spent.setdefault(r["platform"], []).append(r.get("wall_s") or 0.0)
    return ", ".join(f"{p} {len(w)} scenarios {sum(w):.1f} s" for p, w in sorted(spent.items()))


def main() -> None:
    load_before = os.getloadavg()[0]
    walls: dict[str, list[float]] = {"lanes": [], "one": []}
    codes: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-checklist-") as tmp:
        folder = Path(tmp) / "app"
        (folder / "fixtures").mkdir(parents=True)
        (folder / "fixtures" / "apps").symlink_to(ROOT / "fixtures" / "apps")
        checklist = folder / "checklist.yaml"
        checklist.write_text((ROOT / "harness" / "checklist" / "starter.yaml").read_text(encoding="utf-8"))
        report = Path(tmp) / "report"
        _timed("checklist", str(checklist), "--report", str(report))  # writes the scenarios; warms caches
        scenarios = len(list((report / "checklist").glob("*.yaml")))
        for n in range(ROUNDS):
            for kind, extra in (("one", ["--lanes", "1"]), ("lanes", [])):
                out = Path(tmp) / f"{kind}{n}"
                wall, code = _timed("checklist", str(checklist), "--report", str(out), *extra)
                walls[kind].append(wall)
                codes.add(code)
        where = _by_platform(Path(tmp) / "lanes0")
    load_after = os.getloadavg()[0]
    best, base = min(walls["lanes"]), min(walls["one"])
    shown = {k: " / ".join(f"{w:.1f}" for w in v) for k, v in walls.items()}
    print(f"bgtest checklist, android + ios, {scenarios} scenarios, in lanes: {best:.1f} s "
          f"(runs {shown['lanes']} s; exit {sorted(codes)})")  # fmt: skip
    print(f"baseline, the same with --lanes 1 (one after another): {base:.1f} s (runs {shown['one']} s)")
    print(f"ratio lanes / one after another: {best / base:.2f}x")
    print(f"scenario wall time inside the checklist: {where}")
    print(f"target < {TARGET_S:.0f} s: {'met' if best < TARGET_S else 'NOT met'} "
          f"({os.cpu_count()} cores, load average {load_before:.1f} -> {load_after:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
