"""The ``bgtest`` command: one Typer app; each area adds its sub-commands from its own module.

Help is click's plain layout (Typer bundles its own click, so parameters are told apart by
``param_type_name``) (it reads well at 80 columns and carries no colour to switch
off), with two repairs to what Typer prints: no ``<bool>`` / ``<list[Path]>`` type labels and
no ``{paths}...`` in the usage line — arguments show as their metavar, options as click does.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand

from harness import __version__


class _Command(TyperCommand):
    """A sub-command whose help names arguments by their metavar (``PATH...``), not their type."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_argument_label(param))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments = [
            (_argument_label(p), getattr(p, "help", None) or "")
            for p in self.get_params(ctx)
            if p.param_type_name == "argument"
        ]
        options = []
        for param in self.get_params(ctx):
            if param.param_type_name == "option":
                if param.metavar is None and not param.is_flag and not param.count:
                    param.metavar = _option_label(param)
                record = param.get_help_record(ctx)
                if record is not None:
                    options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


def _argument_label(param: Any) -> str:
    label = param.metavar or (param.name or "arg").upper()
    if param.nargs != 1 and not label.endswith("..."):
        label += "..."
    return label if param.required else f"[{label}]"


def _option_label(param: Any) -> str:
    """``--clock manual|realtime|scaled``, ``--device DEVICE``: what to type, not a Python type."""
    described = getattr(param, "type_descriptor", None)
    choices = described.choices if described is not None and described.is_choice else None
    if choices:
        return "|".join(str(getattr(c, "value", c)) for c in choices)
    return (param.name or "value").upper()


CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="bgtest",
    help="Prove that mobile background work runs under Doze, battery saver, force-stop, reboot "
    "and network loss — on real devices or on bgtest's virtual ones.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bgtest {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="print the version and exit"
    ),
    no_color: bool = typer.Option(
        False, "--no-color", help="no colours in any output (as the NO_COLOR variable does)"
    ),
) -> None:
    """Options for every command."""
    if no_color:
        ctx.color = False  # click passes it to the command's context: cli_options.chosen_color


def _register() -> None:
    """Attach each area's commands (kept in their own modules so the areas stay apart)."""
    from harness import run_cli, sim_cli
    from harness.checklist import cli as checklist_cli
    from harness.logs import cli as logs_cli
    from harness.report import cli as report_cli
    from harness.scenario import cli as scenario_cli

    app.add_typer(sim_cli.app, name="sim")
    scenario_cli.register(app)
    run_cli.register(app)
    logs_cli.register(app)
    checklist_cli.register(app)
    report_cli.register(app)
    _same_help(app)


def _same_help(typer_app: typer.Typer) -> None:
    """Every command, whoever registered it, gets :class:`_Command`'s help and ``-h``."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = _Command
        info.context_settings = {**CONTEXT, **(info.context_settings or {})}
    for group in typer_app.registered_groups:
        group.context_settings = {**CONTEXT, **(group.context_settings or {})}
        if group.typer_instance is not None:
            _same_help(group.typer_instance)


def main() -> None:
    _register()
    app(prog_name="bgtest")  # also as `python -m harness.cli` (usage lines, completion variable)


if __name__ == "__main__":  # pragma: no cover
    main()
