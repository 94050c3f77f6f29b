"""``bgtest run`` and ``bgtest devices``.

``run`` validates every scenario first (exit 2 with all errors and nothing touched on a
device), then hands the files to pytest with the bgtest plugin: one execution path for the
command line, ``pytest scenarios/`` and xdist sharding on a device farm.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from harness.cli_options import chosen_color, color_option
from harness.errors import BgtestError
from harness.report.console import make_console

if TYPE_CHECKING:
    from harness.report.live import RunConsole

EXIT_INVALID = 2
#: pytest's own plugins a run of scenario items never uses (bgtest run passes none of their
#: options): each is imported and configured at every start, in the run and in every xdist
#: worker — unittest, pdb, xml.etree among them (about 25 ms of CPU before the first step)
_UNUSED_PYTEST_PLUGINS = ("unittest", "debugging", "doctest", "pastebin", "legacypath", "setuponly",
                          "setupplan", "stepwise")


class Platform(str, Enum):
    android = "android"
    ios = "ios"


def run(
    paths: list[Path] = typer.Argument(..., metavar="PATH...", help="scenario files or folders"),
    device: list[str] = typer.Option(
        [],
        "--device",
        "-s",
        metavar="SERIAL",
        help="adb serial (or iOS UDID) to use; repeat it or give a glob (emulator-*) for a farm",
    ),
    adb_server: list[str] = typer.Option(
        [], "--adb-server", metavar="HOST:PORT", help="adb server to use; repeat it for a farm of hosts"
    ),
    device_filter: list[str] = typer.Option(
        [], "--device-filter", metavar="FILTER",
        help="use only devices that match: 'sdk>=31', 'model=Pixel*', profile=android-go, virtual=no "
        "(repeat it: all must match)",
    ),
    reruns: int = typer.Option(
        0, "--reruns", metavar="N", min=0,
        help="run a failed scenario again up to N times, on another device when one is free; a pass "
        "after a failure is FLAKY (exit 0, marked in the summary, JUnit and results.json)",
    ),
    shard_index: int | None = typer.Option(
        None, "--shard-index", metavar="I", help="run shard I (1-based) of --shard-count N"
    ),
    shard_count: int | None = typer.Option(
        None, "--shard-count", metavar="N", help="split the scenarios over N CI machines"
    ),
    shard_durations: Path | None = typer.Option(
        None, "--shard-durations", metavar="RESULTS_JSON", help="balance shards by an earlier run's times"
    ),
    platform: Platform | None = typer.Option(None, "--platform", help="run only this platform's scenarios"),
    keyword: str | None = typer.Option(
        None,
        "-k",
        metavar="EXPR",
        help="only scenarios whose name, file, platform or tags match EXPR "
        "(pytest -k: 'doze', 'checklist and not reboot')",
    ),
    junit: Path | None = typer.Option(None, "--junit", metavar="FILE", help="write JUnit XML here"),
    report: Path = typer.Option(
        Path("bgtest-report"),
        "--report",
        metavar="DIR",
        help="index.html (the report), results.json and, for failures, artifacts (journal, dumpsys, "
        "screenshot)",
    ),
    workers: int | None = typer.Option(
        None, "-n", metavar="N",
        help="run scenarios in N parallel workers (one device each); 0 or 1: one after another. "
        "Default: one per idle core when every scenario runs on bgtest's own virtual devices",
    ),
    no_embedded: bool = typer.Option(False, "--no-embedded", help="never start a virtual device"),
    profile: list[str] = typer.Option(
        [], "--profile", metavar="NAME",
        help="device profile of the virtual devices: android-go, android-legacy, iphone-7 … (one per "
        "platform; a phone's is read: scenarios it does not fit are skipped)",
    ),
    xcrun: str | None = typer.Option(
        None, "--xcrun", metavar="PATH", help="xcrun for iOS scenarios (default $BGTEST_XCRUN, then xcrun)"
    ),
    redact: list[str] = typer.Option(
        [], "--redact", metavar="REGEX", help="also mask what this matches in every report, file and line"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no step-by-step lines, only the summary"),
    color: bool | None = color_option(),
    debug: bool = typer.Option(False, "--debug", help="Python tracebacks for internal errors"),
) -> None:
    """Run scenarios on a device (the attached one, --device, or a virtual one) and report.

    Exit status: 0 all passed (flaky ones included: they passed on a rerun), 1 a scenario
    failed, 2 invalid input (nothing was run), 3 a device or infrastructure error, 130/143
    interrupted (SIGINT/SIGTERM).
    """
    from harness.report.live import RunConsole, terminal_stream
    from harness.report.redaction import RedactedStream

    terminal = RedactedStream(terminal_stream())  # every line goes through the run's redaction
    live = RunConsole(console=make_console(chosen_color(color), file=terminal), steps=not quiet, debug=debug)
    live.start("checking the scenario files")
    try:
        if (shard_index is None) != (shard_count is None):
            code = _usage(live, "--shard-index and --shard-count go together (e.g. 2 and 3)")
        else:
            shard = f"{shard_index}/{shard_count}" if shard_count is not None else None
            devices, servers = ",".join(device) or None, ",".join(adb_server) or None
            code = _run(live, paths, devices, servers, platform, keyword, junit, report, workers,
                        no_embedded, xcrun, redact, debug, shard, shard_durations, profile,
                        device_filter, reruns)
    finally:
        live.stop()
    raise typer.Exit(code)


def _prestart(scenarios: list[Any], device: str | None, adb_server: str | None, platform: Platform | None,
              workers: int | None, no_embedded: bool, profiles: list[str] | None,
              device_filters: list[str] | None, lend: bool = False) -> None:
    """Start the embedded Android device now, in parallel with pytest's start and collection,
    when this run will want it: Android scenarios, no device or server named, one process or
    lanes that ``lend`` it to the worker of the Android scenarios (xdist workers otherwise start
    their own), and — asked on the starting thread — nothing attached."""
    android = [s for s in scenarios if "android" in s.platforms]
    if not android or device or adb_server or no_embedded or platform == Platform.ios:
        return
    if workers and not lend:
        return
    from harness.devices.pool import android_candidates
    from harness.run.embedded import prestart_android
    from harness.run.settings import Settings

    # every scenario's model, as the session asks for (the plugin lists them all): a prestarted
    # device with fewer would not fit, and the run would start a second one and wait for it
    models = list(dict.fromkeys(Path(s.app.model_path) for s in scenarios if s.app and s.app.model_path))
    settings = Settings.build(os.environ, profiles=tuple(profiles or ()))
    filters, server = tuple(device_filters or ()), settings.default_adb_server
    prestart_android(models, settings.profile_for("android"), adb=settings.adb, held=lend,
                     needed=lambda: not android_candidates(None, None, filters, server))


#: platforms whose embedded device serves many scenarios quickly but starts slowly: under lanes,
#: their scenarios share one worker and one device (run/lanes.py)
_CHEAP_TO_SHARE = (Platform.android.value,)


def _lanes(scenarios: list[Any], workers: int | None, device: str | None, adb_server: str | None,
           platform: Platform | None, no_embedded: bool, xcrun: str | None,
           device_filters: list[str] | None, started: Any = None) -> tuple[int, frozenset[str]]:
    """The run's xdist workers (0: this process runs every scenario) and the platforms whose
    scenarios share one of them. ``-n`` as given (``-n 1`` gains nothing over this process);
    without it, on bgtest's own virtual devices only, one lane per idle core (run/lanes.py;
    ``started``: the CPU times when the run started)."""
    from collections import Counter

    from harness.run import lanes
    from harness.run.session import embedded_only
    from harness.run.settings import Settings

    runs = Counter(p for s in scenarios for p in s.platforms if platform is None or p == platform.value)
    settings = Settings.build(os.environ, device=device, adb_server=adb_server, xcrun=xcrun,
                              allow_embedded=not no_embedded, device_filters=tuple(device_filters or ()))
    if (workers is not None and workers < 2) or importlib.util.find_spec("xdist") is None:
        return 0, frozenset()  # (-n 2 without xdist was refused before)
    embedded = embedded_only(settings, list(runs))
    if workers is None:
        workers = lanes.default_workers(runs, _CHEAP_TO_SHARE, lanes.idle_cores(started)) if embedded else 0
        if not workers:
            return 0, frozenset()
    return workers, lanes.shared_lanes(runs, workers, _CHEAP_TO_SHARE) if embedded else frozenset()


def _run(live: RunConsole, paths: list[Path], device: str | None, adb_server: str | None,
         platform: Platform | None, keyword: str | None, junit: Path | None, report: Path,
         workers: int | None, no_embedded: bool, xcrun: str | None, redact: list[str], debug: bool,
         shard: str | None = None, shard_durations: Path | None = None,
         profiles: list[str] | None = None, device_filters: list[str] | None = None,
         reruns: int = 0) -> int:
    from harness.run import exits, lanes, preflight, shards
    from harness.scenario.loader import load_paths

    started = lanes.cpu_times()  # what the CPUs do while this run starts decides on lanes

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return _usage(live, f"no such file or folder: {', '.join(missing)}")
    wrong = preflight.problems(report=report, junit=junit, workers=workers, redact=redact)
    if wrong:
        return _usage(live, "\nbgtest: ".join(wrong))
    if shard:
        try:
            shards.parse_shard(shard)
            if shard_durations is not None:
                shards.durations_from(shard_durations)
        except shards.ShardError as exc:
            return _usage(live, exc.render())
    if (workers or 0) > 1 and importlib.util.find_spec("xdist") is None:
        return _usage(live, "-n needs pytest-xdist: pip install pytest-xdist")
    from harness.profiles import PROFILES, UnknownProfileError

    unknown = [p for p in profiles or () if p not in PROFILES]
    if unknown:
        return _usage(live, str(UnknownProfileError(unknown[0])))
    from harness.devices.filters import FilterError, parse_filters

    try:
        parse_filters(device_filters or [])
    except FilterError as exc:
        return _usage(live, exc.render())
    if keyword and (problem := _keyword_problem(keyword)):
        return _usage(live, f"-k {keyword!r}: {problem}")
    loaded = load_paths(paths)
    if not loaded.ok:
        live.stop()
        typer.echo(loaded.error().render(color=not live.console.no_color and live.console.is_terminal))
        typer.echo(
            f"\n{len(loaded.diagnostics)} problem(s): nothing was run. "
            "Fix them (`bgtest validate` checks without a device).",
            err=True,
        )
        return EXIT_INVALID
    if not loaded.scenarios:
        return _usage(live, f"no scenarios in {', '.join(map(str, paths))}")
    from harness.run import interrupts
    from harness.run.embedded import discard_prestarted, prestarted_server

    interrupts.install()  # a signal from here on is an Interrupted (the plugin routes them so too)
    try:
        asked = workers
        workers, shared = _lanes(loaded.scenarios, workers, device, adb_server, platform, no_embedded,
                                 xcrun, device_filters, started)
        if workers and asked is None:
            live.note(f"{workers} lanes: the scenarios run side by side on bgtest's virtual devices, one "
                      "lane per idle core (-n 0: one after another)")
        lend = Platform.android.value in shared
        _prestart(loaded.scenarios, device, adb_server, platform, workers, no_embedded, profiles,
                  device_filters, lend)
        import pytest

        from harness.plugin import result_of, run_number

        live.extract, live.number = result_of, run_number
        live.status(f"starting {len(loaded.scenarios)} scenario(s)")
        args = [str(p) for p in paths]
        args += [
            "--bgtest-scenarios",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:terminal",  # the screen is bgtest's (report/live.py)
            # pytest rewrites the asserts of every module of a plugin's distribution — all of
            # harness, ~100 modules parsed and compiled again at each start (seconds before the
            # first step); scenario items judge with the expectation engine, not with assert
            "--assert=plain",
            "--rootdir",
            str(Path.cwd()),
            "-o",
            "testpaths=",
            "-o",
            "addopts=",
        ]
        for name in _UNUSED_PYTEST_PLUGINS + (() if junit else ("junitxml",)):
            args += ["-p", f"no:{name}"]
        if device:
            args += ["--bgtest-device", device]
        if adb_server:
            args += ["--bgtest-adb-server", adb_server]
        if platform:
            args += ["--bgtest-platform", platform.value]
        if keyword:
            args += ["-k", keyword]
        if junit:
            args += [f"--junitxml={junit}", "-o", "junit_family=xunit2"]
        if report:
            args += ["--bgtest-report", str(report)]
        if workers:
            args += ["-n", str(workers)]
        for name in shared:
            args.append(f"--bgtest-shared-lane={name}")
        if lend and (lent := prestarted_server()) is not None:  # started while the workers start
            args.append(f"--bgtest-lent-android={lent[0]}:{lent[1]}")
        if no_embedded:
            args.append("--bgtest-no-embedded")
        for name in profiles or ():
            args.append(f"--bgtest-profile={name}")
        for text in device_filters or ():
            args.append(f"--bgtest-device-filter={text}")
        if reruns:
            args += ["--bgtest-reruns", str(reruns)]
        if shard:
            args += ["--bgtest-shard", shard]
        if shard_durations is not None:
            args += ["--bgtest-shard-durations", str(shard_durations)]
        for pattern in redact:
            args.append(f"--bgtest-redact={pattern}")
        if xcrun:
            args += ["--bgtest-xcrun", xcrun]
        code = pytest.main(args, plugins=[live])
        # The first signal decides the exit code, also when pytest caught it before the plugin
        # was configured (it then says INTERRUPTED, 2: a usage error's code in bgtest).
        code = interrupts.exit_code() or code
    except interrupts.Interrupted as exc:  # before the plugin took over: nothing ran yet
        live.stop()
        typer.echo(f"bgtest: interrupted ({exc.signal.name}) while starting: no scenario was run", err=True)
        return exc.exit_code
    except BgtestError as exc:
        if debug:
            raise
        live.stop()
        typer.echo(f"bgtest: {exc.render()}", err=True)
        return exits.for_error(exc)
    finally:
        discard_prestarted()
    live.finish(junit=str(junit) if junit else None, report_dir=str(report) if report else None)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return _usage(live, "nothing matched (check -k and --platform)")
    if code == pytest.ExitCode.USAGE_ERROR:  # pytest said what; bgtest's code for bad input
        return EXIT_INVALID
    if code in (exits.SIGINT, exits.SIGTERM):
        live.stop()
        typer.echo(f"bgtest: interrupted ({'SIGINT' if code == exits.SIGINT else 'SIGTERM'}): no further "
                   "scenario was started; the reports cover what ran", err=True)
    return int(code)


def _usage(live: RunConsole, message: str) -> int:
    live.stop()
    typer.echo(f"bgtest: {message}", err=True)
    return EXIT_INVALID


def _keyword_problem(expression: str) -> str | None:
    """What is wrong with a -k expression, checked before any device is touched (pytest's grammar)."""
    from _pytest.mark.expression import Expression

    try:
        Expression.compile(expression)
    except SyntaxError as exc:
        return f"not a valid expression: {exc.msg} at column {exc.offset}"
    return None


def devices(
    adb_server: str | None = typer.Option(None, "--adb-server", metavar="HOST:PORT", help="adb server"),
    xcrun: str | None = typer.Option(
        None, "--xcrun", metavar="PATH", help="xcrun to use for iOS (default $BGTEST_XCRUN, then xcrun)"
    ),
) -> None:
    """List attached devices (phones, farm devices, virtual ones) with model, SDK and state."""
    from rich.table import Table

    from harness.devices.android import AndroidDevice
    from harness.devices.pool import list_devices, parse_server_address
    from harness.run.settings import Settings

    try:
        settings = Settings.build(os.environ, xcrun=xcrun)
        host, port = parse_server_address(adb_server, settings.default_adb_server)
    except BgtestError as exc:
        typer.echo(f"bgtest: {exc.render()}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    found = list_devices(host, port)
    console = make_console(chosen_color(None))
    if not found:
        console.print(
            f"no Android devices on the adb server at {host}:{port} (`bgtest run` will start a virtual one)"
        )
    from harness.devices.ios_pool import print_ios_targets

    ios = (settings.xcrun, settings.wda_url, settings.device_url)
    if not found:
        print_ios_targets(console, *ios)
        return
    table = Table(title=f"Android devices (adb server {host}:{port})")
    for column in ("serial", "state", "model", "SDK", "profile", "kind"):
        table.add_column(column)
    for d in found:
        sdk, kind, profile = "-", "-", "-"
        if d.state == "device":
            try:
                drv = AndroidDevice(d.serial, host, port)
                sdk = drv.getprop("ro.build.version.sdk") or "-"
                kind = "virtual (bgtest)" if drv.is_virtual else "phone / emulator"
                profile = drv.profile()  # set on a virtual device, read from a phone
            except BgtestError:
                pass
        table.add_row(d.serial, d.state, d.model.replace("_", " ") or "-", sdk, profile, kind)
    console.print(table)
    print_ios_targets(console, *ios)


def _exit_on_interrupt(command: Callable[..., None]) -> Callable[..., None]:
    """Ctrl-C or SIGTERM anywhere in ``command`` — start-up included — is an exit code and a
    line, never a traceback (click would print "Aborted!" and exit 1)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from harness.run import interrupts

        interrupts.install()
        try:
            command(*args, **kwargs)
        except interrupts.Interrupted as exc:
            typer.echo(f"bgtest: interrupted ({exc.signal.name})", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def register(app: typer.Typer) -> None:
    app.command("run")(_exit_on_interrupt(run))
    app.command("devices")(devices)
