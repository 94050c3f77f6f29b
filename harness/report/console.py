"""The summary people read after a run: one row per scenario, then which tasks ran and why.

It is drawn for the width the terminal has (rich's Console knows it, ``COLUMNS`` included):
from ``WIDE`` columns on, two borderless tables; below that a compact layout, one block per
scenario, that folds inside the width instead of letting a table wrap into a mess.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from harness.durations import format_duration_ms

#: From this width on the summary is drawn as tables; below it, as compact blocks.
WIDE = 120

STATUS_STYLE = {"passed": "green", "flaky": "yellow", "failed": "red", "error": "red", "skipped": "yellow"}
_STATE_STYLE = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}


def use_color(flag: bool | None, stream: TextIO | None = None) -> bool:
    """Whether to colour: ``--color/--no-color`` wins, then ``NO_COLOR`` (no-color.org), then a tty."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def make_console(color: bool | None = None, file: TextIO | None = None, width: int | None = None) -> Console:
    """A rich Console for bgtest's own output, with the colour choice of :func:`use_color`."""
    colored = use_color(color, file)
    return Console(
        file=file,
        width=width,
        force_terminal=True if color else None,
        no_color=not colored,
        color_system="auto" if colored else None,
        highlight=False,
        soft_wrap=False,
    )


def summary_text(results: list[dict[str, Any]], width: int = 120, color: bool | None = False) -> str:
    """The summary as text ``width`` columns wide (for pytest's terminal and for tests)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=bool(color),
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    render_summary(console, results)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def render_summary(console: Console, results: list[dict[str, Any]]) -> None:
    """Scenarios, the background tasks the logs show, then each failure in full."""
    wide = console.width >= WIDE
    devices = {device_label(r) for r in results}
    shared = devices.pop() if len(devices) == 1 else None
    console.print(Text("scenarios" + (f" on {shared}" if shared else ""), style="bold"))
    console.print(_scenario_table(results, shared) if wide else _scenario_blocks(results, shared))
    tasks = [(r, *row) for r in results for row in _task_rows(r.get("tasks") or {})]
    if tasks:
        console.print()
        console.print(Text("background tasks, from the device's logs", style="bold"))
        console.print(_task_table(tasks) if wide else _task_blocks(tasks, console.width))
    for r in results:
        if r["status"] == "skipped":
            _heading(console, "-", r)
            console.print(_indented(Text(f"skipped: {_skip_reason(r) or 'no reason given'}")))
    for r in results:
        if r["status"] == "flaky":
            _heading(console, "~", r)
            console.print(_indented(Text("flaky: passed only on a rerun (--reruns)", style="yellow")))
            _print_attempts(console, r)
    # one block per distinct failure: a device that is not there fails every scenario alike
    said: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        if r["status"] in ("failed", "error"):  # a run with artifacts is its own story
            key = (r.get("failure", "").strip(), id(r) if r.get("artifacts") else 0)
            said.setdefault(key, []).append(r)
    for group in said.values():
        r = group[0]
        _heading(console, "✗", r)
        if len(group) > 1:
            others = ", ".join(o["name"] for o in group[1:])
            console.print(_indented(Text(f"and {len(group) - 1} more the same way: {others}", style="dim")))
        _print_block(console, r.get("failure", "").strip())
        if r.get("restored"):
            console.print(_indented(Text("restored: " + ", ".join(r["restored"]))))
        _print_attempts(console, r)
        if r.get("artifacts"):
            console.print(_indented(Text(f"artifacts: {r['artifacts']}")))


def _print_attempts(console: Console, result: dict[str, Any]) -> None:
    """One line per attempt of a scenario that ran more than once: where, and how it went."""
    for attempt in result.get("attempts") or []:
        failure = (attempt.get("failure") or "").strip()
        line = Text(f"attempt {attempt['attempt']} on {attempt.get('device') or 'its device'}: ")
        line.append(attempt["status"], style=STATUS_STYLE.get(attempt["status"], ""))
        if attempt.get("dropped_out"):
            line.append(" (the device dropped out: quarantined)")
        elif failure and attempt["status"] != "passed":
            line.append(f" — {failure.splitlines()[0]}")
        console.print(_indented(line))


def _heading(console: Console, mark: str, result: dict[str, Any]) -> None:
    """A skipped or failed scenario's block starts with its name, then where it is."""
    style = STATUS_STYLE.get(result["status"], "")
    console.print()
    console.print(Text(f"{mark} ", style=style) + Text(result["name"], style="bold"))
    console.print(_indented(Text(where(result), style=style)))


def totals_line(results: Iterable[dict[str, Any]], wall_s: float) -> Text:
    """``5 passed, 1 failed, 2 skipped in 6.49s`` — pytest's closing-line shape, coloured."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    line = Text()
    for status in ("passed", "flaky", "failed", "error", "skipped"):
        n = counts.get(status)
        if n:
            if line:
                line.append(", ")
            word = "errors" if status == "error" and n > 1 else status
            line.append(f"{n} {word}", style=STATUS_STYLE[status])
    if not line:
        line.append("no scenarios ran")
    line.append(f" in {wall_s:.2f}s")
    return line


def where(result: dict[str, Any]) -> str:
    """``scenarios/x.yaml:2``: the location, relative to the working folder when inside it."""
    file = result.get("file") or ""
    try:
        file = str(Path(file).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        pass
    return f"{file}:{result.get('line', 0)}" if file else result.get("location", "")


def device_span(ms: int) -> str:
    """Device time for people: whole seconds from a second on (a phone's or a realtime clock's
    milliseconds, ``12s65ms``, say nothing), milliseconds below."""
    return format_duration_ms(round(ms / 1000) * 1000 if ms >= 1000 else ms)


def device_label(result: dict[str, Any]) -> str:
    device = result.get("device") or {}
    name = device.get("serial") or "no device"
    if device.get("virtual") == "yes":
        name += " (virtual)"
    return name


def _status(result: dict[str, Any]) -> Text:
    status = result["status"]
    return Text(status.upper(), style=STATUS_STYLE.get(status, ""))


def _times(result: dict[str, Any]) -> tuple[str, str]:
    span = max(0, result.get("device_end_ms", 0) - result.get("device_start_ms", 0))
    return (device_span(span) if span else "-", f"{result.get('wall_s', 0):.2f}s")


def _skip_reason(result: dict[str, Any]) -> str:
    text = (result.get("failure") or "").strip()
    return text.splitlines()[0] if text else ""


def _scenario_table(results: list[dict[str, Any]], shared: str | None) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("result", no_wrap=True)
    table.add_column("scenario", overflow="fold")
    if shared is None:
        table.add_column("device", overflow="fold", max_width=24)
    table.add_column("device time", justify="right", no_wrap=True)
    table.add_column("wall", justify="right", no_wrap=True)
    table.add_column("restored", overflow="fold", max_width=30)
    for r in results:
        name = Text(r["name"])
        name.append(f"\n{where(r)}", style="dim")
        device_time, wall = _times(r)
        row: list[RenderableType] = [_status(r), name]
        if shared is None:
            row.append(device_label(r))
        row += [device_time, wall, ", ".join(r.get("restored") or []) or "-"]
        table.add_row(*row)
    return table


def _scenario_blocks(results: list[dict[str, Any]], shared: str | None) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, width=7)
    grid.add_column(overflow="fold")
    for r in results:
        device_time, wall = _times(r)
        body = Text(r["name"])
        facts = [where(r), f"device {device_time}", f"wall {wall}"]
        if shared is None:
            facts.insert(1, device_label(r))
        body.append("\n" + " · ".join(facts), style="dim")
        if r.get("restored"):
            body.append("\nrestored: " + ", ".join(r["restored"]))
        grid.add_row(_status(r), body)
    return grid


def _state(last: str) -> Text:
    return Text(last or "-", style=_STATE_STYLE.get(last, ""))


TaskRow = tuple[dict[str, Any], str, str, str]  # scenario result, task, last state, what the logs show


def _task_table(tasks: list[TaskRow]) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("scenario", overflow="fold")
    table.add_column("task", overflow="fold", max_width=28)
    table.add_column("last state", no_wrap=True)
    table.add_column("what the logs show", overflow="fold")
    previous = None
    for r, name, last, why in tasks:
        table.add_row("" if r is previous else r["name"], name, _state(last), why)
        previous = r
    return table


def _task_blocks(tasks: list[TaskRow], width: int) -> RenderableType:
    """Per scenario its name, then one line per task; the task columns line up across scenarios."""
    name_width = min(max(len(name) for _, name, _, _ in tasks), width * 2 // 5)
    state_width = max(len(last or "-") for _, _, last, _ in tasks)
    parts: list[RenderableType] = []
    previous = None
    grid = None
    for r, name, last, why in tasks:
        if r is not previous:
            parts.append(Text(r["name"]))
            grid = Table.grid(padding=(0, 1))
            grid.add_column(overflow="fold", min_width=name_width, max_width=name_width)
            grid.add_column(no_wrap=True, min_width=state_width)
            grid.add_column(overflow="fold")
            parts.append(_indented(grid))
            previous = r
        assert grid is not None
        grid.add_row(name, _state(last), why)
    return Group(*parts)


_GROUP_OVER = 8
"""A glob that matched more tasks than this is one row (``load-* (100 tasks)``), not 100."""


def _task_rows(tasks: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(task, last state, what the logs show) per row; a large glob's members folded into one."""
    members: dict[str, list[dict[str, Any]]] = {}
    for outcome in tasks.values():
        members.setdefault(outcome.get("pattern") or outcome["task"], []).append(outcome)
    rows: list[tuple[str, str, str]] = []
    for pattern, group in sorted(members.items()):
        if len(group) <= _GROUP_OVER:
            rows += [(o["task"], o.get("last_state", ""), o.get("why", "")) for o in sorted(group, key=_key)]
            continue
        last: dict[str, int] = {}
        for o in group:
            last[o.get("last_state", "")] = last.get(o.get("last_state", ""), 0) + 1
        why = "last state: " + ", ".join(f"{state or 'none'} ×{n}" for state, n in sorted(last.items()))
        common = max(last, key=lambda state: last[state])
        rows.append((f"{pattern} ({len(group)} tasks)", common, why))
    return rows


def _key(outcome: dict[str, Any]) -> str:
    return str(outcome["task"])


def _print_block(console: Console, text: str) -> None:
    """A failure message, each line folded under its own indentation (not back at the margin)."""
    for line in text.splitlines():
        body = line.lstrip(" ")
        console.print(Padding(Text(body), (0, 0, 0, 2 + len(line) - len(body)), expand=False))


def _indented(renderable: RenderableType) -> RenderableType:
    return Padding(renderable, (0, 0, 0, 2), expand=False)
