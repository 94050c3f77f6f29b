"""A 24-hour virtual day on one virtual Android device, and how its cost grows with load.

Run: ``.venv/bin/python bench/bench_virtual_day.py [--sizes 100,1000,10000]``.

The day: N WorkManager requests from one app (20 % periodic 1 h with a network constraint,
30 % one-time uploads needing network, 20 % retrying [retry, retry, success], 10 % 3-step
chains, 20 % needing charging), enqueued in 24 hourly batches; two Doze nights (unplugged,
screen off: the real deep/light state machines), airplane mode for an hour, two reboots, a
force-stop with a relaunch an hour later. Everything runs in device time on the manual clock.

Printed: wall time per day, device seconds per wall second, clock events and JobScheduler
job starts, wall per clock event, and the growth from the smallest size measured in the same
run next to what n and n·log n would predict. Targets: 1,000 requests <= 2 s wall
(>= 40,000x real time); growth near n·log n.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.sim.android.device import VirtualAndroidDevice  # noqa: E402
from harness.sim.android.shell.shell import run_sync  # noqa: E402

PKG = "dev.bgtest.bench"
HOUR = 3_600_000
DAY = 24 * HOUR

APP = """
package: dev.bgtest.bench
library: native_workmanager
debug_logging: true
deep_link_schemes: [bench]
hooks:
  - deep_link: bench://go/{name}
    enqueue: ["{name}"]
work:
  periodic:
    kind: periodic
    worker: sync
    interval: 1h
    constraints: {network: connected}
    unique: {name: periodic, policy: keep}
  upload:
    worker: upload
    constraints: {network: connected}
    unique: {name: upload, policy: keep}
  retrying:
    worker: flaky
    unique: {name: retrying, policy: keep}
  chain:
    worker: step
    unique: {name: chain, policy: keep}
    then: [chain-2, chain-3]
  chain-2:
    worker: step
  chain-3:
    worker: upload
    constraints: {network: connected}
  charging:
    worker: step
    constraints: {charging: true}
    unique: {name: charging, policy: keep}
workers:
  sync:
    class: dev.bgtest.bench.SyncWorker
    duration: 2s
    http: [{url: "https://api.example.com/sync"}]
  upload:
    class: dev.bgtest.bench.UploadWorker
    duration: 5s
    http: [{method: POST, url: "https://api.example.com/up", status: 201}]
  flaky:
    class: dev.bgtest.bench.FlakyWorker
    duration: 1s
    outcomes: [retry, retry, success]
  step:
    class: dev.bgtest.bench.StepWorker
    duration: 3s
"""

#: (work name, share of the requests)
MIX = (("periodic", 0.2), ("upload", 0.3), ("retrying", 0.2), ("chain", 0.1), ("charging", 0.2))


def sh(device: VirtualAndroidDevice, line: str) -> None:
    rc, _out, err = run_sync(device, line)
    if rc != 0:
        raise RuntimeError(f"{line}: rc={rc} {err.decode()}")


def plan(n: int) -> list[str]:
    names: list[str] = []
    for name, share in MIX:
        names.extend([name] * round(n * share))
    return names[:n] + ["upload"] * (n - len(names))


def one_day(n: int) -> dict[str, float]:
    device = VirtualAndroidDevice(serial=f"bench-{n}")
    assert device.packages.install_bytes(APP.encode(), "bench.yaml") == "Success"
    clock = device.clock
    start = device.now_ms()
    requests = plan(n)
    batches = [requests[i::24] for i in range(24)]
    counter = {"i": 0}

    def enqueue(batch: list[str]) -> None:
        if device.activity.process(PKG) is None and device.packages.get(PKG).stopped:
            return  # force-stopped: the app is not running to enqueue anything
        wm = device.activity.app(PKG).workmanager
        for name in batch:
            counter["i"] += 1
            work = wm.model.work_with(name, {"unique_name": f"{name}-{counter['i']}"})
            wm.enqueue(name, work)

    def at(hours: float, fn: Callable[[], object]) -> None:
        clock.schedule_at(start + int(hours * HOUR), fn, "bench")

    for hour, batch in enumerate(batches):
        at(hour + 0.01, lambda b=batch: enqueue(b))
    device.activity.start_activity(PKG, component=f"{PKG}/.MainActivity")

    def night(begin: float, end: float) -> None:
        at(begin, lambda: (sh(device, "dumpsys battery unplug"), sh(device, "input keyevent KEYCODE_SLEEP")))
        at(end, lambda: (sh(device, "input keyevent KEYCODE_WAKEUP"), sh(device, "dumpsys battery reset")))

    night(1, 7)
    night(13, 17)
    at(9, lambda: sh(device, "cmd connectivity airplane-mode enable"))
    at(10, lambda: sh(device, "cmd connectivity airplane-mode disable"))
    at(11, device.reboot_now)
    at(15, lambda: sh(device, f"am force-stop {PKG}"))
    at(16, lambda: sh(device, f"am start -n {PKG}/.MainActivity"))
    at(20, device.reboot_now)

    events0, starts0 = clock.events_run, device.jobs.starts
    t0 = time.perf_counter()
    clock.advance(DAY)
    wall = time.perf_counter() - t0
    db = device.jobs.work_db[PKG]
    succeeded = sum(1 for s in db.specs.values() if s.state == "SUCCEEDED")
    return {
        "wall": wall,
        "events": clock.events_run - events0,
        "starts": device.jobs.starts - starts0,
        "specs": len(db.specs),
        "succeeded": succeeded,
        "lines": sum(1 for _ in device.logd.entries()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="request counts, smallest first")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    one_day(50)  # warm-up: imports, first-use caches
    rows = [(n, one_day(n)) for n in sizes]
    base_n, base = rows[0]
    print(f"{'requests':>8} {'wall s':>8} {'x real':>9} {'events':>8} {'job starts':>10} "
          f"{'us/event':>9} {'growth':>7} {'n':>6} {'nlogn':>6}  specs  done")
    for n, r in rows:
        growth = r["wall"] / base["wall"]
        lin = n / base_n
        nlogn = (n * math.log(n)) / (base_n * math.log(base_n))
        speed = DAY / 1000 / r["wall"]
        print(f"{n:>8} {r['wall']:>8.3f} {speed:>9.0f} {r['events']:>8.0f} {r['starts']:>10.0f} "
              f"{r['wall'] / r['events'] * 1e6:>9.1f} {growth:>7.2f} {lin:>6.1f} {nlogn:>6.1f}  "
              f"{r['specs']:.0f} {r['succeeded']:.0f}")
    thousand = dict(rows).get(1000)
    if thousand is not None:
        ok = thousand["wall"] <= 2.0
        print(f"target 1,000 requests <= 2 s wall (>= 40,000x): {thousand['wall']:.3f} s, "
              f"{DAY / 1000 / thousand['wall']:.0f}x — {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
