"""The summary people read after a run: one row per scenario, then which tasks ran and why."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.durations import format_duration_ms

_STYLE = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}


def summary_text(results: list[dict[str, Any]], width: int = 110, color: bool | None = None) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, no_color=color is False, highlight=False
    )
    render_summary(console, results)
    return buffer.getvalue()


def render_summary(console: Console, results: list[dict[str, Any]]) -> None:
    table = Table(title="scenarios", show_lines=False, expand=False)
    table.add_column("result")
    table.add_column("scenario", overflow="fold")
    table.add_column("device")
    table.add_column("device time", justify="right")
    table.add_column("wall", justify="right")
    table.add_column("restored", overflow="fold")
    for r in results:
        span = max(0, r.get("device_end_ms", 0) - r.get("device_start_ms", 0))
        device = r.get("device", {})
        name = device.get("serial", "-")
        if device.get("virtual") == "yes":
            name += " (virtual)"
        table.add_row(
            f"[{_STYLE.get(r['status'], 'white')}]{r['status'].upper()}[/]",
            f"{r['name']}\n[dim]{r.get('location', '')}[/]",
            name,
            format_duration_ms(span) if span else "-",
            f"{r.get('wall_s', 0):.2f}s",
            ", ".join(r.get("restored") or []) or "-",
        )
    console.print(table)
    tasks = Table(title="background tasks, from the device's logs", expand=False)
    tasks.add_column("scenario", overflow="fold")
    tasks.add_column("task")
    tasks.add_column("last state")
    tasks.add_column("what the logs show", overflow="fold")
    rows = 0
    for r in results:
        for name, last, why in _task_rows(r.get("tasks") or {}):
            rows += 1
            style = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}.get(last, "white")
            tasks.add_row(r["name"], name, f"[{style}]{last}[/]", why)
    if rows:
        console.print(tasks)
    failed = [r for r in results if r["status"] in ("failed", "error")]
    for r in failed:
        console.print(f"[red]✗ {r.get('location', '')}[/] {r['name']}")
        console.print(f"  {r.get('failure', '').strip()}".replace("\n", "\n  "), markup=False)
        if r.get("artifacts"):
            console.print(f"  artifacts: {r['artifacts']}", markup=False)


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
