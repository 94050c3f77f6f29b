"""Cost of the apps layer on one virtual device, in process, against baselines from the same run.

Run: ``.venv/bin/python bench/bench_apps.py [--runs N]``. Printed as ratios so a slow machine
does not change the verdict:

- ``load_app_model(nwm_demo.yaml)`` vs a bare ``yaml.safe_load`` of the same bytes (the price of
  line-number errors and validation);
- ``am start -W`` (cold, process start + WorkManager init) followed by ``am force-stop``, and a
  hot ``am start``, vs ``echo hi`` through the same device shell (the floor of any command);
- the load hook: ``nwmdemo://enqueue/load?count=N`` then running all N tasks in virtual time,
  per task, for N = 100, 1,000 and 10,000 — the cost per task should stay about flat.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.apps.loader import load_app_model  # noqa: E402
from harness.sim.android.device import VirtualAndroidDevice  # noqa: E402
from harness.sim.android.shell.shell import run_sync  # noqa: E402

NWM_YAML = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"
NWM = "dev.brewkits.nwm_demo"


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(samples)


def sh(device: VirtualAndroidDevice, line: str) -> None:
    rc, out, err = run_sync(device, line)
    if rc != 0:
        raise SystemExit(f"{line!r} failed: rc={rc} {out!r} {err!r}")


def load_test(n: int) -> tuple[float, int]:
    """Wall ms to enqueue and run ``n`` one-time tasks through the load hook; returns (ms, succeeded)."""
    device = VirtualAndroidDevice(app_models=[NWM_YAML])
    t0 = time.perf_counter()
    sh(device, f"am start -a android.intent.action.VIEW -d 'nwmdemo://enqueue/load?count={n}'")
    device.clock.advance(6 * 3_600_000)
    ms = (time.perf_counter() - t0) * 1000.0
    done = sum(1 for e in device.logd.entries(["main"]) if "Worker result SUCCESS" in e.message)
    return ms, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    data = NWM_YAML.read_bytes()

    base = median_ms(lambda: yaml.safe_load(data), args.runs)
    model = median_ms(lambda: load_app_model(data, "nwm_demo.yaml"), args.runs)
    print(f"app model load     {model:8.3f} ms   yaml.safe_load {base:7.3f} ms   ratio {model / base:5.2f}x")

    device = VirtualAndroidDevice(app_models=[NWM_YAML])
    echo = median_ms(lambda: sh(device, "echo hi"), args.runs)

    def cold_cycle() -> None:
        sh(device, f"am start -W -n {NWM}/.MainActivity")
        sh(device, f"am force-stop {NWM}")

    cold = median_ms(cold_cycle, args.runs)
    sh(device, f"am start -n {NWM}/.MainActivity")
    hot = median_ms(lambda: sh(device, f"am start -W -n {NWM}/.MainActivity"), args.runs)
    print(f"echo hi (floor)    {echo:8.3f} ms")
    print(f"am start -W cold + force-stop {cold:8.3f} ms   ratio {cold / echo:5.2f}x of echo")
    print(f"am start -W top    {hot:8.3f} ms   ratio {hot / echo:5.2f}x of echo")

    previous = None
    for n in (100, 1_000, 10_000):
        ms, done = load_test(n)
        per = ms / n * 1000.0
        growth = f"   x{per / previous:4.2f} per task vs previous" if previous else ""
        print(f"load hook n={n:<6} {ms:9.1f} ms  {per:7.1f} us/task  succeeded {done}/{n}{growth}")
        previous = per


if __name__ == "__main__":
    main()
