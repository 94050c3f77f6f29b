"""The run's HTML report (``--report DIR`` → ``DIR/index.html``): one self-contained page.

Per scenario: what failed and why, a Battery-Historian-like timeline (state lanes and one lane
per task, see `timeline`), the tasks' outcomes, every step, and links to every artifact the
run saved. A checklist run puts its items and the success metrics on top. One file with
inline CSS, SVG and a few lines of script (the tooltip), so it opens offline and can be
attached to a CI run as it is; links to artifacts are relative, so the folder can be moved.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.durations import format_duration_ms
from harness.report.lanes import LANES, OUTCOME_COLORS
from harness.report.timeline import timeline_svg

REPORT_NAME = "index.html"
_STATUS = {
    "passed": "#16a34a", "flaky": "#d97706", "failed": "#dc2626", "error": "#dc2626", "skipped": "#6b7280",
}

_CSS = """
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;
 background:#f9fafb}
header{background:#111827;color:#f9fafb;padding:14px 28px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#d1d5db}
main{padding:8px 28px 40px;max-width:1200px}
a{color:#2563eb}
section.scenario,section.checklist{background:#fff;border:1px solid var(--line);border-radius:8px;
 padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 4px} h3{font-size:14px;margin:14px 0 6px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600;
 vertical-align:2px}
.meta{color:var(--muted);margin:0 0 8px}
pre{margin:0;white-space:pre-wrap;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre.failure{background:#fef2f2;border-left:3px solid #dc2626;padding:8px 10px;margin:8px 0}
table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600;border-bottom:1px solid var(--line)}
tr.failed td,tr.error td{background:#fef2f2}
.toc td{padding-right:14px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#374151;margin:6px 0 0}
.legend i{display:inline-block;width:12px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.scroll{overflow-x:auto}
svg.timeline{display:block;margin:6px 0;width:100%;min-width:760px;height:auto;
 font:11px system-ui,sans-serif}
svg .tick{fill:var(--muted)} svg .grid{stroke:#f0f1f3} svg .lane-label{fill:#374151}
svg .lane-label.task{fill:#111827;font-weight:600}
svg .lane-bg{fill:#f3f4f6} svg .divider{stroke:#d1d5db;stroke-dasharray:3 3}
svg .step-span{fill:#d1d5db} svg .step-line{stroke:#9ca3af;stroke-width:.6;stroke-dasharray:2 3}
svg .step-no{fill:#fff;font-size:9px;font-weight:700;pointer-events:none}
svg .span-text{fill:#fff;font-size:10px;pointer-events:none}
svg .quiet-text{fill:#9ca3af;font-size:10px}
svg .level-fill{fill:#bbf7d0} svg .level-line{fill:none;stroke:#16a34a;stroke-width:1.5}
svg .level-point{fill:#16a34a} svg .level-text{fill:#166534;font-size:10px}
svg .failing-window{fill:#dc2626;fill-opacity:.10;stroke:#dc2626;stroke-opacity:.5;stroke-dasharray:4 3}
svg [data-tip]:hover{stroke:#111827;stroke-width:1}
#tip{position:fixed;pointer-events:none;background:#111827;color:#f9fafb;padding:6px 9px;border-radius:6px;
 font:12px/1.4 ui-monospace,Menlo,monospace;white-space:pre-wrap;max-width:640px;display:none;z-index:9}
"""

# The tooltip: the <title> children already work without scripts; with them, a faster, wider
# tooltip that keeps a log line readable. Titles move into data-tip so the two never show at once.
_JS = """
(function(){
  var tip=document.getElementById('tip');
  document.querySelectorAll('svg [data-tip]').forEach(function(el){
    var t=el.querySelector(':scope > title'); if(t){t.remove();}
    el.addEventListener('mousemove',function(e){
      tip.textContent=el.getAttribute('data-tip'); tip.style.display='block';
      var x=e.clientX+14, y=e.clientY+14;
      if(x+tip.offsetWidth>innerWidth-8){x=e.clientX-tip.offsetWidth-14;}
      if(y+tip.offsetHeight>innerHeight-8){y=e.clientY-tip.offsetHeight-14;}
      tip.style.left=x+'px'; tip.style.top=y+'px';
    });
    el.addEventListener('mouseleave',function(){tip.style.display='none';});
  });
  document.documentElement.setAttribute('data-tips','ready');
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _badge(status: str) -> str:
    return f"<span class='badge' style='background:{_STATUS.get(status, '#6b7280')}'>{_esc(status)}</span>"


def _legend() -> str:
    items = [
        ("Doze deep IDLE", LANES["doze_deep"][1]["IDLE"]),
        ("maintenance window", LANES["doze_deep"][1]["IDLE_MAINTENANCE"]),
        ("Doze light IDLE", LANES["doze_light"][1]["IDLE"]),
        ("screen on", LANES["screen"][1]["on"]),
        ("plugged", LANES["plugged"][1]["AC"]),
        ("saver / Low Power Mode", LANES["saver"][1]["on"]),
        ("process running", LANES["process"][1]["running"]),
        ("killed", LANES["process"][1]["killed"]),
        ("stopped", LANES["process"][1]["stopped"]),
    ]
    items += [(f"run {outcome}", color) for outcome, color in OUTCOME_COLORS.items()]
    spans = "".join(f"<span><i style='background:{c}'></i>{_esc(name)}</span>" for name, c in items)
    return (
        f"<div class='legend'>{spans}<span>▼ enqueued</span><span>▲ retry</span>"
        "<span><i style='background:#fee2e2;border:1px dashed #dc2626'></i>"
        "failing expectation's window</span></div>"
    )


def _artifacts(result: dict[str, Any], report_dir: Path) -> str:
    """Links to every file the run saved for this scenario, relative to the report."""
    where = result.get("artifacts")
    if not where or not Path(where).is_dir():
        return ""
    files = sorted(p for p in Path(where).rglob("*") if p.is_file())
    if not files:
        return ""
    links = []
    for path in files:
        rel = os.path.relpath(path.resolve(), report_dir.resolve()).replace(os.sep, "/")
        size = path.stat().st_size
        links.append(
            f"<li><a href='{_esc(rel)}'>{_esc(path.relative_to(where))}</a> "
            f"<small>({size:,} bytes)</small></li>"
        )
    return f"<h3>Artifacts</h3><ul class='artifacts'>{''.join(links)}</ul>"


def _tasks(result: dict[str, Any]) -> str:
    rows = []
    for name, outcome in (result.get("tasks") or {}).items():
        counts = outcome.get("counts") or {}
        order = ("enqueued", "started", "retried", "succeeded", "failed", "cancelled")
        seen = ", ".join(f"{s} ×{counts[s]}" for s in order if counts.get(s)) or "never seen in the logs"
        rows.append(
            f"<tr><td>{_esc(name)}</td><td>{_esc(outcome.get('last_state') or '-')}</td>"
            f"<td>{_esc(seen)}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<h3>Tasks</h3><table><tr><th>task</th><th>last state</th><th>seen in the log</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _steps(result: dict[str, Any]) -> str:
    start = result.get("device_start_ms", 0)
    rows = []
    for number, step in enumerate(result.get("steps", []), 1):
        status = step.get("status", "")
        when = step.get("device_end_ms") or step.get("device_start_ms") or start
        rows.append(
            f"<tr class='{_esc(status)}'><td>{number}</td>"
            f"<td style='color:{_STATUS.get(status, '#6b7280')}'>{_esc(status)}</td>"
            f"<td>{_esc(step.get('phase', ''))}</td><td>{_esc(step.get('summary', ''))}</td>"
            f"<td>+{format_duration_ms(max(0, when - start))}</td><td>{_esc(step.get('location', ''))}</td>"
            f"<td><pre>{_esc(step.get('message', ''))}</pre></td></tr>"
        )
    return (
        "<h3>Steps</h3><table><tr><th>#</th><th>status</th><th>phase</th><th>step</th><th>device time</th>"
        "<th>where</th><th>message</th></tr>" + "".join(rows) + "</table>"
    )


def _clock(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) if ms else "?"


def _scenario(index: int, result: dict[str, Any], report_dir: Path) -> str:
    status = result.get("status", "")
    device = result.get("device") or {}
    start, end = result.get("device_start_ms", 0), result.get("device_end_ms", 0)
    restored = ", ".join(result.get("restored") or []) or "nothing to restore"
    failure = f"<pre class='failure'>{_esc(result['failure'])}</pre>" if result.get("failure") else ""
    meta = " · ".join(
        _esc(part)
        for part in (
            result.get("location", ""),
            result.get("platform", ""),
            f"{device.get('model', '?')} {device.get('serial', '')}".strip(),
            f"device time {format_duration_ms(max(0, end - start))} from {_clock(start)} (device clock, UTC)",
            f"wall {result.get('wall_s', 0):.1f} s",
            f"restored: {restored}",
        )
        if part
    )
    return (
        f"<section class='scenario {_esc(status)}' id='s{index}' data-status='{_esc(status)}'>"
        f"<h2>{_badge(status)} {_esc(result.get('name', ''))}</h2><p class='meta'>{meta}</p>{failure}"
        f"<div class='scroll'>{timeline_svg(result)}</div>{_tasks(result)}{_steps(result)}"
        f"{_artifacts(result, report_dir)}</section>"
    )


def _toc(results: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{_badge(r.get('status', ''))}</td><td><a href='#s{i}'>{_esc(r.get('name', ''))}</a></td>"
        f"<td>{_esc(r.get('platform', ''))}</td><td>{_esc(r.get('location', ''))}</td></tr>"
        for i, r in enumerate(results, 1)
    )
    return f"<table class='toc'>{rows}</table>"


def write_report(
    results: Sequence[dict[str, Any]], report_dir: Path, top: str = "", title: str = "bgtest report"
) -> Path:
    """Write ``report_dir/index.html`` for these results (dicts as in results.json).

    ``top`` is HTML placed above the scenarios (the checklist and its metrics on a checklist run).
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.get("status", "")] = counts.get(r.get("status", ""), 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    body = "".join(_scenario(i, r, report_dir) for i, r in enumerate(results, 1))
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{_esc(title)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(title)}</h1><p>{len(results)} scenario(s): {_esc(summary)} · "
        "time on the axes is device time (a virtual device's clock runs in virtual time)</p></header>"
        f"<main>{top}{_toc(results)}{_legend()}{body}</main>"
        f"<div id='tip'></div><script>{_JS}</script></body></html>"
    )
    path = report_dir / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    return path
