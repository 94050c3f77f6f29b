"""Cost of ONE ``bgtest-xcrun`` call: this checkout against a baseline commit, in one run.

Run: ``.venv/bin/python bench/bench_xcrun_call.py [--baseline REV] [--rounds N]``.

Every iOS step of a scenario is one or more ``xcrun`` processes; this times the calls a
scenario makes (``tests``-free: a fixed sequence taken from ``bgtest run scenarios/ios_*.yaml``)
as separate processes through the tree of this checkout and through the baseline commit ``REV``
(unpacked with ``git archive`` into a temporary folder and imported from there, as
``bench_wall.py`` does), alternately, ``--rounds`` times, each tree on a sim home of its own.
It prints the median wall time per call of each tree, their ratio, the median CPU time (user +
system, steadier on a loaded machine) and ``python -c pass`` (the floor a process start cannot go
under), and how long from the start of a ``logger`` call until a running ``log stream`` shows
the line (what each step's marker costs), in two bytecode modes:

- ``compiled``: ``PYTHONDONTWRITEBYTECODE=1`` and no cache, as on this project's machines —
  every call compiles bgtest's modules from source;
- ``cached``: compiled modules kept in a ``PYTHONPYCACHEPREFIX`` of the bench's own (what
  ``bgtest run`` gives its embedded stand-in, and what an ordinary install has).

Time on a shared machine is noisy: read the ratio, and the absolute figures only on an idle one.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline import unpack  # noqa: E402

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
        #: call -> (wall s, CPU s) per round
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.marker_s: list[float] = []

    def argv(self, argv: tuple[str, ...]) -> list[str]:
        return [sys.executable, "-c", ENTRY, *(a.replace("{u}", self.udid) for a in argv)]

    def run(self, argv: tuple[str, ...]) -> tuple[float, float, str]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(self.argv(argv), env=self.env, cwd=self.cwd, capture_output=True, text=True)
        took = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        if done.returncode != 0:
            raise SystemExit(f"{self.label}: {' '.join(argv)} exited {done.returncode}: {done.stderr}")
        return took, cpu, done.stdout

    def prepare(self) -> None:
        """A fresh device-kind iPhone with the demo app installed (and bytecode warmed when cached)."""
        self.run(("simctl", "bgtest", "reset", "--kind", "device"))
        out = self.run(("simctl", "list", "devices"))[2]
        self.udid = next(line.split("(")[1].split(")")[0] for line in out.splitlines() if "(Booted)" in line)
        self.run(("simctl", "install", self.udid, str(APP)))
        for argv in CALLS:
            self.run(argv)

    def round(self, n: int) -> None:
        for argv in CALLS:
            took, cpu, _ = self.run(argv)
            self.samples.setdefault(name(argv), []).append((took, cpu))
        self.marker_s.append(self.marker_latency(f"bench-marker-{n}"))

    def marker_latency(self, text: str) -> float:
        """Seconds from the start of a ``logger`` call until a running ``log stream`` printed the line
        (what a step's marker costs: the call, and how soon the stream looks again)."""
        stream = subprocess.Popen(
            self.argv(("simctl", "spawn", "{u}", "log", "stream", "--style", "ndjson", "--predicate",
                       'process == "logger"')),
            env=self.env, cwd=self.cwd, stdout=subprocess.PIPE, text=True,
        )
        assert stream.stdout is not None
        stream.stdout.readline()  # the banner: the stream follows the log from here on
        seen = threading.Event()
        at: list[float] = []

        def read() -> None:
            assert stream.stdout is not None
            for line in stream.stdout:
                if text in line:
                    at.append(time.perf_counter())
                    seen.set()

        threading.Thread(target=read, daemon=True).start()
        start = time.perf_counter()
        self.run(("simctl", "spawn", "{u}", "logger", "-t", "bgtest", text))
        seen.wait(30)
        stream.kill()
        stream.wait()
        return at[0] - start if at else 30.0


def name(argv: tuple[str, ...]) -> str:
    words = [a for a in argv[1:] if a != "{u}" and not a.startswith(("-", "bgtest-step", "nwmios:", "dev."))]
    return " ".join(words[:3])


def floor_s(rounds: int) -> tuple[float, float]:
    """``python -c pass``: median wall and CPU seconds."""
    walls, cpus = [], []
    for _ in range(rounds * 3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=5, help="runs of the sequence per tree, alternating")
    parser.add_argument("--mode", choices=("compiled", "cached", "both"), default="both")
    args = parser.parse_args()
    modes = ["compiled", "cached"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="bgtest-bench-xcrun-") as tmp_name:
        tmp = Path(tmp_name)
        base_tree = unpack(args.baseline, tmp / "baseline", ("harness",))
        floor, floor_cpu = floor_s(args.rounds)
        for mode in modes:
            trees = [
                Tree(label, path, tmp / f"home-{label}-{mode}",
                     None if mode == "compiled" else tmp / f"pyc-{label}")
                for label, path in (("baseline", base_tree), ("now", ROOT))
            ]
            for tree in trees:
                tree.prepare()
            for n in range(args.rounds):
                for tree in trees:
                    tree.round(n)
            base = trees[0]
            print(f"\n{mode}: baseline {args.baseline} vs this checkout, ms per call, median of "
                  f"{args.rounds} round(s), load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
                  f"python -c pass {floor * 1000:.1f} ms ({floor_cpu * 1000:.1f} ms CPU)")
            print(f"{'call':32} {'baseline':>9} {'now':>9} {'ratio':>7}   {'CPU base':>9} {'CPU now':>8}")
            walls, cpus = [0.0, 0.0], [0.0, 0.0]
            for key in base.samples:
                row = []
                for i, tree in enumerate(trees):
                    wall = statistics.median(w for w, _ in tree.samples[key])
                    cpu = statistics.median(c for _, c in tree.samples[key])
                    walls[i] += wall
                    cpus[i] += cpu
                    row += [wall, cpu]
                print(f"{key:32} {row[0] * 1000:9.1f} {row[2] * 1000:9.1f} {row[0] / row[2]:6.2f}×   "
                      f"{row[1] * 1000:9.1f} {row[3] * 1000:8.1f}")
            n = len(base.samples)
            print(f"{'mean of the calls':32} {walls[0] / n * 1000:9.1f} {walls[1] / n * 1000:9.1f} "
                  f"{walls[0] / walls[1]:6.2f}×   {cpus[0] / n * 1000:9.1f} {cpus[1] / n * 1000:8.1f}")
            marks = [statistics.median(tree.marker_s) * 1000 for tree in trees]
            print(f"{'logger until log stream shows it':32} {marks[0]:9.1f} {marks[1]:9.1f} "
                  f"{marks[0] / marks[1]:6.2f}×")


if __name__ == "__main__":
    main()
