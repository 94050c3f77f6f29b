"""pytest plugin (entry point ``pytest11: bgtest``): scenario files become test items.

One execution path: ``bgtest run`` calls pytest with this plugin, so a scenario behaves the
same from the command line, from ``pytest scenarios/`` and under pytest-xdist on a farm.

Which YAML files are scenarios: every ``*.yaml``/``*.yml`` below a folder named
``scenarios``, every one named on the command line, or every one at all with
``--bgtest-scenarios`` (what ``bgtest run`` sets). In folders, files that hold only an
``include:`` step list and app models are skipped, as ``bgtest validate`` does.

``-k`` matches a scenario's name, file, platform (``[android]``) and tags.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import BgtestError
from harness.report import redaction
from harness.report.artifacts import DEFAULT_REPORT_DIR
from harness.report.relay import Relay, open_for
from harness.result import ScenarioResult
from harness.run import exits, interrupts, shards
from harness.run.session import DeviceSession
from harness.run.settings import SettingError, Settings

SUFFIXES = (".yaml", ".yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bgtest", "bgtest scenarios")
    group.addoption(
        "--bgtest-device",
        action="store",
        default=None,
        metavar="SERIAL",
        help="run on this device (adb serial); default: the one attached, else a virtual one",
    )
    group.addoption(
        "--bgtest-platform",
        action="store",
        default=None,
        choices=("android", "ios"),
        help="run only the scenarios' items for this platform",
    )
    group.addoption(
        "--bgtest-adb-server",
        action="store",
        default=None,
        metavar="HOST:PORT",
        help="the adb server to use (device farms); default $ANDROID_ADB_SERVER_* or 127.0.0.1:5037",
    )
    group.addoption(
        "--bgtest-report",
        action="store",
        default=str(DEFAULT_REPORT_DIR),
        metavar="DIR",
        help="index.html, results.json and each run's artifacts (NNN-scenario-platform/), as "
        "bgtest run writes them (default: bgtest-report)",
    )
    group.addoption(
        "--bgtest-scenarios",
        action="store_true",
        default=False,
        help="treat every YAML file given as a scenario file",
    )
    group.addoption(
        "--bgtest-live",
        action="store_true",
        default=False,
        help="print each step as it runs, with device time (what `bgtest run` shows)",
    )
    group.addoption(
        "--bgtest-redact",
        action="append",
        default=[],
        metavar="REGEX",
        help="also mask what this regular expression matches in every report, artifact and line",
    )
    group.addoption(
        "--bgtest-xcrun",
        action="store",
        default=None,
        metavar="PATH",
        help="the xcrun for iOS scenarios (default $BGTEST_XCRUN, then xcrun)",
    )
    group.addoption(
        "--bgtest-no-embedded",
        action="store_true",
        default=False,
        help="fail instead of starting a virtual device when none is attached",
    )
    group.addoption(
        "--bgtest-shard",
        default=None,
        metavar="I/N",
        help="run only shard I of N (CI machines split one scenario set; every machine the same split)",
    )
    group.addoption(
        "--bgtest-shard-durations",
        default=None,
        metavar="RESULTS_JSON",
        help="balance the shards by the wall times an earlier run wrote to results.json",
    )
    group.addoption(
        "--bgtest-reruns",
        type=int,
        default=0,
        metavar="N",
        help="run a failed scenario again up to N times, on another device when one is free; a pass "
        "after a failure is reported as flaky",
    )
    group.addoption(
        "--bgtest-device-filter",
        action="append",
        default=[],
        metavar="FIELD OP VALUE",
        help="use only devices that match: sdk>=31, model=Pixel*, profile=android-go, virtual=no "
        "(repeat: all must match; docs/farms.md)",
    )
    group.addoption(
        "--bgtest-shared-lane",
        action="append",
        default=[],
        metavar="PLATFORM",
        help="under -n: this platform's scenarios run on one worker, one after another (its embedded "
        "device serves them all; `bgtest run` sets it when it splits a run over lanes)",
    )
    group.addoption(
        "--bgtest-lent-android",
        default=None,
        metavar="HOST:PORT",
        help="under -n: the adb server of the virtual phone `bgtest run` started for the run's "
        "Android scenarios (a worker takes it instead of starting its own)",
    )
    group.addoption(
        "--bgtest-profile",
        action="append",
        default=[],
        help="device profile of the virtual devices (android-go, iphone-7 …; one per platform)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bgtest: a bgtest scenario item")
    config.pluginmanager.register(_RunEnd(), "bgtest-run-end")
    if config.getoption("bgtest_scenarios"):
        interrupts.install()  # `bgtest run`: a signal stops the whole run, not just a scenario
        if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
            workers = _Workers(config)
            config.pluginmanager.register(workers, "bgtest-workers")
            interrupts.on_signal(workers.on_signal)
    report = config.getoption("bgtest_report")
    try:
        settings = Settings.build(
            os.environ,
            device=config.getoption("bgtest_device"),
            adb_server=config.getoption("bgtest_adb_server"),
            xcrun=config.getoption("bgtest_xcrun"),
            report_dir=Path(report) if report else None,
            allow_embedded=not config.getoption("bgtest_no_embedded"),
            profiles=_profiles(config.getoption("bgtest_profile") or []),
            reruns=_reruns(config.getoption("bgtest_reruns")),
            device_filters=_filters(config.getoption("bgtest_device_filter") or []),
        )
    except SettingError as exc:
        raise pytest.UsageError(exc.message) from None
    lent = config.getoption("bgtest_lent_android")
    host, _, port = (lent or "").rpartition(":")
    config.stash[_SESSION] = DeviceSession(
        settings, note=lambda text: _note(config, text), lent_android=(host, int(port)) if lent else None)
    results: list[dict[str, Any]] = []
    config.stash[_RESULTS] = results
    config.pluginmanager.register(_Collector(results), "bgtest-results")


_SESSION = pytest.StashKey[DeviceSession]()
#: The session's scenario results (gathered from reports, so xdist workers' count too).
_RESULTS = pytest.StashKey[list[dict[str, Any]]]()


def _run_console(config: pytest.Config) -> Any:
    """``bgtest run``'s console (report/live.py), when it owns the screen instead of pytest."""
    from harness.report.live import RunConsole

    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, RunConsole)), None)


def _note(config: pytest.Config, text: str) -> None:
    console = _run_console(config)
    if console is not None:
        console.note(text)
        return
    relay = Relay.of(config)
    if relay is not None:  # an xdist worker of `bgtest run`: the line goes to its screen
        relay.note(text)
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        _Uncaptured(config, terminal).write_line(f"bgtest: {text}", cyan=True)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix.lower() not in SUFFIXES:  # as the loader walks a folder: `.YAML` too
        return None
    config = parent.config
    named = _named_on_command_line(config, file_path)
    if not (named or config.getoption("bgtest_scenarios") or "scenarios" in file_path.parts):
        return None
    return ScenarioFile.from_parent(parent, path=file_path, named=named)


def _named_on_command_line(config: pytest.Config, file_path: Path) -> bool:
    """``pytest flows/upload.yaml``: a YAML file given by name is a scenario wherever it lives."""
    base = config.invocation_params.dir
    for arg in config.args:
        given = Path(base, arg.split("::", 1)[0])
        with contextlib.suppress(OSError):
            if given.resolve() == file_path.resolve():
                return True
    return False


class ScenarioFile(pytest.File):
    def __init__(self, *, named: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.named = named

    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenario.loader import load_paths

        # found in a folder: step lists and app models are not scenarios (as bgtest validate DIR)
        result = load_paths([self.path], in_folder=not self.named)
        if not result.ok:
            yield InvalidScenario.from_parent(self, name=self.path.name, error=result.error())
            return
        wanted = self.config.getoption("bgtest_platform")
        for scenario in result.scenarios:
            # the item name reaches JUnit (pytest's junitxml writes it) and node ids unredacted
            redact = _redactor(self.config, [scenario]).text
            for platform in scenario.platforms:
                if wanted and platform != wanted:
                    continue
                yield ScenarioItem.from_parent(
                    self, name=redact(f"{scenario.name}[{platform}]"), scenario=scenario, platform=platform
                )


class ScenarioFailed(Exception):
    """The scenario did not hold: the message is the whole story, no traceback."""


class InvalidScenario(pytest.Item):
    """A file that does not validate is one failing item carrying every error in it."""

    def __init__(self, *, error: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise ScenarioFailed(self.error.render())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int, str]:
        diags = getattr(self.error, "diagnostics", [])
        line = diags[0].line - 1 if diags else 0
        return self.path, line, f"invalid scenario file {self.path.name}"


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, platform: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.platform = platform
        # -k matches names, file and these (keywords would not: -k reads extra_keyword_matches)
        self.extra_keyword_matches.update(scenario.tags)
        self.add_marker("bgtest")
        loc = scenario.location
        self.line = loc.line if loc else 1
        #: its place in the whole run (set when collection is done), naming its report folder
        self.number: int | None = None

    def runtest(self) -> None:
        session = self.config.stash[_SESSION]
        console = _run_console(self.config)
        relay = Relay.of(self.config)
        if console is not None:
            observer = console.observer(self.scenario, self.platform) if console.steps else None
        elif relay is not None:
            observer = relay.observer(self.scenario, self.platform)
        elif self.config.getoption("bgtest_live"):
            observer = live_observer(self.config, self.scenario)
        else:
            observer = None
        try:
            result = session.run(self.scenario, self.platform, observer, number=self.number)
        finally:
            if relay is not None:
                relay.end(self.scenario, self.platform)
        redactor = redaction.active()
        redactor.result(result)
        if result.artifacts:
            redactor.tree(Path(result.artifacts))
        if interrupts.received() is not None:
            self.session.shouldstop = f"interrupted ({interrupts.received().name}): no further scenarios"
        if observer is not None and console is None and relay is None:
            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            _Uncaptured(self.config, terminal).write("\n")
        self.user_properties.extend(
            [
                ("bgtest_result", json.dumps(result.to_json())),
                (_NUMBER, str(self.number or 0)),
                ("device", result.device.get("serial", "")),
                ("device_model", result.device.get("model", "")),
                ("platform", self.platform),
                ("scenario", result.location),
            ]
        )
        if result.artifacts:
            self.user_properties.append(("artifacts", result.artifacts))
        if result.attempts:
            self.user_properties.append(("attempts", str(len(result.attempts))))
        if result.status == "flaky":
            self.user_properties.append(("flaky", "true"))
        if result.status == "skipped":
            pytest.skip(result.failure)
        if result.status not in ("passed", "flaky"):
            raise ScenarioFailed(render_failure(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (ScenarioFailed, BgtestError)):
            value = excinfo.value
            return value.render() if isinstance(value, BgtestError) else str(value)
        console = _run_console(self.config)
        if console is not None and not console.debug:
            # `bgtest run` without --debug: a bug in bgtest is one line, not a traceback.
            return (
                f"internal error in bgtest: {excinfo.value!r}\n"
                "run again with --debug for the traceback, and please report it"
            )
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, f"scenario: {self.scenario.name} [{self.platform}]"


class _Uncaptured:
    """Writes to the terminal past pytest's output capture (which holds fd 1 during a test)."""

    def __init__(self, config: pytest.Config, terminal: Any) -> None:
        self._capman = config.pluginmanager.get_plugin("capturemanager")
        self._terminal = terminal

    def write(self, text: str, **markup: bool) -> None:
        if self._capman is None:
            self._terminal.write(text, **markup)
            return
        with self._capman.global_and_fixture_disabled():
            self._terminal.write(text, **markup)
            self._terminal.flush()

    def write_line(self, text: str, **markup: bool) -> None:
        self.write("\n" + text, **markup)

    @contextlib.contextmanager
    def uncaptured(self) -> Iterator[None]:
        if self._capman is None:
            yield
            return
        with self._capman.global_and_fixture_disabled():
            yield


def live_observer(config: pytest.Config, scenario: Any) -> Any:
    """Step lines on the terminal as they happen (pytest's reporter writes past output capture)."""
    from harness.durations import format_duration_ms
    from harness.run.runner import RunObserver

    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None:
        return None
    reporter = _Uncaptured(config, terminal)
    state: dict[str, Any] = {"start": None}
    marks = {
        "passed": ("✓", {"green": True}),
        "failed": ("✗", {"red": True}),
        "error": ("!", {"red": True}),
        "skipped": ("-", {"yellow": True}),
    }

    def on_step(step: Any) -> None:
        if not state.get("header"):
            state["header"] = True
            reporter.write(f"\n▶ {scenario.name}", bold=True)

    def on_step_done(step: Any) -> None:
        step = dataclasses.replace(step, summary=redact(step.summary), message=redact(step.message))
        if state["start"] is None:
            state["start"] = step.device_start_ms
        offset = max(0, step.device_end_ms - (state["start"] or step.device_end_ms))
        mark, style = marks.get(step.status, ("?", {}))
        phase = "" if step.phase == "steps" else f"[{step.phase}] "
        reporter.write(f"\n   {mark} ", **style)
        reporter.write(f"{phase}{step.summary}")
        reporter.write(f"   device +{format_duration_ms(offset)}", cyan=True)
        if step.status != "passed" and step.message:
            first = step.message.strip().splitlines()[0]
            reporter.write(f"\n       {first}", red=True)
        for text in state.pop("notes", []):  # the device state a step left, after its line
            reporter.write(f"\n       {text}", cyan=True)

    bar: dict[str, Any] = {}
    redact = redaction.active().text

    def on_wait(done: int, total: int, what: str) -> None:
        """A real wait on a phone: a rich progress bar with device time and what it waits for."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        what = redact(what)
        with reporter.uncaptured():
            if bar.get("what") != what:
                if "progress" in bar:
                    bar["progress"].stop()
                console = Console(file=sys.__stdout__, force_terminal=None)
                progress = Progress(
                    TextColumn("     {task.description}"),
                    BarColumn(),
                    TextColumn("{task.fields[elapsed]} of {task.fields[total_text]}"),
                    console=console,
                    auto_refresh=False,
                    transient=False,
                )
                reporter.write("\n")
                progress.start()
                task = progress.add_task(
                    what, total=total, elapsed="0s", total_text=format_duration_ms(total)
                )
                bar.update(what=what, progress=progress, task=task)
            progress = bar["progress"]
            progress.update(bar["task"], completed=done, elapsed=format_duration_ms(done))
            progress.refresh()
            if done >= total:
                progress.stop()
                bar.clear()

    def on_note(text: str) -> None:
        state.setdefault("notes", []).append(text)

    return RunObserver(on_step=on_step, on_step_done=on_step_done, on_wait=on_wait, on_note=on_note)


def render_failure(result: ScenarioResult) -> str:
    lines = [
        f"{result.location}: scenario {result.name!r} {result.status} on {result.device.get('serial', '?')}"
    ]
    lines.append(result.failure)
    if result.restored:
        lines.append("restored: " + ", ".join(result.restored))
    if result.artifacts:
        lines.append(f"artifacts: {result.artifacts}")
    return "\n".join(lines)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    _keep_shard(config, items)
    models = []
    for item in items:
        if isinstance(item, ScenarioItem) and item.scenario.app is not None and item.scenario.app.model_path:
            models.append(Path(item.scenario.app.model_path))
    config.stash[_SESSION].app_models = list(dict.fromkeys(models))
    scenarios = [item.scenario for item in items if isinstance(item, ScenarioItem)]
    if scenarios:
        redaction.install(_redactor(config, scenarios))
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(terminal, "_tw", None)
        if writer is not None and not isinstance(writer._file, redaction.RedactedStream):
            writer._file = redaction.RedactedStream(writer._file)  # every console line


_INTERRUPTED = "bgtest_interrupted"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """After SIGINT/SIGTERM no scenario starts, on any worker.

    A worker that saw the signal may still be handed a scenario (xdist moves a stopped
    worker's queue to the others), and xdist starts a replacement for a worker that ended
    on the interrupt: that process never saw the signal, so the controller tells it through
    its workerinput (see :meth:`_Workers.pytest_configure_node`).
    """
    if not isinstance(item, ScenarioItem):
        return None
    sig = interrupts.received()
    name = sig.name if sig is not None else getattr(item.config, "workerinput", {}).get(_INTERRUPTED)
    if name is None:
        return None
    item.session.shouldstop = f"interrupted ({name}): no further scenarios"
    return True  # handled: not run, no report (it did not start)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Number the scenario runs in collection order: every xdist worker collects the same list,
    so the numbers (and the report folders they name) are unique under ``-n`` too."""
    for number, item in enumerate(session.items, 1):
        if isinstance(item, ScenarioItem):
            item.number = number

def _keep_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--bgtest-shard I/N: keep this shard's scenario items, deselect the others."""
    wanted = config.getoption("bgtest_shard")
    if not wanted:
        return
    try:
        index, count = shards.parse_shard(wanted)
        given = config.getoption("bgtest_shard_durations")
        durations = shards.durations_from(Path(given)) if given else None
    except shards.ShardError as exc:
        raise pytest.UsageError(exc.render()) from None
    keep = shards.select(
        items, lambda item: shards.scenario_key(str(item.path), item.name), index, count, durations
    )
    kept = set(map(id, keep))
    dropped = [item for item in items if id(item) not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _redactor(config: pytest.Config, scenarios: list[Any]) -> redaction.Redactor:
    """The run's rules: bgtest's, --redact, every scenario's `redact:` and secret values."""
    patterns: list[str] = list(config.getoption("bgtest_redact") or [])
    secrets = redaction.secret_values({})
    for scenario in scenarios:
        patterns += scenario.redact
        secrets += redaction.secret_values(scenario.vars, {})
    try:
        return redaction.Redactor(dict.fromkeys(patterns), secrets)
    except re.error as exc:
        raise pytest.UsageError(f"--redact: not a valid regular expression: {exc}") from None


_NUMBER = "bgtest_number"


def run_number(report: pytest.TestReport) -> int:
    """A scenario report's place in the run's collection order (0: not a scenario's): results are
    listed in that order whichever xdist worker ends first."""
    return next((int(value) for key, value in report.user_properties if key == _NUMBER), 0)


def result_of(report: pytest.TestReport) -> dict[str, Any] | None:
    """The scenario result a report carries (it crosses xdist's process boundary as a property)."""
    if report.when != "call":
        return None
    for key, value in report.user_properties:
        if key == "bgtest_result":
            return json.loads(value)
    return None


class _Collector:
    """Collects results from reports into the session's list, in the run's order (a hook object:
    the report hook gets no config, and a module-level list would outlive the session)."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results = results
        self._numbers: list[int] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = result_of(report)
        if result is not None:
            number = run_number(report)
            at = bisect.bisect_right(self._numbers, number)
            self._numbers.insert(at, number)
            self.results.insert(at, result)


class _Workers:
    """The xdist controller's side of an interrupt: each worker restores its own device.

    The controller holds no device. A signal it receives goes on to every worker (unless a
    terminal sent it to the whole process group already); the workers stop after their
    running scenario's ``finally`` and restore, and the controller waits for them (xdist's
    ``shouldstop``) instead of tearing them down mid-restore.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.pids: list[int] = []

    def pytest_configure_node(self, node: Any) -> None:
        sig = interrupts.received()
        if sig is not None:  # a replacement for a worker the interrupt stopped: it starts nothing
            node.workerinput[_INTERRUPTED] = sig.name
        from harness.run.embedded import bytecode_cache

        # (before xdist's own code runs there) its pid, and the compiled modules of bgtest's cache:
        # a worker imports pytest and bgtest, and compiles them all again where the environment
        # sets PYTHONDONTWRITEBYTECODE (about a second of CPU per worker on a loaded machine)
        cache = bytecode_cache()
        use_cache = (
            f"sys.pycache_prefix = {str(cache)!r}\nsys.dont_write_bytecode = False\n" if cache else ""
        )
        channel = node.gateway.remote_exec(f"import os, sys\n{use_cache}channel.send(os.getpid())")
        self.pids.append(int(channel.receive(timeout=60)))
        console = _run_console(self.config)
        if console is not None:
            open_for(node, console)  # the worker's step lines and notes, live on bgtest run's screen

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Iterator[None]:
        """xdist starts the workers in its own ``pytest_sessionstart``: the phone this run lends
        to one of them is built from here on, not while they start (run/embedded.py, held)."""
        try:
            return (yield)
        finally:
            from harness.run.embedded import release_prestarted

            release_prestarted()

    def on_signal(self, sig: signal.Signals) -> bool:
        dsession = self.config.pluginmanager.get_plugin("dsession")
        if dsession is None:
            return False
        if not _whole_group_got(sig):
            for pid in self.pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        dsession.shouldstop = dsession.shouldstop or f"interrupted ({sig.name})"
        return True


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--bgtest-shared-lane``: that platform's scenarios on one worker (run/lanes.py)."""
    shared = config.getoption("bgtest_shared_lane")
    if not shared:
        return None
    from harness.run.lanes import scheduler

    return scheduler(config, log, frozenset(shared))


def _whole_group_got(sig: signal.Signals) -> bool:
    """Whether a terminal delivered ``sig`` to bgtest's whole process group (Ctrl-C on a tty)."""
    if sig != signal.SIGINT:
        return False
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            if os.tcgetpgrp(fd) == os.getpgrp():
                return True
    return False


class _RunEnd:
    """Around every plugin's session finish (JUnit, results.json, the HTML, the summary)."""

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Iterator[None]:
        """Reports are written whole: a signal now waits until they are, then sets the exit."""
        with interrupts.deferred(then_raise=False):
            yield
            junit = getattr(session.config.option, "xmlpath", None)
            if junit and not hasattr(session.config, "workerinput") and Path(junit).is_file():
                from harness.report.junit import mark_reruns

                mark_reruns(Path(junit))  # after pytest's junitxml wrote it
        if session.config.getoption("bgtest_scenarios"):
            session.exitstatus = run_exit_code(int(session.exitstatus), session.config.stash[_RESULTS])


def run_exit_code(pytest_code: int, results: list[dict[str, Any]]) -> int:
    """`bgtest run`'s exit code (harness.run.exits) from pytest's and the scenarios' results."""
    signalled = interrupts.exit_code()
    if signalled is not None:
        return signalled
    if pytest_code == pytest.ExitCode.INTERRUPTED:
        return exits.SIGINT
    if pytest_code == pytest.ExitCode.USAGE_ERROR:
        return exits.INVALID_INPUT
    if pytest_code == pytest.ExitCode.INTERNAL_ERROR:
        return exits.INFRASTRUCTURE
    if pytest_code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return pytest_code
    code = exits.overall(exits.for_status(r["status"], r.get("exit_code", 0)) for r in results)
    return code or (exits.FAILED if pytest_code == pytest.ExitCode.TESTS_FAILED else exits.PASSED)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _SESSION not in config.stash:
        return
    config.stash[_SESSION].close()
    if hasattr(config, "workerinput"):
        return  # the controller writes the results it received
    report = config.getoption("bgtest_report")
    results = config.stash[_RESULTS]
    if report and results:
        path = Path(report)
        path.mkdir(parents=True, exist_ok=True)
        (path / "results.json").write_text(json.dumps(results, indent=2))
        from harness.report.html import write_report

        write_report(results, path)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """A scenario that passed only on a rerun is FLAKY on pytest's terminal too, not PASSED."""
    if report.when == "call" and report.passed and ("flaky", "true") in report.user_properties:
        return "flaky", "R", ("FLAKY", {"yellow": True})
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = list(config.stash.get(_RESULTS, []))
    if not results:
        return
    from harness.report.console import summary_text

    terminalreporter.write_sep("=", "bgtest summary")
    width = config.get_terminal_writer().fullwidth
    terminalreporter.write(summary_text(results, width=width, color=terminalreporter.hasmarkup))


@pytest.fixture(scope="session")
def android_device(pytestconfig: pytest.Config) -> Any:
    """The Android device this session runs on (``--bgtest-device``, the one attached, or a
    virtual one), as a :class:`harness.devices.android.AndroidDevice` — for tests in Python."""
    return pytestconfig.stash[_SESSION].android()


@pytest.fixture(scope="session")
def virtual_android() -> Iterator[Any]:
    """Always a fresh virtual Android device (virtual time), whatever else is attached."""
    from harness.devices.android import AndroidDevice
    from harness.run.embedded import EmbeddedAndroid

    embedded = EmbeddedAndroid().start()
    try:
        assert embedded.server is not None
        yield AndroidDevice(embedded.serial, embedded.server.host, embedded.server.port)
    finally:
        embedded.stop()


def _reruns(value: int) -> int:
    if value < 0:
        raise pytest.UsageError(f"--reruns {value}: give a count of 0 or more")
    return value


def _filters(texts: list[str]) -> tuple[str, ...]:
    """``--bgtest-device-filter`` values, each parsed now (a usage error names the bad one)."""
    from harness.devices.filters import FilterError, parse_filters

    try:
        parse_filters(texts)
    except FilterError as exc:
        raise pytest.UsageError(exc.render()) from None
    return tuple(texts)


def _profiles(names: list[str]) -> tuple[str, ...]:
    """``--bgtest-profile`` values, checked against the catalogue (a usage error otherwise)."""
    from harness.profiles import PROFILES, UnknownProfileError

    for name in names:
        if name not in PROFILES:
            raise pytest.UsageError(str(UnknownProfileError(name)))
    return tuple(names)
