"""A safe YAML reader that remembers where every value came from.

Why not ``yaml.safe_load``: error messages must point at ``file:line:col`` for any value,
including the key of an unknown field, so every mapping and list keeps the span of itself,
of each key and of each value. Why not PyYAML's composer: it recurses (deep nesting blows the
stack) and expands aliases without limit (billion laughs). So this module builds the tree from
the parser's *events* with an explicit stack, counts the expanded size as it goes and refuses
documents over the limits.

Scalars follow the YAML 1.2 core schema: only ``true``/``false`` are booleans, so ``doze: off``
and ``battery_saver: on`` stay the words the author wrote (the models turn them into states).
Only the standard tags are accepted; there are no Python tags and no custom constructors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml's parser is several times faster; the pure-Python one gives the same events.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 1_000_000
"""Largest scenario file read (1 MB); scenarios are a few KB."""
MAX_NODES = 100_000
"""Largest document counted with aliases expanded: refuses billion-laughs files."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings."""
MAX_NUMBER_CHARS = 100
"""Longest unquoted number: Python refuses to convert integers of more than 4300 digits, and
no scenario value needs a hundred; a longer one is refused where it was written."""


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value sits in its file: 1-based line and column of its start and end."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class YamlLoadError(Exception):
    """A document that is not valid or not acceptable YAML, with the place of the problem."""

    def __init__(self, message: str, span: Span, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint


class LMap(dict):
    """A mapping that keeps the span of itself, of each key and of each value."""

    __slots__ = ("key_spans", "span", "value_spans")

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span
        self.key_spans: dict[str, Span] = {}
        self.value_spans: dict[str, Span] = {}


class LSeq(list):
    """A list that keeps the span of itself and of each item."""

    __slots__ = ("item_spans", "span")

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span
        self.item_spans: list[Span] = []


@dataclass(slots=True)
class Document:
    """One YAML document: its root value (LMap, LSeq or a scalar) and the root's span."""

    root: Any
    span: Span


_DEC = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INF = frozenset({".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
_NINF = frozenset({"-.inf", "-.Inf", "-.INF"})
_NAN = frozenset({".nan", ".NaN", ".NAN"})
_STD = "tag:yaml.org,2002:"
_ALLOWED_SCALAR_TAGS = frozenset({_STD + t for t in ("str", "int", "float", "bool", "null")})
_ALLOWED_TAGS = _ALLOWED_SCALAR_TAGS | {_STD + "map", _STD + "seq", "!"}


def _plain_scalar(value: str) -> Any:
    """YAML 1.2 core schema resolution of an untagged plain scalar."""
    if not value:
        return None
    c = value[0]
    if c in "0123456789+-.":
        if len(value) > MAX_NUMBER_CHARS and _FLOAT.fullmatch(value):
            raise _NumberTooLong(value)
        if _DEC.fullmatch(value):
            return int(value, 10)
        if _OCT.fullmatch(value):
            return int(value[2:], 8)
        if _HEX.fullmatch(value):
            return int(value[2:], 16)
        if _FLOAT.fullmatch(value):
            return float(value)
        if value in _INF:
            return float("inf")
        if value in _NINF:
            return float("-inf")
        if value in _NAN:
            return float("nan")
        return value
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return value


class _NumberTooLong(ValueError):
    """A plain number longer than :data:`MAX_NUMBER_CHARS` (the caller knows where it was)."""


def _tagged_scalar(tag: str, value: str, span: Span) -> Any:
    """A scalar with an explicit standard tag (``!!str 12``, ``!!int "3"``)."""
    kind = tag[len(_STD) :]
    if kind == "str":
        return value
    resolved = _plain_scalar(value)
    ok = {
        "int": isinstance(resolved, int) and not isinstance(resolved, bool),
        "float": isinstance(resolved, (int, float)) and not isinstance(resolved, bool),
        "bool": isinstance(resolved, bool),
        "null": resolved is None,
    }[kind]
    if not ok:
        raise YamlLoadError(f"{value!r} is not a valid !!{kind}", span)
    return float(resolved) if kind == "float" else resolved


def _span(file: str, start: Any, end: Any) -> Span:
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def copy_tree(value: Any) -> Any:
    """Deep copy of an aliased value so that later edits (variable substitution) stay local."""
    if isinstance(value, LMap):
        new = LMap(value.span)
        for k, v in value.items():
            dict.__setitem__(new, k, copy_tree(v))
        new.key_spans = dict(value.key_spans)
        new.value_spans = dict(value.value_spans)
        return new
    if isinstance(value, LSeq):
        new_seq = LSeq(value.span)
        new_seq.extend(copy_tree(v) for v in value)
        new_seq.item_spans = list(value.item_spans)
        return new_seq
    return value


class _Frame:
    """An open mapping or list while its events arrive."""

    __slots__ = ("anchor", "container", "key", "key_span", "size")

    def __init__(self, container: LMap | LSeq, anchor: str | None) -> None:
        self.container = container
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.key_span: Span | None = None
        self.size = 1


_NO_KEY = object()
_MERGE = "<<"


def load_documents(text: str | bytes, file: str = "<string>") -> list[Document]:
    """Parse every document of ``text``; raise :class:`YamlLoadError` at the first problem.

    Documents before the problem are not returned: a file is either read whole or reported.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise YamlLoadError(
                f"file is too large ({len(text)} bytes; the limit is {MAX_BYTES})", Span(file, 1, 1, 1, 1)
            )
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlLoadError(
                f"file is not UTF-8 text ({exc.reason} at byte {exc.start})", Span(file, 1, 1, 1, 1)
            ) from None
    elif len(text) > MAX_BYTES:
        raise YamlLoadError(
            f"file is too large ({len(text)} characters; the limit is {MAX_BYTES})", Span(file, 1, 1, 1, 1)
        )
    try:
        return _build(text, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        lines = text.splitlines()
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        hint = _syntax_hint(problem, src) or _opened_at(exc, line)
        span = Span(file, line, col, line, col)
        raise YamlLoadError(f"YAML syntax error: {problem}", span, hint=hint) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no MarkedYAMLError
        raise YamlLoadError(f"YAML error: {exc}", Span(file, 1, 1, 1, 1)) from None


def _opened_at(exc: yaml.MarkedYAMLError, line: int) -> str | None:
    """Where the construct that is not closed began: an unclosed ``[`` is only found at the end
    of the file, so the error's own line points far from the mistake."""
    ctx = exc.context_mark
    if ctx is None or ctx.line + 1 == line or not exc.context:
        return None
    what = exc.context.removeprefix("while parsing ").removeprefix("while scanning ").removeprefix("a ")
    what = _CONSTRUCTS.get(what, what)
    return f"the {what} that begins at line {ctx.line + 1}, column {ctx.column + 1} is not closed"


_CONSTRUCTS = {"flow sequence": "'[' list", "flow mapping": "'{' mapping", "quoted scalar": "quoted text"}


def _syntax_hint(problem: str, line: str) -> str | None:
    if "${" in line and ("flow" in problem or "found" in problem):
        return 'inside { } or [ ], quote values that use variables: "${name}"'
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted, or a key is indented too deep"
    if "could not find expected ':'" in problem:
        return "every line of a mapping needs 'key: value'; check the indentation of this line"
    if "\t" in line or "tab" in problem:
        return "YAML indents with spaces, not tabs"
    if "expected <block end>" in problem:
        return "this line's indentation does not match the lines above it"
    return None


def _build(text: str, file: str) -> list[Document]:
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        anchors: dict[str, tuple[Any, int]] = {}
        stack: list[_Frame] = []
        total = 0
        root: Any = None
        root_span: Span | None = None

        def attach(value: Any, span: Span, size: int) -> None:
            nonlocal root, root_span, total
            total += size
            if total > MAX_NODES:
                raise YamlLoadError(
                    f"document expands to more than {MAX_NODES} values through aliases",
                    span,
                    hint="billion-laughs style alias nesting is refused; repeat less, or use include:",
                )
            if not stack:
                root, root_span = value, span
                return
            frame = stack[-1]
            frame.size += size
            c = frame.container
            if isinstance(c, LSeq):
                c.append(value)
                c.item_spans.append(span)
                return
            if frame.key is _NO_KEY:
                if isinstance(value, (LMap, LSeq)):
                    raise YamlLoadError("a mapping key must be plain text, not a list or mapping", span)
                key = value
                frame.key, frame.key_span = key, span
                return
            key, key_span = frame.key, frame.key_span
            frame.key, frame.key_span = _NO_KEY, None
            assert key_span is not None
            if key == _MERGE:
                _merge(c, value, span)
                return
            if key in c:
                first = c.key_spans[key]
                raise YamlLoadError(
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    key_span,
                    hint="each key may appear once in a mapping; remove or rename one",
                )
            dict.__setitem__(c, key, value)
            c.key_spans[key] = key_span
            c.value_spans[key] = span

        while True:
            event = loader.get_event()
            if event is None:
                break
            et = type(event)
            if et is yaml.ScalarEvent:
                span = _span(file, event.start_mark, event.end_mark)
                tag = event.tag
                if stack and isinstance(stack[-1].container, LMap) and stack[-1].key is _NO_KEY:
                    value: Any = event.value  # keys stay the text written ("on:" is the key "on")
                    if tag and tag not in _ALLOWED_TAGS:
                        raise _bad_tag(tag, span)
                else:
                    try:
                        value = _scalar(event, span)
                    except _NumberTooLong:
                        raise YamlLoadError(
                            f"a number of {len(event.value)} characters (the limit is {MAX_NUMBER_CHARS})",
                            span,
                            hint="quote it if it is text; no count or duration needs that many digits",
                        ) from None
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                attach(value, span, 1)
            elif et is yaml.MappingStartEvent or et is yaml.SequenceStartEvent:
                span = _span(file, event.start_mark, event.end_mark)
                if event.tag and event.tag not in _ALLOWED_TAGS:
                    raise _bad_tag(event.tag, span)
                if len(stack) >= MAX_DEPTH:
                    raise YamlLoadError(f"nesting deeper than {MAX_DEPTH} levels", span)
                if stack and isinstance(stack[-1].container, LMap) and stack[-1].key is _NO_KEY:
                    raise YamlLoadError("a mapping key must be plain text, not a list or mapping", span)
                container: LMap | LSeq = LMap(span) if et is yaml.MappingStartEvent else LSeq(span)
                if event.anchor:
                    anchors.pop(event.anchor, None)  # an alias inside itself is then "undefined"
                stack.append(_Frame(container, event.anchor))
            elif et is yaml.MappingEndEvent or et is yaml.SequenceEndEvent:
                frame = stack.pop()
                c = frame.container
                c.span = Span(
                    file, c.span.line, c.span.col, event.end_mark.line + 1, event.end_mark.column + 1
                )
                if frame.anchor:
                    anchors[frame.anchor] = (c, frame.size)
                total -= frame.size - 1  # children were counted already
                attach(c, c.span, frame.size)
            elif et is yaml.AliasEvent:
                span = _span(file, event.start_mark, event.end_mark)
                if event.anchor not in anchors:
                    raise YamlLoadError(
                        f"alias *{event.anchor} refers to no anchor defined before it",
                        span,
                        hint=f"define &{event.anchor} earlier in the same document",
                    )
                value, size = anchors[event.anchor]
                if total + size > MAX_NODES:
                    raise YamlLoadError(
                        f"document expands to more than {MAX_NODES} values through aliases",
                        span,
                        hint="billion-laughs style alias nesting is refused; repeat less, or use include:",
                    )
                attach(copy_tree(value), span, size)
            elif et is yaml.DocumentStartEvent:
                anchors, stack, total, root, root_span = {}, [], 0, None, None
            elif et is yaml.DocumentEndEvent:
                docs.append(Document(root, root_span or _span(file, event.start_mark, event.end_mark)))
    finally:
        loader.dispose()
    return docs


def _scalar(event: Any, span: Span) -> Any:
    """The value of a scalar that is not a mapping key: plain, quoted or with a standard tag."""
    tag = event.tag
    if tag is None or tag == "!":
        return _plain_scalar(event.value) if tag is None and event.implicit[0] else event.value
    if tag in _ALLOWED_SCALAR_TAGS:
        return _tagged_scalar(tag, event.value, span)
    raise _bad_tag(tag, span)


def _merge(target: LMap, value: Any, span: Span) -> None:
    """``<<: *base`` — copy keys the mapping does not set itself (YAML merge key)."""
    sources = value if isinstance(value, LSeq) else [value]
    for src in sources:
        if not isinstance(src, LMap):
            raise YamlLoadError("'<<' merges mappings only (write <<: *anchor)", span)
        for k, v in src.items():
            if k not in target:
                dict.__setitem__(target, k, v)
                target.key_spans[k] = src.key_spans[k]
                target.value_spans[k] = src.value_spans[k]


def _bad_tag(tag: str, span: Span) -> YamlLoadError:
    shown = "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag
    return YamlLoadError(
        f"YAML tag {shown} is not allowed",
        span,
        hint="scenarios use plain YAML only; tags like !!python/... or !include are refused "
        "(use the include: step to share steps)",
    )


def to_plain(value: Any) -> Any:
    """The tree as ordinary dicts and lists (for messages and tests)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
