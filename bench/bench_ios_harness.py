"""What the iOS harness adds on top of the xcrun calls it cannot avoid, measured in one run.

Run: ``.venv/bin/python bench/bench_ios_harness.py [--runs N]``. Printed as ratios against a
baseline taken in the same run, on the embedded virtual iPhone:

- a step barrier (``spawn logger`` + waiting for ``log stream`` to deliver the marker) vs one
  plain ``simctl bgtest clock`` call (the floor of any xcrun round trip);
- one ``wait: 1m`` slice of an expectation window (clock advance + barrier) vs the same floor;
- the whole bundled ``ios_*.yaml`` checklist, per scenario step, vs the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.devices.ios_journal import IosDeviceJournal  # noqa: E402
from harness.run.embedded import EmbeddedIphone  # noqa: E402
from harness.run.session import DeviceSession  # noqa: E402
from harness.scenario.loader import load_file  # noqa: E402


def best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    embedded = EmbeddedIphone().start()
    try:
        device = embedded.device("simulator")
        floor = best(lambda: device.simctl(["bgtest", "clock", device.udid]), runs)  # type: ignore[attr-defined]
        journal = IosDeviceJournal(device)  # type: ignore[arg-type]
        journal.start()
        counter = iter(range(10_000))
        try:
            journal.barrier("warm-up")
            barrier = best(lambda: journal.barrier(f"bench-{next(counter)}"), runs)

            def slice_() -> None:
                device.advance(60_000)  # type: ignore[attr-defined]
                journal.barrier(f"bench-{next(counter)}")

            window = best(slice_, runs)
        finally:
            journal.stop()
    finally:
        embedded.stop()

    session = DeviceSession(note=lambda _: None)
    steps = 0
    start = time.perf_counter()
    try:
        for path in sorted((ROOT / "scenarios").glob("ios_*.yaml")):
            for scenario in load_file(path):
                result = session.run(scenario, "ios")
                steps += len(result.steps)
    finally:
        session.close()
    per_step = (time.perf_counter() - start) / max(steps, 1)

    print(f"xcrun round trip (floor)      {floor * 1000:8.1f} ms   1.00x")
    print(f"step barrier                  {barrier * 1000:8.1f} ms   {barrier / floor:5.2f}x")
    print(f"1-minute window slice         {window * 1000:8.1f} ms   {window / floor:5.2f}x")
    ratio = per_step / floor
    print(f"ios_*.yaml checklist, a step  {per_step * 1000:8.1f} ms   {ratio:5.2f}x  ({steps} steps)")


if __name__ == "__main__":
    main()
