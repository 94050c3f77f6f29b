"""The checklist's two tables, for the terminal (rich) and for the top of the HTML report."""

from __future__ import annotations

import html
from pathlib import Path

from harness.checklist.items import Item
from harness.checklist.metrics import Metric

_ITEM_COLOR = {"passed": "#16a34a", "failed": "#dc2626", "manual": "#6b7280"}
_METRIC_COLOR = {"met": "#16a34a", "alert": "#dc2626", "not measurable": "#6b7280"}
_MARK = {"passed": "✓", "failed": "✗", "manual": "manual"}


def _target(m: Metric) -> tuple[str, str]:
    better, worse = (">", "<") if m.threshold.higher_is_better else ("<", ">")
    return f"{better} {m.shown(m.threshold.target)}", f"{worse} {m.shown(m.threshold.alert)}"


def print_checklist(
    items: list[Item], metrics: list[Metric], report: Path, color: bool | None = None
) -> None:
    from rich.table import Table

    from harness.report.console import make_console

    console = make_console(color)
    table = Table(title="Pre-Deployment Checklist", show_lines=False)
    for column in ("", "item", "detail"):
        table.add_column(column, overflow="fold")
    style = {"passed": "green", "failed": "red", "manual": "dim"}
    for item in items:
        table.add_row(f"[{style[item.status]}]{_MARK[item.status]}[/]", item.title, item.detail)
    console.print(table)
    table = Table(title="Success Metrics")
    for column in ("#", "metric", "platform", "value", "target", "alert"):
        table.add_column(column, overflow="fold")
    table.add_column("status", min_width=10)  # "not measurable" breaks between its words
    mstyle = {"met": "green", "alert": "red", "not measurable": "dim"}
    for number, m in enumerate(metrics, 1):
        target, alert = _target(m)
        status = f"[{mstyle.get(m.status, 'yellow')}]{m.status}[/]"
        table.add_row(str(number), m.name, m.platform, m.shown(m.value), target, alert, status)
    console.print(table)
    console.print("sources:", style="bold")
    for number, m in enumerate(metrics, 1):  # each source folded under its own text
        line = Table.grid(padding=(0, 1))
        line.add_column(justify="right", width=3, no_wrap=True)
        line.add_column(overflow="fold")
        line.add_row(f"{number}.", m.source)
        console.print(line, highlight=False)
    console.print(f"report: {report / 'index.html'} · data: {report / 'checklist.json'}")


def checklist_html(items: list[Item], metrics: list[Metric]) -> str:
    """The checklist section placed above the scenarios in index.html."""
    esc = html.escape
    rows = "".join(
        f"<tr class='item {esc(i.status)}' data-item='{esc(i.id)}'>"
        f"<td style='color:{_ITEM_COLOR[i.status]};font-weight:700'>{esc(_MARK[i.status])}</td>"
        f"<td>{esc(i.title)}</td><td>{esc(i.detail)}</td></tr>"
        for i in items
    )
    mrows = []
    for m in metrics:
        target, alert = _target(m)
        color = _METRIC_COLOR.get(m.status, "#d97706")
        mrows.append(
            f"<tr class='metric' data-metric='{esc(m.name)}'><td>{esc(m.name)}</td><td>{esc(m.platform)}</td>"
            f"<td><b>{esc(m.shown(m.value))}</b></td><td>{esc(target)}</td><td>{esc(alert)}</td>"
            f"<td style='color:{color};font-weight:600'>{esc(m.status)}</td><td>{esc(m.source)}</td></tr>"
        )
    return (
        "<section class='checklist'><h2>Pre-Deployment Checklist</h2><table>"
        f"<tr><th></th><th>item</th><th>detail</th></tr>{rows}</table>"
        "<h3>Success Metrics</h3><table><tr><th>metric</th><th>platform</th><th>value</th><th>target</th>"
        f"<th>alert</th><th>status</th><th>source</th></tr>{''.join(mrows)}</table></section>"
    )
