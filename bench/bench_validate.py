"""Validating 1,000 scenario files: bgtest's loader next to PyYAML's bare ``safe_load``.

The baseline parses the same files with ``yaml.load(..., Loader=CSafeLoader)`` (libyaml when
available, as bgtest's reader uses), so the difference is the price of line tracking, include/
variable handling, model validation and platform checks. Target: <= 2 s for 1,000 files.

    .venv/bin/python bench/bench_validate.py [--files N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from harness.scenario.loader import load_paths

try:
    from yaml import CSafeLoader as BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as BaseLoader  # type: ignore[assignment]

TEMPLATE = """\
# yaml-language-server: $schema=../harness/scenario/scenario.schema.json
defaults:
  platforms: [android]
  app: {{package: dev.brewkits.nwm_demo{i}, library: native_workmanager}}
  timeout: 12h
  vars: {{night: 6h}}
---
name: periodic sync {i} survives force-stop and Doze
tags: [checklist, doze]
vars: {{task: periodic-sync-{i}}}
steps:
  - launch: {{deep_link: "nwmdemo://enqueue/${{task}}"}}
  - expect: {{task: "${{task}}", state: enqueued, within: 10s}}
  - stop_app
  - launch
  - battery: unplugged
  - doze: deep
  - wait: ${{night}}
  - expect:
      task: ${{task}}
      state: succeeded
      count: ">= 1"
      within: 2h
  - expect: {{tag: AndroidRuntime, message: "FATAL EXCEPTION", never: true, within: 1h}}
finally:
  - doze: off
  - battery: reset
---
name: upload {i} waits for the network
steps:
  - network: airplane
  - launch: {{deep_link: "nwmdemo://enqueue/upload"}}
  - wait: 30m
  - network: online
  - wait: {{until: {{task: upload, state: succeeded}}, timeout: 1h}}
  - expect: {{task: "load-*", success_rate: ">= 95%"}}
  - expect: {{task: "load-*", state: succeeded, latency: "<= 30s"}}
"""


def _write(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        p = folder / f"s{i:04d}.yaml"
        p.write_text(TEMPLATE.format(i=i), encoding="utf-8")
        paths.append(p)
    return paths


def _baseline(paths: list[Path]) -> int:
    docs = 0
    for p in paths:
        docs += sum(1 for _ in yaml.load_all(p.read_bytes(), Loader=BaseLoader))
    return docs


def _bgtest(folder: Path) -> int:
    result = load_paths([folder], env={})
    if not result.ok:
        raise SystemExit(result.error().render())
    return len(result.scenarios)


def _best(fn, arg, rounds: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times, out = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn(arg)
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bgtest-bench-validate-"))
    try:
        paths = _write(folder, args.files)
        base_s, docs = _best(_baseline, paths, args.rounds)
        ours_s, scenarios = _best(_bgtest, folder, args.rounds)
        loader = (
            "CSafeLoader (libyaml)" if BaseLoader.__name__.startswith("C") else "SafeLoader (pure Python)"
        )
        n = args.files
        print(f"files: {n}  documents: {docs}  scenarios validated: {scenarios}  (best of {args.rounds})")
        print(f"PyYAML safe_load [{loader}]: {base_s:8.3f} s  ({base_s / args.files * 1e3:.3f} ms/file)")
        print(f"bgtest validate                      : {ours_s:8.3f} s  ({ours_s / n * 1e3:.3f} ms/file)")
        print(f"ratio bgtest / safe_load             : {ours_s / base_s:8.2f}x")
        budget = 2.0 * args.files / 1000
        verdict = "OK" if ours_s <= budget else "TOO SLOW"
        print(f"target: <= {budget:.2f} s for {args.files} files -> {verdict}")
        return 0 if ours_s <= budget else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
