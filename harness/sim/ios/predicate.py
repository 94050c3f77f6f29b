"""The NSPredicate subset ``log --predicate`` takes on the virtual iPhone.

Supported: keys (``subsystem``, ``category``, ``process``, ``processImagePath``, ``processID``,
``eventMessage``, ``composedMessage``, ``senderImagePath``, ``messageType``, ``eventType``,
``formatString``), the comparisons ``==``/``=``, ``!=``/``<>``, ``<``, ``<=``, ``>``, ``>=``,
``CONTAINS``, ``BEGINSWITH``, ``ENDSWITH``, ``LIKE``, ``MATCHES`` and ``IN {…}`` with the
``[c]``/``[d]``/``[cd]`` modifiers, ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, parentheses,
``TRUEPREDICATE``/``FALSEPREDICATE``. Keywords are case-insensitive as in Foundation.

A predicate Foundation cannot parse makes ``log`` print
``log: Bad predicate (Unable to parse the format string "P"): P`` and exit 64 (EX_USAGE), as
captured from real Macs in third-party logs and fixtures (wazuh/wazuh#29849 and others).
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .oslog import field_value, message_type_number


class PredicateError(ValueError):
    """A format string NSPredicate refuses."""

    def __init__(self, text: str) -> None:
        super().__init__(f'Unable to parse the format string "{text}"')
        self.text = text


Pred = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op>==|=>|=<|>=|<=|!=|<>|&&|\|\||[=<>!(){},])
      | (?P<mod>\[[cdnCDN]+\])
      | (?P<word>[A-Za-z_$][A-Za-z0-9_.$]*)
    )""",
    re.VERBOSE,
)
_STRING_OPS = {"CONTAINS", "BEGINSWITH", "ENDSWITH", "LIKE", "MATCHES", "IN"}
_MSG_TYPES = {
    "default": "Default",
    "info": "Info",
    "debug": "Debug",
    "error": "Error",
    "fault": "Fault",
    "release": "Default",
}


@dataclass
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise PredicateError(text)
        kind = m.lastgroup or ""
        out.append(_Tok(kind, m.group(kind)))
        pos = m.end()
    return out


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _fold(value: str, mods: str) -> str:
    if "d" in mods:
        value = "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))
    if "c" in mods:
        value = value.casefold()
    return value


class _Parser:
    def __init__(self, text: str, getter: Callable[[Any, str], Any] = field_value) -> None:
        self.getter = getter
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise PredicateError(self.text)
        self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.upper() in words

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.text in ops

    def parse(self) -> Pred:
        if not self.toks:
            raise PredicateError(self.text)
        pred = self.or_()
        if self.peek() is not None:
            raise PredicateError(self.text)
        return pred

    def or_(self) -> Pred:
        left = self.and_()
        while self.is_word("OR") or self.is_op("||"):
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def and_(self) -> Pred:
        left = self.not_()
        while self.is_word("AND") or self.is_op("&&"):
            self.take()
            right = self.not_()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def not_(self) -> Pred:
        if self.is_word("NOT") or self.is_op("!"):
            self.take()
            inner = self.not_()
            return lambda r: not inner(r)
        return self.atom()

    def atom(self) -> Pred:
        if self.is_op("("):
            self.take()
            inner = self.or_()
            if not self.is_op(")"):
                raise PredicateError(self.text)
            self.take()
            return inner
        if self.is_word("TRUEPREDICATE"):
            self.take()
            return lambda r: True
        if self.is_word("FALSEPREDICATE"):
            self.take()
            return lambda r: False
        return self.comparison()

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "str":
            return _unquote(tok.text)
        if tok.kind == "num":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "word" and tok.text.upper() in ("TRUE", "YES", "FALSE", "NO"):
            return tok.text.upper() in ("TRUE", "YES")
        if tok.kind == "word" and tok.text.upper() not in _STRING_OPS | {"AND", "OR", "NOT"}:
            return ("key", tok.text)
        if tok.kind == "op" and tok.text == "{":
            items = []
            while not self.is_op("}"):
                items.append(self.value())
                if self.is_op(","):
                    self.take()
                elif not self.is_op("}"):
                    raise PredicateError(self.text)
            self.take()
            return items
        raise PredicateError(self.text)

    def comparison(self) -> Pred:
        left = self.value()
        tok = self.take()
        if tok.kind == "op" and tok.text in ("==", "=", "!=", "<>", "<", "<=", "=<", ">", ">=", "=>"):
            op = {"=": "==", "<>": "!=", "=<": "<=", "=>": ">="}.get(tok.text, tok.text)
        elif tok.kind == "word" and tok.text.upper() in _STRING_OPS:
            op = tok.text.upper()
        else:
            raise PredicateError(self.text)
        mods = ""
        nxt = self.peek()
        if nxt is not None and nxt.kind == "mod":
            mods = self.take().text[1:-1].lower()
        right = self.value()
        if op == "MATCHES":
            if not isinstance(right, str):
                raise PredicateError(self.text)
            try:
                regex = re.compile(right, re.IGNORECASE if "c" in mods else 0)
            except re.error:
                raise PredicateError(self.text) from None
            return self._bind(left, right, lambda a, b: isinstance(a, str) and regex.fullmatch(a) is not None)
        return self._bind(left, right, _compare(op, mods))

    def _bind(self, left: Any, right: Any, test: Callable[[Any, Any], bool]) -> Pred:
        def resolve(side: Any, rec: dict[str, Any], other: Any) -> Any:
            if isinstance(side, tuple) and side[0] == "key":
                return self.getter(rec, side[1])
            return side

        def pred(rec: dict[str, Any]) -> bool:
            a = resolve(left, rec, right)
            b = resolve(right, rec, left)
            key = left[1] if isinstance(left, tuple) else right[1] if isinstance(right, tuple) else ""
            if key == "messageType":
                a, b = _msg_type(a), _msg_type(b)
            try:
                return bool(test(a, b))
            except TypeError:
                return False

        return pred


def _msg_type(v: Any) -> Any:
    if isinstance(v, str):
        return message_type_number(_MSG_TYPES.get(v.lower(), v))
    if isinstance(v, list):
        return [_msg_type(x) for x in v]
    return v


def _compare(op: str, mods: str) -> Callable[[Any, Any], bool]:
    def norm(v: Any) -> Any:
        return _fold(v, mods) if isinstance(v, str) else v

    if op == "==":
        return lambda a, b: norm(a) == norm(b)
    if op == "!=":
        return lambda a, b: norm(a) != norm(b)
    if op in ("<", "<=", ">", ">="):
        import operator

        fn = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]
        return lambda a, b: a is not None and b is not None and fn(norm(a), norm(b))
    if op == "CONTAINS":
        return lambda a, b: isinstance(a, str) and isinstance(b, str) and norm(b) in norm(a)
    if op == "BEGINSWITH":
        return lambda a, b: isinstance(a, str) and isinstance(b, str) and norm(a).startswith(norm(b))
    if op == "ENDSWITH":
        return lambda a, b: isinstance(a, str) and isinstance(b, str) and norm(a).endswith(norm(b))
    if op == "LIKE":
        return lambda a, b: (
            isinstance(a, str) and isinstance(b, str) and fnmatch.fnmatchcase(norm(a), norm(b))
        )
    if op == "IN":
        return lambda a, b: (
            norm(a) in [norm(x) for x in b]
            if isinstance(b, list)
            else isinstance(a, str) and isinstance(b, str) and norm(a) in norm(b)
        )
    raise AssertionError(op)


def compile_predicate(text: str, getter: Callable[[Any, str], Any] = field_value) -> Pred:
    """A test over stored log records (or, with ``getter``, anything else with keys: UI elements).

    :class:`PredicateError` when Foundation would refuse ``text``.
    """
    return _Parser(text, getter).parse()
