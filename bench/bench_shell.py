"""Device shell cost, in-process, as ratios against a baseline measured in the same run.

Run: ``.venv/bin/python bench/bench_shell.py [--n N]``.

Baseline: calling the ``echo`` program directly (``invoke(echo, ctx)``), which is the least a
shell can do to run ``echo hi``. Measured through ``run_command_line``: ``echo hi`` (target
<= 0.3 ms), adbutils' ``shell2`` form ``echo hi; echo X4EXIT:$?``, a quoted adb-CLI line, a
two-stage pipeline, and a cold parse (cache miss) of a typical line.
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
from harness.sim.android.procio import InputSource, OutputSink  # noqa: E402
from harness.sim.android.registry import COMMANDS, CommandContext, invoke  # noqa: E402
from harness.sim.android.shell.shell import run_command_line  # noqa: E402
from harness.sim.android.shell.shparse import parse  # noqa: E402


async def per_call(fn, n: int, rounds: int = 5) -> float:
    """Median over rounds of the mean seconds per call."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            await fn()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


async def main(n: int) -> None:
    device = VirtualAndroidDevice(serial="bench-shell")
    stdin = InputSource(b"")
    echo = COMMANDS["echo"]

    async def baseline() -> None:
        ctx = CommandContext(device, ["echo", "hi"], stdin, OutputSink(), OutputSink())
        await invoke(echo, ctx)

    def line_runner(line: str):
        async def run() -> None:
            await run_command_line(device, line, stdin, OutputSink(), OutputSink())

        return run

    base = await per_call(baseline, n)
    print(f"baseline invoke(echo) directly          {base * 1e6:8.2f} us   1.00x")
    cases = [
        ("echo hi", "echo hi"),
        ("echo hi; echo X4EXIT:$?  (adbutils)", "echo hi; echo X4EXIT:$?"),
        ("getprop 'ro.build.version.sdk' (adb CLI)", "getprop 'ro.build.version.sdk'"),
        ("echo hi | grep -c h      (pipeline)", "echo hi | grep -c h"),
    ]
    for label, line in cases:
        t = await per_call(line_runner(line), n)
        target = "   (target <= 300 us)" if line == "echo hi" else ""
        print(f"{label:<40}{t * 1e6:8.2f} us {t / base:6.2f}x{target}")
    typical = "rm -f /data/local/tmp/uidump.xml; uiautomator dump /data/local/tmp/uidump.xml && echo success"
    start = time.perf_counter()
    for i in range(n):
        parse(typical + f" # {i}")
    cold = (time.perf_counter() - start) / n
    print(f"{'cold parse of a typical line':<40}{cold * 1e6:8.2f} us {cold / base:6.2f}x")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    asyncio.run(main(ap.parse_args().n))
