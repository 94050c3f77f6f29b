"""toybox text filters: grep, head, tail, wc, tr, sort, uniq.

They stream: ``logcat | grep X`` prints each match as it arrives (stdin is read in chunks and
output drained per chunk), and ``head`` stops reading once it has enough, which ends the
producer with a broken pipe as on a phone.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator

from ..os.fs import FsError
from ..registry import CommandContext, command
from .fileutils import CHUNK, cwd_path, parse_flags


async def iter_lines(ctx: CommandContext, name: str) -> AsyncIterator[bytes]:
    """Lines (with their ``\\n``) of a file or, for ``-``, of stdin as it arrives."""
    if name != "-":
        data = ctx.device.fs.read(cwd_path(ctx, name), uid=ctx.uid)
        for line in data.splitlines(keepends=True):
            yield line
        return
    pending = b""
    while True:
        chunk = await ctx.stdin.read(CHUNK)
        if not chunk:
            break
        pending += chunk
        if b"\n" not in pending:
            continue
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


# ----------------------------------------------------------------------------- regex
_CLASSES = {
    "[:digit:]": "0-9", "[:alpha:]": "a-zA-Z", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z",
    "[:lower:]": "a-z", "[:space:]": " \\t\\n\\r\\f\\v", "[:blank:]": " \\t", "[:punct:]": "!-/:-@\\[-`{-~",
    "[:xdigit:]": "0-9A-Fa-f", "[:print:]": " -~", "[:cntrl:]": "\\x00-\\x1f",
}


def posix_to_python(pattern: str, extended: bool) -> str:
    """Translate a POSIX BRE/ERE to Python ``re`` syntax (the parts people use)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j)
                    j = end + 2 if end >= 0 else j + 1
                else:
                    j += 1
            body = pattern[i + 1:j]
            for cls, repl in _CLASSES.items():
                body = body.replace(cls, repl)
            body = body.replace("\\", "\\\\") if "\\\\" not in body and "\\t" not in body else body
            out.append("[" + body + "]")
            i = j + 1
            continue
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in "<>":
                out.append(r"\b")
            elif not extended and nxt in "(){}|+?":
                out.append(nxt)
            else:
                out.append("\\" + nxt)
            i += 2
            continue
        if not extended and c in "(){}|+?":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


# ------------------------------------------------------------------------------ grep
@command("grep", "egrep", "fgrep")
async def grep(ctx: CommandContext) -> int:
    """toybox grep: -E -F -i -v -c -q -o -n -l -L -h -H -w -x -s -m N -A/-B/-C N, -e PAT...

    Reading stdin it prints each match as it arrives (``logcat | grep X`` streams).
    """
    parsed = parse_flags(ctx, "EFivcqonlLhHwxs", value_flags="emABC")
    if parsed is None:
        return 2
    flags, operands, values = parsed
    prog = ctx.argv[0].rsplit("/", 1)[-1]
    if prog == "egrep":
        flags.add("E")
    elif prog == "fgrep":
        flags.add("F")
    patterns: list[str] = []
    for i, arg in enumerate(ctx.argv):
        if arg == "-e" and i + 1 < len(ctx.argv):
            patterns.append(ctx.argv[i + 1])
    if "e" in values and not patterns:
        patterns.append(values["e"])
    if not patterns:
        if not operands:
            ctx.err("usage: grep [-abcEFhHiIlLnoqrsvwxZz] [-ABC LINES] [-m MAX] [-e REGEX]... "
                    "[-MRS PATTERN]... [-f REGFILE] [FILE]...")
            return 2
        patterns = operands[0].split("\n")
        operands = operands[1:]
    try:
        regexes = _compile(patterns, flags)
    except re.error:
        ctx.err(f"grep: bad regex '{patterns[0]}'")
        return 2
    context: dict[str, int] = {}
    for key in "ABCm":
        if key in values:
            if not values[key].isdigit():
                ctx.err(f"grep: -{key} '{values[key]}': not a number")
                return 2
            context[key] = int(values[key])
    after = context.get("A", context.get("C", 0))
    before = context.get("B", context.get("C", 0))
    max_count = context.get("m", -1)
    files = operands or ["-"]
    show_name = ("H" in flags or len(files) > 1) and "h" not in flags
    listing = bool(flags & {"c", "l", "L"})
    matched_any = False
    error = False
    last_printed = 0  # line number of the last line printed (for the "--" separator)
    for name in files:
        label = "(standard input)" if name == "-" else name
        count = 0
        lineno = 0
        pending_after = 0
        recent: deque[tuple[int, str]] = deque(maxlen=before or 1)

        def emit(num: int, text: str, sep: str, label: str = label) -> None:
            nonlocal last_printed
            if (before or after) and last_printed and num > last_printed + 1:
                ctx.stdout.write(b"--\n")
            prefix = (f"{label}{sep}" if show_name else "") + (f"{num}{sep}" if "n" in flags else "")
            ctx.stdout.write((prefix + text + "\n").encode("utf-8", "surrogateescape"))
            last_printed = num

        try:
            async for raw in iter_lines(ctx, name):
                lineno += 1
                line = raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
                spans = _matches(regexes, line, flags)
                hit = bool(spans) != ("v" in flags)
                if not hit:
                    if pending_after and not listing:
                        emit(lineno, line, "-")
                        pending_after -= 1
                    elif before:
                        recent.append((lineno, line))
                    continue
                if count == max_count:
                    break
                count += 1
                matched_any = True
                if "q" in flags:
                    return 0
                if "l" in flags:
                    break
                if not listing:
                    if before:
                        for num, text in recent:
                            if num > last_printed:
                                emit(num, text, "-")
                        recent.clear()
                    if "o" in flags and "v" not in flags:
                        for start, end in spans:
                            if end > start:
                                emit(lineno, line[start:end], ":")
                    else:
                        emit(lineno, line, ":")
                    pending_after = after
                    if name == "-":
                        await ctx.stdout.drain()
        except FsError as e:
            if "s" not in flags:
                ctx.err(f"grep: {name}: {e.reason}")
            error = True
            continue
        last_printed = 0
        if "c" in flags:
            ctx.out(f"{label}:{count}" if show_name else str(count))
        if "l" in flags and count:
            ctx.out(label)
        if "L" in flags and not count:
            ctx.out(label)
    if error and not ("q" in flags and matched_any):
        return 2
    return 0 if matched_any else 1


def _compile(patterns: list[str], flags: set[str]) -> list[re.Pattern[str]]:
    out = []
    for pat in patterns:
        src = re.escape(pat) if "F" in flags else posix_to_python(pat, "E" in flags)
        if "w" in flags:
            src = rf"(?<!\w)(?:{src})(?!\w)"
        if "x" in flags:
            src = rf"^(?:{src})$"
        out.append(re.compile(src, re.IGNORECASE if "i" in flags else 0))
    return out


def _matches(regexes: list[re.Pattern[str]], line: str, flags: set[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for rx in regexes:
        if "o" in flags:
            spans.extend(m.span() for m in rx.finditer(line) if m.end() > m.start())
        else:
            m = rx.search(line)
            if m:
                return [m.span()]
    spans.sort()
    return spans


# ------------------------------------------------------------------------ head / tail
def _count_arg(ctx: CommandContext) -> tuple[int | None, bool, list[str]] | None:
    """``-n N``, ``-nN``, ``-N`` or ``-n +N`` (from line N); returns (count, from_start, files)."""
    args = ctx.argv[1:]
    count: int | None = 10
    plus = False
    files: list[str] = []
    i = 0
    name = ctx.argv[0]
    while i < len(args):
        arg = args[i]
        text = None
        if arg == "-n" or arg == "-c":
            i += 1
            if i >= len(args):
                ctx.err(f"{name}: Missing argument to -n")
                return None
            text = args[i]
        elif arg.startswith("-n") or arg.startswith("-c"):
            text = arg[2:]
        elif len(arg) > 1 and arg[0] == "-" and arg[1:].isdigit():
            text = arg[1:]
        elif arg in ("-q", "-v"):
            pass
        elif len(arg) > 1 and arg[0] == "-":
            ctx.err(f"{name}: Unknown option '{arg[1]}' (see \"{name} --help\")")
            return None
        else:
            files.append(arg)
        if text is not None:
            plus = text.startswith("+")
            digits = text.lstrip("+-")
            if not digits.isdigit():
                ctx.err(f"{name}: Bad -n '{text}'")
                return None
            count = int(digits)
        i += 1
    return count, plus, files


@command("head")
async def head(ctx: CommandContext) -> int:
    parsed = _count_arg(ctx)
    if parsed is None:
        return 1
    count, _, files = parsed
    status = 0
    for idx, name in enumerate(files or ["-"]):
        if len(files) > 1:
            ctx.out(("\n" if idx else "") + f"==> {name} <==")
        seen = 0
        if count == 0:
            continue
        try:
            async for line in iter_lines(ctx, name):
                ctx.stdout.write(line)
                seen += 1
                if seen >= (count or 0):
                    break
        except FsError as e:
            ctx.err(f"head: {name}: {e.reason}")
            status = 1
        await ctx.stdout.drain()
    return status


@command("tail")
async def tail(ctx: CommandContext) -> int:
    parsed = _count_arg(ctx)
    if parsed is None:
        return 1
    count, plus, files = parsed
    status = 0
    for idx, name in enumerate(files or ["-"]):
        if len(files) > 1:
            ctx.out(("\n" if idx else "") + f"==> {name} <==")
        try:
            lines = [line async for line in iter_lines(ctx, name)]
        except FsError as e:
            ctx.err(f"tail: {name}: {e.reason}")
            status = 1
            continue
        if plus:
            chosen = lines[max(0, (count or 1) - 1):]
        elif count:
            chosen = lines[-count:]
        else:
            chosen = []
        ctx.stdout.write(b"".join(chosen))
    return status


# -------------------------------------------------------------------------------- wc
@command("wc")
async def wc(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "lwcm")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    chosen = [f for f in "lwc" if f in flags] or ["l", "w", "c"]
    if "m" in flags and "c" not in chosen:
        chosen.append("c")
    status = 0
    totals = dict.fromkeys("lwc", 0)
    names = operands or ["-"]
    for name in names:
        try:
            if name == "-":
                data = await ctx.stdin.read_all()
            else:
                data = ctx.device.fs.read(cwd_path(ctx, name), uid=ctx.uid)
        except FsError as e:
            ctx.err(f"wc: {name}: {e.reason}")
            status = 1
            continue
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
        for k in totals:
            totals[k] += counts[k]
        ctx.out(_wc_line([counts[f] for f in chosen], "" if name == "-" else name))
    if len(names) > 1:
        ctx.out(_wc_line([totals[f] for f in chosen], "total"))
    return status


def _wc_line(values: list[int], name: str) -> str:
    text = str(values[0]) if len(values) == 1 else " ".join(f"{v:7d}" for v in values)
    return f"{text} {name}" if name else text


# -------------------------------------------------------------------------------- tr
def _tr_set(spec: str) -> list[int]:
    """Expand a tr SET: escapes, ranges ``a-z`` and ``[:class:]``."""
    for cls, repl in _CLASSES.items():
        spec = spec.replace(cls, repl.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
                            .replace("\\f", "\f").replace("\\v", "\v").replace("\\x00", "\x00")
                            .replace("\\x1f", "\x1f").replace("\\[", "[").replace("\\", ""))
    chars: list[int] = []
    raw = spec.encode("utf-8", "surrogateescape")
    escapes = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("\\"): 92, ord("a"): 7, ord("b"): 8,
               ord("f"): 12, ord("v"): 11}
    items: list[int] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        if b == 92 and i + 1 < len(raw):
            nxt = raw[i + 1]
            if 48 <= nxt <= 55:
                j = i + 1
                digits = b""
                while j < len(raw) and len(digits) < 3 and 48 <= raw[j] <= 55:
                    digits += bytes([raw[j]])
                    j += 1
                items.append(int(digits, 8) & 0xFF)
                i = j
                continue
            items.append(escapes.get(nxt, nxt))
            i += 2
            continue
        items.append(b)
        i += 1
    k = 0
    while k < len(items):
        if k + 2 < len(items) and items[k + 1] == ord("-"):
            chars.extend(range(items[k], items[k + 2] + 1))
            k += 3
        else:
            chars.append(items[k])
            k += 1
    return chars


@command("tr")
async def tr(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "dscC")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    delete = "d" in flags
    if not operands or (not delete and len(operands) < 2 and "s" not in flags):
        ctx.err("tr: Needs 1 argument" if not operands else "tr: Needs 2 arguments")
        return 1
    set1 = _tr_set(operands[0])
    if "c" in flags or "C" in flags:
        set1 = [b for b in range(256) if b not in set(set1)]
    table = bytes(range(256))
    squeeze: set[int] = set()
    if not delete and len(operands) >= 2:
        set2 = _tr_set(operands[1])
        if set2:
            mapping = bytearray(range(256))
            for idx, b in enumerate(set1):
                mapping[b] = set2[min(idx, len(set2) - 1)]
            table = bytes(mapping)
        squeeze = set(set2) if "s" in flags else set()
    elif "s" in flags:
        squeeze = set(set1)
    to_delete = bytes(set1) if delete else b""
    last = -1
    while True:
        chunk = await ctx.stdin.read(CHUNK)
        if not chunk:
            break
        out = chunk.translate(table, to_delete)
        if squeeze:
            kept = bytearray()
            for b in out:
                if b == last and b in squeeze:
                    continue
                kept.append(b)
                last = b
            out = bytes(kept)
        ctx.stdout.write(out)
        await ctx.stdout.drain()
    return 0


# ------------------------------------------------------------------------ sort / uniq
@command("sort")
async def sort(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "nruf")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    lines: list[str] = []
    for name in operands or ["-"]:
        try:
            async for line in iter_lines(ctx, name):
                lines.append(line.rstrip(b"\n").decode("utf-8", "surrogateescape"))
        except FsError as e:
            ctx.err(f"sort: {name}: {e.reason}")
            return 2

    def key(s: str) -> object:
        if "n" in flags:
            m = re.match(r"\s*(-?\d+(?:\.\d+)?)", s)
            return (float(m.group(1)) if m else 0.0, s)
        return s.lower() if "f" in flags else s

    lines.sort(key=key, reverse="r" in flags)
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    ctx.stdout.write("".join(s + "\n" for s in lines).encode("utf-8", "surrogateescape"))
    return 0


@command("uniq")
async def uniq(ctx: CommandContext) -> int:
    parsed = parse_flags(ctx, "cdui")
    if parsed is None:
        return 1
    flags, operands, _ = parsed
    groups: list[list] = []
    async for raw in iter_lines(ctx, operands[0] if operands else "-"):
        line = raw.rstrip(b"\n")
        cmp = line.lower() if "i" in flags else line
        if groups and groups[-1][0] == cmp:
            groups[-1][2] += 1
        else:
            groups.append([cmp, line, 1])
    for _, line, n in groups:
        if ("d" in flags and n < 2) or ("u" in flags and n > 1):
            continue
        ctx.stdout.write((f"{n:7d} ".encode() if "c" in flags else b"") + line + b"\n")
    return 0
