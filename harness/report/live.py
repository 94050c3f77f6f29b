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

import bisect
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
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
    #: a report's place in the run (the summary lists results in it, whichever worker ends first)
    number: Callable[[Any], int] = lambda report: 0
    _status: str = "starting"
    _wait: _Wait | None = None
    _live: Live | None = None
    _spinner: Spinner | None = None
    _started: float = field(default_factory=time.monotonic)
    _since: float = field(default_factory=time.monotonic)
    _shown: set[str] = field(default_factory=set)
    _numbers: list[int] = field(default_factory=list)
    _blocks: Blocks | None = None
    #: the observers of scenarios running in xdist workers, fed by their relays (plugin.py)
    _relayed: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    _relaying: set[str] = field(default_factory=set)  # the workers whose steps come over a relay
    _worker_notes: dict[str, list[str]] = field(default_factory=dict)
    _noted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._blocks = Blocks(self.print)

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
    def observer(self, scenario: Any, platform: str, worker: str = "") -> Any:
        """Runner hooks that print this scenario's steps as they end (``worker``: the xdist
        worker it runs in, its steps relayed here; "" for this process)."""
        from harness.run.runner import RunObserver

        state: dict[str, Any] = {"start": None, "notes": []}
        name = scenario.name
        assert self._blocks is not None
        key = self._blocks.begin(worker, name, platform)

        def emit(renderable: RenderableType) -> None:
            assert self._blocks is not None
            self._blocks.emit(key, renderable)

        def on_step(step: Any) -> None:
            if not state.get("header"):
                state["header"] = True
                for text in self._worker_notes.pop(worker, []):
                    emit(Text(f"bgtest: {text}", style="cyan"))
                emit(self._header(name, platform))
            self.status(f"{name} · {step.summary}")

        def on_step_done(step: Any) -> None:
            if state["start"] is None:
                state["start"] = step.device_start_ms
            offset = max(0, step.device_end_ms - state["start"])
            self._end_wait()
            emit(step_line(_as_dict(step), offset))
            if self.debug and step.round_trips:  # what the step cost in device requests (issue 17)
                trips = ", ".join(f"{channel} {n}" for channel, n in sorted(step.round_trips.items()))
                emit(state_line(f"round trips: {trips}"))
            for text in state["notes"]:
                emit(state_line(text))
            state["notes"].clear()

        def on_note(text: str) -> None:
            state["notes"].append(text)  # printed after the step that caused it

        return RunObserver(on_step=on_step, on_step_done=on_step_done, on_wait=self._on_wait, on_note=on_note)

    def _header(self, name: str, platform: str) -> RenderableType:
        self._shown.add(name + platform)
        head = Table.grid(expand=True, padding=(0, 1))
        head.add_column(width=1, no_wrap=True)
        head.add_column(ratio=1, overflow="fold")
        head.add_column(no_wrap=True, justify="right")
        head.add_row(Text("▶", style="bold"), Text(name, style="bold"), Text(platform, style="dim"))
        return head

    # ------------------------------------------------------------ scenarios in xdist workers
    def relaying(self, worker: str) -> None:
        """``worker`` relays its scenarios' steps (:meth:`relayed`): no replay from its reports."""
        self._relaying.add(worker)

    def relayed(self, worker: str, message: tuple[str, str, str, Any]) -> None:
        """One event of a scenario running in ``worker`` (plugin.py's relay sends them as they
        happen): its steps print live, as in one process, one scenario's block at a time."""
        assert self._blocks is not None
        with self._blocks.lock:  # each worker's channel calls from a thread of its own
            self._relayed_one(worker, *message)

    def _relayed_one(self, worker: str, kind: str, name: str, platform: str, payload: Any) -> None:
        if kind == "note":  # about the worker's devices: before its next scenario, once per run
            if payload not in self._noted:
                self._noted.add(payload)
                if self.steps:
                    self._worker_notes.setdefault(worker, []).append(payload)
                else:
                    self.note(payload)
            return
        if not self.steps:
            return  # --quiet: the notes above, no step lines
        key = (worker, name, platform)
        if kind == "end":
            if self._relayed.pop(key, None) is not None and self._blocks is not None:
                self._blocks.end(key)
            return
        if key not in self._relayed:
            self._relayed[key] = self.observer(SimpleNamespace(name=name), platform, worker)
        observer = self._relayed[key]
        if kind == "step":
            observer.on_step(SimpleNamespace(**payload))
        elif kind == "done":
            observer.on_step_done(SimpleNamespace(**payload))
        elif kind == "state":
            observer.on_note(payload)
        elif kind == "wait":
            observer.on_wait(*payload)

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
            at = bisect.bisect_right(self._numbers, number := self.number(report))
            self._numbers.insert(at, number)
            self.results.insert(at, result)
            key = result["name"] + result.get("platform", "")
            gateway = getattr(getattr(report, "node", None), "gateway", None)
            relayed = getattr(gateway, "id", None) in self._relaying
            if self.steps and key not in self._shown and not relayed:
                self._replay(result)  # ran in another process (-n): its steps, now
            return
        if report.failed:  # an error outside the scenario (a bgtest bug, a setup error)
            self.print(Text(f"! {_item_name(report.nodeid)} ({report.when})", style="red"))
            self.print(Padding(Text(report.longreprtext), (0, 0, 0, 4)))

    def _replay(self, result: dict[str, Any]) -> None:
        self.print(self._header(result["name"], result.get("platform", "")))
        steps = result.get("steps") or []
        start = steps[0]["device_start_ms"] if steps else 0
        for step in steps:
            self.print(step_line(step, max(0, step["device_end_ms"] - start)))

    def pytest_sessionfinish(self) -> None:
        if self._blocks is not None:
            self._blocks.flush()  # a worker that ended without saying so
        for text in (t for notes in self._worker_notes.values() for t in notes):
            self.note(text)  # a worker's device note whose scenario printed no step
        self._worker_notes.clear()
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


class Blocks:
    """Scenario blocks on one screen when several scenarios run at once (xdist lanes).

    The first scenario to print owns the screen and prints live; the others' lines are held,
    and when the owner ends, the oldest held block is printed whole and, if still running, owns
    the screen in turn. One scenario at a time (one process) is always the owner: nothing waits.
    A worker's scenarios run one after another, so its next one ends its last.
    """

    def __init__(self, out: Callable[[RenderableType], None]) -> None:
        self._out = out
        self.lock = threading.RLock()  # relays print from execnet's threads (one per worker)
        self._owner: tuple[str, str, str] | None = None
        self._held: dict[tuple[str, str, str], list[RenderableType]] = {}  # in the order they began
        self._ended: set[tuple[str, str, str]] = set()
        self._current: dict[str, tuple[str, str, str]] = {}  # by worker

    def begin(self, worker: str, name: str, platform: str) -> tuple[str, str, str]:
        key = (worker, name, platform)
        with self.lock:
            previous = self._current.get(worker)
            if previous is not None and previous != key:
                self.end(previous)
            self._current[worker] = key
            self._ended.discard(key)
        return key

    def emit(self, key: tuple[str, str, str], renderable: RenderableType) -> None:
        with self.lock:
            if self._owner is None and key not in self._held:
                self._owner = key
            if key == self._owner:
                self._out(renderable)
            else:
                self._held.setdefault(key, []).append(renderable)

    def end(self, key: tuple[str, str, str]) -> None:
        with self.lock:
            if key != self._owner:
                if key in self._held:
                    self._ended.add(key)
                return
            self._owner = None
            while self._held and self._owner is None:
                nxt = next(iter(self._held))
                for renderable in self._held.pop(nxt):
                    self._out(renderable)
                if nxt in self._ended:
                    self._ended.discard(nxt)
                else:
                    self._owner = nxt

    def flush(self) -> None:
        """Every held line, in order (the run is over)."""
        with self.lock:
            while self._held:
                for renderable in self._held.pop(next(iter(self._held))):
                    self._out(renderable)
            self._owner = None
            self._ended.clear()


def terminal_stream() -> TextIO:
    """The terminal, past pytest's output capture: a duplicate of stdout's descriptor."""
    sys.stdout.flush()
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", errors="replace", closefd=True)


def _as_dict(step: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    return asdict(step) if is_dataclass(step) else dict(vars(step))  # (a relayed step: a namespace)


def _item_name(nodeid: str) -> str:
    return nodeid.split("::")[-1]
