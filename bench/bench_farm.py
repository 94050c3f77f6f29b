"""Device farms: speed-up of ``bgtest run -n 1/2/4/8`` over 8 virtual devices, and 32 virtual
devices in one ``bgtest sim android`` process (memory, responsiveness).

Run: ``.venv/bin/python bench/bench_farm.py [--only workers|scale] [--count 32] [--samples 30]
[--scenarios 16]``.

**workers**: the same 16 scenarios (launch, enqueue, unplug, deep Doze, 2 h wait, expect the
periodic sync) with ``bgtest run --adb-server … -n N`` for N = 1, 2, 4, 8 against one
``bgtest sim android --count 8``; wall time and speed-up against ``-n 1`` of the same run. The
ceiling on a 2-core machine is 2x at best: the xdist workers, the 8 device threads (one
process, one interpreter lock) and the adb server share the two cores, and each extra worker
pays its own start-up (importing bgtest, its first leases).

**scale**: each virtual device runs on its own thread (harness/sim/android/launcher.py), so one busy
device must not stall another's ``adb shell``. Measured, all in this run, each process started
the way a user starts it (``bgtest sim android --count N`` on a private adb server):

- RSS of the process holding 1 device (the baseline) and N devices, and per device added;
- ``adb shell echo ok`` latency (median and p90, through the real adb server) on one device:
  1 device alone (baseline); N devices idle; N devices while the N-1 others each advance
  24-hour days in a loop (``cmd bgtest clock advance 24h``, ~2,000 clock events a day each);
  and 2 devices while the other advances 30 days in one command (the issue's stall: with one
  shared loop the echo waited for the whole advance).

Ratios are to the 1-device figures of the same run. On 2 cores the loaded figure is bound by
CPU, not by the design: N-1 devices advancing days saturate both cores (the devices share one
interpreter lock, and adb and this script need CPU too); the point is that the echo is served
between their events instead of after them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.devices.adb_server import AdbServer, free_port  # noqa: E402
from harness.devices.android import AndroidDevice  # noqa: E402


@contextmanager
def sim(count: int) -> Iterator[tuple[subprocess.Popen[str], AdbServer, list[str]]]:
    """``bgtest sim android --count N`` on a private adb server; its pid, the server, the serials."""
    server = AdbServer(port=free_port())
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "android", "--count", str(count), "--adb-port",
         str(server.port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=server.env,
    )
    serials: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("adb -P"):
                break
            serials.append(line.split("\t", 1)[0])
        if len(serials) != count:
            raise SystemExit(f"bgtest sim android --count {count} started {len(serials)} devices")
        yield proc, server, serials
    finally:
        proc.terminate()
        proc.wait(120)
        server.adb("kill-server", check=False)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def echo_ms(device: AndroidDevice, samples: int) -> tuple[float, float]:
    """Median and p90 of ``adb shell echo ok`` in milliseconds."""
    for _ in range(5):  # warm up: the server's transport, the device's shell, this client
        device.sh(["echo", "ok"])
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        assert device.sh(["echo", "ok"]).out.strip() == "ok"
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.9))]


@contextmanager
def busy(devices: list[AndroidDevice], advance: str, once: bool = False) -> Iterator[list[float]]:
    """Each device advances its clock by ``advance`` in a loop (or once) on its own client thread;
    yields the wall seconds of each advance done (filled as they end)."""
    stop = threading.Event()
    days: list[float] = []
    started = threading.Barrier(len(devices) + 1)

    def work(device: AndroidDevice) -> None:
        started.wait()
        while not stop.is_set():
            begun = time.perf_counter()
            device.sh(["cmd", "bgtest", "clock", "advance", advance], timeout=600)
            days.append(time.perf_counter() - begun)
            if once:
                return

    threads = [threading.Thread(target=work, args=(d,), daemon=True) for d in devices]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.5)  # let every advance reach its device before measuring (a bench, not a test)
    try:
        yield days
    finally:
        stop.set()
        for thread in threads:
            thread.join(600)


SCENARIO = """\
name: farm bench {i}
app: {{model: nwm_demo}}
platforms: [android]
steps:
  - launch: {{deep_link: "nwmdemo://enqueue/periodic-sync"}}
  - expect: {{task: periodic-sync, state: enqueued, within: 10s}}
  - battery: unplugged
  - doze: deep
  - wait: 2h
  - expect: {{task: periodic-sync, state: succeeded, count: ">= 1", within: 2h}}
"""


def workers(scenarios: int, devices: int = 8) -> None:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="bgtest-bench-farm-"))
    flows = folder / "flows"
    flows.mkdir()
    for i in range(scenarios):
        (flows / f"s{i:02d}.yaml").write_text(SCENARIO.format(i=i))
    walls: dict[int, float] = {}
    scenario_walls: dict[int, float] = {}
    load_before = os.getloadavg()[0]
    with sim(devices) as (_proc, server, serials):
        for n in (1, 2, 4, 8):
            env = dict(server.env, XDG_RUNTIME_DIR=str(folder / f"leases-{n}"))
            start = time.perf_counter()
            run = subprocess.run(
                [sys.executable, "-m", "harness.cli", "run", str(flows), "--adb-server",
                 f"127.0.0.1:{server.port}", "-n", str(n), "-q", "--report", str(folder / f"report-{n}")],
                capture_output=True, text=True, cwd=ROOT, env=env,
            )
            walls[n] = time.perf_counter() - start
            if run.returncode != 0:
                said = f"{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
                raise SystemExit(f"-n {n} exited {run.returncode}:\n{said}")
            results = json.loads((folder / f"report-{n}" / "results.json").read_text())
            used = {r["device"]["serial"] for r in results}
            scenario_walls[n] = statistics.mean(r["wall_s"] for r in results)
            print(f"  -n {n}: {walls[n]:6.2f} s wall, {len(used)} of {len(serials)} devices used", flush=True)
    print(f"bgtest run: {scenarios} scenarios over {devices} virtual devices (`bgtest sim android --count "
          f"{devices}`), {os.cpu_count()} cores, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    print("  workers   wall      speed-up vs -n 1   mean scenario wall (its own steps)")
    for n, wall in walls.items():
        tag = "  (baseline)" if n == 1 else " " * 12
        print(f"  -n {n}   {wall:7.2f} s   {walls[1] / wall:5.2f}x{tag}"
              f"   {scenario_walls[n]:5.2f} s ({scenario_walls[n] / scenario_walls[1]:4.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("workers", "scale"), default=None)
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--scenarios", type=int, default=16)
    args = ap.parse_args()
    if args.only in (None, "workers"):
        workers(args.scenarios)
    if args.only in (None, "scale"):
        scale(args.count, args.samples)


def scale(n: int, samples: int) -> None:
    with sim(1) as (proc, server, serials):
        time.sleep(1.0)
        rss1 = rss_mb(proc.pid)
        one = AndroidDevice(serials[0], server.host, server.port)
        echo1 = echo_ms(one, samples)
    with sim(2) as (proc, server, serials):
        target, other = (AndroidDevice(s, server.host, server.port) for s in serials)
        echo_one_other_idle = echo_ms(target, samples)
        with busy([other], "30d", once=True) as month:
            stalled = echo_ms(target, samples)
    with sim(n) as (proc, server, serials):
        time.sleep(1.0)
        rss_n = rss_mb(proc.pid)
        devices = [AndroidDevice(s, server.host, server.port) for s in serials]
        idle = echo_ms(devices[0], samples)
        start = time.perf_counter()
        with busy(devices[1:], "24h") as days:
            loaded = echo_ms(devices[0], samples)
            wall = time.perf_counter() - start
        rss_loaded = rss_mb(proc.pid)

    print(f"bgtest sim android: {n} virtual devices in one process (a thread each), against 1; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  RSS, 1 device                        {rss1:8.1f} MB   baseline")
    print(f"  RSS, {n:2d} devices idle                 {rss_n:8.1f} MB   {rss_n / rss1:5.2f}x   "
          f"+{(rss_n - rss1) / (n - 1):.1f} MB per device added")
    print(f"  RSS, {n:2d} devices after the load       {rss_loaded:8.1f} MB   {rss_loaded / rss1:5.2f}x")
    print(f"`adb shell echo ok` on one device, median / p90 ({samples} samples each)")
    print(f"  1 device                             {echo1[0]:8.1f} / {echo1[1]:7.1f} ms   baseline")
    quiet = echo_one_other_idle
    print(f"  2 devices, the other idle            {quiet[0]:8.1f} / {quiet[1]:7.1f} ms   "
          f"{quiet[0] / echo1[0]:6.2f}x")
    print(f"  2 devices, the other advancing 30 d  {stalled[0]:8.1f} / {stalled[1]:7.1f} ms   "
          f"{stalled[0] / echo1[0]:6.2f}x   (the advance took {month[0] * 1000:.0f} ms: one shared loop "
          "would have held the echo that long)")
    print(f"  {n} devices, the others idle         {idle[0]:8.1f} / {idle[1]:7.1f} ms   "
          f"{idle[0] / echo1[0]:6.2f}x")
    print(f"  {n} devices, {n - 1} advancing 24 h days  {loaded[0]:8.1f} / {loaded[1]:7.1f} ms   "
          f"{loaded[0] / echo1[0]:6.2f}x   ({len(days)} device-days in {wall:.1f} s)")


if __name__ == "__main__":
    main()
