"""``test`` / ``[``: the conditions of the boot loops and scripts people paste into adb shell.

A shell built-in in mksh (it reads the shell's working directory), so the shell calls
:func:`evaluate_test` directly; errors read as mksh prints them (``[: missing ]``, exit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..procio import OutputSink

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

SH = "/system/bin/sh"
_UNARY_FILE = set("efdsrwxLhpSbcgukOGN")
_INT_OPS = {
    "-eq": lambda a, b: a == b,
    "-ne": lambda a, b: a != b,
    "-lt": lambda a, b: a < b,
    "-le": lambda a, b: a <= b,
    "-gt": lambda a, b: a > b,
    "-ge": lambda a, b: a >= b,
}
_STR_OPS = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


class _TestError(Exception):
    pass


class _Eval:
    def __init__(self, args: list[str], name: str, device: VirtualAndroidDevice,
                 resolve: Callable[[str], str]) -> None:
        self.a = args
        self.p = 0
        self.name = name
        self.device = device
        self.resolve = resolve

    def more(self) -> bool:
        return self.p < len(self.a)

    def take(self) -> str:
        if not self.more():
            raise _TestError("argument expected")
        tok = self.a[self.p]
        self.p += 1
        return tok

    def or_(self) -> bool:
        result = self.and_()
        while self.more() and self.a[self.p] == "-o":
            self.p += 1
            rhs = self.and_()
            result = result or rhs
        return result

    def and_(self) -> bool:
        result = self.not_()
        while self.more() and self.a[self.p] == "-a":
            self.p += 1
            rhs = self.not_()
            result = result and rhs
        return result

    def not_(self) -> bool:
        if self.more() and self.a[self.p] == "!" and self.p + 1 < len(self.a):
            self.p += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        tok = self.take()
        rest = len(self.a) - self.p
        # binary operator after this operand?
        if rest >= 2 or (rest >= 1 and self.a[self.p] in _STR_OPS | _INT_OPS):
            op = self.a[self.p] if rest else ""
            if op in _STR_OPS:
                self.p += 1
                return _STR_OPS[op](tok, self.take())
            if op in _INT_OPS:
                self.p += 1
                rhs = self.take()
                return _INT_OPS[op](self.num(tok), self.num(rhs))
        if tok == "(" and self.more():
            result = self.or_()
            if not self.more() or self.take() != ")":
                raise _TestError("')' expected")
            return result
        if len(tok) == 2 and tok[0] == "-" and self.more():
            op = tok[1]
            if op == "n":
                return self.take() != ""
            if op == "z":
                return self.take() == ""
            if op == "t":
                self.take()
                return False
            if op in _UNARY_FILE:
                return self.file_test(op, self.take())
            raise _TestError(f"{tok}: unexpected operator")
        return tok != ""

    def num(self, text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise _TestError(f"{text}: bad number") from None

    def file_test(self, op: str, path: str) -> bool:
        if not path:
            return False
        st = self.device.fs.stat(self.resolve(path))
        if st is None:
            return False
        if op == "d":
            return st.is_dir
        if op == "f":
            return st.is_file
        if op == "s":
            return st.size > 0
        if op in "LhpSbcgukN":
            return False
        if op == "x":
            return bool(st.mode & 0o111)
        if op == "w":
            return st.uid == 2000 or bool(st.mode & 0o002) or self.resolve(path).startswith(
                ("/sdcard", "/storage/emulated/0", "/data/local/tmp"))
        return True


def evaluate_test(argv: list[str], device: VirtualAndroidDevice, resolve: Callable[[str], str],
                  stderr: OutputSink) -> int:
    """Exit status of ``test ARGS`` / ``[ ARGS ]``: 0 true, 1 false, 2 error."""
    name = argv[0]
    args = argv[1:]
    if name == "[":
        if not args or args[-1] != "]":
            stderr.write(f"{SH}: [: missing ]\n")
            return 2
        args = args[:-1]
    if not args:
        return 1
    ev = _Eval(args, name, device, resolve)
    try:
        result = ev.or_()
        if ev.more():
            raise _TestError(f"{ev.a[ev.p]}: unexpected operator/operand")
    except _TestError as e:
        stderr.write(f"{SH}: {name}: {e}\n")
        return 2
    return 0 if result else 1
