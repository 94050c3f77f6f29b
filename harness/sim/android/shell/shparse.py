"""Lexer and parser of the device's ``/system/bin/sh`` (the mksh subset adb users send).

Kept apart from the interpreter so a parsed line can be cached: the harness sends the same
few command lines thousands of times, and parsing is most of the cost of ``echo hi``.

A *word* is a tuple of parts; each part is one of
``("L", text)`` literal (quoted or not, never split), ``("G", text)`` unquoted literal that may
glob, ``("V", name, quoted, op, arg_word)`` a parameter, ``("C", Script, quoted)`` a command
substitution, ``("A", text, quoted)`` an arithmetic expansion. A word made only of literal
text is stored as a plain ``str`` (the fast path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

Word: TypeAlias = "str | tuple"


class ShellSyntaxError(Exception):
    """A line mksh would refuse; the message is what follows ``/system/bin/sh: ``."""


# ----------------------------------------------------------------------------- AST
@dataclass
class HereDoc:
    """``<<DELIM`` (``<<-`` strips leading tabs); ``body`` is filled when the lexer reaches it."""

    delim: str
    quoted: bool
    strip_tabs: bool
    body: Word = ""


@dataclass
class Redir:
    fd: int
    op: str  # '>', '>>', '<', '>&', '<&', '<>'
    target: Word


@dataclass
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirs: list[Redir]
    #: every word is plain text: argv needs no expansion (the common case, kept fast)
    plain: bool = False


@dataclass
class Pipeline:
    cmds: list  # Simple | Compound
    negate: bool = False


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]] = field(default_factory=list)


@dataclass
class Script:
    items: list[tuple[AndOr, bool]]  # (and-or list, run in background)


@dataclass
class If:
    branches: list[tuple[Script, Script]]
    otherwise: Script | None
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Loop:
    cond: Script
    body: Script
    until: bool
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class For:
    var: str
    words: list[Word] | None
    body: Script
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Case:
    """``case WORD in PATTERN|PATTERN) LIST ;; ... esac``."""

    word: Word
    items: list[tuple[list[Word], Script]]
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class FuncDef:
    """``name() compound-command``: defines a shell function."""

    name: str
    body: object
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Group:
    body: Script
    subshell: bool
    redirs: list[Redir] = field(default_factory=list)


# --------------------------------------------------------------------------- lexer
_OPERATORS = ("&&", "||", ";;", "|", "&", ";", "(", ")")
_META = set(" \t\n;&|()<>")
_SPECIAL_PARAMS = set("?$!#0123456789@*-")
_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")
KEYWORDS = {"if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "in", "{", "}", "!",
            "case", "esac"}

# Token kinds: ("W", word, plain_text_or_None), ("O", op), ("R", fd, op), ("N",) newline, ("E",) end


class _Lexer:
    def __init__(self, src: str) -> None:
        self.s = src
        self.i = 0
        self.n = len(src)
        self.heredocs: list[HereDoc] = []

    def tokens(self) -> list[tuple]:
        out: list[tuple] = []
        s, n = self.s, self.n
        while True:
            # skip blanks and comments
            while self.i < n:
                c = s[self.i]
                if c == " " or c == "\t":
                    self.i += 1
                elif c == "\\" and s.startswith("\\\n", self.i):
                    self.i += 2
                elif c == "#":
                    while self.i < n and s[self.i] != "\n":
                        self.i += 1
                else:
                    break
            if self.i >= n:
                if self.heredocs:
                    raise ShellSyntaxError(f"here document '{self.heredocs[0].delim}' unclosed")
                out.append(("E",))
                return out
            c = s[self.i]
            if c == "\n":
                self.i += 1
                out.append(("N",))
                if self.heredocs:
                    self._read_heredocs()
                continue
            if c in "<>":
                out.append(self._redir(-1))
                continue
            if s.startswith("&>", self.i):  # mksh: ``&>file`` is ``>file 2>&1``
                self.i += 2
                out.append(("R", 1, "&>"))
                continue
            op = None
            for cand in _OPERATORS:
                if s.startswith(cand, self.i):
                    op = cand
                    break
            if op is not None:
                self.i += len(op)
                out.append(("O", op))
                continue
            # an io number: digits immediately followed by < or >
            j = self.i
            while j < n and s[j] in "0123456789":
                j += 1
            if j > self.i and j < n and s[j] in "<>":
                fd = int(s[self.i : j])
                self.i = j
                out.append(self._redir(fd))
                continue
            out.append(self._word())

    def _redir(self, fd: int) -> tuple:
        s = self.s
        for op in ("<<<", "<<-", ">>", "<<", ">&", "<&", "<>", ">|", ">", "<"):
            if s.startswith(op, self.i):
                self.i += len(op)
                if op in ("<<", "<<-"):
                    return self._heredoc(0 if fd < 0 else fd, op == "<<-")
                if op == ">|":
                    op = ">"
                if fd < 0:
                    fd = 0 if op[0] == "<" else 1
                return ("R", fd, op)
        raise AssertionError("unreachable")

    def _heredoc(self, fd: int, strip_tabs: bool) -> tuple:
        """``<<DELIM``: the body is read at the next newline; the token carries it when done."""
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1
        if self.i >= self.n or self.s[self.i] in _META:
            raise ShellSyntaxError("syntax error: unexpected newline" if self.i < self.n
                                   else "syntax error: unexpected EOF")
        tok = self._word()
        word = tok[1]
        if isinstance(word, str):
            delim, quoted = word, tok[2] is None
        else:
            delim = "".join(p[1] for p in word if p[0] in ("L", "G"))
            quoted = any(p[0] == "L" for p in word)
        doc = HereDoc(delim, quoted, strip_tabs)
        self.heredocs.append(doc)
        return ("R", fd, "<<", doc)

    def _read_heredocs(self) -> None:
        s = self.s
        for doc in self.heredocs:
            lines: list[str] = []
            while True:
                if self.i >= self.n:
                    raise ShellSyntaxError(f"here document '{doc.delim}' unclosed")
                end = s.find("\n", self.i)
                line = s[self.i:] if end < 0 else s[self.i:end]
                self.i = self.n if end < 0 else end + 1
                if doc.strip_tabs:
                    line = line.lstrip("\t")
                if line == doc.delim:
                    break
                lines.append(line + "\n")
            text = "".join(lines)
            doc.body = text if doc.quoted else _Lexer(text)._heredoc_body()
        self.heredocs = []

    def _heredoc_body(self) -> Word:
        """An unquoted here-document: ``$`` and backquotes expand, ``\\`` escapes only ``$ ` \\``."""
        s, n = self.s, self.n
        parts: list[tuple] = [("L", "")]
        buf: list[str] = []
        while self.i < n:
            c = s[self.i]
            if c == "\\" and self.i + 1 < n and s[self.i + 1] in "$`\\\n":
                if s[self.i + 1] != "\n":
                    buf.append(s[self.i + 1])
                self.i += 2
                continue
            if c in "$`":
                part = self._dollar(quoted=True) if c == "$" else self._backtick(quoted=True)
                if part is None:
                    buf.append("$")
                    continue
                if buf:
                    parts.append(("L", "".join(buf)))
                    buf.clear()
                parts.append(part)
                continue
            buf.append(c)
            self.i += 1
        if buf:
            parts.append(("L", "".join(buf)))
        return _freeze(parts, True)

    def _word(self) -> tuple:
        """Read one word; returns ("W", word, plain) where plain is the text if fully unquoted."""
        s, n = self.s, self.n
        parts: list[tuple] = []
        buf: list[str] = []
        quoted_any = False
        plain = True

        def flush(kind: str = "G") -> None:
            if buf:
                parts.append((kind, "".join(buf)))
                buf.clear()

        while self.i < n:
            c = s[self.i]
            if c in _META:
                break
            if c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("no closing quote")
                flush()
                parts.append(("L", s[self.i + 1 : end]))
                self.i = end + 1
                quoted_any = True
                plain = False
            elif c == '"':
                flush()
                self.i += 1
                parts.extend(self._double())
                quoted_any = True
                plain = False
            elif c == "\\":
                if self.i + 1 >= n:
                    buf.append("\\")
                    self.i += 1
                    continue
                nxt = s[self.i + 1]
                self.i += 2
                if nxt == "\n":
                    continue
                flush()
                parts.append(("L", nxt))
                plain = False
            elif c == "$" and s.startswith("$'", self.i):
                flush()
                parts.append(("L", self._ansi_c()))
                quoted_any = True
                plain = False
            elif c == "$":
                part = self._dollar(quoted=False)
                if part is None:
                    buf.append("$")
                else:
                    flush()
                    parts.append(part)
                    plain = False
            elif c == "`":
                flush()
                parts.append(self._backtick(quoted=False))
                plain = False
            else:
                buf.append(c)
                self.i += 1
        flush()
        text = None
        if plain:
            text = parts[0][1] if parts else ""
        assign = None
        if parts and parts[0][0] == "G" and "=" in parts[0][1]:
            name, _, rest = parts[0][1].partition("=")
            if _is_name(name):
                value = ([("G", rest)] if rest else []) + parts[1:]
                assign = (name, _freeze(value, quoted_any or len(value) > 1) if value else "")
        return ("W", _freeze(parts, quoted_any), text, assign)

    def _ansi_c(self) -> str:
        """``$'...'``: a single-quoted string with C escapes (``\\n``, ``\\t``, ``\\x41``, ``\\'``)."""
        s, n = self.s, self.n
        i = self.i + 2
        out: list[str] = []
        simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
                  "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}
        while True:
            if i >= n:
                raise ShellSyntaxError("no closing quote")
            c = s[i]
            if c == "'":
                self.i = i + 1
                return "".join(out)
            if c == "\\" and i + 1 < n:
                d = s[i + 1]
                if d in simple:
                    out.append(simple[d])
                    i += 2
                    continue
                digits_from = i + 2 if d == "x" else i + 1
                limit, base, alphabet = (2, 16, "0123456789abcdefABCDEF") if d == "x" else (3, 8, "01234567")
                j = digits_from
                while j < n and j - digits_from < limit and s[j] in alphabet:
                    j += 1
                if j > digits_from:
                    value = int(s[digits_from:j], base) & 0xFF
                    out.append(chr(value) if value < 0x80 else chr(0xDC00 + value))
                    i = j
                    continue
                out.append("\\" + d)
                i += 2
                continue
            out.append(c)
            i += 1

    def _double(self) -> list[tuple]:
        s, n = self.s, self.n
        parts: list[tuple] = [("L", "")]  # keeps "" a (quoted, empty) field
        buf: list[str] = []
        while True:
            if self.i >= n:
                raise ShellSyntaxError("no closing quote")
            c = s[self.i]
            if c == '"':
                self.i += 1
                break
            if c == "\\" and self.i + 1 < n and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    buf.append(s[self.i + 1])
                self.i += 2
            elif c == "$":
                part = self._dollar(quoted=True)
                if part is None:
                    buf.append("$")
                else:
                    if buf:
                        parts.append(("L", "".join(buf)))
                        buf.clear()
                    parts.append(part)
            elif c == "`":
                if buf:
                    parts.append(("L", "".join(buf)))
                    buf.clear()
                parts.append(self._backtick(quoted=True))
            else:
                buf.append(c)
                self.i += 1
        if buf:
            parts.append(("L", "".join(buf)))
        return parts

    def _dollar(self, quoted: bool) -> tuple | None:
        """At a ``$``: parse the expansion, or return None (a literal ``$``), moving ``self.i``."""
        s, n = self.s, self.n
        i = self.i + 1
        if i >= n:
            self.i = i
            return None
        c = s[i]
        if c == "(":
            if s.startswith("((", i):
                end = _matching(s, i + 2, "((", "))")
                self.i = end + 2
                return ("A", s[i + 2 : end], quoted)
            end = _matching(s, i + 1, "(", ")")
            self.i = end + 1
            return ("C", parse(s[i + 1 : end]), quoted)
        if c == "{":
            end = s.find("}", i)
            if end < 0:
                raise ShellSyntaxError("missing '}'")
            body = s[i + 1 : end]
            self.i = end + 1
            return _brace_param(body, quoted)
        if c in _SPECIAL_PARAMS:
            self.i = i + 1
            return ("V", c, quoted, "", None)
        if c in _NAME_START:
            j = i
            while j < n and s[j] in _NAME_CHARS:
                j += 1
            self.i = j
            return ("V", s[i:j], quoted, "", None)
        self.i = i
        return None

    def _backtick(self, quoted: bool) -> tuple:
        s = self.s
        j = self.i + 1
        buf: list[str] = []
        while True:
            if j >= self.n:
                raise ShellSyntaxError("no closing quote")
            c = s[j]
            if c == "`":
                break
            if c == "\\" and j + 1 < self.n and s[j + 1] in "$`\\":
                buf.append(s[j + 1])
                j += 2
                continue
            buf.append(c)
            j += 1
        self.i = j + 1
        return ("C", parse("".join(buf)), quoted)


def _brace_param(body: str, quoted: bool) -> tuple:
    if body.startswith("#") and len(body) > 1:
        return ("V", body[1:], quoted, "#", None)
    j = 0
    while j < len(body) and (body[j] in _NAME_CHARS or (j == 0 and body[j] in _SPECIAL_PARAMS)):
        j += 1
        if body[0] in _SPECIAL_PARAMS:
            break
    name = body[:j]
    if not name:
        raise ShellSyntaxError(f"${{{body}}}: bad substitution")
    rest = body[j:]
    if not rest:
        return ("V", name, quoted, "", None)
    for op in (":-", ":=", ":+", ":?", "-", "=", "+", "?", "##", "#", "%%", "%", "//", "/"):
        if rest.startswith(op):
            arg = rest[len(op) :]
            if op in ("/", "//"):
                pattern, _, repl = arg.partition("/")
                return ("V", name, quoted, op, (_arg_word(pattern), _arg_word(repl)))
            return ("V", name, quoted, op, _arg_word(arg))
    raise ShellSyntaxError(f"${{{body}}}: bad substitution")


def _arg_word(text: str) -> Word:
    """The word inside ``${NAME<op>WORD}`` (quotes and expansions allowed, blanks kept)."""
    if not text:
        return ""
    lex = _Lexer(text)
    parts: list = []
    while lex.i < lex.n:
        if text[lex.i] in _META:
            parts.append(("L", text[lex.i]))
            lex.i += 1
            continue
        tok = lex._word()
        word = tok[1]
        parts.extend([("G", word)] if isinstance(word, str) else word)
    return _freeze(parts, False)


def _matching(s: str, start: int, opener: str, closer: str) -> int:
    """Index of the closer that balances an opener just before ``start`` (quotes respected)."""
    depth = 1
    i = start
    n = len(s)
    while i < n:
        c = s[i]
        if c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("no closing quote")
            i = end + 1
            continue
        if c == "\\":
            i += 2
            continue
        if c == '"':
            i += 1
            while i < n and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
            i += 1
            continue
        if s.startswith(closer, i):
            depth -= 1
            if depth == 0:
                return i
            i += len(closer)
            continue
        if s.startswith(opener, i):
            depth += 1
            i += len(opener)
            continue
        i += 1
    raise ShellSyntaxError("unexpected EOF")


def _freeze(parts: list[tuple], quoted_any: bool) -> Word:
    if not parts:
        return ""
    if all(p[0] in ("L", "G") for p in parts):
        text = "".join(p[1] for p in parts)
        if quoted_any or not any(ch in text for ch in "*?["):
            return text
    return tuple(parts)


# -------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, toks: list[tuple]) -> None:
        self.t = toks
        self.p = 0

    def peek(self) -> tuple:
        return self.t[self.p]

    def next(self) -> tuple:
        tok = self.t[self.p]
        self.p += 1
        return tok

    def fail(self, tok: tuple | None = None) -> ShellSyntaxError:
        tok = tok or self.peek()
        kind = tok[0]
        if kind == "E":
            return ShellSyntaxError("syntax error: unexpected EOF")
        if kind == "N":
            return ShellSyntaxError("syntax error: unexpected newline")
        if kind == "O":
            return ShellSyntaxError(f"syntax error: unexpected '{tok[1]}'")
        if kind == "R":
            return ShellSyntaxError(f"syntax error: unexpected '{tok[2]}'")
        text = tok[2] if tok[2] is not None else _display(tok[1])
        return ShellSyntaxError(f"syntax error: unexpected '{text}'")

    def is_kw(self, *names: str) -> bool:
        tok = self.peek()
        return tok[0] == "W" and tok[2] in names

    def skip_newlines(self) -> None:
        while self.peek()[0] == "N":
            self.p += 1

    def _ends(self, stop: tuple[str, ...], in_case: bool) -> bool:
        tok = self.peek()
        return (tok[0] == "E" or (tok[0] == "O" and (tok[1] == ")" or (in_case and tok[1] == ";;")))
                or bool(stop and self.is_kw(*stop)))

    def script(self, stop: tuple[str, ...] = (), in_case: bool = False) -> Script:
        """A list of and-or lists, until EOF, one of the ``stop`` keywords, ``)`` (or ``;;``)."""
        items: list[tuple[AndOr, bool]] = []
        while True:
            self.skip_newlines()
            if self._ends(stop, in_case):
                break
            ao = self.and_or()
            bg = False
            tok = self.peek()
            if tok[0] == "O" and tok[1] in (";", "&"):
                bg = tok[1] == "&"
                self.p += 1
            elif tok[0] == "N":
                self.p += 1
            elif self._ends(stop, in_case):
                items.append((ao, bg))
                break
            else:
                raise self.fail()
            items.append((ao, bg))
        return Script(items)

    def and_or(self) -> AndOr:
        ao = AndOr(self.pipeline())
        while True:
            tok = self.peek()
            if tok[0] == "O" and tok[1] in ("&&", "||"):
                self.p += 1
                self.skip_newlines()
                ao.rest.append((tok[1], self.pipeline()))
            else:
                return ao

    def pipeline(self) -> Pipeline:
        negate = False
        if self.is_kw("!"):
            self.p += 1
            negate = True
        cmds = [self.command()]
        while self.peek()[0] == "O" and self.peek()[1] == "|":
            self.p += 1
            self.skip_newlines()
            cmds.append(self.command())
        return Pipeline(cmds, negate)

    def command(self):
        tok = self.peek()
        if tok[0] == "W" and tok[2] in KEYWORDS:
            kw = tok[2]
            if kw == "case":
                return self._redirs_after(self._case())
            if kw == "if":
                return self._redirs_after(self._if())
            if kw in ("while", "until"):
                self.p += 1
                cond = self.script(("do",))
                self.expect_kw("do")
                body = self.script(("done",))
                self.expect_kw("done")
                return self._redirs_after(Loop(cond, body, kw == "until"))
            if kw == "for":
                return self._redirs_after(self._for())
            if kw == "{":
                self.p += 1
                body = self.script(("}",))
                self.expect_kw("}")
                return self._redirs_after(Group(body, False))
            raise self.fail()
        if (tok[0] == "W" and tok[2] and _is_name(tok[2]) and self.t[self.p + 1][0] == "O"
                and self.t[self.p + 1][1] == "(" and self.t[self.p + 2][0] == "O"
                and self.t[self.p + 2][1] == ")"):
            self.p += 3
            self.skip_newlines()
            nxt = self.peek()
            if not (nxt[0] == "W" and nxt[2] in ("{", "if", "while", "until", "for")) and not (
                    nxt[0] == "O" and nxt[1] == "("):
                raise self.fail()
            return FuncDef(tok[2], self.command())
        if tok[0] == "O" and tok[1] == "(":
            self.p += 1
            body = self.script()
            if not (self.peek()[0] == "O" and self.peek()[1] == ")"):
                raise self.fail()
            self.p += 1
            return self._redirs_after(Group(body, True))
        return self.simple()

    def _redirs_after(self, node):
        while self.peek()[0] == "R":
            node.redirs.append(self.redir())
        return node

    def expect_kw(self, name: str) -> None:
        if not self.is_kw(name):
            raise self.fail()
        self.p += 1

    def _case(self) -> Case:
        self.p += 1
        tok = self.next()
        if tok[0] != "W":
            raise self.fail(tok)
        word = tok[1]
        self.skip_newlines()
        self.expect_kw("in")
        items: list[tuple[list[Word], Script]] = []
        while True:
            self.skip_newlines()
            if self.is_kw("esac"):
                self.p += 1
                return Case(word, items)
            if self.peek()[0] == "O" and self.peek()[1] == "(":
                self.p += 1
            patterns: list[Word] = []
            while True:
                tok = self.next()
                if tok[0] != "W":
                    raise self.fail(tok)
                patterns.append(tok[1])
                tok = self.next()
                if tok[0] == "O" and tok[1] == "|":
                    continue
                if tok[0] == "O" and tok[1] == ")":
                    break
                raise self.fail(tok)
            body = self.script(("esac",), in_case=True)
            items.append((patterns, body))
            if self.peek()[0] == "O" and self.peek()[1] == ";;":
                self.p += 1
                continue
            self.skip_newlines()
            self.expect_kw("esac")
            return Case(word, items)

    def _if(self) -> If:
        self.p += 1
        branches = []
        cond = self.script(("then",))
        self.expect_kw("then")
        body = self.script(("elif", "else", "fi"))
        branches.append((cond, body))
        otherwise = None
        while True:
            if self.is_kw("elif"):
                self.p += 1
                cond = self.script(("then",))
                self.expect_kw("then")
                body = self.script(("elif", "else", "fi"))
                branches.append((cond, body))
            elif self.is_kw("else"):
                self.p += 1
                otherwise = self.script(("fi",))
                self.expect_kw("fi")
                return If(branches, otherwise)
            else:
                self.expect_kw("fi")
                return If(branches, otherwise)

    def _for(self) -> For:
        self.p += 1
        tok = self.next()
        if tok[0] != "W" or not tok[2] or not _is_name(tok[2]):
            raise self.fail(tok)
        var = tok[2]
        words: list[Word] | None = None
        self.skip_newlines()
        if self.is_kw("in"):
            self.p += 1
            words = []
            while self.peek()[0] == "W":
                words.append(self.next()[1])
        tok = self.peek()
        if (tok[0] == "O" and tok[1] == ";") or tok[0] == "N":
            self.p += 1
        self.skip_newlines()
        self.expect_kw("do")
        body = self.script(("done",))
        self.expect_kw("done")
        return For(var, words, body)

    def redir(self) -> Redir:
        tok = self.next()
        fd, op = tok[1], tok[2]
        if op == "<<":
            return Redir(fd, op, tok[3])  # type: ignore[arg-type]
        tok = self.peek()
        if tok[0] != "W":
            raise self.fail()
        self.p += 1
        return Redir(fd, op, tok[1])

    def simple(self) -> Simple:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirs: list[Redir] = []
        while True:
            tok = self.peek()
            if tok[0] == "W":
                if not words and tok[3] is not None:
                    assigns.append(tok[3])
                else:
                    words.append(tok[1])
                self.p += 1
            elif tok[0] == "R":
                redirs.append(self.redir())
            else:
                break
        if not (assigns or words or redirs):
            raise self.fail()
        return Simple(assigns, words, redirs, all(isinstance(w, str) for w in words))


def _is_name(text: str) -> bool:
    return bool(text) and text[0] in _NAME_START and all(c in _NAME_CHARS for c in text)


def _display(word: Word) -> str:
    if isinstance(word, str):
        return word
    return "".join(p[1] if p[0] in ("L", "G") else "$" + str(p[1]) for p in word)


def parse(src: str) -> Script:
    """Parse a whole command line (or script) into a :class:`Script`; raises ShellSyntaxError."""
    toks = _Lexer(src).tokens()
    parser = _Parser(toks)
    script = parser.script()
    if parser.peek()[0] != "E":
        raise parser.fail()
    return script


def split_words(src: str) -> list[str]:
    """The argv a line of plain quoted words gives (no expansion); for tests and tools."""
    out = []
    for tok in _Lexer(src).tokens():
        if tok[0] == "W":
            word = tok[1]
            if not isinstance(word, str):
                word = "".join(p[1] for p in word if p[0] in ("L", "G"))
            out.append(word)
        elif tok[0] != "E":
            raise ShellSyntaxError(f"syntax error: unexpected '{tok[1]}'")
    return out


_PARSE_CACHE: dict[str, Script] = {}
_PARSE_CACHE_MAX = 512


def parse_cached(line: str) -> Script:
    """:func:`parse` with a cache: hosts send the same few lines over and over."""
    script = _PARSE_CACHE.get(line)
    if script is None:
        script = parse(line)
        if len(_PARSE_CACHE) >= _PARSE_CACHE_MAX:
            _PARSE_CACHE.clear()
        _PARSE_CACHE[line] = script
    return script
