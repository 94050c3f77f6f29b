"""The Android driver's command path vs adbutils and the adb command line, same device, same run.

Issue 5's target: the driver's fast path (one short host-protocol connection per command,
shell v2, no sleeps) at <= 2 ms median per command on the virtual device, shown next to
adbutils ``shell()`` (which sleeps 10 ms in every close) and ``adb shell``.

    .venv/bin/python bench/bench_driver.py [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable

import adbutils

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.sim.android.launcher import VirtualAndroidFarm


def median_ms(fn: Callable[[], object], n: int) -> float:
    for _ in range(5):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    server = AdbServer.start_private()
    try:
        with VirtualAndroidFarm(adb_server=server) as farm:
            serial = farm.serials[0]
            driver = AndroidDevice(serial, server.host, server.port)
            client = adbutils.AdbClient(host=server.host, port=server.port).device(serial)
            cli = [server.binary, "-P", str(server.port), "-s", serial, "shell", "echo", "hi"]
            fast = median_ms(lambda: driver.sh(["echo", "hi"]), args.n)
            dumpsys = median_ms(lambda: driver.sh(["dumpsys", "deviceidle", "get", "deep"]), args.n)
            au = median_ms(lambda: client.shell("echo hi"), max(20, args.n // 5))
            adb = median_ms(
                lambda: subprocess.run(cli, capture_output=True, env=server.env), max(20, args.n // 5)
            )
    finally:
        server.stop()
    print(f"driver sh(['echo','hi'])          {fast:7.2f} ms  (target <= 2 ms)  1.00x")
    print(f"driver dumpsys deviceidle get     {dumpsys:7.2f} ms                   {dumpsys / fast:5.2f}x")
    print(f"adbutils shell('echo hi')         {au:7.2f} ms                   {au / fast:5.2f}x")
    print(f"adb -s SERIAL shell echo hi       {adb:7.2f} ms                   {adb / fast:5.2f}x")


if __name__ == "__main__":
    main()
