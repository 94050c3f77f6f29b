"""What metric sampling costs a scenario: the same scenario with and without ``metric:`` steps.

Run: ``.venv/bin/python bench/bench_metrics.py [--rounds 3]``.

Both scenarios run on the embedded virtual Android device through ``bgtest run`` (the real adb
server and the real runner): unplug, enqueue native_workmanager's three-step chain from the app
and leave it (HOME: the screen's drain is not the app's), wait for its
last step, and — in the measured variant — a ``metric:`` step reading memory, battery and queue
(``dumpsys procstats`` / ``meminfo`` / ``batterystats`` / ``jobscheduler`` plus the resets when
the scenario starts). Printed, best of ``--rounds`` each, alternating: wall time of the run, adb
round trips of the whole scenario (from ``results.json``) and of the metric step, and the
ratios with/without. Target: the metrics add less than 25 % wall time to a scenario this short.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BGTEST = Path(sys.executable).with_name("bgtest")

PLAIN = """
name: chain download
platforms: [android]
app: {model: nwm_demo}
steps:
  - battery: unplugged
  - launch: {deep_link: "nwmdemo://enqueue/chain-download"}
  - background
  - expect: {task: chain-upload, state: succeeded, within: 10m}
"""
METRICS = PLAIN.replace("name: chain download", "name: chain download with metrics") + """\
  - metric: {memory: "<= 200MB", battery: "< 50%/day", queue: "< 10"}
"""


def run_once(scenario: Path, report: Path) -> tuple[float, int, int]:
    """(wall seconds, adb round trips of the scenario, of its metric steps)."""
    start = time.perf_counter()
    done = subprocess.run([str(BGTEST), "run", "-q", "--no-color", "--report", str(report), str(scenario)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{scenario.name}: bgtest run exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    results = json.loads((report / "results.json").read_text())
    scenarios = results["scenarios"] if isinstance(results, dict) else results
    total = metric = 0
    for result in scenarios:
        for step in result.get("steps", []):
            trips = sum(step.get("round_trips", {}).values())
            total += trips
            if step.get("kind") == "metric":
                metric += trips
    return wall, total, metric


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-metrics-") as tmp:
        folder = Path(tmp)
        plain, measured = folder / "plain.yaml", folder / "metrics.yaml"
        plain.write_text(PLAIN)
        measured.write_text(METRICS)
        best: dict[str, tuple[float, int, int]] = {}
        for n in range(args.rounds):
            for name, path in (("plain", plain), ("metrics", measured)):
                reading = run_once(path, folder / f"report-{name}-{n}")
                if name not in best or reading[0] < best[name][0]:
                    best[name] = reading
    (wall0, trips0, _), (wall1, trips1, metric_trips) = best["plain"], best["metrics"]
    print(f"{'scenario':<28}{'wall s':>10}{'adb round trips':>18}")
    print(f"{'without metrics':<28}{wall0:>10.2f}{trips0:>18}")
    print(f"{'with a metric step (3)':<28}{wall1:>10.2f}{trips1:>18}")
    print(f"metric step alone: {metric_trips} round trips")
    print(f"ratio with/without: wall {wall1 / wall0:.2f}x, round trips {trips1 / max(trips0, 1):.2f}x "
          f"(target: wall < 1.25x)")


if __name__ == "__main__":
    main()
