"""The device's ``/system/bin/sh``: runs what ``adb shell`` sends, as mksh on a phone would.

Hosts send real command lines: adbutils appends ``; echo X4EXIT:$?``, the adb CLI single-quotes
every argument, people paste ``while [ "$(getprop sys.boot_completed)" != 1 ]; do sleep 1;
done``. Each has to behave as on a phone, exit codes and error texts included, because the
harness decides pass/fail from them.

Parsing lives in ``shparse.py`` (parsed lines are cached: the same few lines are sent thousands
of times), stdio plumbing in ``shio.py``, arithmetic and patterns in ``shexpr.py``, the shell's
own built-ins (``exit``, ``cd``, ``export``, ``set`` …) in ``shbuiltins.py``; programs live in
the command registry (``registry.py``). This module is the interpreter and its entry points.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import posixpath
import random
from typing import TYPE_CHECKING

from ..procio import InputSource, OutputSink
from ..registry import COMMANDS, CommandContext, command, invoke
from .shbuiltins import SHELL_BUILTINS, ExitShell, FunctionReturn, LoopControl, sh_quote
from .shexpr import ArithEval, arith_word, glob_regex, trim_pattern
from .shio import SHELL_UID, CrlfSink, FileSink, NullSink, PipeSink, PipeSource, ShellIO, has_pending
from .shparse import (
    AndOr,
    Case,
    For,
    FuncDef,
    Group,
    If,
    Loop,
    Pipeline,
    Redir,
    Script,
    ShellSyntaxError,
    Simple,
    Word,
    parse,
    parse_cached,
)

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

SH = "/system/bin/sh"
#: The PATH adbd gives a shell on Android 14.
DEFAULT_PATH = (
    "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:/system_ext/bin:"
    "/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin"
)
_BASE_ENV = {
    "ANDROID_ART_ROOT": "/apex/com.android.art",
    "ANDROID_DATA": "/data",
    "ANDROID_ROOT": "/system",
    "ANDROID_STORAGE": "/storage",
    "EXTERNAL_STORAGE": "/sdcard",
    "HOME": "/",
    "LOGNAME": "shell",
    "PATH": DEFAULT_PATH,
    "SHELL": "/bin/sh",
    "TMPDIR": "/data/local/tmp",
    "USER": "shell",
    "PWD": "/",
}
#: Directories whose programs are the registered commands (``/system/bin/ls`` runs ``ls``).
BIN_DIRS = ("/system/bin", "/system/xbin", "/bin", "/vendor/bin", "/product/bin", "/system_ext/bin")
_IFS_WS = " \t\n"
_BACKGROUND: set[asyncio.Task] = set()
_DYNAMIC_VARS = frozenset({"RANDOM", "SECONDS", "PPID", "BASHPID"})
_MAY_WAIT: dict[object, bool] = {}


def _may_wait(fn: object) -> bool:
    """Whether a program is a coroutine function (it can wait); sync ones finish at once."""
    known = _MAY_WAIT.get(fn)
    if known is None:
        known = _MAY_WAIT[fn] = inspect.iscoroutinefunction(fn)
    return known


async def _flush(io: ShellIO) -> None:
    for sink in (io.stdout, io.stderr):
        if has_pending(sink):
            try:
                await sink.drain()
            except BrokenPipeError:
                pass


class _CommandFailed(Exception):
    """An expansion error that aborts the current command (message already printed)."""


# ---------------------------------------------------------------------- stdio plumbing


# -------------------------------------------------------------------------- the shell
class Shell:
    """One ``sh`` process: variables, ``$?``, working directory, positional parameters."""

    def __init__(
        self,
        device: VirtualAndroidDevice,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        parent: Shell | None = None,
        arg0: str = SH,
    ) -> None:
        self.device = device
        self.arg0 = parent.arg0 if parent is not None else arg0
        #: the ``sh`` process this shell runs in: subshells report and release their root's pid
        self._root: Shell = parent._root if parent is not None else self
        if parent is not None:
            self.vars = dict(parent.vars)
            self.status = parent.status
            self.args = list(parent.args)
            self._pid = 0
        else:
            self.vars = dict(_BASE_ENV)
            self.vars["HOSTNAME"] = device.props.get("ro.product.device", "localhost")
            if env:
                self.vars.update(env)
            self.status = 0
            self.args = args or []
            self._pid = 0
        self.last_bg_pid = parent.last_bg_pid if parent is not None else ""
        self.errexit = parent.errexit if parent is not None else False
        self.xtrace = parent.xtrace if parent is not None else False
        self.loop_depth = 0
        self.functions: dict[str, object] = dict(parent.functions) if parent is not None else {}
        self._locals: list[dict[str, str | None]] = []
        self._rng: random.Random | None = None
        self._started_ms = device.clock.now_ms()
        self.jobs: list[asyncio.Task] = []
        self._final = True  # whether the last and-or list ended with a pipeline that set $?

    # ------------------------------------------------------------ identity
    @property
    def pid(self) -> int:
        """This shell's pid, spawned into the process table the first time someone asks."""
        root = self._root
        if not root._pid:
            root._pid = self.device.procs.spawn("sh", SHELL_UID, user="shell").pid
        return root._pid

    def release(self) -> None:
        if self._pid:
            self.device.procs.kill(self._pid)
            self._pid = 0

    @property
    def cwd(self) -> str:
        return self.vars.get("PWD", "/") or "/"

    def resolve(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, path)) if path else path

    # ------------------------------------------------------------ running
    async def run_script(self, script: Script, io: ShellIO, cond: bool = False) -> int:
        """Run a list; ``cond`` marks an if/while condition, where ``set -e`` does not apply."""
        for ao, background in script.items:
            if background:
                self._start_background(ao, io)
                continue
            await self.run_and_or(ao, io)
            if self.errexit and self.status and self._final and not cond:
                raise ExitShell(self.status)
        return self.status

    def _start_background(self, ao: AndOr, io: ShellIO) -> None:
        """``cmd &``: a child shell with its own pid that outlives this one, as on a phone."""
        child = Shell(self.device, parent=self)
        proc = self.device.procs.spawn("sh", SHELL_UID, user="shell", ppid=self.pid)
        bg_io = ShellIO(InputSource(b""), io.stdout, io.stderr)

        async def job() -> None:
            try:
                await child.run_and_or(ao, bg_io)
            except (ExitShell, BrokenPipeError):
                pass
            finally:
                self.device.procs.kill(proc.pid)

        task = asyncio.ensure_future(job())
        self.jobs.append(task)
        _BACKGROUND.add(task)  # a module-level set: the loop only keeps weak references to tasks
        task.add_done_callback(_BACKGROUND.discard)
        self.last_bg_pid = str(proc.pid)
        self.status = 0

    async def run_and_or(self, ao: AndOr, io: ShellIO) -> int:
        status = await self.run_pipeline(ao.first, io)
        final = not ao.first.negate
        for op, pipeline in ao.rest:
            if (op == "&&") == (status == 0):
                status = await self.run_pipeline(pipeline, io)
                final = not pipeline.negate
            else:
                final = False
        self._final = final
        return status

    async def run_pipeline(self, pl: Pipeline, io: ShellIO) -> int:
        if len(pl.cmds) == 1:
            status = await self.run_node(pl.cmds[0], io)
        else:
            status = await self._run_pipe(pl.cmds, io)
        if pl.negate:
            status = 0 if status else 1
        self.status = status
        return status

    async def _run_pipe(self, cmds: list, io: ShellIO) -> int:
        n = len(cmds)
        sinks: list[PipeSink] = []
        for _ in range(n - 1):
            sinks.append(PipeSink(PipeSource()))

        async def stage(k: int) -> int:
            stdin = io.stdin if k == 0 else sinks[k - 1].source
            stdout = io.stdout if k == n - 1 else sinks[k]
            # every stage but the last runs in a subshell; mksh (a ksh) runs the last one in
            # this shell, so ``getprop | while read l; do n=$((n+1)); done; echo $n`` counts
            last = k == n - 1
            sub = self if last else Shell(self.device, parent=self)
            try:
                return await sub.run_node(cmds[k], ShellIO(stdin, stdout, io.stderr))
            except ExitShell as e:
                if last:
                    raise
                return e.code
            finally:
                if k < n - 1:
                    sinks[k].close()
                if k > 0:
                    sinks[k - 1].reader_done()

        tasks = [asyncio.ensure_future(stage(k)) for k in range(n)]
        try:
            status = await tasks[-1]
            # let writers that were about to finish do so (``touch x | true`` still touches)
            for _ in range(3):
                if all(t.done() for t in tasks):
                    break
                await asyncio.sleep(0)
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
            for t in tasks[:-1]:
                if not t.cancelled():
                    try:
                        await t
                    except BaseException:
                        pass
        return status

    async def run_node(self, node, io: ShellIO) -> int:
        if type(node) is Simple:
            return await self.run_simple(node, io)
        if type(node) is FuncDef:
            self.functions[node.name] = node.body
            self.status = 0
            return 0
        try:
            io2, opened = await self._redirect(node.redirs, io)
        except _CommandFailed:
            self.status = 1
            return 1
        try:
            if type(node) is Case:
                value = await self.expand_one(node.word, io2)
                for patterns, body in node.items:
                    for pattern in patterns:
                        if fnmatch.fnmatchcase(value, await self.expand_one(pattern, io2)):
                            return await self.run_script(body, io2)
                self.status = 0
                return 0
            if type(node) is If:
                for cond, body in node.branches:
                    await self.run_script(cond, io2, cond=True)
                    if self.status == 0:
                        return await self.run_script(body, io2)
                if node.otherwise is not None:
                    return await self.run_script(node.otherwise, io2)
                self.status = 0
                return 0
            if type(node) is Loop:
                status = 0
                while True:
                    await self.run_script(node.cond, io2, cond=True)
                    if (self.status == 0) == node.until:
                        break
                    control = await self._loop_body(node.body, io2)
                    status = self.status
                    if control == "break":
                        break
                    await _flush(io)  # a loop streams what it prints...
                    await asyncio.sleep(0)  # ...and stays cancellable
                self.status = status
                return status
            if type(node) is For:
                values = self.args if node.words is None else await self.expand_words(node.words, io2)
                status = 0
                for value in values:
                    self.vars[node.var] = value
                    control = await self._loop_body(node.body, io2)
                    status = self.status
                    if control == "break":
                        break
                    await _flush(io)
                    await asyncio.sleep(0)
                self.status = status
                return status
            if type(node) is Group:
                if node.subshell:
                    sub = Shell(self.device, parent=self)
                    try:
                        status = await sub.run_script(node.body, io2)
                    except ExitShell as e:
                        status = e.code
                    self.status = status
                    return status
                return await self.run_script(node.body, io2)
            raise AssertionError(f"unknown node {node!r}")
        finally:
            for sink in opened:
                sink.close()

    async def _loop_body(self, body: Script, io: ShellIO) -> str:
        """Run a loop body once; returns "break", "continue" or "" (ran to its end)."""
        self.loop_depth += 1
        try:
            await self.run_script(body, io)
            return ""
        except LoopControl as c:
            if c.levels > 1:
                c.levels -= 1
                raise
            return c.kind
        finally:
            self.loop_depth -= 1

    async def run_simple(self, node: Simple, io: ShellIO) -> int:
        try:
            argv = list(node.words) if node.plain else await self.expand_words(node.words, io)
            if node.redirs:
                outer = io
                io, opened = await self._redirect(node.redirs, io)
                if argv == ["exec"]:
                    # ``exec 2>&1``: the redirections stay for the rest of this shell's commands
                    outer.stdin, outer.stdout, outer.stderr = io.stdin, io.stdout, io.stderr
                    return 0
            else:
                opened = []
        except _CommandFailed:
            self.status = 1
            return 1
        try:
            if not argv:
                for name, word in node.assigns:
                    self.vars[name] = await self.expand_one(word, io)
                return self.status if any(not isinstance(w, str) for _, w in node.assigns) else 0
            env = self.vars
            if node.assigns:
                env = dict(self.vars)
                for name, word in node.assigns:
                    env[name] = await self.expand_one(word, io)
            if self.xtrace:
                io.stderr.write("+ " + " ".join(sh_quote(a) for a in argv) + "\n")
            status = await self.exec_argv(argv, io, env)
        except _CommandFailed:
            status = 1
        finally:
            for sink in opened:
                sink.close()
        self.status = status
        return status

    async def exec_argv(self, argv: list[str], io: ShellIO, env: dict[str, str]) -> int:
        name = argv[0]
        func = self.functions.get(name)
        if func is not None:
            return await self._call(func, argv, io)
        builtin = SHELL_BUILTINS.get(name)
        if builtin is not None:
            if name in ("read", "wait"):
                await _flush(io)
            return await builtin(self, argv, io, env)
        fn = COMMANDS.get(name)
        if fn is None:
            fn, status = self._lookup_path(name, io)
            if fn is None:
                return status
        # What earlier commands printed goes out before a program that may wait (sleep, cat of
        # stdin, logcat); quick programs leave it buffered, so ``cmd; echo X4EXIT:$?`` reaches
        # the host in one write together with the exit status.
        if _may_wait(fn):
            await _flush(io)
        ctx = CommandContext(self.device, argv, io.stdin, io.stdout, io.stderr, env, SHELL_UID)
        try:
            return await invoke(fn, ctx)
        except BrokenPipeError:
            return 141  # killed by SIGPIPE
        except (asyncio.CancelledError, ExitShell):
            raise
        except Exception as e:  # a last resort: never a traceback on the device
            io.stderr.write(f"{posixpath.basename(name)}: {e}\n")
            return 1

    async def _call(self, body: object, argv: list[str], io: ShellIO) -> int:
        """A shell function call: its own positional parameters and ``local`` variables."""
        saved_args = self.args
        self.args = argv[1:]
        self._locals.append({})
        try:
            status = await self.run_node(body, io)
        except FunctionReturn as r:
            status = r.code
        finally:
            self.args = saved_args
            for key, old in self._locals.pop().items():
                if old is None:
                    self.vars.pop(key, None)
                else:
                    self.vars[key] = old
        self.status = status
        return status

    def _lookup_path(self, name: str, io: ShellIO) -> tuple[object, int]:
        if "/" in name:
            path = self.resolve(name)
            directory, base = posixpath.split(path)
            if directory in BIN_DIRS and base in COMMANDS:
                return COMMANDS[base], 0
            st = self.device.fs.stat(path)
            if st is not None:
                reason = "Is a directory" if st.is_dir else "Permission denied"
                io.stderr.write(f"{SH}: {name}: can't execute: {reason}\n")
                return None, 126
        io.stderr.write(f"{SH}: {name}: inaccessible or not found\n")
        return None, 127

    # ------------------------------------------------------------ redirections
    async def _redirect(self, redirs: list[Redir], io: ShellIO) -> tuple[ShellIO, list[OutputSink]]:
        fds: dict[int, object] = {0: io.stdin, 1: io.stdout, 2: io.stderr}
        opened: list[OutputSink] = []
        fs = self.device.fs
        for r in redirs:
            if r.op == "<<":
                body = await self.expand_one(r.target.body, io)  # type: ignore[union-attr]
                fds[r.fd] = InputSource(body.encode("utf-8", "surrogateescape"))
                continue
            target = await self.expand_one(r.target, io)
            op = r.op
            if op in (">&", "<&"):
                if target == "-":
                    fds[r.fd] = InputSource(b"") if r.fd == 0 else NullSink()
                elif target.isdigit() and int(target) in fds:
                    fds[r.fd] = fds[int(target)]
                elif target.isdigit():
                    io.stderr.write(f"{SH}: {target}: bad file descriptor\n")
                    raise _CommandFailed
                elif op == ">&":
                    op = ">"  # ``>& file``: both stdout and stderr
                    sink = self._open_out(target, False, io)
                    opened.append(sink)
                    fds[1] = fds[2] = sink
                    continue
                else:
                    io.stderr.write(f"{SH}: {target}: bad file descriptor\n")
                    raise _CommandFailed
                continue
            if op == "<<<":
                fds[r.fd] = InputSource((target + "\n").encode("utf-8", "surrogateescape"))
                continue
            if op == "&>":
                sink = self._open_out(target, False, io)
                opened.append(sink)
                fds[1] = fds[2] = sink
                continue
            path = self.resolve(target)
            if op in (">", ">>"):
                sink = self._open_out(target, op == ">>", io)
                opened.append(sink)
                fds[r.fd] = sink
            else:  # '<' or '<>'
                if path in ("/dev/null", "/dev/zero"):
                    fds[r.fd] = InputSource(b"")
                    continue
                try:
                    data = fs.read(path)
                except Exception as e:
                    io.stderr.write(f"{SH}: can't open {target}: {getattr(e, 'reason', e)}\n")
                    raise _CommandFailed from None
                fds[r.fd] = InputSource(data)
        return ShellIO(fds[0], fds[1], fds[2]), opened  # type: ignore[arg-type]

    def _open_out(self, target: str, append: bool, io: ShellIO) -> OutputSink:
        path = self.resolve(target)
        if path == "/dev/null":
            return NullSink()
        if path == "/dev/stderr":
            return io.stderr
        if path == "/dev/stdout":
            return io.stdout
        try:
            self.device.fs.write(path, b"", append=append, uid=SHELL_UID)
        except Exception as e:
            io.stderr.write(f"{SH}: can't create {target}: {getattr(e, 'reason', e)}\n")
            raise _CommandFailed from None
        return FileSink(self.device, path)

    # ------------------------------------------------------------ expansion
    async def expand_words(self, words: list[Word], io: ShellIO) -> list[str]:
        out: list[str] = []
        for w in words:
            if isinstance(w, str):
                out.append(w)
            else:
                out.extend(await self.expand_word(w, io))
        return out

    async def expand_one(self, word: Word, io: ShellIO) -> str:
        """A word where no field splitting happens (assignment values, redirection targets)."""
        if isinstance(word, str):
            return word
        parts = []
        for part in word:
            kind = part[0]
            if kind in ("L", "G"):
                parts.append(part[1])
            else:
                parts.append(await self._value(part, io))
        return "".join(parts)

    async def expand_word(self, word: tuple, io: ShellIO) -> list[str]:
        fields: list[str] = []
        cur: list[str] = []
        has = False
        globbing = False
        for part in word:
            kind = part[0]
            if kind == "V" and part[1] == "@" and part[2] and not part[3]:
                # "$@": one field per positional parameter, none when there are none
                if not self.args:
                    continue
                cur.append(self.args[0])
                for arg in self.args[1:]:
                    fields.append("".join(cur))
                    cur = [arg]
                has = True
                continue
            if kind == "L" and not part[1] and len(word) == 2 and word[1][:2] == ("V", "@"):
                continue  # the empty quote mark of a lone "$@"
            if kind == "L":
                cur.append(part[1])
                has = True
                continue
            if kind == "G":
                cur.append(part[1])
                has = True
                if any(ch in part[1] for ch in "*?["):
                    globbing = True
                continue
            value = await self._value(part, io)
            if part[2]:  # quoted: never split
                cur.append(value)
                has = True
                continue
            if not value:
                continue
            pieces = value.split()
            if value[0] in _IFS_WS and has:
                fields.append("".join(cur))
                cur, has = [], False
            for idx, piece in enumerate(pieces):
                if idx:
                    fields.append("".join(cur))
                    cur = []
                cur.append(piece)
                has = True
            if value[-1] in _IFS_WS and has:
                fields.append("".join(cur))
                cur, has = [], False
        if has:
            fields.append("".join(cur))
        if globbing:
            globbed: list[str] = []
            for f in fields:
                globbed.extend(self._glob(f))
            return globbed
        return fields

    def _glob(self, pattern: str) -> list[str]:
        if not any(ch in pattern for ch in "*?["):
            return [pattern]
        absolute = pattern.startswith("/")
        comps = [c for c in pattern.split("/") if c]
        bases = ["/" if absolute else ""]
        fs = self.device.fs
        for comp in comps:
            nxt = []
            for base in bases:
                if any(ch in comp for ch in "*?["):
                    real = self.resolve(base or ".")
                    try:
                        entries = fs.listdir(real)
                    except Exception:
                        continue
                    for name, _st in sorted(entries):
                        if name.startswith(".") and not comp.startswith("."):
                            continue
                        if fnmatch.fnmatchcase(name, comp):
                            nxt.append(posixpath.join(base, name) if base else name)
                else:
                    cand = posixpath.join(base, comp) if base else comp
                    if fs.exists(self.resolve(cand)):
                        nxt.append(cand)
            bases = nxt
        return bases or [pattern]

    async def _value(self, part: tuple, io: ShellIO) -> str:
        kind = part[0]
        if kind == "V":
            return await self._param(part, io)
        if kind == "C":
            return await self.substitute(part[1], io)
        if kind == "A":
            return str(await self.arith(part[1], io))
        raise AssertionError(kind)

    def _get(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.pid)
        if name == "!":
            return self.last_bg_pid
        if name == "#":
            return str(len(self.args))
        if name == "-":
            return "h"
        if name in ("@", "*"):
            return " ".join(self.args)
        if name in _DYNAMIC_VARS and name not in self.vars:
            return self._dynamic(name)
        if name.isdigit():
            idx = int(name)
            if idx == 0:
                return self.arg0
            return self.args[idx - 1] if idx <= len(self.args) else None
        return self.vars.get(name)

    def _dynamic(self, name: str) -> str:
        """mksh's computed variables: RANDOM (0–32767), SECONDS, PPID (adbd), BASHPID."""
        root = self._root
        if name == "RANDOM":
            if root._rng is None:
                root._rng = random.Random(f"{self.device.serial}:{self.device.clock.now_ms()}")
            return str(root._rng.randrange(32768))
        if name == "SECONDS":
            return str((self.device.clock.now_ms() - root._started_ms) // 1000)
        if name == "BASHPID":
            return str(self.pid)
        adbd = self.device.procs.by_name("adbd")
        return str(adbd[0].pid if adbd else 1)

    async def _param(self, part: tuple, io: ShellIO) -> str:
        _, name, _quoted, op, arg = part
        value = self._get(name)
        if not op:
            return value or ""
        if op == "#" and arg is None:
            return str(len(value or ""))
        unset = value is None or (op.startswith(":") and value == "")
        base = op.lstrip(":")
        if base == "-":
            return await self.expand_one(arg, io) if unset else value or ""
        if base == "=":
            if unset:
                value = await self.expand_one(arg, io)
                self.vars[name] = value
            return value or ""
        if base == "+":
            return "" if unset else await self.expand_one(arg, io)
        if op in ("#", "##", "%", "%%"):
            return trim_pattern(value or "", await self.expand_one(arg, io), op)
        if op in ("/", "//"):
            pattern = glob_regex(await self.expand_one(arg[0], io))
            repl = await self.expand_one(arg[1], io)
            return pattern.sub(lambda m: repl, value or "", count=0 if op == "//" else 1)
        if base == "?":
            if unset:
                msg = await self.expand_one(arg, io) or "parameter null or not set"
                io.stderr.write(f"{SH}: {name}: {msg}\n")
                raise _CommandFailed
            return value or ""
        return value or ""

    async def substitute(self, script: Script, io: ShellIO) -> str:
        """``$(cmd)``: run in a subshell, stdout captured, trailing newlines dropped."""
        sub = Shell(self.device, parent=self)
        buf = OutputSink()
        try:
            status = await sub.run_script(script, ShellIO(io.stdin, buf, io.stderr))
        except ExitShell as e:
            status = e.code
        self.status = status
        return buf.getvalue().decode(errors="replace").rstrip("\n")

    async def arith(self, text: str, io: ShellIO) -> int:
        """``$((…))``: integer arithmetic over shell variables, as mksh does it (no floats)."""
        try:
            word = arith_word(text)
        except ShellSyntaxError as e:
            io.stderr.write(f"{SH}: {e}\n")
            raise _CommandFailed from None
        expanded = await self.expand_one(word, io)
        try:
            return ArithEval(lambda name: self._get(name) or "").eval(expanded)
        except ZeroDivisionError:
            io.stderr.write(f"{SH}: {expanded}: divide by zero\n")
            raise _CommandFailed from None
        except (SyntaxError, ValueError, KeyError, TypeError, RecursionError):
            io.stderr.write(f"{SH}: {expanded}: unexpected '{expanded.strip()[:1] or 'EOF'}'\n")
            raise _CommandFailed from None


# ------------------------------------------------------------------------- public API
async def run_command_line(
    device: VirtualAndroidDevice,
    line: str,
    stdin: InputSource,
    stdout: OutputSink,
    stderr: OutputSink,
    env: dict[str, str] | None = None,
) -> int:
    """``/system/bin/sh -c LINE`` on the device; returns the exit status (0–255)."""
    try:
        script = parse_cached(line)
    except ShellSyntaxError as e:
        stderr.write(f"{SH}: {e}\n")
        return 1
    sh = Shell(device, env)
    try:
        return await sh.run_script(script, ShellIO(stdin, stdout, stderr))
    except ExitShell as e:
        return e.code
    except (LoopControl, FunctionReturn):
        return sh.status
    except Exception as e:  # a last resort: the shell answers, it never shows a traceback
        stderr.write(f"{SH}: {e}\n")
        return 1
    finally:
        if sh._pid:
            sh.release()


def _tty_input(chunk: bytes) -> bytes:
    """What the line discipline hands on: CR and CRLF end a line."""
    return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


async def run_interactive(
    device: VirtualAndroidDevice,
    stdin: InputSource,
    stdout: OutputSink,
    env: dict[str, str] | None = None,
) -> int:
    """An interactive ``sh`` on a pty: prompt, echo of what is typed, CRLF line ends.

    ^C interrupts the running command (``logcat`` until the person stops it) or drops the line
    being typed. While a command runs the keyboard is its stdin (``cat`` reads it until ^D);
    what it does not read is run by the shell next, as with a tty.
    Returns the exit status (``exit N``, or that of the last command at end of input).
    """
    sh = Shell(device, env)
    out = CrlfSink(stdout)
    io = ShellIO(InputSource(b""), out, out)
    pending = ""
    buf = bytearray()

    def prompt(cont: bool = False) -> None:
        if cont:
            out.write("> ")
        else:
            # Android's mkshrc PS1: the last non-zero status, then host:dir
            status = f"{sh.status}|" if sh.status else ""
            out.write(f"{status}{sh.vars.get('HOSTNAME', 'localhost')}:{sh.cwd} $ ")

    eof = False

    async def foreground(script: Script) -> tuple[bytes, bool]:
        """Run one line with the keyboard as its stdin, as a tty gives it to the foreground job.

        Returns (what was typed and not read by the command, interrupted by ^C). ^D ends the
        command's input; what it leaves unread is the shell's next input.
        """
        nonlocal eof
        keyboard = InputSource(b"", eof=False)
        line_io = ShellIO(keyboard, io.stdout, io.stderr)
        task = asyncio.ensure_future(sh.run_script(script, line_io))
        after_eof = bytearray()
        input_closed = False
        try:
            while not task.done() and not eof:
                reader = asyncio.ensure_future(stdin.read())
                await asyncio.wait({task, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not reader.done():
                    reader.cancel()
                    continue
                chunk = _tty_input(reader.result())
                if not chunk:
                    eof = True  # no more input: the command still runs to its end
                    break
                if b"\x03" in chunk:
                    task.cancel()
                    await asyncio.wait({task})
                    out.write("^C\n")
                    sh.status = 130
                    return b"", True
                if input_closed:
                    after_eof += chunk.replace(b"\x04", b"")
                    out.write(chunk.replace(b"\x04", b""))
                elif b"\x04" in chunk:
                    before, _, rest = chunk.partition(b"\x04")
                    keyboard.feed(before)
                    keyboard.feed_eof()
                    input_closed = True
                    after_eof += rest.replace(b"\x04", b"")
                    out.write(before + rest.replace(b"\x04", b""))
                else:
                    keyboard.feed(chunk)
                    out.write(chunk)
                await out.drain()
            await task  # an ``exit`` unwinds from here
        finally:
            if not task.done():
                task.cancel()
        io.stdout, io.stderr = line_io.stdout, line_io.stderr  # ``exec 2>&1`` lasts
        keyboard.feed_eof()
        return await keyboard.read_all() + bytes(after_eof), False

    prompt()
    await out.drain()
    try:
        while True:
            chunk = b"" if eof else _tty_input(await stdin.read())
            if not chunk:
                return sh.status
            if b"\x03" in chunk:  # ^C: drop the line being typed
                buf.clear()
                pending = ""
                out.write("^C\n")
                prompt()
                await out.drain()
                continue
            if b"\x04" in chunk and not buf:  # ^D on an empty line
                return sh.status
            out.write(chunk)  # the pty echoes input
            buf += chunk
            while b"\n" in buf:
                raw, _, rest = bytes(buf).partition(b"\n")
                buf = bytearray(rest)
                src = pending + raw.decode(errors="replace")
                try:
                    script = parse(src)
                except ShellSyntaxError as e:
                    msg = str(e)
                    if msg.endswith(("unexpected EOF", "unclosed")) or msg == "no closing quote":
                        pending = src + "\n"
                        prompt(cont=True)
                        continue
                    out.write(f"{SH}: {msg}\n")
                    sh.status = 1
                    pending = ""
                    prompt()
                    continue
                pending = ""
                typed, interrupted = await foreground(script)
                if interrupted:
                    buf.clear()  # ^C flushes what was typed ahead
                buf += typed
                prompt()
            await out.drain()
    except ExitShell as e:
        return e.code
    finally:
        sh.release()


_sync_loop: asyncio.AbstractEventLoop | None = None


def run_sync(
    device: VirtualAndroidDevice, line: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> tuple[int, bytes, bytes]:
    """Run a line that finishes on a private loop: ``(exit, stdout, stderr)``. For tests."""
    global _sync_loop
    if _sync_loop is None or _sync_loop.is_closed():
        _sync_loop = asyncio.new_event_loop()
    out, err = OutputSink(), OutputSink()

    async def run() -> int:
        code = await run_command_line(device, line, InputSource(stdin), out, err, env)
        for _ in range(10):  # let quick ``cmd &`` jobs finish; endless ones stay pending
            await asyncio.sleep(0)
        return code

    code = _sync_loop.run_until_complete(run())
    return code, out.getvalue(), err.getvalue()


@command("sh")
async def sh_command(ctx: CommandContext) -> int:
    """``sh -c LINE [ARG0 ARGS…]`` and ``sh SCRIPT``/``sh < script``: a child shell."""
    args = ctx.argv[1:]
    if args and args[0] == "-c":
        if len(args) < 2:
            ctx.err(f"{SH}: -c: option requires an argument")
            return 1
        src, arg0, positional = args[1], args[2] if len(args) > 2 else SH, args[3:]
    elif args:
        try:
            src = ctx.device.fs.read(args[0]).decode(errors="replace")
        except Exception:
            ctx.err(f"{SH}: {args[0]}: No such file or directory")
            return 127
        arg0, positional = args[0], args[1:]
    else:
        src, arg0, positional = (await ctx.stdin.read_all()).decode(errors="replace"), SH, []
    try:
        script = parse_cached(src)
    except ShellSyntaxError as e:
        ctx.err(f"{SH}: {e}")
        return 1
    sh = Shell(ctx.device, dict(ctx.env), args=positional, arg0=arg0)
    try:
        return await sh.run_script(script, ShellIO(ctx.stdin, ctx.stdout, ctx.stderr))
    except ExitShell as e:
        return e.code
    finally:
        sh.release()
