"""``bgtest run``'s terminal, from the first second to the summary.

``bgtest run`` hands the scenarios to pytest with pytest's terminal reporter switched off
(``-p no:terminal``) and a :class:`RunConsole` registered as a plugin object, so everything on
the screen is bgtest's: a status line with a spinner (what is starting, which step runs), the
step lines as each step ends (with the device-state line after the step that changed it), a
bar for waits that take real time, then the summary. People who run pytest themselves keep
pytest's own output (see ``plugin.py``).

The console writes to a duplicate of the terminal's file descriptor taken before pytest
starts, so pytest's output capture (which swallows anything else a test prints) does not
swallow bgtest's own lines.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.padding import Padding
from rich.progress import BarColumn, Progress, TextColumn
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from harness.report.console import STATUS_STYLE, device_span, render_summary, totals_line

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}


def step_line(step: dict[str, Any], offset_ms: int) -> RenderableType:
    """``✓ doze: deep ... device +6h``: mark, the step's summary (folded), device time on the right."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=4, justify="right", no_wrap=True)
    grid.add_column(overflow="fold", ratio=1)
    grid.add_column(justify="right", no_wrap=True)
    status = step.get("status", "passed")
    text = Text()
    if step.get("phase", "steps") != "steps":
        text.append(f"[{step['phase']}] ", style="dim")
    text.append(step.get("summary", ""))
    grid.add_row(
        Text(MARKS.get(status, "?"), style=STATUS_STYLE.get(status, "")),
        text,
        Text(f"device +{device_span(offset_ms)}", style="cyan"),
    )
    if status != "passed" and step.get("message"):
        first = step["message"].strip().splitlines()[0]
        grid.add_row("", Text(first, style="red"), "")
    return grid


def state_line(text: str) -> RenderableType:
    """The device state after a step that changed it, dim, under the step."""
    return Padding(Text(text, style="dim"), (0, 0, 0, 5))


@dataclass
class _Wait:
    """A wait that takes real time (a phone, a realtime-clock virtual device): a bar."""

    what: str
    progress: Progress
    task: Any


@dataclass(eq=False)
class RunConsole:
    """The live view of a ``bgtest run`` (a pytest plugin object: its ``pytest_*`` methods are hooks)."""

    console: Console
    steps: bool = True
    debug: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)
    extract: Callable[[Any], dict[str, Any] | None] = lambda report: None
    _status: str = "starting"
    _wait: _Wait | None = None
    _live: Live | None = None
    _spinner: Spinner | None = None
    _started: float = field(default_factory=time.monotonic)
    _since: float = field(default_factory=time.monotonic)
    _shown: set[str] = field(default_factory=set)

    # ------------------------------------------------------------ status line
    def start(self, status: str) -> None:
        self._status = status
        if not self.console.is_terminal:
            return  # a log file gets the lines, not a spinner
        self._spinner = Spinner("dots", style="cyan")
        self._live = Live(
            get_renderable=self._renderable,
            console=self.console,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def status(self, text: str) -> None:
        self._status = text
        self._since = time.monotonic()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _renderable(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self._wait is not None:
            parts.append(self._wait.progress)
        if self._spinner is not None:
            # one line, whatever the width: spinner, what runs (cut with …), for how long
            line = Table.grid(expand=True, padding=(0, 1))
            line.add_column(width=1, no_wrap=True)
            line.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            line.add_column(no_wrap=True, justify="right")
            elapsed = time.monotonic() - self._since
            clock = Text(f"{elapsed:.0f}s" if elapsed >= 1 else "", style="dim")
            line.add_row(self._spinner, Text(self._status), clock)
            parts.append(line)
        return Group(*parts)

    def print(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    def note(self, text: str) -> None:
        """A line from bgtest about the run itself (a virtual device started, …)."""
        self.print(Text(f"bgtest: {text}", style="cyan"))

    # ------------------------------------------------------------ a scenario, live
    def observer(self, scenario: Any, platform: str) -> Any:
        """Runner hooks that print this scenario's steps as they end."""
        from harness.run.runner import RunObserver

        state: dict[str, Any] = {"start": None, "notes": []}
        name = scenario.name

        def on_step(step: Any) -> None:
            if not state.get("header"):
                state["header"] = True
                self._header(name, platform)
            self.status(f"{name} · {step.summary}")

        def on_step_done(step: Any) -> None:
            if state["start"] is None:
                state["start"] = step.device_start_ms
            offset = max(0, step.device_end_ms - state["start"])
            self._end_wait()
            self.print(step_line(_as_dict(step), offset))
            if self.debug and step.round_trips:  # what the step cost in device requests (issue 17)
                trips = ", ".join(f"{channel} {n}" for channel, n in sorted(step.round_trips.items()))
                self.print(state_line(f"round trips: {trips}"))
            for text in state["notes"]:
                self.print(state_line(text))
            state["notes"].clear()

        def on_note(text: str) -> None:
            state["notes"].append(text)  # printed after the step that caused it

        return RunObserver(on_step=on_step, on_step_done=on_step_done, on_wait=self._on_wait, on_note=on_note)

    def _header(self, name: str, platform: str) -> None:
        self._shown.add(name + platform)
        head = Table.grid(expand=True, padding=(0, 1))
        head.add_column(width=1, no_wrap=True)
        head.add_column(ratio=1, overflow="fold")
        head.add_column(no_wrap=True, justify="right")
        head.add_row(Text("▶", style="bold"), Text(name, style="bold"), Text(platform, style="dim"))
        self.print(head)

    def _on_wait(self, done_ms: int, total_ms: int, what: str) -> None:
        """A wait in real time: a bar with how much of it has passed."""
        if self._wait is None or self._wait.what != what:
            progress = Progress(
                TextColumn("     {task.description}"),
                BarColumn(),
                TextColumn("{task.fields[elapsed]} of {task.fields[span]}"),
                console=self.console,
                auto_refresh=False,
            )
            task = progress.add_task(what, total=total_ms, elapsed="0s", span=device_span(total_ms))
            self._wait = _Wait(what, progress, task)
        self._wait.progress.update(
            self._wait.task, completed=done_ms, elapsed=device_span(min(done_ms, total_ms))
        )
        if self._live is None and not self.console.is_terminal:
            return
        if self._live is not None:
            self._live.refresh()

    def _end_wait(self) -> None:
        self._wait = None

    # ------------------------------------------------------------ pytest hooks
    def pytest_collection(self) -> None:
        self.status("collecting scenarios")

    def pytest_collection_finish(self, session: Any) -> None:
        n = len(session.items)
        self.status(f"{n} scenario run{'s' if n != 1 else ''} to do; preparing the device")

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.print(Text(f"bgtest: cannot collect {report.nodeid}:\n{report.longreprtext}", style="red"))

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.status(f"{_item_name(nodeid)} · preparing the device")

    def pytest_runtest_logreport(self, report: Any) -> None:
        result = self.extract(report)
        if result is not None:
            self.results.append(result)
            key = result["name"] + result.get("platform", "")
            if self.steps and key not in self._shown:
                self._replay(result)  # ran in another process (-n): its steps, now
            return
        if report.failed:  # an error outside the scenario (a bgtest bug, a setup error)
            self.print(Text(f"! {_item_name(report.nodeid)} ({report.when})", style="red"))
            self.print(Padding(Text(report.longreprtext), (0, 0, 0, 4)))

    def _replay(self, result: dict[str, Any]) -> None:
        self._header(result["name"], result.get("platform", ""))
        steps = result.get("steps") or []
        start = steps[0]["device_start_ms"] if steps else 0
        for step in steps:
            self.print(step_line(step, max(0, step["device_end_ms"] - start)))

    def pytest_sessionfinish(self) -> None:
        self.stop()

    def finish(self, junit: str | None = None, report_dir: str | None = None) -> None:
        """After pytest: the summary, the closing line, where the reports are."""
        self.stop()
        if not self.results:
            return
        self.console.print()
        self.console.rule("summary", style="dim")
        render_summary(self.console, self.results)
        self.console.print()
        self.console.print(totals_line(self.results, time.monotonic() - self._started))
        if report_dir:
            self.console.print(Text(f"report: {report_dir}/index.html (and results.json)", style="dim"))
        if junit:
            self.console.print(Text(f"JUnit XML: {junit}", style="dim"))


def terminal_stream() -> TextIO:
    """The terminal, past pytest's output capture: a duplicate of stdout's descriptor."""
    sys.stdout.flush()
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", errors="replace", closefd=True)


def _as_dict(step: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(step)


def _item_name(nodeid: str) -> str:
    return nodeid.split("::")[-1]
