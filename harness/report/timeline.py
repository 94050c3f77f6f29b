"""One scenario's timeline as inline SVG: a time axis, the steps, the state lanes, one lane per task.

Inline SVG rather than a plotting library: the report must be one file that opens offline
and stays small for a 100-task load test; a charting library would add megabytes of script
for what is a few hundred rectangles. Every drawn item carries its explanation in a
``<title>`` (the browser's tooltip, also without scripts) and the same text in ``data-tip``
for the page's own tooltip.
"""

from __future__ import annotations

import html
from typing import Any

from harness.durations import format_duration_ms
from harness.report.lanes import Lane, failing_windows, state_lanes, step_times, task_lanes

WIDTH = 1120
GUTTER = 190  # lane labels
RIGHT = 28
AXIS = 24
STEP_LANE = 22
LANE_H = 16
LEVEL_H = 30
SUBROW_H = 11
GAP = 5
MIN_BAR = 3.0  # px: a 2-second run in a 6-hour scenario is still visible
_NICE_MS = [
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
]
_STEP_COLORS = {"passed": "#16a34a", "failed": "#dc2626", "error": "#dc2626", "skipped": "#9ca3af"}
_LABEL_CHARS = 28


class _Scale:
    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.span = max(end - start, 1)
        self.width = WIDTH - GUTTER - RIGHT

    def x(self, t: int) -> float:
        return GUTTER + self.width * min(max(t - self.start, 0), self.span) / self.span

    @property
    def ms_per_px(self) -> float:
        return self.span / self.width


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _tip(text: str) -> str:
    """The attribute and the element that explain an item on hover."""
    return f' data-tip="{_esc(text)}"'


def _titled(element: str, text: str, inner: str = "") -> str:
    """``element`` (an opening tag left open) with its tooltip as a ``<title>`` child, then ``inner``."""
    tag = element.split()[0].lstrip("<")
    return f"{element}{_tip(text)}><title>{_esc(text)}</title>{inner}</{tag}>"


def _label(y: float, text: str, lane_class: str) -> str:
    short = text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"
    return (
        f'<text class="lane-label {lane_class}" x="{GUTTER - 8}" y="{y:.1f}" text-anchor="end">'
        f"<title>{_esc(text)}</title>{_esc(short)}</text>"
    )


def _ticks(scale: _Scale) -> list[int]:
    step = next((n for n in _NICE_MS if scale.span / n <= 8), _NICE_MS[-1])
    return list(range(0, scale.span + 1, step))


def _axis(scale: _Scale, height: float) -> list[str]:
    out = []
    for offset in _ticks(scale):
        x = scale.x(scale.start + offset)
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{AXIS - 4}" x2="{x:.1f}" y2="{height:.1f}"/>')
        anchor = "end" if x > WIDTH - RIGHT - 20 else "middle"
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{AXIS - 8}" text-anchor="{anchor}">'
            f"+{format_duration_ms(offset)}</text>"
        )
    return out


def _steps(result: dict[str, Any], scale: _Scale, y: float, height: float) -> list[str]:
    out = [_label(y + 13, "Steps", "steps")]
    timed = step_times(result)
    # steps of the same instant sit side by side (their times are in the tooltip and the table)
    centers: list[float] = []
    for start, end, step in timed:
        cx = scale.x(end) if step.get("kind") in ("wait", "expect") else scale.x(start)
        centers.append(max(cx, centers[-1] + 14) if centers else cx)
    for i in range(len(centers) - 1, -1, -1):
        limit = WIDTH - 8 if i == len(centers) - 1 else centers[i + 1] - 14
        centers[i] = min(centers[i], limit)
    for number, (start, end, step) in enumerate(timed, 1):
        color = _STEP_COLORS.get(step.get("status", ""), "#9ca3af")
        x0, x1 = scale.x(start), scale.x(end)
        tip = (
            f"step {number}: {step.get('summary', '')} — {step.get('status')}\n"
            f"{step.get('location', '')} · {'+' + format_duration_ms(max(0, start - scale.start))}"
            + (f" … +{format_duration_ms(end - scale.start)}" if end > start else "")
            + (f"\n{step['message']}" if step.get("message") else "")
        )
        if x1 - x0 >= 2:
            out.append(f'<rect class="step-span" x="{x0:.1f}" y="{y + 9}" width="{x1 - x0:.1f}" height="4"/>')
        if step.get("kind") not in ("wait", "expect"):
            out.append(
                f'<line class="step-line" x1="{x0:.1f}" y1="{y + STEP_LANE}" '
                f'x2="{x0:.1f}" y2="{height:.1f}"/>'
            )
        cx = centers[number - 1]
        out.append(
            _titled(
                f'<g class="step {step.get("status", "")}" data-step="{number}"',
                tip,
                f'<circle cx="{cx:.1f}" cy="{y + 11}" r="6.5" fill="{color}"/>'
                f'<text class="step-no" x="{cx:.1f}" y="{y + 14}" text-anchor="middle">{number}</text>',
            )
        )
    return out


def _state_lane(lane: Lane, scale: _Scale, y: float) -> tuple[list[str], float]:
    out = [f'<g class="lane state" data-lane="{lane.key}">', _label(y + LANE_H - 4, lane.label, "state")]
    if lane.points:
        h = LEVEL_H
        out[1] = _label(y + h / 2 + 4, lane.label, "state")
        pts = []
        for i, (t, value, _src) in enumerate(lane.points):
            x = scale.x(t)
            if i:
                pts.append(f"{x:.1f},{pts[-1].split(',')[1]}")
            pts.append(f"{x:.1f},{y + h - 2 - (h - 4) * max(0.0, min(value, 100.0)) / 100:.1f}")
        last_y = pts[-1].split(",")[1]
        pts.append(f"{scale.x(scale.start + scale.span):.1f},{last_y}")
        first_x = pts[0].split(",")[0]
        area = " ".join(pts) + f" {scale.x(scale.start + scale.span):.1f},{y + h - 2} {first_x},{y + h - 2}"
        out.append(f'<polygon class="level-fill" points="{area}"/>')
        out.append(f'<polyline class="level-line" points="{" ".join(pts)}"/>')
        shown = None
        for t, value, src in lane.points:
            level_y = y + h - 2 - (h - 4) * max(0.0, min(value, 100.0)) / 100
            if value != shown:  # the level at each change, beside the line
                shown = value
                above = level_y - 3 if level_y > y + 10 else level_y + 10
                out.append(
                    f'<text class="level-text" x="{scale.x(t) + 4:.1f}" y="{above:.1f}">{value:g}%</text>'
                )
            out.append(
                _titled(
                    f'<circle class="level-point" cx="{scale.x(t):.1f}" '
                    f'cy="{y + h - 2 - (h - 4) * max(0.0, min(value, 100.0)) / 100:.1f}" r="2.5"',
                    f"battery {value:g}% at +{format_duration_ms(max(0, t - scale.start))}\n{src}",
                )
            )
        out.append("</g>")
        return out, h
    out.append(f'<rect class="lane-bg" x="{GUTTER}" y="{y}" width="{scale.width}" height="{LANE_H}"/>')
    for span in lane.spans:
        x0 = scale.x(span.start)
        width = max(scale.x(span.end) - x0, MIN_BAR)
        x0 = min(x0, GUTTER + scale.width - width)  # a short last value stays inside the plot
        if not span.color:  # the quiet value (screen off, Doze ACTIVE): background, as Battery Historian does
            if width > 7 * len(span.value) + 6:
                out.append(
                    _titled(
                        f'<text class="quiet-text" x="{x0 + 4:.1f}" y="{y + LANE_H - 4}"',
                        span.title,
                        _esc(span.value),
                    )
                )
            continue
        out.append(
            _titled(
                f'<rect class="span" data-value="{_esc(span.value)}" x="{x0:.1f}" y="{y + 1}" '
                f'width="{width:.1f}" height="{LANE_H - 2}" fill="{span.color}"',
                span.title,
            )
        )
        if width > 7 * len(span.value) + 6:
            out.append(
                f'<text class="span-text" x="{x0 + 4:.1f}" y="{y + LANE_H - 4}">{_esc(span.value)}</text>'
            )
    out.append("</g>")
    return out, LANE_H


def _task_lane(lane: Lane, scale: _Scale, y: float) -> tuple[list[str], float]:
    h = max(LANE_H, lane.rows * SUBROW_H + 6)
    out = [
        f'<g class="lane task" data-lane="{_esc(lane.key)}">',
        _label(y + min(h, LANE_H) - 4, lane.label, "task"),
        f'<rect class="lane-bg" x="{GUTTER}" y="{y}" width="{scale.width}" height="{h}"/>',
    ]
    bar_h = SUBROW_H - 2 if lane.rows > 1 else LANE_H - 6
    for span in lane.spans:
        x0 = scale.x(span.start)
        width = max(scale.x(span.end) - x0, MIN_BAR)
        top = y + 3 + span.row * SUBROW_H
        out.append(
            _titled(
                f'<rect class="run {span.value}" data-outcome="{span.value}" x="{x0:.1f}" y="{top:.1f}" '
                f'width="{width:.1f}" height="{bar_h}" rx="2" fill="{span.color}"',
                span.title,
            )
        )
    for mark in lane.marks:
        x = scale.x(mark.time)
        if mark.kind == "enqueued":
            shape = (
                f'<path class="mark enqueued" d="M{x - 4:.1f},{y} L{x + 4:.1f},{y} L{x:.1f},{y + 6} Z" '
                f'fill="{mark.color}"'
            )
        elif mark.kind == "retried":
            shape = (
                f'<path class="mark retried" d="M{x:.1f},{y + h - 7} L{x + 4:.1f},{y + h} '
                f'L{x - 4:.1f},{y + h} Z" fill="{mark.color}"'
            )
        else:
            shape = (
                f'<circle class="mark {mark.kind}" cx="{x:.1f}" cy="{y + h / 2:.1f}" r="3.5" '
                f'fill="{mark.color}"'
            )
        out.append(_titled(shape, mark.title))
    out.append("</g>")
    return out, h


def timeline_svg(result: dict[str, Any], package: str | None = None) -> str:
    """The scenario's timeline; ``package`` is the app whose process and bucket get a lane."""
    start = result.get("device_start_ms", 0)
    times = [start, result.get("device_end_ms", 0)]
    for key in ("events", "after_restore_events"):
        times += [e["time_ms"] if isinstance(e, dict) else e[0] for e in result.get(key, [])]
    times += [s.get("device_end_ms") or 0 for s in result.get("steps", [])]
    end = max(times)
    scale = _Scale(start, end)
    lanes = state_lanes(result, package, end)
    tasks = task_lanes(result, end, min_gap_ms=int(scale.ms_per_px * (MIN_BAR + 1)))
    body: list[str] = []
    y = AXIS + STEP_LANE + GAP
    for lane in lanes:
        drawn, h = _state_lane(lane, scale, y)
        body += drawn
        y += h + GAP
    if tasks:
        body.append(
            f'<line class="divider" x1="8" y1="{y - GAP / 2:.1f}" '
            f'x2="{WIDTH - RIGHT}" y2="{y - GAP / 2:.1f}"/>'
        )
    for lane in tasks:
        drawn, h = _task_lane(lane, scale, y)
        body += drawn
        y += h + GAP
    height = y + 4
    shade = []
    for w_start, w_end, what in failing_windows(result):
        x0 = scale.x(w_start)
        width = max(scale.x(w_end) - x0, MIN_BAR)
        shade.append(
            _titled(
                f'<rect class="failing-window" x="{x0:.1f}" y="{AXIS}" width="{width:.1f}" '
                f'height="{height - AXIS:.1f}"',
                f"the failing expectation's window: {what}\n+{format_duration_ms(w_start - start)} … "
                f"+{format_duration_ms(w_end - start)}",
            )
        )
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height:.0f}" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="timeline of {_esc(result.get("name", ""))}">',
        *_axis(scale, height),
        *shade,
        *_steps(result, scale, AXIS, height),
        *body,
        "</svg>",
    ]
    return "".join(parts)
