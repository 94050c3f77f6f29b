"""Secrets out of everything bgtest writes or prints: one set of rules, one place.

A failing run saves the device's log, the failing window, dumpsys output, a manifest, results
JSON, JUnit XML, an HTML timeline, and prints step lines and a summary. Any of them may carry
what the scenario or the app handled: a bearer token in a deep link, an ``api_key`` extra, a
cookie an app logged, a password from ``${env:…}``. Every one of those outputs goes through
:func:`active` (the run's :class:`Redactor`) before it reaches a file or the terminal, so a
rule added here covers all of them.

What is masked:

* the values of ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie``
  headers (to the end of the line, or of the quoted string);
* ``Bearer …`` / ``Basic …`` credentials wherever they appear;
* values of secret-looking names in queries, forms, JSON, dicts and ``am`` extras
  (``token``, ``api_key``, ``key``, ``secret``, ``password`` and names containing them);
* whatever the user's own patterns match (``redact:`` in a scenario or its defaults,
  ``bgtest run --redact``): the first group if the pattern has one, else the whole match;
* literal secret values: ``vars`` named like a secret, and environment variables named like
  one (what ``${env:API_TOKEN}`` expands to), wherever they show up — step lines included.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MASK = "[REDACTED]"

#: Names whose values are secrets (query/form keys, JSON keys, extras, var and env names).
_NAME = (
    r"(?:[\w.\-]*(?:token|secret|passw(?:or)?d|passwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|credential|cookie|session[_-]?id|authorization)[\w.\-]*|key|pwd|auth|sig|signature)"
)
_SECRET_NAME = re.compile(rf"(?i){_NAME}")
_HEADERS = r"proxy-authorization|authorization|set-cookie|cookie"
#: ``"Cookie": "a=b; c=d"`` (JSON, dicts): the whole quoted value.
_QUOTED_HEADER = re.compile(rf"""(?i)(["'])({_HEADERS})\1(\s*[:=]\s*)(["'])(?:(?!\4).)+\4""")
#: ``Authorization: Bearer …`` in a log line or a request dump: the rest of the line.
_HEADER_LINE = re.compile(rf"(?i)\b({_HEADERS})(\s*:[ \t]*)(?=\S)[^\r\n]+")
_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]{4,}=*)")
#: ``name=value`` / ``name: value`` / ``"name": "value"`` for a secret-looking name.
_PAIR = re.compile(
    rf"""(?i)(?<![\w.\-])(?P<name>{_NAME})(?P<sep>["']?\s*[:=]\s*)"""
    r"""(?:(?P<q>["'])(?P<quoted>(?:(?!(?P=q)).)*)(?P=q)|(?P<value>[^\s"'&#;,}\])]+))"""
)
#: ``am start --es api_key VALUE`` (and the other typed extras).
_EXTRA = re.compile(rf"(?i)(--e[sizlfu]?|--e[lf]a|--esa)(\s+)(?P<name>{_NAME})(\s+)(?P<value>\S+)")
#: A literal secret shorter than this is not masked by value (it would mask ordinary words).
MIN_SECRET_LEN = 6


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or header name says its value is a secret."""
    return bool(_SECRET_NAME.fullmatch(name.strip("\"'")))


class Redactor:
    """The run's redaction rules; immutable once built, so it can be shared by threads."""

    def __init__(self, patterns: Iterable[str | re.Pattern[str]] = (), secrets: Iterable[str] = ()) -> None:
        self.patterns = tuple(re.compile(p) if isinstance(p, str) else p for p in patterns)
        values = {str(s) for s in secrets if s is not None and len(str(s)) >= MIN_SECRET_LEN}
        # longest first, so a secret that contains another is masked whole
        self.secrets = tuple(sorted(values, key=len, reverse=True))
        self._literal = re.compile("|".join(map(re.escape, self.secrets))) if self.secrets else None

    def merged(self, other: Redactor) -> Redactor:
        """Both rule sets at once (a run's rules plus one scenario's)."""
        return Redactor([*self.patterns, *other.patterns], [*self.secrets, *other.secrets])

    # ------------------------------------------------------------------ text
    def text(self, text: str) -> str:
        """``text`` with every secret masked."""
        if not text:
            return text
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = _QUOTED_HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MASK}{m[4]}", text)
        text = _HEADER_LINE.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
        text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        text = _EXTRA.sub(_mask_extra, text)
        text = _PAIR.sub(_mask_pair, text)
        for pattern in self.patterns:
            text = pattern.sub(_mask_user, text)
        return text

    def data(self, value: Any) -> Any:
        """A copy of a JSON-like value or dataclass with every string in it redacted.

        A dict entry whose key is a secret name and whose value is a plain value is masked whole,
        whatever the value looks like (a task named ``token-refresh`` keeps its nested record).
        """
        if isinstance(value, str):
            return self.text(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [f for f in dataclasses.fields(value) if f.init]
            return dataclasses.replace(value, **{f.name: self.data(getattr(value, f.name)) for f in fields})
        if isinstance(value, Mapping):
            return {
                k: MASK if _plain(v) and isinstance(k, str) and is_secret_name(k) else self.data(v)
                for k, v in value.items()
            }
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return type(value)(*(self.data(v) for v in value))
        if isinstance(value, (list, tuple)):
            return type(value)(self.data(v) for v in value)
        return value

    def result(self, result: Any) -> None:
        """Redact a result dataclass (a ScenarioResult with its steps) in place."""
        for f in dataclasses.fields(result):
            setattr(result, f.name, self.data(getattr(result, f.name)))

    def file(self, path: Path) -> None:
        """Redact a text artifact in place (binary files, such as screenshots, are left alone)."""
        try:
            raw = path.read_bytes()
        except OSError:
            return
        if b"\0" in raw[:8192] or raw.startswith(b"\x89PNG"):
            return
        text = raw.decode("utf-8", errors="replace")
        clean = self.text(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")

    def tree(self, directory: Path) -> None:
        """Redact every text file below ``directory`` (an artifact folder)."""
        if not directory.is_dir():
            return
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.file(path)


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def _mask_pair(m: re.Match[str]) -> str:
    value = m.group("value") if m.group("q") is None else m.group("quoted")
    if not value or value.startswith(MASK[:-1]):
        return m.group(0)
    quote = m.group("q") or ""
    return f"{m.group('name')}{m.group('sep')}{quote}{MASK}{quote}"


def _mask_extra(m: re.Match[str]) -> str:
    if m.group("value").startswith(MASK[:-1]):
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}{m.group('name')}{m.group(4)}{MASK}"


def _mask_user(m: re.Match[str]) -> str:
    if m.re.groups and m.group(1) is not None:
        start, end = m.span(1)
        base = m.start()
        whole = m.group(0)
        return whole[: start - base] + MASK + whole[end - base :]
    return MASK


def secret_values(variables: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> list[str]:
    """Values to mask literally: vars named like a secret, and secret-named environment variables."""
    env = os.environ if environ is None else environ
    found = [str(v) for k, v in variables.items() if is_secret_name(k) and v is not None]
    found += [v for k, v in env.items() if is_secret_name(k) and k not in _SHELL_NAMES and not _a_path(v)]
    return found


def _a_path(value: str) -> bool:
    """An absolute path names where a secret is kept (``PASSWORD_STORE_DIR``, ``*_KEY_FILE``), it
    is not one: masking it would hide that folder in every path of a report."""
    return not value or (value.startswith("/") and not any(c.isspace() for c in value))


#: Environment variables whose names look secret but are the shell's own: ``PWD`` is the
#: working folder, not a password (masking it would hide every path in a report).
_SHELL_NAMES = frozenset({"PWD", "OLDPWD"})


_active = Redactor()


def install(redactor: Redactor) -> None:
    """Make ``redactor`` the one every output of this process goes through."""
    global _active
    _active = redactor


def active() -> Redactor:
    """The rules of this run (the defaults until a run installs its own)."""
    return _active


class RedactedStream:
    """A text stream whose every write goes through the run's rules (the console)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(active().text(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
