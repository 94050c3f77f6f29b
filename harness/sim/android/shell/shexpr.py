"""Expressions inside the shell: ``$((arithmetic))`` and shell patterns (``${V%%:*}``, ``${V/a/b}``).

mksh does integer arithmetic in 32-bit signed ints, so results wrap here too; that also keeps
``$((1<<999999999))`` from eating the daemon's memory.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Callable

from .shparse import ShellSyntaxError, Word, _Lexer


def trim_pattern(value: str, pattern: str, op: str) -> str:
    """``${V#p}`` shortest / ``##`` longest prefix, ``%`` shortest / ``%%`` longest suffix removed."""
    n = len(value)
    if op in ("#", "##"):
        order = range(n + 1) if op == "#" else range(n, -1, -1)
        for i in order:
            if fnmatch.fnmatchcase(value[:i], pattern):
                return value[i:]
    else:
        order = range(n, -1, -1) if op == "%" else range(n + 1)
        for i in order:
            if fnmatch.fnmatchcase(value[i:], pattern):
                return value[:i]
    return value


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A shell pattern as an unanchored regex (``*`` ``?`` ``[...]``), for ``${V/pattern/repl}``."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] in "!^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            end = pattern.find("]", j)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:  # e.g. a reversed range [z-a]: match the text literally
        return re.compile(re.escape(pattern))


def arith_word(text: str) -> Word:
    """The text of ``$((…))`` as a word whose ``$x`` and ``$(…)`` expand before evaluation.

    Raises ShellSyntaxError for a malformed expansion inside it.
    """
    tok = _Lexer('"' + text.replace('"', "") + '"').tokens()[0]
    if tok[0] != "W":
        raise ShellSyntaxError("syntax error: bad arithmetic expression")
    return tok[1]


def _wrap(value: int) -> int:
    return ((value + (1 << 31)) % (1 << 32)) - (1 << 31)


_BINOPS: dict[type, Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.LShift: lambda a, b: a << (b & 31),
    ast.RShift: lambda a, b: a >> (b & 31),
    ast.BitAnd: lambda a, b: a & b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitXor: lambda a, b: a ^ b,
}
_COMPARE: dict[type, Callable[[int, int], bool]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


class ArithEval:
    """Integer evaluation over Python's expression grammar, with C operators mapped onto it.

    ``lookup(name)`` gives a variable's text; a variable holding an expression is evaluated.
    Raises ValueError, SyntaxError or ZeroDivisionError; the shell turns them into its messages.
    """

    def __init__(self, lookup: Callable[[str], str]) -> None:
        self.lookup = lookup
        self.depth = 0

    def eval(self, text: str) -> int:
        self.depth += 1
        if self.depth > 32:
            raise ValueError("expression recurses too deeply")
        try:
            src = text.replace("&&", " and ").replace("||", " or ")
            src = src.replace("!=", "\0").replace("!", " not ").replace("\0", "!=")
            src = src.replace("/", "//").strip()
            if not src:
                return 0
            return _wrap(self._node(ast.parse(src, mode="eval").body))
        finally:
            self.depth -= 1

    def _node(self, n: ast.AST) -> int:
        if isinstance(n, ast.Constant) and isinstance(n.value, int) and not isinstance(n.value, bool):
            return _wrap(n.value)
        if isinstance(n, ast.Name):
            raw = (self.lookup(n.id) or "0").strip()
            return int(raw) if raw.lstrip("-").isdigit() else self.eval(raw)
        if isinstance(n, ast.UnaryOp):
            v = self._node(n.operand)
            if isinstance(n.op, ast.USub):
                return _wrap(-v)
            if isinstance(n.op, ast.UAdd):
                return v
            if isinstance(n.op, ast.Not):
                return int(not v)
            if isinstance(n.op, ast.Invert):
                return ~v
        if isinstance(n, ast.BinOp):
            a, b = self._node(n.left), self._node(n.right)
            if isinstance(n.op, ast.FloorDiv):  # C division truncates toward zero
                q = abs(a) // abs(b)
                return _wrap(q if (a >= 0) == (b >= 0) else -q)
            if isinstance(n.op, ast.Mod):
                r = abs(a) % abs(b)
                return r if a >= 0 else -r
            fn = _BINOPS.get(type(n.op))
            if fn is not None:
                return _wrap(fn(a, b))
        if isinstance(n, ast.BoolOp):
            vals = [self._node(v) for v in n.values]
            return int(all(vals)) if isinstance(n.op, ast.And) else int(any(vals))
        if isinstance(n, ast.Compare) and len(n.ops) == 1:
            cmp = _COMPARE.get(type(n.ops[0]))
            if cmp is not None:
                return int(cmp(self._node(n.left), self._node(n.comparators[0])))
        raise ValueError("bad expression")
