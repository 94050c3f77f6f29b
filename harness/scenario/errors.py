"""Scenario errors as people read them: ``path:line:col: message``, the line, a caret, a hint.

One exception type (:class:`ScenarioError`) carries *all* the problems found in the files it
was raised for, so a user fixes a file in one round instead of one error per run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.scenario.yamlmarks import MAX_BYTES, Span
from harness.userfiles import read_bounded


@dataclass(frozen=True)
class Diagnostic:
    """One problem at one place. ``line``/``col`` are 1-based; ``end_col`` bounds the caret run."""

    file: str
    line: int
    col: int
    message: str
    hint: str | None = None
    end_line: int | None = None
    end_col: int | None = None

    @classmethod
    def at(cls, span: Span, message: str, hint: str | None = None) -> Diagnostic:
        return cls(span.file, span.line, span.col, message, hint, span.end_line, span.end_col)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def render(self, source: str | None = None, color: bool = False) -> str:
        """The full text block: header line, source excerpt with caret, hint."""
        red, dim, cyan, reset = ("\x1b[31m", "\x1b[2m", "\x1b[36m", "\x1b[0m") if color else ("",) * 4
        out = [f"{self.where}: {red}{self.message}{reset}"]
        text = source if source is not None else _read_source(self.file)
        if text is not None:
            lines = text.splitlines()
            if self.line == len(lines) + 1:  # errors at the end of the file
                lines.append("")
            if 1 <= self.line <= len(lines):
                src = lines[self.line - 1].rstrip("\n").replace("\t", " ")
                col = self.col
                if len(src) > 120:  # a window around the column keeps huge lines readable
                    start = max(0, col - 60)
                    src, col = src[start : start + 120], col - start
                gutter = f"{self.line:>5} | "
                out.append(f"{dim}{gutter}{reset}{src}")
                width = 1
                if self.end_line == self.line and self.end_col and self.end_col > self.col:
                    width = self.end_col - self.col
                width = max(1, min(width, max(1, len(src) - col + 1)))
                out.append(" " * (len(gutter) - 2) + "| " + " " * (col - 1) + red + "^" * width + reset)
        if self.hint:
            out.append(f"{cyan}hint:{reset} {self.hint}")
        return "\n".join(out)


@dataclass
class ScenarioError(Exception):
    """Every problem found while loading; ``str()`` renders them all."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self, color: bool = False) -> str:
        return "\n\n".join(d.render(self.sources.get(d.file), color) for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()


def _read_source(file: str) -> str | None:
    try:
        return read_bounded(file, MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The valid name a typo most likely meant, or ``None`` when nothing is close."""
    if not isinstance(word, str):
        return None
    options = list(choices)
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not found:
        found = difflib.get_close_matches(word.lower().replace("-", "_"), options, n=1, cutoff=0.6)
    return found[0] if found else None


def choices_hint(word: object, choices: Sequence[str], what: str = "allowed") -> str:
    """``did you mean 'x'? allowed: a, b, c`` — the hint for any closed set of names."""
    guess = closest(word, choices)
    listed = ", ".join(choices)
    return f"did you mean '{guess}'? {what}: {listed}" if guess else f"{what}: {listed}"
