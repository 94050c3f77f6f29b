"""Round trip of ``echo hi`` on one virtual device: adb CLI vs adbutils vs the device alone.

Run: ``.venv/bin/python bench/bench_adb_roundtrip.py [--runs N]``. Everything is measured in
the same run on the same device through a private real adb server (never 5037):

- floor: ``adb version`` (process start of the adb command line, no device involved);
- (a) ``adb -s SERIAL shell echo hi``  — target: within 1.5x of the floor;
- (b) adbutils ``device.shell("echo hi")``;
- (c) the device alone, in-process: the shell of the device (and, for reference, the whole
  adbd path from a raw in-process host over loopback) — target: <= 0.3 ms;
- boot: ``reboot`` to ``sys.boot_completed=1`` seen through adb — target: <= 0.5 s;
- idle RSS of a process running one device (a child process) — target: <= 40 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.devices.adb_server import AdbServer  # noqa: E402
from harness.sim.android.adb import adbd  # noqa: E402
from harness.sim.android.adb.packets import A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, PacketReader, pack  # noqa: E402
from harness.sim.android.device import VirtualAndroidDevice  # noqa: E402
from harness.sim.android.launcher import VirtualAndroidFarm  # noqa: E402

BOOT_WALL_S = VirtualAndroidDevice.BOOT_WALL_S
from harness.sim.android.procio import InputSource, OutputSink  # noqa: E402


class DeviceShare:
    """Wall time the device spends per command: OPEN received until its reply leaves.

    Wraps two methods of the adbd connection class in this benchmark process only.
    """

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._open_at = 0.0
        self._orig_handle = adbd.AdbConnection.handle
        self._orig_flush = adbd.AdbConnection._flush
        share = self

        def handle(conn, packet):
            if packet.command == A_OPEN:
                share._open_at = time.perf_counter()
            return share._orig_handle(conn, packet)

        def flush(conn):
            if share._open_at:
                share.samples.append((time.perf_counter() - share._open_at) * 1000.0)
                share._open_at = 0.0
            return share._orig_flush(conn)

        adbd.AdbConnection.handle = handle
        adbd.AdbConnection._flush = flush

    def take_median(self) -> float:
        value = statistics.median(self.samples) if self.samples else float("nan")
        self.samples.clear()
        return value

    def restore(self) -> None:
        adbd.AdbConnection.handle = self._orig_handle
        adbd.AdbConnection._flush = self._orig_flush


def interleaved_ms(fns, runs: int, warmup: int = 3) -> list[float]:
    """Medians of several commands measured turn by turn, so machine load hits them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            samples[i].append((time.perf_counter() - t0) * 1000.0)
    return [statistics.median(s) for s in samples]


def median_ms(fn, runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(samples)


async def device_shell_ms(device, runs: int) -> float:
    """``echo hi`` through the device's sh, on the device's own loop (no transport at all)."""
    from harness.sim.android.shell.shell import run_command_line

    samples = []
    for i in range(runs + 20):
        out, err = OutputSink(), OutputSink()
        t0 = time.perf_counter()
        await run_command_line(device, "echo hi", InputSource(b""), out, err)
        if i >= 20:
            samples.append((time.perf_counter() - t0) * 1000.0)
        assert out.getvalue() == b"hi\n"
    return statistics.median(samples)


async def adbd_raw_ms(port: int, runs: int) -> float:
    """The whole device side incl. adbd: OPEN shell:echo hi → OKAY, WRTE, CLSE, from a raw host."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    parser = PacketReader()
    queue = []

    async def recv():
        while not queue:
            queue.extend(parser.feed(await reader.read(65536)))
        return queue.pop(0)

    writer.write(pack(A_CNXN, 0x01000001, 1 << 20, b"host::"))
    assert (await recv()).command == A_CNXN
    samples = []
    for i in range(runs + 20):
        host_id = i + 1
        t0 = time.perf_counter()
        writer.write(pack(A_OPEN, host_id, 0, b"shell:echo hi\0"))
        data = b""
        while True:
            p = await recv()
            if p.command == A_WRTE:
                data += p.data
                writer.write(pack(A_OKAY, host_id, p.arg0))
            elif p.command == A_CLSE:
                break
            else:
                assert p.command == A_OKAY
        if i >= 20:
            samples.append((time.perf_counter() - t0) * 1000.0)
        assert data == b"hi\n"
    writer.close()
    return statistics.median(samples)


def boot_s(adb_server: AdbServer, farm: VirtualAndroidFarm) -> tuple[float, float]:
    """(reboot command to ``sys.boot_completed=1`` seen through adb, power-on to boot completed)."""
    import adbutils

    device = farm.devices[0]
    d = adb_server.client().device(farm.serials[0])
    boots = farm.call(lambda: device.boot_count)
    t0 = time.perf_counter()
    d.reboot()
    while True:
        try:
            if farm.call(lambda: device.boot_count) > boots and d.shell("getprop sys.boot_completed") == "1":
                break
        except adbutils.AdbError:
            pass
        time.sleep(0.005)
    return time.perf_counter() - t0, farm.daemons[0].last_boot_wall_s


class _NoSleep:
    """``time`` for adbutils' module, minus ``sleep``."""

    def __init__(self, real) -> None:
        self._real = real

    def sleep(self, seconds: float) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self._real, name)


RSS_CHILD = """
import gc, sys, time
sys.path.insert(0, {root!r})
from harness.sim.android.launcher import VirtualAndroidFarm
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
if {count}:
    farm = VirtualAndroidFarm(count={count}).start()
    gc.collect(); time.sleep(0.3)
    print(rss())
    farm.stop()
else:
    from harness.sim.android.device import load_all_commands
    load_all_commands()
    print(rss())
"""


def idle_rss_mb(count: int) -> float:
    out = subprocess.run([sys.executable, "-c", RSS_CHILD.format(root=str(ROOT), count=count)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=60, help="samples per command-line figure")
    args = ap.parse_args()
    runs = args.runs

    server = AdbServer.start_private()
    try:
        with VirtualAndroidFarm(count=1, adb_server=server) as farm:
            serial = farm.serials[0]
            adb = [server.binary, "-P", str(server.port)]

            def cli_floor() -> None:
                subprocess.run([*adb, "version"], capture_output=True, env=server.env, check=True)

            def cli_echo() -> None:
                r = subprocess.run([*adb, "-s", serial, "shell", "echo", "hi"], capture_output=True,
                                   env=server.env, check=True)
                assert r.stdout == b"hi\n"

            def cli_server_only() -> None:
                subprocess.run([*adb, "-s", serial, "get-state"], capture_output=True, env=server.env,
                               check=True)

            d = server.client().device(serial)

            def adbutils_echo() -> None:
                assert d.shell("echo hi") == "hi"

            share = DeviceShare()
            try:
                floor, server_only, cli = interleaved_ms([cli_floor, cli_server_only, cli_echo], runs)
                cli_device = share.take_median()
            finally:
                share.restore()
            via_adbutils = median_ms(adbutils_echo, runs * 5)
            # adbutils sleeps 10 ms in every connection close() (two per shell()): the same
            # call without those sleeps shows what the transport itself costs.
            import adbutils._adb as adb_module

            real_time = adb_module.time
            adb_module.time = _NoSleep(real_time)
            try:
                via_adbutils_nosleep = median_ms(adbutils_echo, runs * 5)
            finally:
                adb_module.time = real_time
            device = farm.devices[0]
            dev_shell = farm.call(lambda: device_shell_ms(device, runs * 20))
            # the raw host has no adb key: measure its round trips on an insecure adbd (the
            # per-command path is the same; AUTH only adds a round trip at connect)
            farm.call(lambda: device.props.set("ro.adb.secure", "0"))
            dev_adbd = farm.call(lambda: adbd_raw_ms(farm.ports[0], runs * 10))
            farm.call(lambda: device.props.set("ro.adb.secure", "1"))
            boot_adb, boot_dev = boot_s(server, farm)
    finally:
        server.stop()
    rss1 = idle_rss_mb(1)
    rss2 = idle_rss_mb(2)
    rss_imports = idle_rss_mb(0)

    print(f"adb round trip of `echo hi` (median; {runs} CLI runs, {runs * 5} adbutils runs)")
    print(f"  floor  adb version (process start)       {floor:8.2f} ms")
    print(f"  (a)    adb -s SERIAL shell echo hi        {cli:8.2f} ms   {cli / floor:5.2f}x floor "
          f"(target <= 1.5x)")
    print(f"         of which on the device (OPEN in -> reply out) {cli_device:5.3f} ms; adb itself "
          f"{cli - floor - cli_device:.2f} ms above its floor")
    print(f"         adb -s SERIAL get-state (server only) {server_only:5.2f} ms   "
          f"{server_only / floor:5.2f}x floor: adb's own cost of selecting a device")
    print(f"  (b)    adbutils device.shell('echo hi')   {via_adbutils:8.2f} ms")
    print(f"  (b')   the same without adbutils' sleeps  {via_adbutils_nosleep:8.2f} ms")
    print(f"  (c)    device sh alone, in-process        {dev_shell:8.3f} ms   "
          f"{dev_shell / 0.3:5.2f}x target (<= 0.3 ms)")
    print(f"         device incl. adbd, raw in-proc host {dev_adbd:7.3f} ms")
    print(f"  (a)/(c) = {cli / dev_shell:6.0f}x   (b)/(c) = {via_adbutils / dev_shell:6.0f}x")
    print(f"boot: power-on -> sys.boot_completed=1     {boot_dev:8.3f} s   {boot_dev / 0.5:5.2f}x target "
          f"(<= 0.5 s)")
    print(f"      (the adb server's 250 ms redial, then the {BOOT_WALL_S} s CNXN hold)")
    print(f"      `reboot` -> boot_completed seen via adb {boot_adb:6.3f} s "
          "(incl. the 100 ms before the drop)")
    print(f"idle RSS: process with 1 device            {rss1:8.1f} MB   {rss1 / 40:4.2f}x target (<= 40 MB)")
    print(f"          of which the imported code       {rss_imports:8.1f} MB (interpreter, asyncio, "
          "pydantic, every device module)")
    print(f"          the device itself                {rss1 - rss_imports:8.1f} MB;  "
          f"each further device {rss2 - rss1:.1f} MB")


if __name__ == "__main__":
    main()
