"""Wall time of ``bgtest run scenarios/``: this checkout against a baseline commit, in one run.

Run: ``.venv/bin/python bench/bench_wall.py [--baseline REV] [--rounds N] [--only TEXT] [--cached-bytecode]``
(``--cached-bytecode``: compiled modules kept between runs, as Python does by default; without
it, as the environment says — this project's machines set ``PYTHONDONTWRITEBYTECODE``).

Both trees run the same command on the embedded virtual devices — the baseline is the commit
``REV`` (default: the last one before issue 17's start-up and round-trip work) unpacked with
``git archive`` into a temporary folder and imported from there — alternately, ``--rounds``
times, so both see the same machine load; the medians are printed side by side with their
ratio and the issue's targets. This checkout runs three times per round: ``-n 0`` (one scenario
after another, as the baseline does), ``-n 2`` (two lanes, run/lanes.py) and as the user types
it ("now", the ratio's column), where ``bgtest run`` picks lanes on its own virtual devices, one
per idle core (on a loaded machine one process: the table says which it picked):

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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline import unpack  # noqa: E402

#: main before issue 17's second round (reboot, iOS calls, start-up) — 2026-12-07
DEFAULT_BASELINE = "6e81ee6"
STEP_LINE = re.compile(r"device \+\S+\s*$")
LANES = re.compile(r"bgtest: (\d+) lanes")
TREE = ("harness", "scenarios", "fixtures", "pyproject.toml")
TARGETS = {"whole run": 12.0, "first step line": 1.0, "android": 2.0, "ios": 8.0}


@dataclass
class Figures:
    whole: float = 0.0
    first_step: float = 0.0
    exit_code: int = 0
    #: the lanes the run said it picked ("bgtest: 2 lanes: …"), 0: one process
    lanes: int = 0
    #: "file.yaml[platform]" -> seconds, as results.json has them
    scenarios: dict[str, float] = field(default_factory=dict)


def run_once(
    tree: Path, paths: list[str], report: Path, extra: tuple[str, ...] = (), pycache: Path | None = None
) -> Figures:
    """``bgtest run`` of ``tree``'s code on ``paths``; stdout read line by line as it comes.

    Compiled modules are as the environment has them: with ``PYTHONDONTWRITEBYTECODE`` set
    (as on this project's machines) each start compiles bgtest's own modules again, in both
    trees alike. With ``pycache`` (``--cached-bytecode``) they are kept there, as Python does
    by default on a user's machine; the caller runs each tree once first to fill it.
    """
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONUNBUFFERED="1", COLUMNS="100", NO_COLOR="1")
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.pop("BGTEST_XCRUN", None)  # the embedded virtual iPhone, found next to this Python
    cli = "from harness.cli import main; main()"
    argv = [sys.executable, "-c", cli, "run", *paths, "--report", str(report), *extra]
    figures = Figures()
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace")
        if not figures.first_step and STEP_LINE.search(line):
            figures.first_step = time.monotonic() - start
        if (picked := LANES.match(line)) is not None:
            figures.lanes = int(picked.group(1))
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
    parser.add_argument(
        "--cached-bytecode",
        action="store_true",
        help="keep compiled modules between runs (Python's default; a first run of each tree fills them)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-wall-") as tmp:
        base_tree = unpack(args.baseline, Path(tmp) / "baseline", TREE)
        # the scenarios both trees have (newer ones have no baseline to compare with)
        scenario_files = sorted(
            p.name for p in (ROOT / "scenarios").glob("*.yaml") if (base_tree / "scenarios" / p.name).exists()
        )
        if args.only:
            scenario_files = [name for name in scenario_files if args.only in name]
        paths = [f"scenarios/{name}" for name in scenario_files]
        columns = (("baseline", base_tree, ()), ("-n 0", ROOT, ("-n", "0")), ("-n 2", ROOT, ("-n", "2")),
                   ("now", ROOT, ()))
        runs: dict[str, list[Figures]] = {label: [] for label, _, _ in columns}
        pycache: dict[Path, Path | None] = {tree: None for _, tree, _ in columns}
        if args.cached_bytecode:
            for n, tree in enumerate(pycache):
                pycache[tree] = Path(tmp) / f"pycache-{n}"
                run_once(tree, paths, Path(tmp) / f"report-warm-{n}", ("-n", "0"), pycache[tree])
        loads = [os.getloadavg()[0]]
        for round_no in range(args.rounds):
            for label, tree, extra in columns:
                report = Path(tmp) / f"report-{label.replace(' ', '')}-{round_no}"
                figures = run_once(tree, paths, report, extra, pycache[tree])
                runs[label].append(figures)
                loads.append(os.getloadavg()[0])
                lanes = f", {figures.lanes} lanes" if figures.lanes else ""
                print(f"  round {round_no + 1} {label:8}: {figures.whole:6.2f} s "
                      f"(exit {figures.exit_code}{lanes})", flush=True)

    def row(what: str, values: list[float], target: float | None, judged: float) -> None:
        ratio = f"{values[0] / values[-1]:.2f}×" if values[0] and values[-1] else "-"
        goal = f"<= {target:g} s {'ok' if judged <= target else 'OVER'}" if target is not None else ""
        print(f"{what:44} {''.join(f'{v:9.2f}' for v in values)} {ratio:>7}   {goal}")

    def medians(get: Any) -> list[float]:
        return [median([get(f) for f in runs[label]]) for label, _, _ in columns]

    picked = [f.lanes for f in runs["now"]]
    print(f"\nbaseline {args.baseline} vs this checkout, median of {args.rounds} round(s), load "
          f"{min(loads):.1f}-{max(loads):.1f} during the runs on {os.cpu_count()} cores; the default "
          f"(now) picked {', '.join(f'{n} lanes' if n else 'one process' for n in picked)}; compiled "
          f"modules {'kept between runs' if args.cached_bytecode else 'as the environment has them'}")
    print(f"{'':44} {''.join(f'{label:>9}' for label, _, _ in columns)} {'ratio':>7}   target (now; a "
          "scenario: -n 0)")
    whole = medians(lambda f: f.whole)
    row("whole `bgtest run` (s)", whole, TARGETS["whole run"] if not args.only else None, whole[-1])
    first = medians(lambda f: f.first_step)
    row("first step line after start (s)", first, TARGETS["first step line"], first[-1])
    seen = {k for label in runs for f in runs[label] for k in f.scenarios}
    keys = sorted(seen, key=lambda k: ("[ios]" in k, k))
    for key in keys:
        platform = "ios" if key.endswith("[ios]") else "android"
        each = medians(lambda f, key=key: f.scenarios.get(key, 0.0))
        row(key, each, TARGETS[platform], each[1])
    failed = [f.exit_code for label in runs if label != "baseline" for f in runs[label] if f.exit_code]
    if failed:
        print(f"\nthis checkout's run exited {failed[0]}: the figures are not comparable")


if __name__ == "__main__":
    main()
