"""The shell's own built-ins: what must change the shell itself (exit, cd, export, set, read …).

Everything else is a program in the command registry. Control flow (``exit``, ``break``,
``return``) travels as exceptions the interpreter catches at the right level.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..registry import COMMANDS
from .shio import SHELL_UID, ShellIO
from .shparse import ShellSyntaxError, parse_cached

if TYPE_CHECKING:
    from .shell import Shell

SH = "/system/bin/sh"


class ExitShell(Exception):
    """``exit N`` (or ``exec``): unwinds the interpreter to its caller."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class LoopControl(Exception):
    """``break N`` / ``continue N``: unwinds to the N-th enclosing loop."""

    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.levels = levels


class FunctionReturn(Exception):
    """``return N`` from a shell function."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


async def _b_exit(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    code = sh.status
    if len(argv) > 1:
        try:
            code = int(argv[1]) & 0xFF
        except ValueError:
            io.stderr.write(f"{SH}: exit: {argv[1]}: bad number\n")
            code = 1
    raise ExitShell(code)


async def _b_export(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    if len(argv) == 1 or argv[1:] == ["-p"]:
        for key in sorted(sh.vars):
            io.stdout.write(f"export {key}={sh_quote(sh.vars[key])}\n")
        return 0
    for arg in argv[1:]:
        if "=" in arg:
            key, value = arg.split("=", 1)
            sh.vars[key] = value
        else:
            sh.vars.setdefault(arg, "")
    return 0


async def _b_unset(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    for arg in argv[1:]:
        if arg != "-v":
            sh.vars.pop(arg, None)
    return 0


async def _b_cd(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/")
    if target == "-":
        target = sh.vars.get("OLDPWD", sh.cwd)
    path = sh.resolve(target)
    st = sh.device.fs.stat(path)
    if st is None:
        io.stderr.write(f"{SH}: cd: {path}: No such file or directory\n")
        return 1
    if not st.is_dir:
        io.stderr.write(f"{SH}: cd: {path}: Not a directory\n")
        return 1
    sh.vars["OLDPWD"] = sh.cwd
    sh.vars["PWD"] = path
    return 0


async def _b_pwd(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    io.stdout.write(sh.cwd + "\n")
    return 0


async def _b_colon(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    return 0


async def _b_exec(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    if len(argv) == 1:
        return 0  # ``exec`` with only redirections
    status = await sh.exec_argv(argv[1:], io, env)
    raise ExitShell(status)


async def _b_shift(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.args):
        io.stderr.write(f"{SH}: shift: nothing to shift\n")
        return 1
    del sh.args[:n]
    return 0


async def _b_eval(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    try:
        script = parse_cached(" ".join(argv[1:]))
    except ShellSyntaxError as e:
        io.stderr.write(f"{SH}: {e}\n")
        return 1
    return await sh.run_script(script, io)


async def _b_read(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    line = bytearray()
    while True:
        chunk = await io.stdin.read(1)
        if not chunk:
            break
        if chunk == b"\n":
            break
        line += chunk
    if not line and io.stdin.at_eof:
        for name in names:
            sh.vars[name] = ""
        return 1
    text = line.decode(errors="replace")
    fields = text.split(None, len(names) - 1)
    for i, name in enumerate(names):
        sh.vars[name] = fields[i].strip() if i < len(fields) else ""
    return 0


async def _b_test(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    from .testcmd import evaluate_test

    return evaluate_test(argv, sh.device, sh.resolve, io.stderr)


async def _b_type(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    status = 0
    for name in argv[1:]:
        if name in SHELL_BUILTINS:
            io.stdout.write(f"{name} is a shell builtin\n")
        elif name in COMMANDS:
            io.stdout.write(f"{name} is a tracked alias for /system/bin/{name}\n")
        else:
            io.stdout.write(f"{name} not found\n")
            status = 1
    return status


async def _b_break(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    levels = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() and int(argv[1]) > 0 else 1
    if sh.loop_depth == 0:
        return 0  # outside a loop: mksh ignores it
    raise LoopControl(argv[0], min(levels, sh.loop_depth))


async def _b_set(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    """``set -e``/``-x`` (and ``+``), ``-o pipefail``/``-u`` accepted, ``set -- ARGS``."""
    args = argv[1:]
    if not args:
        for key in sorted(sh.vars):
            io.stdout.write(f"{key}={sh_quote(sh.vars[key])}\n")
        return 0
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            sh.args = args[i + 1:]
            return 0
        if arg in ("-o", "+o"):
            i += 2
            continue
        if arg[:1] in "-+" and len(arg) > 1:
            on = arg[0] == "-"
            for flag in arg[1:]:
                if flag == "e":
                    sh.errexit = on
                elif flag == "x":
                    sh.xtrace = on
                elif flag not in "ufvnhCabm":
                    io.stderr.write(f"{SH}: set: {arg[0]}{flag}: unknown option\n")
                    return 1
        else:
            sh.args = args[i:]
            return 0
        i += 1
    return 0


async def _b_wait(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    jobs = [t for t in sh.jobs if not t.done()]
    if jobs:
        await asyncio.wait(jobs)
    return 0


async def _b_command(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    """``command -v NAME`` (where is it), ``command NAME ARGS`` (run it)."""
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        status = 0
        for name in args[1:]:
            if name in SHELL_BUILTINS:
                io.stdout.write(f"{name}\n")
            elif name in COMMANDS:
                io.stdout.write(f"/system/bin/{name}\n")
            else:
                status = 1
        return status
    if not args:
        return 0
    return await sh.exec_argv(args, io, env)


async def _b_return(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    code = int(argv[1]) & 0xFF if len(argv) > 1 and argv[1].lstrip("-").isdigit() else sh.status
    if not sh._locals:
        raise ExitShell(code)  # ``return`` outside a function ends the script, as in mksh -c
    raise FunctionReturn(code)


async def _b_local(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    for arg in argv[1:]:
        key, eq, value = arg.partition("=")
        if sh._locals and key not in sh._locals[-1]:
            sh._locals[-1][key] = sh.vars.get(key)
        sh.vars[key] = value if eq else sh.vars.get(key, "")
    return 0


async def _b_source(sh: Shell, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
    """``. FILE`` / ``source FILE``: run a script in this shell (its variables stay set)."""
    if len(argv) < 2:
        io.stderr.write(f"{SH}: {argv[0]}: missing argument\n")
        return 1
    try:
        src = sh.device.fs.read(sh.resolve(argv[1]), uid=SHELL_UID).decode(errors="replace")
    except Exception as e:  # FsError
        io.stderr.write(f"{SH}: {argv[0]}: {argv[1]}: {getattr(e, 'reason', e)}\n")
        return 1
    try:
        script = parse_cached(src)
    except ShellSyntaxError as e:
        io.stderr.write(f"{SH}: {argv[1]}: {e}\n")
        return 1
    return await sh.run_script(script, io)


SHELL_BUILTINS = {
    ".": _b_source,
    "source": _b_source,
    "return": _b_return,
    "local": _b_local,
    "typeset": _b_local,
    "break": _b_break,
    "continue": _b_break,
    "set": _b_set,
    "wait": _b_wait,
    "command": _b_command,
    "exit": _b_exit,
    "export": _b_export,
    "unset": _b_unset,
    "cd": _b_cd,
    "pwd": _b_pwd,
    ":": _b_colon,
    "exec": _b_exec,
    "shift": _b_shift,
    "eval": _b_eval,
    "read": _b_read,
    "test": _b_test,
    "[": _b_test,
    "type": _b_type,
}


def sh_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "@%+=:,./-_" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"
