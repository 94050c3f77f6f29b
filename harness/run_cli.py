"""``bgtest run`` and ``bgtest devices``.

``run`` validates every scenario first (exit 2 with all errors and nothing touched on a
device), then hands the files to pytest with the bgtest plugin: one execution path for the
command line, ``pytest scenarios/`` and xdist sharding on a device farm.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from harness.errors import BgtestError

EXIT_INVALID = 2


def run(
    paths: list[Path] = typer.Argument(..., help="scenario files or folders"),
    device: str | None = typer.Option(None, "--device", "-s", help="adb serial of the device to use"),
    adb_server: str | None = typer.Option(None, "--adb-server", help="adb server HOST:PORT (device farms)"),
    platform: str | None = typer.Option(None, "--platform", help="android or ios: run only that platform"),
    keyword: str | None = typer.Option(None, "-k", help="only scenarios matching this pytest -k expression"),
    junit: Path | None = typer.Option(None, "--junit", help="write JUnit XML here"),
    report: Path = typer.Option(
        Path("bgtest-report"),
        "--report",
        help="where results.json and, for failures, artifacts (journal, dumpsys, screenshot) go",
    ),
    workers: int | None = typer.Option(
        None, "-n", help="run scenarios in N parallel workers (one device each)"
    ),
    no_embedded: bool = typer.Option(False, "--no-embedded", help="never start a virtual device"),
    xcrun: str | None = typer.Option(
        None, "--xcrun", help="xcrun for iOS scenarios (default $BGTEST_XCRUN, then xcrun)"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="pytest's verbose item lines too"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no step-by-step lines, only the summary"),
    debug: bool = typer.Option(False, "--debug", help="Python tracebacks for internal errors"),
) -> None:
    """Run scenarios on a device (the attached one, --device, or a virtual one) and report."""
    import pytest

    from harness.scenario.loader import load_paths

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        typer.echo(f"bgtest: no such file or folder: {', '.join(missing)}", err=True)
        raise typer.Exit(EXIT_INVALID)
    loaded = load_paths(paths)
    if not loaded.ok:
        typer.echo(loaded.error().render(color=sys.stdout.isatty()))
        typer.echo(
            f"\n{len(loaded.diagnostics)} problem(s): nothing was run. "
            "Fix them (`bgtest validate` checks without a device).",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    if not loaded.scenarios:
        typer.echo(f"bgtest: no scenarios in {', '.join(map(str, paths))}", err=True)
        raise typer.Exit(EXIT_INVALID)
    args = [str(p) for p in paths]
    args += [
        "--bgtest-scenarios",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(Path.cwd()),
        "-o",
        "testpaths=",
        "-o",
        "addopts=",
        "--no-header",
        "-rN",
    ]
    args += ["-v"] if verbose else ["-q"]
    if not quiet:
        args.append("--bgtest-live")
    args += ["--tb=native"] if debug else ["--tb=short"]
    if device:
        args += ["--bgtest-device", device]
    if adb_server:
        args += ["--bgtest-adb-server", adb_server]
    if platform:
        args += ["--bgtest-platform", platform]
    if keyword:
        args += ["-k", keyword]
    if junit:
        args += [f"--junitxml={junit}", "-o", "junit_family=xunit2"]
    if report:
        args += ["--bgtest-report", str(report)]
    if workers:
        args += ["-n", str(workers)]
    if no_embedded:
        args.append("--bgtest-no-embedded")
    if xcrun:
        import os

        os.environ["BGTEST_XCRUN"] = xcrun  # the session's iOS driver reads it
    try:
        code = pytest.main(args)
    except BgtestError as exc:
        if debug:
            raise
        typer.echo(f"bgtest: {exc.render()}", err=True)
        raise typer.Exit(1) from None
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        typer.echo("bgtest: nothing matched (check -k and --platform)", err=True)
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(int(code))


def devices(
    adb_server: str | None = typer.Option(None, "--adb-server", help="adb server HOST:PORT"),
    xcrun: str | None = typer.Option(
        None, "--xcrun", help="xcrun to use for iOS (default $BGTEST_XCRUN, then xcrun)"
    ),
) -> None:
    """List attached devices (phones, farm devices, virtual ones) with model, SDK and state."""
    from rich.console import Console
    from rich.table import Table

    from harness.devices.android import AndroidDevice
    from harness.devices.pool import list_devices, parse_server_address

    try:
        host, port = parse_server_address(adb_server)
    except BgtestError as exc:
        typer.echo(f"bgtest: {exc.render()}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    found = list_devices(host, port)
    console = Console()
    if not found:
        console.print(
            f"no Android devices on the adb server at {host}:{port} (`bgtest run` will start a virtual one)"
        )
    from harness.devices.ios_pool import print_ios_targets

    if not found:
        print_ios_targets(console, xcrun)
        return
    table = Table(title=f"Android devices (adb server {host}:{port})")
    for column in ("serial", "state", "model", "SDK", "kind"):
        table.add_column(column)
    for d in found:
        sdk, kind = "-", "-"
        if d.state == "device":
            try:
                drv = AndroidDevice(d.serial, host, port)
                sdk = drv.getprop("ro.build.version.sdk") or "-"
                kind = "virtual (bgtest)" if drv.is_virtual else "phone / emulator"
            except BgtestError:
                pass
        table.add_row(d.serial, d.state, d.model.replace("_", " ") or "-", sdk, kind)
    console.print(table)
    print_ios_targets(console, xcrun)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("devices")(devices)
