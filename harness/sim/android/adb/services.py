"""What an adb OPEN can name on the virtual device, and how each service talks.

``resolve_service`` maps the service string of an OPEN to a coroutine that serves the
stream, or to None — and adbd refuses with ``CLSE(0, id)``, which the adb server reports
as ``error: closed``, exactly as a phone does for a service it does not have.

Service strings (research/adb_protocol.md §4): ``shell[,arg…]:[command]`` (``v2`` selects the
shell protocol; ``TERM=…``, ``raw`` and ``pty`` are honoured or ignored), ``exec:command``,
``sync:``, ``reboot:[target]``, ``root:``, ``unroot:``, ``tcpip:PORT``, ``framebuffer:``,
``abb:``/``abb_exec:``;
``reverse:…`` is answered by the connection itself (its rules belong to that transport).
"""

from __future__ import annotations

import asyncio
import shlex
import struct
from typing import TYPE_CHECKING, Protocol

from ..procio import CallbackSink, InputSource
from ..registry import CommandContext, command
from ..shell.shio import CrlfSink

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice
    from .streams import AdbStream, ServiceFn


class AdbDaemon(Protocol):
    """What a service may ask of the daemon serving it (``adbd.AdbDaemon``)."""

    @property
    def device(self) -> VirtualAndroidDevice: ...

    def restart(self) -> None: ...

# Shell protocol (shell_v2) packet ids.
ID_STDIN = 0
ID_STDOUT = 1
ID_STDERR = 2
ID_EXIT = 3
ID_CLOSE_STDIN = 4
ID_WINDOW_SIZE = 5

_V2_HEADER = struct.Struct("<BI")
#: Largest data part of one shell-protocol packet we send (adbd's buffer is of this order).
V2_MAX_DATA = 64 * 1024 - _V2_HEADER.size
#: Largest shell-protocol packet we accept from the host: adbd reads each into a buffer of
#: MAX_PAYLOAD bytes (shell_protocol.h ShellProtocol::data_capacity) and gives up on a bigger one.
V2_MAX_IN = (1 << 20) - _V2_HEADER.size


class ShellProtocolError(ValueError):
    """The host sent a shell-protocol packet no adbd would take; the stream ends."""


def resolve_service(daemon: AdbDaemon, name: str) -> ServiceFn | None:
    """The service an OPEN names, or None when the device has no such service."""
    head, sep, rest = name.partition(":")
    if not sep:
        return None
    kind, _, arg_text = head.partition(",")
    if kind == "shell":
        return _shell_service(rest, arg_text.split(",") if arg_text else [])
    if head == "exec":
        return _exec_service(rest)
    if head == "sync" and not rest:
        from .syncsvc import serve_sync

        return serve_sync
    if head == "reboot":
        return _reboot_service(daemon, rest)
    if head == "root" and not rest:
        return _text_service("adbd cannot run as root in production builds\n")
    if head == "unroot" and not rest:
        return _text_service("adbd not running as root\n")
    if head == "tcpip":
        return _tcpip_service(daemon, rest)
    if head == "framebuffer" and not rest:
        return _framebuffer_service(daemon)
    if head in ("abb", "abb_exec") and rest:
        return _abb_service(rest.split("\0"), framed=head == "abb")
    return None


def parse_shell_args(args: list[str]) -> tuple[bool, bool | None, dict[str, str]]:
    """(v2, pty or None for the default, env) from ``shell,`` arguments; unknown ones ignored."""
    v2 = False
    pty: bool | None = None
    env: dict[str, str] = {}
    for arg in args:
        if arg == "v2":
            v2 = True
        elif arg == "raw":
            pty = False
        elif arg == "pty":
            pty = True
        elif arg.startswith("TERM="):
            env["TERM"] = arg[5:]
    return v2, pty, env


def _shell_env(env: dict[str, str]) -> dict[str, str]:
    # adbd runs the shell with TERM=dumb unless the host passed its own.
    return {"TERM": "dumb", **env}


def _shell_service(command_line: str, args: list[str]) -> ServiceFn:
    v2, pty, env = parse_shell_args(args)
    env = _shell_env(env)
    # No command: an interactive sh on a pty (the default), or with ``raw`` (the adb CLI when
    # its stdin is not a terminal) a plain sh reading its script from stdin: no prompt, no echo.
    interactive = command_line == "" and pty is not False
    if command_line == "" and pty is False:
        command_line = "sh"

    if v2:
        on_pty = bool(pty) and not interactive

        async def serve_v2(stream: AdbStream) -> None:
            await run_shell_v2(stream, command_line, interactive, env, on_pty)

        return serve_v2

    async def serve_v1(stream: AdbStream) -> None:
        await run_shell_v1(stream, command_line, interactive, env)

    return serve_v1


def _exec_service(command_line: str) -> ServiceFn:
    async def serve_exec(stream: AdbStream) -> None:
        await run_shell_v1(stream, command_line, False, _shell_env({}))

    return serve_exec


async def run_shell_v1(stream: AdbStream, line: str, interactive: bool, env: dict[str, str]) -> None:
    """Raw shell: stdout and stderr share the stream (one sink keeps their order); no exit code."""
    from ..shell import shell

    sink = CallbackSink(stream.write)
    if interactive:
        await shell.run_interactive(stream.device, stream.inbox, sink, env)
    else:
        await shell.run_command_line(stream.device, line, stream.inbox, sink, sink, env)
    await sink.drain()


def v2_packets(packet_id: int, data: bytes) -> bytes:
    """``data`` as shell-protocol packets of at most :data:`V2_MAX_DATA` bytes each."""
    if len(data) <= V2_MAX_DATA:
        return _V2_HEADER.pack(packet_id, len(data)) + data
    parts = []
    for start in range(0, len(data), V2_MAX_DATA):
        chunk = data[start:start + V2_MAX_DATA]
        parts.append(_V2_HEADER.pack(packet_id, len(chunk)))
        parts.append(chunk)
    return b"".join(parts)


class V2InputParser:
    """Shell-protocol packets from the host, parsed as a byte stream (they span/share WRTEs)."""

    def __init__(self, stdin: InputSource) -> None:
        self._buf = bytearray()
        self.stdin = stdin
        self.window_size = ""

    def feed(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        while len(buf) >= _V2_HEADER.size:
            packet_id, length = _V2_HEADER.unpack_from(buf)
            if length > V2_MAX_IN:
                raise ShellProtocolError(f"shell protocol packet of {length} bytes (at most {V2_MAX_IN})")
            end = _V2_HEADER.size + length
            if len(buf) < end:
                return
            payload = bytes(buf[_V2_HEADER.size:end])
            del buf[:end]
            if packet_id == ID_STDIN:
                if payload:
                    self.stdin.feed(payload)
            elif packet_id == ID_CLOSE_STDIN:
                self.stdin.feed_eof()
            elif packet_id == ID_WINDOW_SIZE:
                self.window_size = payload.decode("ascii", "replace")
            # Anything else from the host (an exit packet?) means nothing to a device.


async def run_shell_v2(
    stream: AdbStream, line: str, interactive: bool, env: dict[str, str], on_pty: bool = False
) -> None:
    """Shell protocol: stdin/close-stdin in, stdout/stderr/exit out, then the stream closes.

    ``on_pty`` (``adb shell -t CMD``): the command's stdout and stderr are the same terminal,
    so everything arrives as stdout, with the pty's ``\n`` → ``\r\n``
    (daemon/shell_service.cpp gives a pty subprocess one fd for both).
    """
    from ..shell import shell

    stdin = InputSource(eof=False)
    parser = V2InputParser(stdin)

    async def pump() -> None:
        while True:
            data = await stream.inbox.read()
            if not data:
                stdin.feed_eof()
                return
            try:
                parser.feed(data)
            except ShellProtocolError:
                stdin.feed_eof()
                stream.cancel()  # the command goes with its stream, as adbd kills the subprocess
                return

    async def send_out(data: bytes) -> None:
        await stream.write(v2_packets(ID_STDOUT, data))

    async def send_err(data: bytes) -> None:
        await stream.write(v2_packets(ID_STDERR, data))

    stdout = CallbackSink(send_out)
    stderr = CallbackSink(send_err)
    pumper = asyncio.get_running_loop().create_task(pump())
    try:
        if interactive:
            status = await shell.run_interactive(stream.device, stdin, stdout, env)
            status = 0 if status is None else status
        elif on_pty:
            terminal = CrlfSink(stdout)
            status = await shell.run_command_line(stream.device, line, stdin, terminal, terminal, env)
        else:
            status = await shell.run_command_line(stream.device, line, stdin, stdout, stderr, env)
        # What is left, and the exit status, in one WRTE: one round trip fewer per command.
        tail = b""
        err = stderr.take()
        if err:
            tail += v2_packets(ID_STDERR, err)
        out = stdout.take()
        if out:
            tail += v2_packets(ID_STDOUT, out)
        tail += _V2_HEADER.pack(ID_EXIT, 1) + bytes([int(status) & 0xFF])
        await stream.write(tail)
    finally:
        pumper.cancel()


def _abb_service(args: list[str], framed: bool) -> ServiceFn:
    """``abb:``/``abb_exec:``: the Android Binder Bridge — a ``cmd`` call without a shell.

    Arguments come NUL-separated (daemon/abb.cpp); ``abb`` speaks the shell protocol,
    ``abb_exec`` is raw like ``exec:`` (the adb CLI's streamed ``adb install`` uses it:
    ``abb_exec:package\0install\0-S\0<size>``, then the APK bytes).
    """
    line = shlex.join(["cmd", *args])
    if framed:

        async def serve_abb(stream: AdbStream) -> None:
            await run_shell_v2(stream, line, False, _shell_env({}))

        return serve_abb
    return _exec_service(line)


def _text_service(text: str) -> ServiceFn:
    async def serve_text(stream: AdbStream) -> None:
        await stream.write(text.encode())

    return serve_text


def _reboot_service(daemon: AdbDaemon, target: str) -> ServiceFn:
    async def serve_reboot(stream: AdbStream) -> None:
        # adbd runs `/system/bin/reboot <target>`, which never returns ("don't return early…
        # scripts which do adb reboot && adb wait-for-device"): the stream stays open until the
        # link drops, so `adb reboot` returns only once the device is really going down.
        if daemon.device.request_reboot(target):
            await _forever()

    return serve_reboot


async def _forever() -> None:
    """Wait until cancelled (the connection drops under a rebooting device)."""
    await asyncio.Event().wait()


#: framebuffer: v2 header (daemon/framebuffer_service.cpp): version, bpp, colorSpace, size,
#: width, height, then offset/length of red, blue, green, alpha. colorSpace 1 is sRGB; 0
#: (unknown) makes adbutils re-read the header as v1.
_FB_HEADER = struct.Struct("<14I")


def _framebuffer_service(daemon: AdbDaemon) -> ServiceFn:
    async def serve_framebuffer(stream: AdbStream) -> None:
        from ..commands.screencap import HEIGHT, WIDTH, raw_pixels

        pixels = raw_pixels(bool(daemon.device.power.interactive))
        header = _FB_HEADER.pack(2, 32, 1, len(pixels), WIDTH, HEIGHT, 0, 8, 16, 8, 8, 8, 24, 8)
        await stream.write(header + pixels)

    return serve_framebuffer


def _tcpip_service(daemon: AdbDaemon, port_text: str) -> ServiceFn:
    async def serve_tcpip(stream: AdbStream) -> None:
        try:
            port = int(port_text)
        except ValueError:
            port = 0
        if port <= 0:
            await stream.write(f"invalid port {port_text}\n".encode())
            return
        await stream.write(f"restarting in TCP mode port: {port}\n".encode())
        # adbd restarts: the connection drops and the adb server redials. The virtual device
        # keeps its one loopback port (5555 is the emulator probe's and never ours).
        daemon.restart()

    return serve_tcpip


@command("reboot")
async def reboot_command(ctx: CommandContext) -> int:
    """``reboot [-n] [REASON]`` (adbutils' reboot() sends ``shell:reboot``): prints nothing.

    ``-p`` (power off) is refused: a virtual device that powers off would never come back.
    """
    args = ctx.argv[1:]
    options = [a for a in args if a.startswith("-")]
    if any(opt != "-n" for opt in options):
        ctx.err("usage: reboot [-n] [-p] [rebootcommand]")
        return 1
    targets = [a for a in args if not a.startswith("-")]
    if ctx.device.request_reboot(targets[0] if targets else ""):
        await _forever()  # android_reboot() then `while (1) pause();` (system/core reboot.c)
    return 0


@command("remount")
def remount_command(ctx: CommandContext) -> int:
    """``remount`` (what ``adb remount`` runs where ``remount_shell`` is advertised).

    fs_mgr_remount.cpp refuses on a non-debuggable build before anything else.
    """
    if ctx.device.props.get("ro.debuggable") != "1":
        ctx.err("Device must be userdebug build")
        return 1
    if ctx.uid != 0:
        ctx.err('Not running as root. Try "adb root" first.')
        return 1
    ctx.out("Remount succeeded")
    return 0
