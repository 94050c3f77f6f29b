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


def chosen_color(flag: bool | None) -> bool | None:
    """The colour choice a command passes down: its own ``--color/--no-color``, else bgtest's
    ``bgtest --no-color COMMAND``, which the top-level callback leaves on click's context (click
    hands ``color`` from a group's context to its commands'). None: decide by ``NO_COLOR`` and
    the terminal (:func:`harness.report.console.use_color`)."""
    if flag is not None:
        return flag
    ctx = _current_context()
    return ctx.color if ctx is not None else None


def _current_context() -> Any:
    """The running command's click context. Typer 0.2x runs on a copy of click of its own
    (``typer._click``), whose context stack the ``click`` package never sees (asked there,
    ``bgtest --no-color validate`` on a terminal still coloured); older Typer runs on ``click``."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:
        from click import get_current_context
    return get_current_context(silent=True)
