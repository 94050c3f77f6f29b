"""``adb reverse``: device ports that lead back to host ports, through the adb server.

``adb reverse tcp:8080 tcp:9000`` makes the server OPEN ``reverse:forward:tcp:8080;tcp:9000``
on the device; from then on a device-side connection to port 8080 makes adbd send
``OPEN(local_id, 0, "tcp:9000")`` to the host, the server connects to its own port 9000, and
the bytes flow as in any stream (AOSP daemon/services.cpp reverse_service →
adb.cpp handle_forward_request; the replies are written into the stream: ``OKAY`` or
``FAIL``+hex4+message, and ``list-forward`` answers a hex4-framed listing with no OKAY).

Rules belong to one transport and go with it, as on a phone: a reconnection starts with none.
Only a configured rule ever makes the device send an OPEN — the adb server aborts on any
other device-initiated OPEN (transport.cpp IsReverseConfigured).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .streams import AdbStream, ServiceFn

#: What a device-side socket spec may be (adb's socket_spec: tcp, local*, jdwp, …); only tcp
#: can be reached by a program on the virtual device.
_SPEC = re.compile(r"^(tcp:\d+|localabstract:\S+|localreserved:\S+|localfilesystem:\S+|local:\S+|jdwp:\d+)$")


def _framed(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):04x}".encode() + data


def _fail(message: str) -> bytes:
    return b"FAIL" + _framed(message)


class ReverseRules:
    """The reverse forwards of one transport: device spec → host spec, in creation order."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}
        self._next_port = 40000

    def answer(self, command: str) -> bytes:
        """The in-stream reply to one ``reverse:`` command."""
        if command == "list-forward":
            return _framed("".join(f"host {remote} {local}\n" for remote, local in self.rules.items()))
        if command == "killforward-all":
            self.rules.clear()
            return b"OKAY"
        if command.startswith("killforward:"):
            remote = command[len("killforward:"):]
            if self.rules.pop(remote, None) is None:
                return _fail(f"listener '{remote}' not found")
            return b"OKAY"
        if command.startswith("forward:"):
            return self._forward(command[len("forward:"):])
        return _fail("unknown reverse command")

    def _forward(self, rest: str) -> bytes:
        norebind = rest.startswith("norebind:")
        if norebind:
            rest = rest[len("norebind:"):]
        remote, sep, local = rest.partition(";")
        if not sep or not _SPEC.match(remote) or not local:
            return _fail("bad forward: " + rest)
        if norebind and remote in self.rules:
            return _fail("cannot rebind existing socket")
        if remote == "tcp:0":  # the device picks a free port and says which
            while f"tcp:{self._next_port}" in self.rules:
                self._next_port += 1
            remote = f"tcp:{self._next_port}"
            self.rules[remote] = local
            return b"OKAY" + _framed(str(self._next_port))
        self.rules[remote] = local
        return b"OKAY"

    def host_spec(self, port: int) -> str | None:
        """Where a device-side connection to ``port`` goes on the host, if anywhere."""
        return self.rules.get(f"tcp:{port}")


def reverse_service(rules: ReverseRules, command: str) -> ServiceFn:
    async def serve_reverse(stream: AdbStream) -> None:
        await stream.write(rules.answer(command))

    return serve_reverse
