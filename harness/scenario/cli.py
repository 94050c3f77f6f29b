"""``bgtest validate | schema | new`` — the scenario language's commands.

Exit status 2 means "your input is invalid" (as argparse and click use it), so CI can tell a
broken scenario from a failing one. The scenario models are imported when a command runs, not
when the command line is built, so ``bgtest run`` shows its first line within a second.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from harness.cli_options import chosen_color, color_option
from harness.report.console import use_color

EXIT_INVALID = 2


def validate(
    paths: list[Path] = typer.Argument(
        ...,
        metavar="PATH...",
        help="scenario files or folders (searched for *.yaml, *.yml; app models and step lists "
        "for include: are skipped there)",
    ),
    debug: bool = typer.Option(False, "--debug", help="show Python tracebacks for internal errors"),
    color: bool | None = color_option(),
) -> None:
    """Check scenario files: print every problem with file:line:col, or 'N scenarios OK'."""
    from harness.scenario.loader import load_paths

    try:
        result = load_paths(paths)
    except Exception as exc:  # an internal bug: say so plainly, traceback only on request
        if debug:
            raise
        typer.echo(
            f"bgtest: internal error while validating: {exc!r} (run with --debug for details)", err=True
        )
        raise typer.Exit(EXIT_INVALID) from None
    colored = use_color(chosen_color(color))
    if result.ok and result.files == 0:
        typer.echo("bgtest: no scenario files (*.yaml, *.yml) under " + ", ".join(map(str, paths)), err=True)
        raise typer.Exit(EXIT_INVALID)
    if result.ok and not result.scenarios:
        typer.echo(
            f"bgtest: no scenarios in {', '.join(map(str, paths))} ({result.files} YAML files: "
            "app models or step lists for include:)",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    if result.ok:
        n = len(result.scenarios)
        typer.echo(
            f"{n} scenario{'s' if n != 1 else ''} OK"
            + (f" ({result.files} files)" if result.files > 1 else "")
        )
        return
    typer.echo(result.error().render(color=colored), color=colored)
    n = len(result.diagnostics)
    files = len({d.file for d in result.diagnostics})
    typer.echo(
        f"\n{n} problem{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}"
        f"; {len(result.scenarios)} scenarios OK"
    )
    raise typer.Exit(EXIT_INVALID)


def schema(
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="write to FILE instead of stdout"
    ),
) -> None:
    """Write the JSON Schema of scenario files (for editor completion and CI checks)."""
    from harness.scenario.schema import build_schema

    text = json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


_STARTER = """\
# yaml-language-server: $schema={schema}
# A bgtest scenario: each YAML document (separated by ---) is one scenario.
# Check it with:  bgtest validate {file}
# Run it with:    bgtest run {file}   (on bgtest's virtual phone, with the demo app below)
# Reference:      docs/scenario-language.md
name: {name}
description: what this scenario proves, in a sentence or two
tags: [checklist]
platforms: [android]            # android, ios (an action a platform cannot do is an error)
app:
  model: nwm_demo               # the demo app (fixtures/apps/nwm_demo.yaml); for YOUR app, instead:
  # package: com.example.app    #   its Android package (bundle_id: for iOS)
  # library: androidx.work      #   whose log lines to read: {libraries}
vars:
  task: periodic-sync           # your task's unique work name; use as ${{task}}
timeout: 6h                     # device-time budget (500ms, 30s, 15m, 2h, 1d)
steps:
  # how the app enqueues the task: here the demo's debug deep link; yours may need a plain
  # `- launch`, `launch: {{deep_link: "myapp://sync"}}` or a broadcast
  - launch: {{deep_link: "nwmdemo://enqueue/${{task}}"}}
  - expect: {{task: "${{task}}", state: enqueued, within: 30s}}
  - stop_app                    # force-stop: work is cancelled until the next launch
  - launch
  - battery: unplugged
  - doze: deep                  # force Doze, then verify it
  - wait: 2h                    # virtual time on a virtual device, real time on a phone
  - expect:
      task: ${{task}}
      state: succeeded
      count: ">= 1"
finally:                        # always runs, also after a failure
  - doze: off
  - battery: reset
"""


def new(
    name: str = typer.Argument(..., metavar="NAME", help="scenario name; the file is NAME as a slug + .yaml"),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="file to write (default: ./<slug>.yaml)"
    ),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write a commented starter scenario to edit."""
    from harness.scenario.platforms import LIBRARIES

    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "scenario"
    path = output or Path(f"{slug}.yaml")
    if path.exists() and not force:
        typer.echo(f"bgtest: {path} exists; use --force to overwrite", err=True)
        raise typer.Exit(EXIT_INVALID)
    schema_ref = _schema_ref(path)
    quoted = json.dumps(name, ensure_ascii=False)
    path.write_text(
        _STARTER.format(schema=schema_ref, file=path, name=quoted, libraries=", ".join(LIBRARIES)),
        encoding="utf-8",
    )
    typer.echo(f"wrote {path}; check it with: bgtest validate {path}")


def _schema_ref(path: Path) -> str:
    """A relative path to the committed schema when the file is inside this repository."""
    from harness.scenario.schema import SCHEMA_FILE

    try:
        import os

        return os.path.relpath(SCHEMA_FILE, path.resolve().parent)
    except ValueError:  # another drive on Windows
        return SCHEMA_FILE.as_uri()


def register(app: typer.Typer) -> None:
    """Add the commands to the ``bgtest`` app."""
    app.command("validate")(validate)
    app.command("schema")(schema)
    app.command("new")(new)
