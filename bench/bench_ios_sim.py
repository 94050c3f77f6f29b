"""Cost of the virtual iPhone, against baselines measured in the same run.

Run: ``.venv/bin/python bench/bench_ios_sim.py [--runs N]``. Printed as ratios:

- one ``bgtest-xcrun simctl list -j devices`` process vs ``python -c pass`` (the interpreter floor):
  what every harness call to the stand-in costs;
- one in-process command under the home's lock (load, catch up, save) vs reading and writing the
  same ``state.json`` with ``json`` (the persistence floor);
- a 24-hour device-kind day with 20 apps (refresh + processing requests, charging at night) in one
  ``clock advance 24h``: wall time per fired event vs a bare ``VirtualClock`` timer callback;
- ``log show --style ndjson`` of 10,000 records: per record vs ``json.dumps`` of the stored record;
- a WDA ``GET /status`` (opens the world) vs ``GET /wda/healthcheck`` (HTTP only) through facebook-wda.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.sim.clock import VirtualClock  # noqa: E402
from harness.sim.ios.launcher import start_ios  # noqa: E402
from harness.sim.ios.simctl import Io, simctl  # noqa: E402
from harness.sim.ios.state import SimHome  # noqa: E402

APP = """
package: dev.bench.app{n}
library: native_workmanager
deep_link_schemes: [bench{n}]
hooks:
  - deep_link: bench{n}://enqueue/{{task}}
    enqueue: ["{{task}}"]
work:
  sync: {{kind: periodic, worker: w, interval: {interval}m, unique: {{name: sync, policy: keep}}}}
  backup:
    {{kind: periodic, worker: w, interval: 2h, constraints: {{charging: true}}, unique: {{name: backup}}}}
workers:
  w: {{class: W, duration: 2s}}
ios:
  bundle_id: dev.bench.app{n}
  url_schemes: [bench{n}]
  bg_task_identifiers: [dev.brewkits.native_workmanager.task, dev.brewkits.native_workmanager.refresh]
"""


def median_s(fn: Callable[[], object], runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def quiet(home: SimHome, *argv: str) -> str:
    out = io.StringIO()
    code = simctl(list(argv), Io(out, io.StringIO()), home)
    assert code == 0, argv
    return out.getvalue()


def bench_process(home: SimHome, runs: int) -> None:
    env = {**os.environ, "BGTEST_SIM_HOME": str(home.path)}
    stand_in = [sys.executable, "-m", "harness.sim.ios.xcrun", "simctl", "list", "-j", "devices"]
    floor = median_s(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), runs)
    cost = median_s(lambda: subprocess.run(stand_in, env=env, check=True, capture_output=True), runs)
    print(f"process      simctl list -j: {cost * 1000:7.1f} ms   python -c pass: {floor * 1000:6.1f} ms   "
          f"ratio {cost / floor:5.2f}x")


def bench_command(home: SimHome, runs: int) -> None:
    def floor() -> None:
        data = json.loads(home.state_file.read_text())
        home.write_state(data)

    base = median_s(floor, runs * 20)
    cost = median_s(lambda: quiet(home, "bgtest", "clock"), runs * 20)
    print(f"command      bgtest clock:   {cost * 1e6:7.0f} us   json load+save:  {base * 1e6:6.0f} us   "
          f"ratio {cost / base:5.2f}x")


def bench_day(tmp: Path, runs: int) -> None:
    samples = []
    events = 0
    for r in range(max(1, runs // 2)):
        home = SimHome(tmp / f"day{r}")
        quiet(home, "bgtest", "reset", "--kind", "device")
        for n in range(20):
            path = tmp / f"app{n}.yaml"
            path.write_text(APP.format(n=n, interval=15 + n))
            quiet(home, "install", "booted", str(path))
            quiet(home, "launch", "booted", f"dev.bench.app{n}")
            quiet(home, "openurl", "booted", f"bench{n}://enqueue/sync")
            quiet(home, "openurl", "booted", f"bench{n}://enqueue/backup")
        quiet(home, "bgtest", "clock", "advance", "6h")
        quiet(home, "bgtest", "battery", "booted", "--charging")
        t0 = time.perf_counter()
        out = quiet(home, "bgtest", "clock", "advance", "24h")
        samples.append(time.perf_counter() - t0)
        events = int(out.split(", ")[1].split()[0]) or 1
    day = statistics.median(samples)

    clock = VirtualClock()
    count = [0]

    def bare() -> None:
        count[0] += 1

    def timers() -> None:
        for i in range(events):
            clock.schedule_in(i * 1000, bare)
        clock.advance(events * 1000 + 1)

    base = median_s(timers, runs) / events
    per = day / events
    print(f"day          24h, 20 apps:   {day * 1000:7.1f} ms   {events} events, {per * 1e6:.0f} us/event   "
          f"bare timer {base * 1e6:.2f} us   ratio {per / base:7.1f}x")


def bench_log(tmp: Path, runs: int) -> None:
    home = SimHome(tmp / "log")
    quiet(home, "bgtest", "reset", "--kind", "simulator")
    recs = [
        {"seq": i, "t": 1_767_603_600_000 + i, "udid": "X", "pid": 41000, "tid": 5, "path": "/a/R.app/R",
         "msg": f"[NativeWorkManager] Task 't{i}' completed successfully", "type": "Default", "subsystem": "",
         "category": "", "uuid": "U"}
        for i in range(10_000)
    ]
    udid = json.loads(quiet(home, "bgtest", "state", "booted"))["udid"]
    for r in recs:
        r["udid"] = udid
    home.append_log(recs)
    floor = median_s(lambda: [json.dumps(r) for r in recs], runs) / len(recs)
    show = ("spawn", "booted", "log", "show", "--style", "ndjson")
    cost = median_s(lambda: quiet(home, *show), runs) / len(recs)
    print(f"log show     ndjson:        {cost * 1e6:7.1f} us/record   json.dumps: {floor * 1e6:5.1f} us   "
          f"ratio {cost / floor:5.2f}x")


def bench_wda(tmp: Path, runs: int) -> None:
    import wda

    home = SimHome(tmp / "wda")
    running = start_ios(kind="device", wda_port=0, clock="manual", home=home)
    try:
        c = wda.Client(running.url)
        floor = median_s(lambda: c.healthcheck(), runs * 10)
        cost = median_s(lambda: c.status(), runs * 10)
    finally:
        running.stop()
    print(f"wda          GET /status:    {cost * 1000:7.2f} ms   /wda/healthcheck: {floor * 1000:5.2f} ms   "
          f"ratio {cost / floor:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = SimHome(tmp / "home")
        quiet(home, "bgtest", "reset")
        bench_process(home, args.runs)
        bench_command(home, args.runs)
        bench_day(tmp, args.runs)
        bench_log(tmp, args.runs)
        bench_wda(tmp, args.runs)


if __name__ == "__main__":
    main()
