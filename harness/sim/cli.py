"""``bgtest sim …``: start virtual devices by hand (placeholder until the adbd work lands)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Start virtual devices that real adb / xcrun / WebDriverAgent clients reach.",
                  no_args_is_help=True)
