"""Cost of the OS model on one virtual device, against baselines from the same run.

Run: ``.venv/bin/python bench/bench_os.py [--runs N]``. Printed as ratios so a slow machine does
not change the verdict:

- the queries JobScheduler and WorkManager ask on every constraint check —
  ``idle.restricts(pkg)``, ``net.app_has_network(pkg, uid, "unmetered")``, ``standby.bucket(pkg)``,
  ``power.saver_restricts(pkg)`` — vs a plain Python method call that reads a dict (the floor);
- a 24-hour Doze day (unplugged, screen off): wall time per OS event vs a bare clock timer
  callback (the scheduler's own floor), and the day's total wall time;
- 1,000 alarms spread over the day under forced Doze (deferred to maintenance windows), per
  alarm, vs 1,000 bare clock timers.
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

from harness.sim.android.device import VirtualAndroidDevice  # noqa: E402
from harness.sim.android.shell.shell import run_sync  # noqa: E402
from harness.sim.clock import VirtualClock  # noqa: E402

WM_PLAIN = ROOT / "fixtures" / "apps" / "wm_plain.yaml"
PKG = "com.example.wmplain"
HOUR = 3_600_000


def median_s(fn: Callable[[], object], runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


class _Floor:
    def __init__(self) -> None:
        self.table = {PKG: 10}

    def lookup(self, package: str) -> int:
        return self.table.get(package, 50)


def bench_queries(runs: int) -> None:
    dev = VirtualAndroidDevice(app_models=[WM_PLAIN])
    uid = dev.packages.get(PKG).uid
    run_sync(dev, "dumpsys battery unplug")
    run_sync(dev, "dumpsys deviceidle force-idle")
    n = 20_000
    floor = _Floor()

    def loop(fn: Callable[[], object]) -> Callable[[], None]:
        def body() -> None:
            for _ in range(n):
                fn()

        return body

    base = median_s(loop(lambda: floor.lookup(PKG)), runs) / n
    print(f"query floor (method + dict get): {base * 1e9:8.0f} ns")
    cases = {
        "idle.restricts(pkg)": lambda: dev.idle.restricts(PKG),
        "net.app_has_network(unmetered)": lambda: dev.net.app_has_network(PKG, uid, "unmetered"),
        "standby.bucket(pkg)": lambda: dev.standby.bucket(PKG),
        "power.saver_restricts(pkg)": lambda: dev.power.saver_restricts(PKG),
    }
    for name, fn in cases.items():
        cost = median_s(loop(fn), runs) / n
        print(f"  {name:32s} {cost * 1e9:8.0f} ns  = {cost / base:5.1f}x floor")


def bench_day(runs: int) -> None:
    def day() -> tuple[int, float]:
        dev = VirtualAndroidDevice()
        run_sync(dev, "cmd bgtest cable none")
        run_sync(dev, "input keyevent KEYCODE_SLEEP")
        before = dev.clock.events_run
        t0 = time.perf_counter()
        dev.clock.advance(24 * HOUR)
        return dev.clock.events_run - before, time.perf_counter() - t0

    results = [day() for _ in range(runs)]
    events = results[0][0]
    wall = statistics.median(r[1] for r in results)

    def bare() -> float:
        clock = VirtualClock()
        for i in range(events):
            clock.schedule_at(clock.now_ms() + (i + 1) * 60_000, lambda: None)
        t0 = time.perf_counter()
        clock.advance(24 * HOUR * 2)
        return time.perf_counter() - t0

    base = statistics.median(bare() for _ in range(runs))
    per = wall / max(events, 1)
    print(
        f"24 h Doze day: {events} OS events in {wall * 1000:.2f} ms wall "
        f"({per * 1e6:.1f} us/event = {per / (base / events):.1f}x a bare timer; "
        f"{24 * 3600 / wall:,.0f}x real time)"
    )


def bench_alarms(runs: int, n: int = 1_000) -> None:
    def with_alarms() -> float:
        dev = VirtualAndroidDevice(app_models=[WM_PLAIN])
        run_sync(dev, "dumpsys battery unplug")
        run_sync(dev, "input keyevent KEYCODE_SLEEP")
        run_sync(dev, "dumpsys deviceidle force-idle")
        t_start = dev.clock.now_ms()
        fired = [0]

        def cb() -> None:
            fired[0] += 1

        t0 = time.perf_counter()
        for i in range(n):
            dev.alarms.set(PKG, 10000, t_start + (i * 24 * HOUR) // n, cb, allow_while_idle=(i % 10 == 0))
        dev.clock.advance(32 * HOUR)  # the last deferred ones wait for a window up to 6 h away
        elapsed = time.perf_counter() - t0
        assert fired[0] == n, fired[0]
        return elapsed

    def bare() -> float:
        clock = VirtualClock()
        t0 = time.perf_counter()
        for i in range(n):
            clock.schedule_at(clock.now_ms() + (i * 24 * HOUR) // n, lambda: None)
        clock.advance(32 * HOUR)
        return time.perf_counter() - t0

    wall = statistics.median(with_alarms() for _ in range(runs))
    base = statistics.median(bare() for _ in range(runs))
    print(
        f"{n} alarms over 24 h under Doze: {wall * 1000:.2f} ms wall, {wall / n * 1e6:.1f} us/alarm "
        f"= {wall / base:.1f}x bare clock timers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench_queries(args.runs)
    bench_day(args.runs)
    bench_alarms(args.runs)


if __name__ == "__main__":
    main()
