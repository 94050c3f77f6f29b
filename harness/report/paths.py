"""Where a report file may go: inside its report folder, whatever name a scenario gives it.

A scenario names its artifacts (``capture: {name: …}``); a name such as ``../../x`` or an
absolute path would write anywhere the user can. The rule — a plain file name — is checked
when the scenario is validated (with ``file:line:col``) and enforced again when the file is
written, so a name that reaches a writer by another road still cannot leave the folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

MAX_NAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UnsafeArtifactPath(ValueError):
    """A path that would leave its report folder."""


def safe_name(name: str) -> str:
    """``name`` as a plain file name: no folders, no leading dot, only ``A-Za-z0-9._-``; accents
    are dropped from their letters (``résumé.png`` → ``resume.png``, not ``r-sum-.png``)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", folded).lstrip(".-")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)[:MAX_NAME]
    return cleaned or "artifact"


def is_safe_name(name: str) -> bool:
    """Whether ``name`` is already a plain file name (what validation accepts)."""
    return bool(name) and safe_name(name) == name


def inside(directory: Path, name: str) -> Path:
    """The path of ``name`` in ``directory``, sanitized; raises if it would still escape."""
    path = directory / safe_name(name)
    root = directory.resolve()
    if path.resolve().parent != root:  # a symlink planted in the folder, for one
        raise UnsafeArtifactPath(f"{name!r} would be written outside {directory}")
    return path
