"""Where device commands are declared: ``/system/bin`` programs, ``cmd`` services, ``dumpsys`` sections.

A module declares what it answers with the decorators below; ``device.py`` imports every
module of this package once, so adding a command never means editing a central list.
A command is ``async def run(ctx: CommandContext) -> int`` (or a plain function returning int).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .procio import InputSource, OutputSink

if TYPE_CHECKING:
    from .device import VirtualAndroidDevice


@dataclass
class CommandContext:
    """What a running command sees: its device, argv, stdio and environment."""

    device: VirtualAndroidDevice
    argv: list[str]
    stdin: InputSource
    stdout: OutputSink
    stderr: OutputSink
    env: dict[str, str] = field(default_factory=dict)
    uid: int = 2000  # the shell user; root is 0

    def out(self, text: str = "", end: str = "\n") -> None:
        self.stdout.write(text + end)

    def err(self, text: str = "", end: str = "\n") -> None:
        self.stderr.write(text + end)

    def sub(self, argv: list[str]) -> CommandContext:
        """The same stdio and environment for a sub-command (``cmd X`` → service X)."""
        return CommandContext(self.device, argv, self.stdin, self.stdout, self.stderr, self.env, self.uid)


CommandFn = Callable[[CommandContext], int | Awaitable[int]]

#: ``/system/bin`` programs and shell built-ins, by name.
COMMANDS: dict[str, CommandFn] = {}
#: ``cmd <service> ...`` handlers, by service name (argv[0] is the service name).
CMD_SERVICES: dict[str, CommandFn] = {}
#: ``dumpsys <section> ...`` handlers, by section (argv[0] is the section name).
DUMPSYS_SECTIONS: dict[str, CommandFn] = {}


def _register(table: dict[str, CommandFn], names: tuple[str, ...]) -> Callable[[CommandFn], CommandFn]:
    def deco(fn: CommandFn) -> CommandFn:
        for name in names:
            if name in table:
                raise ValueError(f"{name!r} is declared twice")
            table[name] = fn
        return fn

    return deco


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Declare a program reachable from the device shell by these names."""
    return _register(COMMANDS, names)


def cmd_service(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Declare a ``cmd <name>`` service."""
    return _register(CMD_SERVICES, names)


def dumpsys_section(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Declare a ``dumpsys <name>`` section."""
    return _register(DUMPSYS_SECTIONS, names)


async def invoke(fn: CommandFn, ctx: CommandContext) -> int:
    """Run a command function, sync or async, and return its exit status (0–255)."""
    result = fn(ctx)
    if inspect.isawaitable(result):
        result = await result
    return int(result or 0) & 0xFF
