"""``bgtest run``'s options checked before anything starts: a mistake is a message and exit 2.

A report folder that is a file, a JUnit path under a file or ``-n -1`` used to surface
half-way through a run (a passing scenario reported failed, a 60-line pytest INTERNALERROR)
or not at all. Each is named here, with what to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path


def _blocked_by_file(path: Path) -> Path | None:
    """The first existing ancestor of ``path`` that is not a folder (so nothing can go below it)."""
    for parent in [path, *path.parents]:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def problems(
    *,
    report: Path | None = None,
    junit: Path | None = None,
    workers: int | None = None,
    redact: Sequence[str] = (),
) -> list[str]:
    """Everything wrong with these options, each as a sentence that says what to do."""
    found: list[str] = []
    if workers is not None and workers < 0:
        found.append(f"-n {workers}: the number of parallel workers is 0 (one process) or more")
    if report is not None:
        if report.exists() and not report.is_dir():
            found.append(f"--report {report}: that is a file; --report names a folder (made if missing)")
        elif (blocker := _blocked_by_file(report)) is not None:
            found.append(f"--report {report}: {blocker} is a file, so no folder can be made there")
    if junit is not None:
        if junit.is_dir():
            found.append(f"--junit {junit}: that is a folder; give a file name such as {junit / 'junit.xml'}")
        elif (blocker := _blocked_by_file(junit.parent)) is not None:
            found.append(f"--junit {junit}: {blocker} is a file, so {junit.name} cannot be written below it")
    for pattern in redact:
        try:
            re.compile(pattern)
        except re.error as exc:
            found.append(f"--redact {pattern!r}: not a valid regular expression ({exc})")
    return found
