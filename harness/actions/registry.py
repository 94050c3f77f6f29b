"""Every action, by step kind and by model type: the one table the scenario models, validation,
the schema, the docs and the runner read. Adding an action is its step model and its class in
its family's module, plus one line here (ARCHITECTURE.md, "An action")."""

from __future__ import annotations

from typing import Any

from harness.actions import app, flow, metrics, network, power, system, tasks
from harness.actions.base import Action
from harness.scenario.step import StepBase

#: In the order the docs table lists them.
ACTIONS: dict[str, Action[Any]] = {
    a.kind: a
    for a in (
        app.InstallAction(),
        app.UninstallAction(),
        app.ClearDataAction(),
        app.LaunchAction(),
        app.BroadcastAction(),
        app.OpenUrlAction(),
        app.PushAction(),
        app.StopAppAction(),
        app.KillAction(),
        app.BackgroundAction(),
        system.RebootAction(),
        power.DozeAction(),
        power.BatteryAction(),
        power.BatterySaverAction(),
        power.LowPowerAction(),
        network.NetworkAction(),
        network.ServerAction(),
        power.StandbyBucketAction(),
        power.ScreenAction(),
        tasks.RunTaskAction(),
        tasks.ExpireTaskAction(),
        system.DiagnosticsAction(),
        flow.WaitAction(),
        system.ShellAction(),
        system.CaptureAction(),
        flow.ExpectAction(),
        metrics.MetricAction(),
    )
}

#: The YAML model of each step kind, in the same order: what ``Scenario``'s step lists accept.
STEP_MODELS: dict[str, type[StepBase]] = {kind: a.model for kind, a in ACTIONS.items()}

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
