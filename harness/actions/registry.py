"""Every action, by step kind and by model type: the one table validation, the schema, the docs
and the runner read. Adding an action is one module entry here plus its class."""

from __future__ import annotations

from typing import Any

from harness.actions import app, flow, metrics, network, power, system, tasks
from harness.actions.base import Action

#: In the order the docs table lists them.
ACTIONS: dict[str, Action[Any]] = {
    a.kind: a
    for a in (
        app.Install(),
        app.Uninstall(),
        app.ClearData(),
        app.Launch(),
        app.Broadcast(),
        app.OpenUrl(),
        app.Push(),
        app.StopApp(),
        app.Kill(),
        app.Background(),
        system.Reboot(),
        power.Doze(),
        power.Battery(),
        power.BatterySaver(),
        power.LowPower(),
        network.Network(),
        power.StandbyBucket(),
        power.Screen(),
        tasks.RunTask(),
        tasks.ExpireTask(),
        system.Diagnostics(),
        flow.Wait(),
        system.Shell(),
        system.Capture(),
        flow.Expect(),
        metrics.Metric(),
    )
}

_BY_MODEL: dict[type[Any], Action[Any]] = {a.model: a for a in ACTIONS.values()}


def action_for(step: Any) -> Action[Any]:
    """The action of a step, by its exact model type (a ``KeyError`` is a bgtest bug: the
    registry test keeps every step model covered)."""
    return _BY_MODEL[type(step)]


def render_markdown_table() -> str:
    """The per-platform action table as Markdown (embedded in docs/scenario-language.md)."""
    rows = ["| Action | What it does | Android | iOS |", "|---|---|---|---|"]
    for spec in ACTIONS.values():
        android = spec.android if spec.android is not None else f"— ({spec.android_why_not})"
        ios = spec.ios if spec.ios is not None else f"— ({spec.ios_why_not})"
        rows.append(f"| `{spec.kind}` | {spec.summary} | {android} | {ios} |".replace("\n", " "))
    return "\n".join(rows)
