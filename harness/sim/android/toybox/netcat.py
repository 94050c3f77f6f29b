"""``nc HOST PORT``: toybox netcat as a client, for the one network a virtual device has —
loopback ports that ``adb reverse`` leads to the host (how an app on a phone reaches a proxy
or a mock server on the developer's machine).
"""

from __future__ import annotations

import asyncio

from ..registry import CommandContext, command

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "ip6-localhost")
_USAGE = "usage: nc [-46Ulnt] [-pqWw #] [-s addr] {IPADDR PORTNUM|-f FILENAME|COMMAND...}"


@command("nc", "netcat")
async def netcat(ctx: CommandContext) -> int:
    args = list(ctx.argv[1:])
    while args and args[0].startswith("-") and args[0] != "-":
        flag = args.pop(0)
        if flag in ("-q", "-w", "-W", "-p", "-s") and args:
            args.pop(0)  # accepted, and with one transport to the host they change nothing here
        elif flag not in ("-4", "-6", "-n", "-t"):
            ctx.err(f"nc: Unknown option '{flag.lstrip('-')[:1]}'")
            ctx.err(_USAGE)
            return 1
    if len(args) != 2 or not args[1].isdigit():
        ctx.err(_USAGE)
        return 1
    host, port = args[0], int(args[1])
    if host not in _LOOPBACK:
        ctx.err("nc: connect: Network is unreachable")
        return 1
    connect = ctx.device.reverse_connect
    sock = await connect(port) if connect is not None else None
    if sock is None:
        ctx.err("nc: connect: Connection refused")
        return 1

    async def send() -> None:
        while data := await ctx.stdin.read():
            await sock.write(data)

    sender = asyncio.get_running_loop().create_task(send())
    try:
        while data := await sock.inbox.read():
            ctx.stdout.write(data)
            await ctx.stdout.drain()
    finally:
        sender.cancel()
        sock.close()
    return 0
