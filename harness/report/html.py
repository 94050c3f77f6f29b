"""A self-contained HTML timeline of a run: per scenario, steps and task events on device time.

One file, no scripts or external assets, so it can be attached to a CI run as it is. Device
time is the axis (a 6-hour Doze night is as wide as it was long for the phone).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from harness.durations import format_duration_ms

_COLORS = {
    "enqueued": "#6b7280",
    "started": "#2563eb",
    "succeeded": "#16a34a",
    "failed": "#dc2626",
    "retried": "#d97706",
    "cancelled": "#7c3aed",
}
_STEP = {"passed": "#16a34a", "failed": "#dc2626", "error": "#dc2626", "skipped": "#9ca3af"}
_WIDTH = 1000


def _x(t: int, start: int, span: int) -> float:
    return 10 + (_WIDTH - 20) * (t - start) / span if span else 10


def _scenario(r: dict[str, Any]) -> str:
    start, end = r.get("device_start_ms", 0), r.get("device_end_ms", 0)
    span = max(end - start, 1)
    tasks = sorted({task for _, task, _ in r.get("events", [])})
    rows = {task: i for i, task in enumerate(tasks)}
    height = 60 + 18 * len(tasks)
    svg = [
        f'<svg width="{_WIDTH + 160}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="10" y1="30" x2="{_WIDTH - 10}" y2="30" stroke="#999"/>',
    ]
    for step in r.get("steps", []):
        x = _x(step.get("device_start_ms") or start, start, span)
        color = _STEP.get(step["status"], "#999")
        title = html.escape(f"{step['summary']} ({step['location']}) {step['status']}")
        svg.append(
            f'<g><title>{title}</title><rect x="{x:.1f}" y="18" width="4" height="24" fill="{color}"/></g>'
        )
    for t, task, state in r.get("events", []):
        y = 56 + 18 * rows[task]
        title = html.escape(f"{task} {state} at +{format_duration_ms(t - start)}")
        svg.append(
            f'<g><title>{title}</title><circle cx="{_x(t, start, span):.1f}" cy="{y}" r="4" '
            f'fill="{_COLORS.get(state, "#000")}"/></g>'
        )
    for task, i in rows.items():
        svg.append(f'<text x="{_WIDTH + 5}" y="{60 + 18 * i}" font-size="12">{html.escape(task)}</text>')
    svg.append(
        f'<text x="10" y="12" font-size="11">+0s</text><text x="{_WIDTH - 60}" y="12" font-size="11">'
        f"+{format_duration_ms(span)}</text></svg>"
    )
    steps = "".join(
        f"<tr><td style='color:{_STEP.get(s['status'], '#999')}'>{s['status']}</td>"
        f"<td>{html.escape(s['summary'])}</td>"
        f"<td>+{format_duration_ms(max(0, (s.get('device_start_ms') or start) - start))}</td>"
        f"<td>{html.escape(s['location'])}</td><td><pre>{html.escape(s.get('message', ''))}</pre></td></tr>"
        for s in r.get("steps", [])
    )
    status = r["status"]
    restored = html.escape(", ".join(r.get("restored") or []) or "-")
    return (
        f"<section><h2 style='color:{_STEP.get(status, '#000')}'>{html.escape(r['name'])} — {status}</h2>"
        f"<p>{html.escape(r.get('location', ''))} · {html.escape(r.get('device', {}).get('serial', ''))} · "
        f"device time {format_duration_ms(span)} · restored: {restored}"
        f"</p>{''.join(svg)}<table>{steps}</table></section>"
    )


def write_timeline(results: list[dict[str, Any]], path: Path) -> Path:
    legend = " ".join(f"<span style='color:{c}'>● {s}</span>" for s, c in _COLORS.items())
    body = "".join(_scenario(r) for r in results)
    path.write_text(
        "<!doctype html><meta charset='utf-8'><title>bgtest timeline</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 8px;vertical-align:top}"
        "pre{margin:0;white-space:pre-wrap;font-size:11px}section{margin-bottom:2em}</style>"
        f"<h1>bgtest timeline</h1><p>{legend} · bars: steps</p>{body}"
    )
    return path
