"""Live logcat: streaming through the command registry, backpressure, reboot, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.procio import CallbackSink, InputSource, OutputSink
from harness.sim.android.registry import COMMANDS, CommandContext, invoke
from harness.sim.android.shell.shell import run_sync


def start(device: VirtualAndroidDevice, *args: str, out: OutputSink | None = None
          ) -> tuple[asyncio.Task[int], OutputSink]:
    sink = out or OutputSink()
    ctx = CommandContext(device, ["logcat", *args], InputSource(), sink, OutputSink(), {})
    return asyncio.ensure_future(invoke(COMMANDS["logcat"], ctx)), sink


async def until(pred: Callable[[], bool], steps: int = 200) -> None:
    """Let the loop run (no timing): yield until ``pred`` holds."""
    for _ in range(steps):
        if pred():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


def text(sink: OutputSink) -> str:
    return sink.getvalue().decode()


def fresh() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice()
    d.logd.clear()
    return d


def test_stream_prints_history_then_new_entries_until_max_count() -> None:
    async def main() -> None:
        d = fresh()
        d.log("I", "Old", "before", pid=10)
        task, out = start(d, "-v", "time", "-m", "3")
        await until(lambda: "before" in text(out))
        assert not task.done()
        d.clock.advance(250)
        d.log("I", "New", "one", pid=11)
        d.log("W", "New", "two", pid=11, buffer="system")
        await until(lambda: "two" in text(out))
        d.log("I", "New", "three", pid=11)  # not printed: -m 3 already reached
        assert await asyncio.wait_for(task, 5) == 0
        assert text(out) == (
            "--------- beginning of main\n"
            "01-05 09:00:00.000 I/Old     (   10): before\n"
            "01-05 09:00:00.250 I/New     (   11): one\n"
            "--------- beginning of system\n"
            "01-05 09:00:00.250 W/New     (   11): two\n")
        assert not d.logd._subs

    asyncio.run(main())


def test_T_count_and_future_time_then_follow() -> None:
    async def main() -> None:
        d = fresh()
        for i in range(5):
            d.log("I", "T", f"old{i}")
        task, out = start(d, "-T", "2", "-m", "3")
        task2, out2 = start(d, "-T", "2030-01-01 00:00:00.000", "-m", "1")
        await until(lambda: "old4" in text(out))
        d.log("I", "T", "new")
        assert await asyncio.wait_for(task, 5) == 0
        assert await asyncio.wait_for(task2, 5) == 0
        assert [ln.split(": ")[1] for ln in text(out).splitlines()[1:]] == ["old3", "old4", "new"]
        assert [ln.split(": ")[1] for ln in text(out2).splitlines()[1:]] == ["new"]

    asyncio.run(main())


def test_reboot_ends_the_stream_after_everything_written_before_shutdown() -> None:
    async def main() -> None:
        d = fresh()
        d.log("I", "T", "first")
        task, out = start(d)
        await until(lambda: "first" in text(out))
        d.log("I", "T", "last words")  # no chance to run before the reboot
        d.reboot_now()
        assert await asyncio.wait_for(task, 5) == 143
        assert "last words" in text(out)
        assert "System now ready" not in text(out)  # logged by the next boot
        assert not d.logd._subs

    asyncio.run(main())


def test_cancel_and_broken_pipe_propagate_and_unsubscribe() -> None:
    async def main() -> None:
        d = fresh()
        task, out = start(d)
        await until(lambda: bool(d.logd._subs))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not d.logd._subs

        task, out = start(d)
        await until(lambda: bool(d.logd._subs))
        out.close()
        d.log("I", "T", "nobody reads this")
        with pytest.raises(BrokenPipeError):
            await asyncio.wait_for(task, 5)
        assert not d.logd._subs

    asyncio.run(main())


def test_an_unread_stream_stops_the_producer() -> None:
    async def main() -> None:
        d = fresh()
        for i in range(20_000):
            d.log("I", "Flood", f"line {i}")
        gate = asyncio.Event()
        received: list[bytes] = []

        async def consumer(data: bytes) -> None:
            received.append(data)
            await gate.wait()

        sink = CallbackSink(consumer)
        task, _ = start(d, "-d", out=sink)
        await until(lambda: len(received) == 1)
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(received) == 1 and sink.pending() == 0 and not task.done()  # waiting on us
        gate.set()
        assert await asyncio.wait_for(task, 5) == 0
        assert b"".join(received).count(b"\n") == 20_000 + 1

    asyncio.run(main())


def test_what_adb_logcat_sends_through_the_shell() -> None:
    d = fresh()
    d.log("I", "Tag", "via the shell", pid=42, tid=43)
    rc, out, err = run_sync(d, "export ANDROID_LOG_TAGS=''; exec logcat '-d'")
    assert (rc, err) == (0, b"")
    assert out.decode().endswith("    42    43 I Tag     : via the shell\n")
    rc, out, _ = run_sync(d, "logcat -d -v brief -s Tag | grep -c shell")
    assert (rc, out) == (0, b"1\n")
