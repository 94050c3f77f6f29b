"""Cost of ONE ``bgtest-xcrun`` call: this checkout against a baseline commit, in one run.

Run: ``.venv/bin/python bench/bench_xcrun_call.py [--baseline REV] [--rounds N]``.

Every iOS step of a scenario is one or more ``xcrun`` processes; this times the calls a
scenario makes (``tests``-free: a fixed sequence taken from ``bgtest run scenarios/ios_*.yaml``)
as separate processes through the tree of this checkout and through the baseline commit ``REV``
(unpacked with ``git archive`` into a temporary folder and imported from there, as
``bench_wall.py`` does), alternately, ``--rounds`` times, each tree on a sim home of its own.
It prints the median per call of each tree, their ratio, and ``python -c pass`` (the floor a
process start cannot go under), in two bytecode modes:

- ``compiled``: ``PYTHONDONTWRITEBYTECODE=1`` and no cache, as on this project's machines —
  every call compiles bgtest's modules from source;
- ``cached``: compiled modules kept in a ``PYTHONPYCACHEPREFIX`` of the bench's own (what
  ``bgtest run`` gives its embedded stand-in, and what an ordinary install has).

Time on a shared machine is noisy: read the ratio, and the absolute figures only on an idle one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: main when the work on one call's cost started (2026-12-07, session 3)
DEFAULT_BASELINE = "1824c6e"
APP = ROOT / "fixtures" / "apps" / "nwm_ios_demo.yaml"
BUNDLE = "dev.brewkits.nwmIosDemo"
#: what a scenario step asks, in the order a scenario asks it ({u} = the booted UDID)
CALLS: list[tuple[str, ...]] = [
    ("simctl", "list", "-j", "devices"),
    ("simctl", "spawn", "{u}", "logger", "-t", "bgtest", "bgtest-step-c72a9143df8a"),
    ("simctl", "launch", "--terminate-running-process", "{u}", BUNDLE),
    ("simctl", "openurl", "{u}", "nwmios://enqueue/periodic-sync"),
    ("simctl", "bgtest", "state", "{u}"),
    ("simctl", "status_bar", "{u}", "list"),
    ("simctl", "bgtest", "clock", "{u}", "advance", "3600000ms"),
    ("simctl", "appinfo", "{u}", BUNDLE),
    ("simctl", "get_app_container", "{u}", BUNDLE, "data"),
]
ENTRY = "import sys; from harness.sim.ios.xcrun import main; sys.exit(main())"


def unpack(rev: str, into: Path) -> Path:
    """The ``harness`` tree of ``rev`` in ``into``, without touching the checkout."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "harness"], check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "tree.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as archive:
        archive.extractall(into, filter="data")
    tar.unlink()
    return into


class Tree:
    """One tree's stand-in on its own sim home, in one bytecode mode."""

    def __init__(self, label: str, path: Path, home: Path, pycache: Path | None) -> None:
        self.label = label
        self.env = dict(os.environ, PYTHONPATH=str(path), BGTEST_SIM_HOME=str(home))
        self.env.pop("PYTHONPYCACHEPREFIX", None)
        if pycache is None:
            self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            self.env.pop("PYTHONDONTWRITEBYTECODE", None)
            self.env["PYTHONPYCACHEPREFIX"] = str(pycache)
        self.cwd = path
        self.udid = ""
        self.samples: dict[str, list[float]] = {}

    def run(self, argv: tuple[str, ...]) -> tuple[float, str]:
        args = [a.replace("{u}", self.udid) for a in argv]
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", ENTRY, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True
        )
        took = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{self.label}: {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return took, done.stdout

    def prepare(self) -> None:
        """A fresh device-kind iPhone with the demo app installed (and bytecode warmed when cached)."""
        self.run(("simctl", "bgtest", "reset", "--kind", "device"))
        out = self.run(("simctl", "list", "devices"))[1]
        self.udid = next(line.split("(")[1].split(")")[0] for line in out.splitlines() if "(Booted)" in line)
        self.run(("simctl", "install", self.udid, str(APP)))
        for argv in CALLS:
            self.run(argv)

    def round(self) -> None:
        for argv in CALLS:
            took, _ = self.run(argv)
            self.samples.setdefault(name(argv), []).append(took)


def name(argv: tuple[str, ...]) -> str:
    words = [a for a in argv[1:] if a != "{u}" and not a.startswith(("-", "bgtest-step", "nwmios:", "dev."))]
    return " ".join(words[:3])


def floor_s(rounds: int) -> float:
    samples = []
    for _ in range(rounds * 3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=5, help="runs of the sequence per tree, alternating")
    parser.add_argument("--mode", choices=("compiled", "cached", "both"), default="both")
    args = parser.parse_args()
    modes = ["compiled", "cached"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-xcrun-") as tmp_name:
        tmp = Path(tmp_name)
        base_tree = unpack(args.baseline, tmp / "baseline")
        floor = floor_s(args.rounds)
        for mode in modes:
            trees = [
                Tree(label, path, tmp / f"home-{label}-{mode}",
                     None if mode == "compiled" else tmp / f"pyc-{label}")
                for label, path in (("baseline", base_tree), ("now", ROOT))
            ]
            for tree in trees:
                tree.prepare()
            for _ in range(args.rounds):
                for tree in trees:
                    tree.round()
            base, now = trees
            print(f"\n{mode}: baseline {args.baseline} vs this checkout, ms per call, median of "
                  f"{args.rounds} round(s), load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
                  f"python -c pass {floor * 1000:.1f} ms")
            print(f"{'call':32} {'baseline':>9} {'now':>9} {'ratio':>7}")
            totals = [0.0, 0.0]
            for key in base.samples:
                was, is_ = statistics.median(base.samples[key]), statistics.median(now.samples[key])
                totals[0] += was
                totals[1] += is_
                print(f"{key:32} {was * 1000:9.1f} {is_ * 1000:9.1f} {was / is_:6.2f}×")
            n = len(base.samples)
            print(f"{'mean of the calls':32} {totals[0] / n * 1000:9.1f} {totals[1] / n * 1000:9.1f} "
                  f"{totals[0] / totals[1]:6.2f}×   (floor {floor * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
