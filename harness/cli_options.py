"""Options shared by the commands of several areas (kept apart from ``harness.cli``, which
imports every area's commands: an area importing it back would close an import circle)."""

from __future__ import annotations

from typing import Any

import typer


def color_option() -> Any:
    """The ``--color/--no-color`` option of the commands that print colour (one definition)."""
    return typer.Option(
        None, "--color/--no-color", help="colour the output (default: on a terminal, unless NO_COLOR is set)"
    )
