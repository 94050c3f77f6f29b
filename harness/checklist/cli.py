"""``bgtest checklist``: the guide's Pre-Deployment Checklist and Success Metrics for the team's app.

Writes the item scenarios into ``DIR/checklist/``, runs them through the same pytest path as
``bgtest run`` (so the virtual devices, a phone or a farm all work), then judges the items,
measures the metrics and writes ``DIR/checklist.json`` and the report with both on top.
Exit 0: every item passed or is manual and no metric crossed its alert; 1: an item failed or an
alert was crossed; 2: the checklist.yaml is wrong (nothing run).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import typer

from harness.cli_options import chosen_color
from harness.errors import BgtestError
from harness.report.console import use_color

EXIT_FAILED = 1
EXIT_INVALID = 2
STARTER = Path(__file__).with_name("starter.yaml")


def _init(path: Path) -> None:
    if path.exists():
        typer.echo(f"bgtest: {path} exists; not overwritten (remove it or edit it)", err=True)
        raise typer.Exit(EXIT_INVALID)
    shutil.copyfile(STARTER, path)
    typer.echo(f"wrote {path}: edit the app, tasks, load and thresholds, then run `bgtest checklist {path}`")


def _ios_shared(device: str | None) -> bool:
    """Whether the iOS scenarios may run on a real simulator or iPhone (one device for all lanes)."""
    from harness.devices.ios_pool import is_udid, xcrun_available
    from harness.run.settings import Settings

    settings = Settings.build(os.environ, device=device)
    return bool(settings.ios_device or settings.xcrun or is_udid(device)) or xcrun_available(settings.xcrun)


def _run_scenarios(
    folder: Path,
    report: Path,
    device: str | None,
    platform: str | None,
    color: bool | None,
    lanes: list[str],
) -> None:
    """The checklist's scenarios through the bgtest pytest plugin, quietly (the checklist prints),
    with bgtest run's status line meanwhile (which scenario and step, for how long); ``lanes``:
    the arguments that run them in two parallel lanes (lanes.py), or none."""
    import pytest

    from harness.report.console import make_console
    from harness.report.live import RunConsole, terminal_stream
    from harness.report.redaction import RedactedStream

    # --assert=plain as bgtest run: rewriting the asserts of all of harness costs seconds per process
    args = [str(folder), "--bgtest-scenarios", "--bgtest-report", str(report), "-p", "no:cacheprovider",
            "-p", "no:terminal", "--assert=plain", "--rootdir", str(folder), "-o", "testpaths=",
            "-o", "addopts="]  # fmt: skip
    if device:
        args += ["--bgtest-device", device]
    if platform:
        args += ["--bgtest-platform", platform]
    args += lanes
    live = RunConsole(console=make_console(color, file=RedactedStream(terminal_stream())), steps=False)
    live.start("starting the checklist's scenarios")
    try:
        pytest.main(args, plugins=[live])
    finally:
        live.stop()


def checklist(
    path: Path = typer.Argument(Path("checklist.yaml"), help="the checklist.yaml (or a folder holding one)"),
    device: str | None = typer.Option(None, "--device", "-s", help="adb serial of the Android device to use"),
    platform: str | None = typer.Option(None, "--platform", help="android or ios: check only that platform"),
    report: Path = typer.Option(
        Path("bgtest-report"), "--report", help="where checklist.json and index.html go"
    ),
    init: bool = typer.Option(False, "--init", help="write a commented starter checklist.yaml and stop"),
    lanes: int | None = typer.Option(
        None, "--lanes", min=1, max=16,
        help="scenarios in N parallel lanes (default: one per core, at least 2; 1: one after another)",
    ),
) -> None:
    """Run the deployment guide's pre-release checklist for your app and measure its Success Metrics."""
    from harness.checklist.config import load_checklist
    from harness.checklist.items import ITEMS, judge, plan
    from harness.checklist.lanes import assign, lane_count, xdist_args
    from harness.checklist.metrics import measure
    from harness.report.html import write_report
    from harness.scenario.errors import ScenarioError
    from harness.scenario.loader import load_paths

    color = chosen_color(None)  # `bgtest --no-color checklist`
    if path.is_dir():
        path = path / "checklist.yaml"
    if init:
        _init(path)
        return
    if not path.is_file():
        typer.echo(f"bgtest: no checklist at {path} (write one with `bgtest checklist --init`)", err=True)
        raise typer.Exit(EXIT_INVALID)
    if platform not in (None, "android", "ios"):
        typer.echo(f"bgtest: --platform is android or ios, not {platform!r}", err=True)
        raise typer.Exit(EXIT_INVALID)
    try:
        config = load_checklist(path, tuple(ITEMS))
    except ScenarioError as exc:
        typer.echo(exc.render(color=use_color(color)))
        typer.echo(f"\n{len(exc.diagnostics)} problem(s) in {path}: nothing was run.", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    if platform == "android":
        config.ios = None
    elif platform == "ios":
        config.android, config.load = None, None
    if config.android is None and config.ios is None:
        typer.echo(f"bgtest: {path} configures no {platform} part", err=True)
        raise typer.Exit(EXIT_INVALID)
    for part in (config.android, config.ios):
        if part is not None and part.app_model is None and device is None and part.platform == "android":
            typer.echo(
                f"bgtest: {path}: the virtual phone has no app {part.package}: give android.app an app model "
                "(fixtures/apps/<name>.yaml), or --device with the app installed",
                err=True,
            )
            raise typer.Exit(EXIT_INVALID)
    items = config.items or list(ITEMS)
    folder = report / "checklist"
    shutil.rmtree(folder, ignore_errors=True)
    (report / "results.json").unlink(missing_ok=True)
    planned = plan(config, folder, items)
    loaded = load_paths([p.file for p in planned])
    if not loaded.ok:  # an enqueue link or task name that a scenario cannot hold
        typer.echo(loaded.error().render(color=use_color(color)))
        raise typer.Exit(EXIT_INVALID)
    try:
        parallel = xdist_args(assign(planned, ios_shared=_ios_shared(device), lanes=lanes or lane_count()))
        _run_scenarios(folder, report, device, platform, color, parallel)
    except BgtestError as exc:
        from harness.run.settings import SettingError

        typer.echo(f"bgtest: {exc.render()}", err=True)
        raise typer.Exit(EXIT_INVALID if isinstance(exc, SettingError) else EXIT_FAILED) from None
    results_file = report / "results.json"
    if not results_file.exists():  # pytest never got to a scenario (a device that cannot be reached …)
        why = f"`bgtest run {folder}` says why"
        typer.echo(f"bgtest: the checklist's scenarios did not run ({why})", err=True)
        raise typer.Exit(EXIT_FAILED)
    results = json.loads(results_file.read_text(encoding="utf-8"))
    day = next((p.file for p in planned if p.file.stem == "android_day"), None)
    load = next((p.file for p in planned if p.item == "load"), None)
    judged = judge(config, items, planned, results)
    # the metrics are the app's on the device the items ran on; a low-end phone is judged by its item
    low_end = {str(p.file.resolve()) for p in planned if p.item == "low_end"}
    typical = [r for r in results if str(Path(r.get("file", "")).resolve()) not in low_end]
    metrics = measure(config, typical, day, load)
    data = {
        "checklist": str(path),
        "items": [i.to_json() for i in judged],
        "metrics": [m.to_json() for m in metrics],
    }
    (report / "checklist.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    from harness.checklist.render import checklist_html, print_checklist

    write_report(results, report, top=checklist_html(judged, metrics), title="bgtest checklist")
    print_checklist(judged, metrics, report, color)
    failed = any(i.status == "failed" for i in judged) or any(m.status == "alert" for m in metrics)
    raise typer.Exit(EXIT_FAILED if failed else 0)


def register(app: typer.Typer) -> None:
    app.command("checklist")(checklist)
