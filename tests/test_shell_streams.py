"""Streaming through the shell: ``logcat | grep``, backpressure, cancellation, the interactive pty shell."""

from __future__ import annotations

import asyncio

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.procio import CallbackSink, InputSource, OutputSink
from harness.sim.android.shell.shell import run_command_line, run_interactive


async def settle(n: int = 30) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def test_logcat_into_grep_streams_each_match() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="stream")
        got: list[bytes] = []

        async def consume(data: bytes) -> None:
            got.append(data)

        task = asyncio.ensure_future(
            run_command_line(
                dev,
                "logcat -v brief | grep -F Hello",
                InputSource(b"", eof=False),
                CallbackSink(consume),
                OutputSink(),
            )
        )
        await settle()
        dev.log("I", "Test", "Hello one")
        dev.log("I", "Test", "unrelated")
        await settle()
        assert b"".join(got).count(b"Hello") == 1
        dev.log("I", "Test", "Hello two")
        await settle()
        assert b"".join(got).count(b"Hello") == 2 and b"unrelated" not in b"".join(got)
        assert not task.done()
        task.cancel()  # the adb stream closed
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_head_ends_an_endless_producer() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="head")
        out = OutputSink()
        rc = await asyncio.wait_for(
            run_command_line(dev, "logcat | head -n 1", InputSource(b""), out, OutputSink()), 5
        )
        assert rc == 0 and out.getvalue() == b"--------- beginning of main\n"

    asyncio.run(scenario())


def test_pipe_backpressure_moves_large_data() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="big")
        dev.fs.write("/data/local/tmp/big", b"x" * 99 + b"\n" * 1 + (b"y" * 99 + b"\n") * 20_000)
        out = OutputSink()
        rc = await run_command_line(
            dev, "cat /data/local/tmp/big | wc -l", InputSource(b""), out, OutputSink()
        )
        assert (rc, out.getvalue()) == (0, b"20001\n")
        out2 = OutputSink()
        rc = await run_command_line(
            dev, "cat /data/local/tmp/big | grep -c y", InputSource(b""), out2, OutputSink()
        )
        assert (rc, out2.getvalue()) == (0, b"20000\n")

    asyncio.run(scenario())


def test_stdin_reaches_the_first_command() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="stdin")
        out = OutputSink()
        rc = await run_command_line(dev, "cat | tr a-z A-Z", InputSource(b"piped in\n"), out, OutputSink())
        assert (rc, out.getvalue()) == (0, b"PIPED IN\n")

    asyncio.run(scenario())


def test_interactive_session() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="pty", model="Pixel 7")
        keys = InputSource(b"", eof=False)
        screen = OutputSink()
        task = asyncio.ensure_future(run_interactive(dev, keys, screen))
        await settle(5)
        assert screen.getvalue() == b"panther:/ $ "
        keys.feed(b"echo hi\r")
        await settle()
        assert screen.take() == b"panther:/ $ echo hi\r\nhi\r\npanther:/ $ "
        keys.feed(b"false\n")
        await settle()
        assert screen.take().endswith(b"1|panther:/ $ ")
        keys.feed(b"cd /sdcard\nfor i in 1 2\n")
        await settle()
        # typed-ahead lines are echoed at once, as a pty does, then the prompts follow
        assert screen.take() == b"cd /sdcard\r\nfor i in 1 2\r\npanther:/sdcard $ > "
        keys.feed(b"do echo $i; done\n")
        await settle()
        assert b"1\r\n2\r\n" in screen.take()
        keys.feed(b"exit 3\n")
        assert await asyncio.wait_for(task, 5) == 3

    asyncio.run(scenario())


def test_interactive_end_of_input() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="pty-eof")
        keys = InputSource(b"nosuch\n")
        screen = OutputSink()
        rc = await asyncio.wait_for(run_interactive(dev, keys, screen), 5)
        assert rc == 127
        assert b"/system/bin/sh: nosuch: inaccessible or not found\r\n" in screen.getvalue()

    asyncio.run(scenario())


def test_background_job_does_not_block() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="bg")
        out = OutputSink()
        rc = await run_command_line(
            dev, "sleep 5 & echo $! | grep -c '[0-9]'", InputSource(b""), out, OutputSink()
        )
        assert (rc, out.getvalue()) == (0, b"1\n")

    asyncio.run(scenario())


def test_earlier_output_goes_out_before_a_later_command_runs() -> None:
    """``echo a; sleep 60; echo b``: a reaches the host before the sleep; b waits for the exit packet."""

    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="order")
        seen: list[tuple[int, bytes]] = []

        async def consume(data: bytes) -> None:
            seen.append((dev.clock.now_ms(), data))

        t0 = dev.clock.now_ms()
        sink = CallbackSink(consume)
        rc = await run_command_line(dev, "echo a; sleep 60; echo b", InputSource(b""), sink, sink)
        assert rc == 0
        assert seen == [(t0, b"a\n")]
        assert sink.take() == b"b\n"  # left for the adbd to send with the exit status

    asyncio.run(scenario())


def test_ctrl_c_stops_a_streaming_command_in_the_interactive_shell() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="pty-ctrl-c", model="Pixel 7")
        keys = InputSource(b"", eof=False)
        screen = OutputSink()
        task = asyncio.ensure_future(run_interactive(dev, keys, screen))
        await settle(5)
        keys.feed(b"logcat -v brief -s Demo\r")
        await settle()
        dev.log("I", "Demo", "streamed while typing")
        await settle()
        assert b"I/Demo" in screen.getvalue() and b"streamed while typing" in screen.getvalue()
        keys.feed(b"\x03")
        await settle()
        assert screen.getvalue().endswith(b"^C\r\n130|panther:/ $ ")
        keys.feed(b"echo still here\r")
        await settle()
        assert screen.getvalue().endswith(b"still here\r\npanther:/ $ ")
        keys.feed_eof()
        assert await asyncio.wait_for(task, 5) == 0

    asyncio.run(scenario())


def test_interactive_command_reads_the_keyboard_until_ctrl_d() -> None:
    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="pty-cat", model="Pixel 7")
        keys = InputSource(b"", eof=False)
        screen = OutputSink()
        task = asyncio.ensure_future(run_interactive(dev, keys, screen))
        await settle(5)
        keys.feed(b"cat > /data/local/tmp/typed\r")
        await settle()
        keys.feed(b"first line\r")
        await settle()
        keys.feed(b"\x04")
        await settle()
        assert dev.fs.read("/data/local/tmp/typed") == b"first line\n"
        assert screen.getvalue().endswith(b"first line\r\npanther:/ $ ")
        keys.feed(b"sleep 1; echo slept\rtypeahead-echo\r")  # typed while a command runs
        await settle(60)
        assert b"/system/bin/sh: typeahead-echo: inaccessible or not found" in screen.getvalue()
        keys.feed_eof()
        assert await asyncio.wait_for(task, 5) == 127

    asyncio.run(scenario())


def test_quick_commands_leave_output_for_one_write() -> None:
    """adbutils' ``cmd; echo X4EXIT:$?``: nothing is sent early, the adbd sends it all with the exit."""

    async def scenario() -> None:
        dev = VirtualAndroidDevice(serial="one-write")
        writes: list[bytes] = []

        async def consume(data: bytes) -> None:
            writes.append(data)

        sink = CallbackSink(consume)
        rc = await run_command_line(
            dev, "getprop ro.build.version.sdk; echo X4EXIT:$?", InputSource(b""), sink, sink
        )
        assert rc == 0 and writes == []
        assert sink.take() == b"34\nX4EXIT:0\n"
        rc = await run_command_line(
            dev, "for i in 1 2; do echo $i; done; echo end", InputSource(b""), sink, sink
        )
        assert writes == [b"1\n", b"2\n"]  # a loop streams as it goes
        assert sink.take() == b"end\n"

    asyncio.run(scenario())
