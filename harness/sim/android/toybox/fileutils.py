"""toybox file programs over the device filesystem: cat, ls, rm, rmdir, mkdir, touch, cp, mv, stat.

Error lines are toybox's: ``rm: /x: No such file or directory``, ``mkdir: '/x': File exists``;
a failed operand sets exit 1 and the rest still run.
"""

from __future__ import annotations

import posixpath
import stat as _stat
import time

from ..os.fs import FsError, Stat, normalize, user_name
from ..registry import CommandContext, command

SHELL_UID = 2000
CHUNK = 65536


def parse_flags(ctx: CommandContext, allowed: str, value_flags: str = "") -> tuple[set[str], list[str],
                                                                                   dict[str, str]] | None:
    """toybox-style option parsing: grouped flags (``-rf``), ``--`` ends options, ``-`` is an operand.

    Returns None (after printing toybox's complaint) on an unknown option.
    """
    flags: set[str] = set()
    values: dict[str, str] = {}
    operands: list[str] = []
    args = ctx.argv[1:]
    i = 0
    name = posixpath.basename(ctx.argv[0])
    while i < len(args):
        arg = args[i]
        if arg == "--":
            operands.extend(args[i + 1:])
            break
        if len(arg) > 1 and arg[0] == "-" and not arg[1].isdigit():
            j = 1
            while j < len(arg):
                c = arg[j]
                if c in value_flags:
                    rest = arg[j + 1:]
                    if not rest:
                        i += 1
                        if i >= len(args):
                            ctx.err(f"{name}: Missing argument to -{c}")
                            return None
                        rest = args[i]
                    values[c] = rest
                    break
                if c not in allowed:
                    ctx.err(f"{name}: Unknown option '{c}' (see \"{name} --help\")")
                    return None
                flags.add(c)
                j += 1
        else:
            operands.append(arg)
        i += 1
    return flags, operands, values


def cwd_path(ctx: CommandContext, path: str) -> str:
    return normalize(path, ctx.env.get("PWD", "/") or "/")


# ------------------------------------------------------------------------------ cat
@command("cat")
async def cat(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "u")
    if parsed is None:
        return 1
    _, operands, _ = parsed
    status = 0
    for name in operands or ["-"]:
        if name == "-":
            while True:
                chunk = await ctx.stdin.read(CHUNK)
                if not chunk:
                    break
                ctx.stdout.write(chunk)
                await ctx.stdout.drain()
            continue
        try:
            data = ctx.device.fs.read(cwd_path(ctx, name), uid=ctx.uid)
        except FsError as e:
            ctx.err(f"cat: {name}: {e.reason}")
            status = 1
            continue
        for off in range(0, len(data), CHUNK):
            ctx.stdout.write(data[off:off + CHUNK])
            if len(data) > CHUNK:
                await ctx.stdout.drain()
    return status


# ------------------------------------------------------------------------------- ls
def mode_string(st: Stat) -> str:
    mode = st.mode
    kind = "d" if _stat.S_ISDIR(mode) else "l" if _stat.S_ISLNK(mode) else "-"
    chars = []
    for shift, special, on_char, off_char in ((6, _stat.S_ISUID, "s", "S"), (3, _stat.S_ISGID, "s", "S"),
                                                (0, _stat.S_ISVTX, "t", "T")):
        bits = (mode >> shift) & 7
        r = "r" if bits & 4 else "-"
        w = "w" if bits & 2 else "-"
        x = "x" if bits & 1 else "-"
        if mode & special:
            x = on_char if bits & 1 else off_char
        chars.append(r + w + x)
    return kind + "".join(chars)


def _group_name(gid: int) -> str:
    return user_name(gid) if gid != 1015 else "sdcard_rw"


def _human(size: int) -> str:
    """toybox -h: 1023, 1.0K, 12K, 1.5M …"""
    value = float(size)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            if not unit:
                return str(int(value))
            return f"{value:.1f}{unit}" if value < 10 else f"{int(value)}{unit}"
        value /= 1024
    return str(size)


def _long_lines(entries: list[tuple[str, Stat]], flags: set[str]) -> list[str]:
    rows = []
    for name, st in entries:
        date = time.strftime("%Y-%m-%d %H:%M", time.gmtime(st.mtime))
        user = str(st.uid) if "n" in flags else user_name(st.uid)
        group = str(st.gid) if "n" in flags else _group_name(st.gid)
        size = _human(st.size) if "h" in flags else str(st.size)
        rows.append((mode_string(st), str(st.nlink), user, group, size, date, name))
    if not rows:
        return []
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    return [f"{r[0]} {r[1]:>{w[1]}} {r[2]:<{w[2]}} {r[3]:<{w[3]}} {r[4]:>{w[4]}} {r[5]} {r[6]}" for r in rows]


@command("ls")
def ls(ctx: CommandContext) -> int:
    """toybox ls, one name per line (not a tty): -l -a -A -1 -d -R -t -S -r -n -h -F -p."""
    parsed = parse_flags(ctx, "laA1dhRtrSnFp")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    fs = ctx.device.fs
    status = 0
    files: list[tuple[str, Stat]] = []
    dirs: list[tuple[str, str]] = []
    for op in operands or ["."]:
        path = cwd_path(ctx, op)
        st = fs.stat(path)
        if st is None:
            ctx.err(f"ls: {op}: No such file or directory")
            status = 1
        elif st.is_dir and "d" not in flags:
            dirs.append((op, path))
        else:
            files.append((op, st))

    def decorate(name: str, st: Stat) -> str:
        if st.is_dir and flags & {"F", "p"}:
            return name + "/"
        if "F" in flags and st.is_file and st.mode & 0o111:
            return name + "*"
        return name

    def emit(entries: list[tuple[str, Stat]]) -> None:
        if "t" in flags:
            entries.sort(key=lambda e: -e[1].mtime)
        elif "S" in flags:
            entries.sort(key=lambda e: -e[1].size)
        if "r" in flags:
            entries.reverse()
        shown = [(decorate(n, st), st) for n, st in entries]
        if "l" in flags:
            for line in _long_lines(shown, flags):
                ctx.out(line)
        else:
            for name, _ in shown:
                ctx.out(name)

    emit(files)
    printed = bool(files)
    queue = list(dirs)
    show_headers = len(operands) > 1 or bool(files) or "R" in flags
    while queue:
        op, path = queue.pop(0)
        try:
            listing = fs.listdir(path, uid=ctx.uid)
        except FsError as e:
            ctx.err(f"ls: {op}: {e.reason}")
            status = 1
            continue
        if "a" in flags:
            here = fs.stat(path)
            parent = fs.stat(posixpath.dirname(path)) or here
            listing = [(".", here), ("..", parent), *listing]  # type: ignore[list-item]
        elif "A" not in flags:
            listing = [(n, s) for n, s in listing if not n.startswith(".")]
        if show_headers:
            if printed:
                ctx.out()
            ctx.out(f"{op}:")
        printed = True
        if "l" in flags:
            ctx.out(f"total {sum((s.size + 1023) // 1024 for _, s in listing)}")
        emit(listing)
        if "R" in flags:
            subdirs = [(posixpath.join(op, n), posixpath.join(path, n)) for n, st in listing
                       if st.is_dir and n not in (".", "..")]
            queue[0:0] = subdirs
    return status


# ------------------------------------------------------------------- rm / rmdir / mkdir
@command("rm")
def rm(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "fRr")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    force = "f" in flags
    recursive = bool(flags & {"r", "R"})
    if not operands and not force:
        ctx.err("rm: Needs 1 argument")
        return 1
    fs = ctx.device.fs
    status = 0
    for op in operands:
        if op == "/":
            ctx.err("rm: rm /. if you mean it")
            status = 1
            continue
        path = cwd_path(ctx, op)
        st = fs.stat(path)
        if st is None:
            if not force:
                ctx.err(f"rm: {op}: No such file or directory")
                status = 1
            continue
        if st.is_dir and not recursive:
            ctx.err(f"rm: {op}: Is a directory")
            status = 1
            continue
        try:
            fs.remove(path, recursive=recursive, uid=ctx.uid)
        except FsError as e:
            ctx.err(f"rm: {op}: {e.reason}")
            status = 1
    return status


@command("rmdir")
def rmdir(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "")
    if parsed is None:
        return 1
    _, operands, _ = parsed
    if not operands:
        ctx.err("rmdir: Needs 1 argument")
        return 1
    status = 0
    for op in operands:
        path = cwd_path(ctx, op)
        st = ctx.device.fs.stat(path)
        try:
            if st is not None and not st.is_dir:
                raise FsError(path, "Not a directory")
            ctx.device.fs.remove(path, recursive=False, uid=ctx.uid)
        except FsError as e:
            ctx.err(f"rmdir: '{op}': {e.reason}")
            status = 1
    return status


@command("mkdir")
def mkdir(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "vp", value_flags="m")
    if parsed is None:
        return 1
    flags, operands, values = parsed
    if not operands:
        ctx.err("mkdir: Needs 1 argument")
        return 1
    mode = 0o771
    if "m" in values:
        try:
            mode = int(values["m"], 8)
        except ValueError:
            ctx.err(f"mkdir: bad mode '{values['m']}'")
            return 1
    status = 0
    for op in operands:
        try:
            ctx.device.fs.mkdir(cwd_path(ctx, op), parents="p" in flags, uid=ctx.uid, mode=mode)
            if "v" in flags:
                ctx.out(f"mkdir: created directory '{op}'")
        except FsError as e:
            ctx.err(f"mkdir: '{op}': {e.reason}")
            status = 1
    return status


@command("touch")
def touch(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "acm")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    if not operands:
        ctx.err("touch: Needs 1 argument")
        return 1
    status = 0
    fs = ctx.device.fs
    for op in operands:
        path = cwd_path(ctx, op)
        if "c" in flags and not fs.exists(path):
            continue
        try:
            fs.touch(path, uid=ctx.uid)
        except FsError as e:
            ctx.err(f"touch: '{op}': {e.reason}")
            status = 1
    return status


# --------------------------------------------------------------------------- cp / mv
def _copy_tree(ctx: CommandContext, src: str, dst: str, recursive: bool, label: str,
               preserve: bool = False) -> bool:
    fs = ctx.device.fs
    st = fs.stat(src)
    if st is None:
        ctx.err(f"cp: {label}: No such file or directory")
        return False
    if st.is_dir:
        if not recursive:
            ctx.err(f"cp: Skipped dir '{label}'")
            return False
        if not fs.exists(dst):
            fs.mkdir(dst, uid=ctx.uid)
        ok = True
        for name, _ in fs.listdir(src, uid=ctx.uid):
            ok &= _copy_tree(ctx, posixpath.join(src, name), posixpath.join(dst, name), True, label, preserve)
        return ok
    fs.write(dst, fs.read(src, uid=ctx.uid), mode=st.mode & 0o777, uid=ctx.uid,
             mtime=st.mtime if preserve else None)
    return True


@command("cp")
def cp(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "rRafp")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    if len(operands) < 2:
        ctx.err("cp: Needs 2 arguments")
        return 1
    return _copy_or_move(ctx, operands, move=False, recursive=bool(flags & {"r", "R", "a"}),
                         preserve=bool(flags & {"p", "a"}))


@command("mv")
def mv(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "f")
    if parsed is None:
        return 1
    _, operands, _ = parsed
    if len(operands) < 2:
        ctx.err("mv: Needs 2 arguments")
        return 1
    return _copy_or_move(ctx, operands, move=True, recursive=True)


def _copy_or_move(ctx: CommandContext, operands: list[str], move: bool, recursive: bool,
                  preserve: bool = False) -> int:
    fs = ctx.device.fs
    name = "mv" if move else "cp"
    *sources, target = operands
    tpath = cwd_path(ctx, target)
    tst = fs.stat(tpath)
    into_dir = tst is not None and tst.is_dir
    if len(sources) > 1 and not into_dir:
        ctx.err(f"{name}: '{target}' not directory")
        return 1
    status = 0
    for src in sources:
        spath = cwd_path(ctx, src)
        dpath = posixpath.join(tpath, posixpath.basename(spath)) if into_dir else tpath
        try:
            if move:
                if not fs.exists(spath):
                    raise FsError(spath, "No such file or directory")
                fs.rename(spath, dpath, uid=ctx.uid)
            elif not _copy_tree(ctx, spath, dpath, recursive, src, preserve):
                status = 1
        except FsError as e:
            ctx.err(f"{name}: {src}: {e.reason}" if e.path == spath else f"{name}: '{target}': {e.reason}")
            status = 1
    return status


@command("stat")
def stat_(ctx: CommandContext) -> int:
    """``stat -c FORMAT`` for the handful of fields scripts ask for (%s %Y %n %a %F), else a summary."""
    parsed = parse_flags(ctx, "L", value_flags="c")
    if parsed is None:
        return 1
    _, operands, values = parsed
    if not operands:
        ctx.err("stat: Needs 1 argument")
        return 1
    status = 0
    for op in operands:
        st = ctx.device.fs.stat(cwd_path(ctx, op))
        if st is None:
            ctx.err(f"stat: '{op}': No such file or directory")
            status = 1
            continue
        kind = "directory" if st.is_dir else "regular file" if st.size else "regular empty file"
        fields = {"s": str(st.size), "Y": str(st.mtime), "n": op, "a": f"{st.mode & 0o7777:o}",
                  "F": kind, "u": str(st.uid), "U": user_name(st.uid), "A": mode_string(st), "%": "%"}
        if "c" in values:
            fmt = values["c"]
            out, i = [], 0
            while i < len(fmt):
                if fmt[i] == "%" and i + 1 < len(fmt):
                    out.append(fields.get(fmt[i + 1], "?"))
                    i += 2
                else:
                    out.append(fmt[i])
                    i += 1
            ctx.out("".join(out))
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000", time.gmtime(st.mtime))
        ctx.out(f"  File: {op}")
        ctx.out(f"  Size: {st.size}\t Blocks: {(st.size + 511) // 512}\t IO Blocks: 4096\t{kind}")
        perms = f"({st.mode & 0o7777:04o}/{mode_string(st)})"
        ctx.out(f"Access: {perms}\tUid: ({st.uid:5d}/{user_name(st.uid):>8})"
                f"\tGid: ({st.gid:5d}/{_group_name(st.gid):>8})")
        ctx.out(f"Access: {when}")
        ctx.out(f"Modify: {when}")
        ctx.out(f"Change: {when}")
    return status
