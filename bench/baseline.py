"""A baseline commit's files beside this checkout, for the benches that time both in one run.

A bench that compares this checkout with an older commit runs that commit's code from a copy
(``git archive`` into a temporary folder), never by checking it out: the checkout is someone's
work in progress, and both trees must run alternately under the same machine load.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def unpack(rev: str, into: Path, paths: tuple[str, ...]) -> Path:
    """``paths`` of commit ``rev`` in ``into`` (made if need be); ``into`` is returned."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, *paths], check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "tree.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as archive:
        archive.extractall(into, filter="data")
    tar.unlink()
    return into
