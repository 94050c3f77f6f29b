"""Wall time of ``bgtest run scenarios/``: this checkout against a baseline commit, in one run.

Run: ``.venv/bin/python bench/bench_wall.py [--baseline REV] [--rounds N] [--only TEXT]``.

Both trees run the same command on the embedded virtual devices — the baseline is the commit
``REV`` (default: the last one before issue 17's start-up and round-trip work) unpacked with
``git archive`` into a temporary folder and imported from there — alternately, ``--rounds``
times, so both see the same machine load; the medians are printed side by side with their
ratio and the issue's targets. This checkout runs twice per round: ``-n 0`` (one scenario after
another, as the baseline does) and as the user types it, where ``bgtest run`` splits a run on
its own virtual devices into lanes, one per idle core (run/lanes.py; on a loaded machine that is
one process, and both columns measure the same thing):

- the whole run of the scenarios both trees have (target <= 12 s on 2 cores, the default run),
- the first step line after the command started (target <= 1 s),
- each scenario's own wall time from results.json (Android <= 2 s, iOS <= 8 s each; read the
  ``-n 0`` column: two lanes on two cores slow each other's scenarios down, not the run).

Time on a shared machine is noisy: read the ratio, and the absolute figures only on an idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: main before issue 17's second round (reboot, iOS calls, start-up) — 2026-12-07
DEFAULT_BASELINE = "6e81ee6"
STEP_LINE = re.compile(r"device \+\S+\s*$")
TREE = ("harness", "scenarios", "fixtures", "pyproject.toml")
TARGETS = {"whole run": 12.0, "first step line": 1.0, "android": 2.0, "ios": 8.0}


@dataclass
class Figures:
    whole: float = 0.0
    first_step: float = 0.0
    exit_code: int = 0
    #: "file.yaml[platform]" -> seconds, as results.json has them
    scenarios: dict[str, float] = field(default_factory=dict)


def unpack(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (harness, scenarios, fixtures) in ``into``, without touching the checkout."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, *TREE],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "tree.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as archive:
        archive.extractall(into, filter="data")
    tar.unlink()
    return into


def run_once(tree: Path, paths: list[str], report: Path, extra: tuple[str, ...] = ()) -> Figures:
    """``bgtest run`` of ``tree``'s code on ``paths``; stdout read line by line as it comes.

    Compiled modules are as the environment has them: with ``PYTHONDONTWRITEBYTECODE`` set
    (as on this project's machines) each start compiles bgtest's own modules again, in both
    trees alike; without it the first round writes each tree's ``__pycache__``.
    """
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONUNBUFFERED="1", COLUMNS="100", NO_COLOR="1")
    env.pop("BGTEST_XCRUN", None)  # the embedded virtual iPhone, found next to this Python
    cli = "from harness.cli import main; main()"
    argv = [sys.executable, "-c", cli, "run", *paths, "--report", str(report), *extra]
    figures = Figures()
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for raw in proc.stdout:
        if not figures.first_step and STEP_LINE.search(raw.decode("utf-8", "replace")):
            figures.first_step = time.monotonic() - start
    figures.exit_code = proc.wait()
    figures.whole = time.monotonic() - start
    results = report / "results.json"
    if results.exists():
        for item in json.loads(results.read_text()):
            name = Path(item.get("file") or item.get("name", "?")).name
            figures.scenarios[f"{name}[{item.get('platform', '?')}]"] = float(item.get("wall_s") or 0.0)
    return figures


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each tree, alternating")
    parser.add_argument("--only", help="only scenario files whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-wall-") as tmp:
        base_tree = unpack(args.baseline, Path(tmp) / "baseline")
        # the scenarios both trees have (newer ones have no baseline to compare with)
        scenario_files = sorted(
            p.name for p in (ROOT / "scenarios").glob("*.yaml") if (base_tree / "scenarios" / p.name).exists()
        )
        if args.only:
            scenario_files = [name for name in scenario_files if args.only in name]
        paths = [f"scenarios/{name}" for name in scenario_files]
        runs: dict[str, list[Figures]] = {"baseline": [], "now -n 0": [], "now": []}
        trees = (("baseline", base_tree, ()), ("now -n 0", ROOT, ("-n", "0")), ("now", ROOT, ()))
        loads = [os.getloadavg()[0]]
        for round_no in range(args.rounds):
            for label, tree, extra in trees:
                report = Path(tmp) / f"report-{label.replace(' ', '')}-{round_no}"
                figures = run_once(tree, paths, report, extra)
                runs[label].append(figures)
                loads.append(os.getloadavg()[0])
                print(f"  round {round_no + 1} {label:8}: {figures.whole:6.2f} s (exit {figures.exit_code})",
                      flush=True)
    base, seq, now = runs["baseline"], runs["now -n 0"], runs["now"]

    def row(what: str, was: float, one: float, is_: float, target: float | None, judged: float) -> None:
        ratio = f"{was / is_:.2f}×" if is_ and was else "-"
        goal = f"<= {target:g} s {'ok' if judged <= target else 'OVER'}" if target is not None else ""
        print(f"{what:44} {was:8.2f} {one:8.2f} {is_:8.2f} {ratio:>7}   {goal}")

    def medians(get: Any) -> tuple[float, float, float]:
        return median([get(f) for f in base]), median([get(f) for f in seq]), median([get(f) for f in now])

    print(f"\nbaseline {args.baseline} vs this checkout, median of {args.rounds} round(s), load "
          f"{min(loads):.1f}-{max(loads):.1f} during the runs on {os.cpu_count()} cores")
    print(f"{'':44} {'baseline':>8} {'-n 0':>8} {'now':>8} {'ratio':>7}   target (now; a scenario: -n 0)")
    whole = medians(lambda f: f.whole)
    row("whole `bgtest run` (s)", *whole, TARGETS["whole run"] if not args.only else None, whole[2])
    first = medians(lambda f: f.first_step)
    row("first step line after start (s)", *first, TARGETS["first step line"], first[2])
    keys = sorted({k for f in now + seq for k in f.scenarios}, key=lambda k: ("[ios]" in k, k))
    for key in keys:
        platform = "ios" if key.endswith("[ios]") else "android"
        each = medians(lambda f, key=key: f.scenarios.get(key, 0.0))
        row(key, *each, TARGETS[platform], each[1])
    failed = [f.exit_code for f in seq + now if f.exit_code]
    if failed:
        print(f"\nthis checkout's run exited {failed[0]}: the figures are not comparable")


if __name__ == "__main__":
    main()
