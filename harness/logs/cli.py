"""``bgtest logs FILE...`` -- the task timeline of captured logs.

Reads what a person saved or pasted (any logcat or unified-log text format, detected per file)
and prints each task with its events in order and their device times, or with ``--json`` one
object per event. Exit 0 when every file was read; 2 when one could not be read (missing, in
no known format, an unknown ``--library``), after the others are printed.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # imported when the command runs: building bgtest's command line stays light
    from .timeline import CaptureTimeline

EXIT_INVALID = 2


class Platform(str, Enum):
    android = "android"
    ios = "ios"


def logs(
    files: list[Path] = typer.Argument(
        ..., help="captured logs: logcat, Android Studio, flutter run, log stream/show, Console.app, "
                  "Xcode console, idevicesyslog"),
    library: str | None = typer.Option(
        None, "--library", "-l",
        help="the app's library (androidx.work, native_workmanager, flutter_workmanager, kmpworkmanager, "
             "bgtaskscheduler); default: every library of the platform"),
    platform: Platform | None = typer.Option(
        None, "--platform", "-p", help="android or ios (default: from the log's format)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per event (time, task, ids, "
                                                        "event, file, line)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="also list the lines read without a header"),
) -> None:
    """Print the task timeline of captured logs: each task, its events in order, with times."""
    from .formats import UnknownFormat
    from .timeline import read_timeline
    from .vocab import VocabularyError

    failed = False
    for path in files:
        try:
            timeline = read_timeline(path, library=library, platform=platform.value if platform else None)
        except UnknownFormat as exc:
            typer.echo(f"bgtest logs: {exc}", err=True)
            failed = True
            continue
        except VocabularyError as exc:
            typer.echo(f"bgtest logs: {exc}", err=True)
            raise typer.Exit(EXIT_INVALID) from None
        except OSError as exc:
            typer.echo(f"bgtest logs: {path}: cannot read: {exc.strerror or exc}", err=True)
            failed = True
            continue
        if as_json:
            _print_json(timeline, verbose)
        else:
            _print_text(timeline, verbose)
    if failed:
        raise typer.Exit(EXIT_INVALID)


def _summary(t: CaptureTimeline) -> str:
    cap = t.capture
    n = len(t.events)
    text = f"{cap.path}: format {cap.format} ({cap.platform}), {n} event{'s' if n != 1 else ''}"
    if cap.headerless_count:
        text += f", {cap.headerless_count} line{'s' if cap.headerless_count != 1 else ''} without a header"
        text += " (--verbose lists them)" if cap.headerless else ""
    return text


def _headerless(t: CaptureTimeline) -> list[str]:
    cap = t.capture
    out = [f"  line {no}: {text}" for no, text in cap.headerless]
    if cap.headerless_count > len(cap.headerless):
        out.append(f"  … and {cap.headerless_count - len(cap.headerless)} more")
    return out


def _print_text(t: CaptureTimeline, verbose: bool) -> None:
    typer.echo(_summary(t))
    for task, events in t.by_task().items():
        ids = [i for i in dict.fromkeys(i for ev in events for i in ev.ids) if i != task]
        typer.echo(f"  {task}" + (f"  ({', '.join(ids)})" if ids else ""))
        for ev in events:
            when = ev.time or "(no time)"
            typer.echo(f"    {when:<32} {ev.event:<9} line {ev.line}: {ev.text.strip()[:120]}")
    if verbose and t.capture.headerless:
        typer.echo("lines without a header (read as message text):")
        for line in _headerless(t):
            typer.echo(line)


def _print_json(t: CaptureTimeline, verbose: bool) -> None:
    typer.echo(_summary(t), err=True)
    for ev in t.events:
        typer.echo(json.dumps(ev.as_json(), ensure_ascii=False))
    if verbose:
        for line in _headerless(t):
            typer.echo(line, err=True)


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)
