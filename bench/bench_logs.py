"""Throughput of `bgtest logs` (the parse path: format detection, reading, vocabularies, naming)
vs `grep -E` on the same 1,000,000-line capture, in threadtime, brief and Android Studio format.

The capture is bench_expectations.py's (system noise plus native_workmanager / WorkManager lines
of 100 load tasks and a periodic sync), rewritten line by line into each format. For each
format, in the same run:

- baseline: `grep -E -c` with one pattern over the file (process start included);
- bgtest: `harness.logs.timeline.read_timeline(file)` -- what `bgtest logs FILE` runs before
  printing;

each the best of 5, interleaved so both see the same load on a shared machine.

Prints lines/s for both, the ratio (target >= 0.3) and the number of task events found (the
same in every format, so a fast-but-wrong run is visible).

    .venv/bin/python bench/bench_logs.py [--lines N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_expectations import GREP_PATTERN, generate, run_grep
from harness.logs.timeline import read_timeline

_THREADTIME = re.compile(r"^(\d\d-\d\d) (\S+) +(\d+) +(\d+) ([VDIWEFA]) (.*?) *: (.*)$")


def convert(src: Path, dst: Path, fmt: str) -> None:
    """Rewrite a threadtime capture as `-v brief` or an Android Studio (2022+) copy."""
    out: list[str] = []
    with src.open(encoding="utf-8") as fh:
        for line in fh:
            m = _THREADTIME.match(line.rstrip("\n"))
            if m is None:
                out.append(line.rstrip("\n"))
                continue
            date, clock, pid, tid, level, tag, msg = m.groups()
            if fmt == "brief":
                out.append(f"{level}/{tag:<8}({pid:>5}): {msg}")
            else:
                out.append(f"2026-{date} {clock} {pid + '-' + tid:>11}  {tag:<23} {'com.example.app':<36} "
                           f"{level}  {msg}")
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")


def run_bgtest(path: Path) -> tuple[float, int, str]:
    t = time.perf_counter()
    timeline = read_timeline(path)
    return time.perf_counter() - t, len(timeline.events), timeline.capture.format


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5, help="best of N for both (the machine is shared)")
    args = ap.parse_args()
    grep = shutil.which("grep")
    if grep is None:
        print("grep not found", file=sys.stderr)
        return 2
    work = Path(tempfile.gettempdir()) / "bgtest-bench"
    work.mkdir(exist_ok=True)
    base = work / f"logcat_{args.lines}.txt"
    if not base.exists():
        t = time.perf_counter()
        generate(base, args.lines)
        print(f"generated {base} in {time.perf_counter() - t:.1f}s")
    files = {"threadtime": base}
    for fmt in ("brief", "studio-2022"):
        path = work / f"logcat_{args.lines}.{fmt}.txt"
        if not path.exists():
            convert(base, path, fmt)
        files[fmt] = path
    worst = None
    for fmt, path in files.items():
        lines = sum(1 for _ in path.open("rb"))
        greps, runs = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same load on a shared machine
            greps.append(run_grep(grep, path)[0])
            runs.append(run_bgtest(path))
        g = min(greps)
        b = min(r[0] for r in runs)
        _t, found, detected = runs[0]
        ratio = g / b
        worst = ratio if worst is None else min(worst, ratio)
        print(f"{fmt:<12} ({path.stat().st_size / 1e6:.1f} MB, {lines:,} lines, detected {detected})")
        print(f"  grep -E (1 pattern)   : {g:7.3f} s  {lines / g:14,.0f} lines/s")
        print(f"  bgtest logs (parse)   : {b:7.3f} s  {lines / b:14,.0f} lines/s  ({found} task events)")
        print(f"  ratio bgtest / grep   : {ratio:.3f}  (target >= 0.3)")
    print(f"worst ratio: {worst:.3f}  (target >= 0.3; grep pattern {GREP_PATTERN!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
