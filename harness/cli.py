"""The ``bgtest`` command: one Typer app; each area adds its sub-commands from its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bgtest",
    help="Prove that mobile background work runs under Doze, battery saver, force-stop, reboot "
    "and network loss — on real devices or on bgtest's virtual ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach each area's commands (kept in their own modules so the areas stay apart)."""
    from harness import run_cli
    from harness.scenario import cli as scenario_cli
    from harness.sim import cli as sim_cli

    app.add_typer(sim_cli.app, name="sim")
    scenario_cli.register(app)
    run_cli.register(app)


def main() -> None:
    _register()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
