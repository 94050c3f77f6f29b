"""logd append and ``logcat -d`` cost, as ratios against baselines measured in the same run.

Run: ``.venv/bin/python bench/bench_logcat.py [--entries N] [--adb]``.

- append: ``device.log(...)`` per entry vs a baseline of building the same record as a tuple
  and appending it to a list (the least any log store can do);
- dump: ``logcat -d`` of N entries in three buffers, in-process, vs a baseline that formats the
  same records with one f-string each (no filters, no markers, no merge) — per-line cost and ratio;
  also ``-v time``, a tag filter that keeps 1 in 8, and ``-t 1000``;
- with ``--adb``: ``adb logcat -d`` through a private real adb server vs ``adb shell cat`` of a file
  of the same size on the same device (transport floor).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.sim.android.device import VirtualAndroidDevice  # noqa: E402
from harness.sim.android.os.logd import BUFFER_NAMES  # noqa: E402
from harness.sim.android.procio import InputSource, OutputSink  # noqa: E402
from harness.sim.android.registry import COMMANDS, CommandContext, invoke  # noqa: E402

TAGS = ["ActivityManager", "WM-WorkerWrapper", "JobScheduler", "DeviceIdleController", "NwmDemo",
        "PowerManagerService", "ConnectivityService", "AlarmManager"]


def fill(device: VirtualAndroidDevice, n: int) -> float:
    """Log n entries (about 3 per virtual second); returns seconds per append."""
    for name in BUFFER_NAMES:
        device.logd.set_size(name, 256 * 1024 * 1024)
    device.logd.clear()
    log = device.log
    advance = device.clock.advance
    t0 = time.perf_counter()
    for i in range(n):
        if i % 3 == 0:
            advance(333)
        buf = "system" if i % 7 == 0 else ("crash" if i % 997 == 0 else "main")
        log("DIWE"[i % 4], TAGS[i % len(TAGS)], f"work item {i} finished in {i % 500} ms, state=SUCCEEDED",
            pid=1000 + i % 50, tid=1000 + i % 77, uid=10000 + i % 50, buffer=buf)
    return (time.perf_counter() - t0) / n


def baseline_append(n: int) -> float:
    store: list[tuple] = []
    add = store.append
    t0 = time.perf_counter()
    for i in range(n):
        add((i, "main", 1_767_603_600_000_000_000 + i, 1000 + i % 50, 1000 + i % 77, 10000, "DIWE"[i % 4],
             TAGS[i % len(TAGS)], f"work item {i} finished in {i % 500} ms, state=SUCCEEDED"))
    return (time.perf_counter() - t0) / n


def run_logcat(device: VirtualAndroidDevice, *args: str) -> tuple[float, int]:
    out, err = OutputSink(), OutputSink()
    ctx = CommandContext(device, ["logcat", *args], InputSource(), out, err, {})
    t0 = time.perf_counter()
    rc = asyncio.run(invoke(COMMANDS["logcat"], ctx))
    elapsed = time.perf_counter() - t0
    assert rc == 0, err.getvalue()
    return elapsed, out.getvalue().count(b"\n")


def baseline_format(device: VirtualAndroidDevice) -> float:
    entries = device.logd.entries()
    t0 = time.perf_counter()
    text = "".join(
        f"{e.time_ns // 1_000_000_000} {e.pid:5d} {e.tid:5d} {e.level} {e.tag:<8}: {e.message}\n"
        for e in entries)
    text.encode()
    return time.perf_counter() - t0


def best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    return min(fn() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--adb", action="store_true", help="also measure through a real adb server")
    args = parser.parse_args()
    n = args.entries

    device = VirtualAndroidDevice()
    append_s = statistics.median(fill(device, n) for _ in range(3))
    base_append_s = statistics.median(baseline_append(n) for _ in range(3))
    print(f"append        {append_s * 1e6:7.2f} us/entry   baseline tuple+list {base_append_s * 1e6:5.2f} us"
          f"   ratio {append_s / base_append_s:4.1f}x")

    base = best(lambda: baseline_format(device))
    print(f"baseline      one f-string per entry: {base * 1000:7.1f} ms for {n} entries "
          f"({base / n * 1e6:.2f} us/line)")
    for label, argv in [("logcat -d", ["-d"]), ("-v time", ["-d", "-v", "time"]),
                        ("-s NwmDemo:D", ["-d", "-s", "NwmDemo:D"]), ("-t 1000", ["-t", "1000"])]:
        elapsed = best(lambda argv=argv: run_logcat(device, *argv)[0])
        lines = run_logcat(device, *argv)[1]
        print(f"{label:13} {elapsed * 1000:7.1f} ms  {lines:7d} lines  "
              f"{elapsed / n * 1e6:5.2f} us/entry  ratio to baseline {elapsed / base:4.2f}x")

    if args.adb:
        adb_bench(n)


def adb_bench(n: int) -> None:
    from harness.devices.adb_server import AdbServer
    from harness.sim.android.launcher import VirtualAndroidFarm

    server = AdbServer.start_private()
    try:
        with VirtualAndroidFarm(count=1, adb_server=server) as farm:
            device = farm.devices[0]
            farm.call(fill, device, n)
            serial = farm.serials[0]
            size = len(server.adb("-s", serial, "logcat", "-d").stdout.encode())
            farm.call(device.fs.write, "/data/local/tmp/same_size.txt", b"x" * (size - 1) + b"\n")

            def timed(*argv: str) -> float:
                t0 = time.perf_counter()
                server.adb("-s", serial, *argv)
                return time.perf_counter() - t0

            logcat_s = best(lambda: timed("logcat", "-d"))
            cat_s = best(lambda: timed("shell", "cat", "/data/local/tmp/same_size.txt"))
            print(f"adb logcat -d {logcat_s * 1000:7.1f} ms ({size / 1e6:.1f} MB)   adb shell cat same size "
                  f"{cat_s * 1000:7.1f} ms   ratio {logcat_s / cat_s:4.2f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
