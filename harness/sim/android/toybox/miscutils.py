"""Small toybox programs scripts lean on: env, basename, dirname, seq, cut, md5sum/sha*sum,
chmod, uname, hostname, getenforce, nproc, tty.

``md5sum`` matters most: it is how a person checks that ``adb push`` delivered a file intact.
"""

from __future__ import annotations

import hashlib
import posixpath

from ..os.fs import CPU_COUNT, FsError
from ..registry import CommandContext, command
from .fileutils import cwd_path, parse_flags
from .textutils import iter_lines


@command("env")
def env(ctx: CommandContext) -> int:
    for key in sorted(ctx.env):
        if key not in ("PWD",) or ctx.env[key]:
            ctx.out(f"{key}={ctx.env[key]}")
    return 0


@command("basename")
def basename(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    if not args:
        ctx.err("basename: Needs 1 argument")
        return 1
    name = args[0].rstrip("/") or "/"
    base = posixpath.basename(name) or "/"
    if len(args) > 1 and base != args[1] and base.endswith(args[1]):
        base = base[: -len(args[1])]
    ctx.out(base)
    return 0


@command("dirname")
def dirname(ctx: CommandContext) -> int:
    args = ctx.argv[1:]
    if not args:
        ctx.err("dirname: Needs 1 argument")
        return 1
    for arg in args:
        stripped = arg.rstrip("/") or "/"
        ctx.out(posixpath.dirname(stripped) or ".")
    return 0


@command("seq")
def seq(ctx: CommandContext) -> int:
    nums = []
    for arg in ctx.argv[1:]:
        try:
            nums.append(int(arg))
        except ValueError:
            ctx.err(f"seq: invalid float value '{arg}'")
            return 1
    if not 1 <= len(nums) <= 3:
        ctx.err("seq: Needs 1 argument" if not nums else "seq: Max 3 arguments")
        return 1
    first, step, last = (1, 1, nums[0]) if len(nums) == 1 else (
        (nums[0], 1, nums[1]) if len(nums) == 2 else (nums[0], nums[1], nums[2]))
    if step == 0:
        ctx.err("seq: step can't be 0")
        return 1
    ctx.stdout.write("".join(f"{i}\n" for i in range(first, last + (1 if step > 0 else -1), step)))
    return 0


@command("cut")
async def cut(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "sn", value_flags="dfcb")
    if parsed is None:
        return 1
    flags, operands, values = parsed
    spec = values.get("f") or values.get("c") or values.get("b")
    if not spec:
        ctx.err("cut: Needs -fcb")
        return 1
    try:
        ranges = _ranges(spec)
    except ValueError:
        ctx.err(f"cut: bad list '{spec}'")
        return 1
    delim = values.get("d", "\t")
    by_field = "f" in values
    for name in operands or ["-"]:
        try:
            async for raw in iter_lines(ctx, name):
                line = raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
                if by_field:
                    if delim not in line:
                        if "s" not in flags:
                            ctx.out(line)
                        continue
                    parts = line.split(delim)
                    picked = [parts[i] for i in range(len(parts)) if _in(ranges, i + 1)]
                    text = delim.join(picked)
                else:
                    text = "".join(ch for i, ch in enumerate(line) if _in(ranges, i + 1))
                ctx.stdout.write((text + "\n").encode("utf-8", "surrogateescape"))
        except FsError as e:
            ctx.err(f"cut: {name}: {e.reason}")
            return 1
    return 0


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.append((int(lo) if lo else 1, int(hi) if hi else 1 << 30))
        else:
            out.append((int(part), int(part)))
    return out


def _in(ranges: list[tuple[int, int]], n: int) -> bool:
    return any(lo <= n <= hi for lo, hi in ranges)


def _hasher(algo: str):
    def run(ctx: CommandContext) -> int:
        name = ctx.argv[0].rsplit("/", 1)[-1]
        status = 0
        operands = [a for a in ctx.argv[1:] if a not in ("-b",)]
        for path in operands or ["-"]:
            try:
                if path == "-":
                    ctx.err(f"{name}: reading stdin is not supported here")
                    return 1
                data = ctx.device.fs.read(cwd_path(ctx, path), uid=ctx.uid)
            except FsError as e:
                ctx.err(f"{name}: {path}: {e.reason}")
                status = 1
                continue
            ctx.out(f"{hashlib.new(algo, data).hexdigest()}  {path}")
        return status

    return run


command("md5sum")(_hasher("md5"))
command("sha1sum")(_hasher("sha1"))
command("sha256sum")(_hasher("sha256"))


@command("chmod")
def chmod(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "f")
    if parsed is None:
        return 1
    _, operands, _ = parsed
    if len(operands) < 2:
        ctx.err("chmod: Needs 2 arguments")
        return 1
    mode_text, paths = operands[0], operands[1:]
    try:
        mode = int(mode_text, 8)
    except ValueError:
        mode = None
    status = 0
    fs = ctx.device.fs
    for path in paths:
        full = cwd_path(ctx, path)
        st = fs.stat(full)
        if st is None:
            ctx.err(f"chmod: {path}: No such file or directory")
            status = 1
            continue
        new = mode if mode is not None else _symbolic(mode_text, st.mode & 0o7777)
        if new is None:
            ctx.err(f"chmod: bad mode '{mode_text}'")
            return 1
        try:
            fs.chmod(full, new, uid=ctx.uid)
        except FsError as e:
            ctx.err(f"chmod: {path}: {e.reason}")
            status = 1
    return status


def _symbolic(text: str, current: int) -> int | None:
    """``u+x``, ``go-w``, ``a=r`` …"""
    mode = current
    for clause in text.split(","):
        i = 0
        who = ""
        while i < len(clause) and clause[i] in "ugoa":
            who += clause[i]
            i += 1
        if i >= len(clause) or clause[i] not in "+-=":
            return None
        op, perms = clause[i], clause[i + 1:]
        if any(p not in "rwxst" for p in perms):
            return None
        who = who or "a"
        bits = 0
        for w in ("u", "g", "o"):
            if w in who or "a" in who:
                shift = {"u": 6, "g": 3, "o": 0}[w]
                for p, b in (("r", 4), ("w", 2), ("x", 1)):
                    if p in perms:
                        bits |= b << shift
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = sum(7 << {"u": 6, "g": 3, "o": 0}[w] for w in "ugo" if w in who or "a" in who)
            mode = (mode & ~mask) | bits
    return mode


@command("uname")
def uname(ctx: CommandContext) -> int:
    fields = {
        "s": "Linux",
        "n": "localhost",
        "r": "5.15.137-android14-11-gbf4f9bc41c3b",
        "v": "#1 SMP PREEMPT Mon Jan 1 00:00:00 UTC 2024",
        "m": "aarch64",
        "o": "Toybox",
    }
    wanted = "".join(a.lstrip("-") for a in ctx.argv[1:]) or "s"
    if "a" in wanted:
        wanted = "snrvmo"
    bad = [c for c in wanted if c not in fields and c not in "pi"]
    if bad:
        ctx.err(f"uname: Unknown option '{bad[0]}' (see \"uname --help\")")
        return 1
    ctx.out(" ".join(fields[c] for c in "snrvmo" if c in wanted))
    return 0


@command("hostname")
def hostname(ctx: CommandContext) -> int:
    ctx.out("localhost")
    return 0


@command("getenforce")
def getenforce(ctx: CommandContext) -> int:
    ctx.out("Enforcing")
    return 0


@command("nproc")
def nproc(ctx: CommandContext) -> int:
    ctx.out(str(CPU_COUNT))
    return 0


@command("tty")
def tty(ctx: CommandContext) -> int:
    """toybox tty: the terminal on stdin; ``adb shell tty`` has none, ``adb shell -t`` a pts."""
    quiet = "-s" in ctx.argv[1:]
    if not getattr(ctx.stdout, "is_tty", False):  # a pty session's stdout and stdin are one terminal
        if not quiet:
            ctx.out("not a tty")
        return 1
    if not quiet:
        ctx.out("/dev/pts/0")
    return 0
