"""``bgtest report merge``: the shards of a farm run as one report (results.json, JUnit, HTML)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.run import exits

app = typer.Typer(help="Work with report folders (`bgtest run --report DIR`).", no_args_is_help=True)


@app.command("merge")
def merge_command(
    shards: list[Path] = typer.Argument(..., metavar="DIR...", help="the shards' --report folders"),
    out: Path = typer.Option(Path("bgtest-report"), "--out", "-o", metavar="DIR", help="where to write"),
    junit: list[Path] = typer.Option(
        [], "--junit", metavar="FILE", help="the shards' JUnit files (default: *.xml in each DIR)"
    ),
) -> None:
    """Merge shard reports into one; exits as the whole run would have (0 all passed, 1 a
    scenario failed, 3 a device error), 2 when a folder is not a bgtest report."""
    from harness.report.merge import MergeError, merge

    try:
        merged = merge(shards, out, junit)
    except MergeError as exc:
        typer.echo(f"bgtest: {exc.render()}", err=True)
        raise typer.Exit(exits.INVALID_INPUT) from None
    written = ", ".join(p.name for p in (merged.index, merged.junit) if p is not None)
    typer.echo(
        f"merged {len(merged.results)} scenario result(s) from {len(shards)} shard(s) into {out}/ "
        f"(results.json, {written})"
    )
    for key in merged.repeated:
        typer.echo(
            f"bgtest: warning: {key} ran in more than one shard (were the shards split alike?)", err=True
        )
    codes = [exits.for_status(r.get("status", ""), int(r.get("exit_code") or 0)) for r in merged.results]
    raise typer.Exit(exits.overall(codes))


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="report")
