"""Adding an action touches one home: its module in ``harness/actions/`` (the YAML step model and
the action class) plus its line in the registry. The scenario models, validation (with its
``file:line:col`` messages), the JSON Schema and the docs table all follow from the registry.

The proof does what ARCHITECTURE.md tells a newcomer to do, on a copy of the package, and runs
the language against the result in a fresh interpreter (so nothing leaks into this one).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

from harness.actions.registry import ACTIONS, STEP_MODELS

ROOT = Path(__file__).resolve().parents[1]

PING_MODULE = '''"""A new action family, written the way ARCHITECTURE.md says."""

from __future__ import annotations

from typing import ClassVar, Protocol

from pydantic import Field

from harness.actions.base import Action, RunContext
from harness.scenario.step import StepBase


class Ping(StepBase):
    kind: ClassVar[str] = "ping"
    primary: ClassVar[str | None] = "host"
    host: str = Field(description="the host to reach")
    times: int = Field(1, ge=1, description="how many echo requests")


class Pings(Protocol):
    def ping(self, host: str, times: int) -> None: ...


class PingAction(Action[Ping]):
    model: ClassVar = Ping
    summary = "reach a host from the device"
    example = "ping: example.com"
    android = "`ping -c <times> <host>`"
    ios_why_not = "iOS has no shell to ping from"
    option_limits: ClassVar = {"times": (("android",), "only the Android ping counts")}

    def run(self, step: Ping, ctx: RunContext, device: Pings) -> None:
        device.ping(step.host, step.times)
'''

PROBE = r'''
import json
from harness.actions.ping import Ping, PingAction
from harness.actions.registry import ACTIONS, action_for, render_markdown_table
from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_text
from harness.scenario.schema import build_schema

out = {}
steps = "  - ping: example.com\n  - ping: {host: a, times: 2}\n"
[s] = load_text("name: t\nplatforms: [android]\nsteps:\n" + steps)
out["models"] = [type(step).__name__ for step in s.steps]
out["actions"] = [type(action_for(step)).__name__ for step in s.steps]
out["described"] = [action_for(step).describe(step) for step in s.steps]
for name, text in {
    "ios": "name: t\nplatforms: [ios]\nsteps:\n  - ping: {host: a, times: 2}\n",
    "typo": "name: t\nsteps:\n  - ping: {host: a, tims: 2}\n",
    "empty": "name: t\nsteps:\n  - ping\n",
}.items():
    try:
        load_text(text, "s.yaml")
        out[name] = None
    except ScenarioError as exc:
        out[name] = [[d.line, d.col, d.message, d.hint] for d in exc.diagnostics]
schema = build_schema()
out["schema_def"] = sorted(schema["definitions"]["Ping"]["properties"])
out["schema_step"] = [a.get("title") for a in schema["definitions"]["Step"]["anyOf"]][-3:]
out["table"] = [row for row in render_markdown_table().splitlines() if "`ping`" in row]
print(json.dumps(out))
'''


def _add_ping(copy: Path) -> list[str]:
    """The documented recipe: a module with the model and the action, one line in the registry."""
    (copy / "harness" / "actions" / "ping.py").write_text(PING_MODULE)
    registry = copy / "harness" / "actions" / "registry.py"
    text = registry.read_text()
    imports = "from harness.actions import app, flow, metrics, network, power, system, tasks\n"
    last = "        metrics.MetricAction(),\n"
    assert text.count(imports) == text.count(last) == 1, "the registry's shape changed: update this test"
    text = text.replace(imports, imports + "from harness.actions import ping\n")
    registry.write_text(text.replace(last, last + "        ping.PingAction(),\n"))
    return ["harness/actions/ping.py", "harness/actions/registry.py"]


def test_a_new_action_needs_only_its_module_and_its_registry_line(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "harness", tmp_path / "harness", ignore=shutil.ignore_patterns("__pycache__", "sim")
    )
    touched = _add_ping(tmp_path)
    assert touched == ["harness/actions/ping.py", "harness/actions/registry.py"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["models"] == ["Ping", "Ping"] and out["actions"] == ["PingAction", "PingAction"]
    assert out["described"] == ["ping: example.com", "ping: a, times 2"]
    # validation at file:line:col, worded from the action's own table
    assert out["ios"] == [
        [4, 5, "'ping' is not available on ios: iOS has no shell to ping from",
         "remove ios from platforms (line 2), or keep this step in a scenario for android only"],
        [4, 21, "'ping' option 'times' is not available on ios: only the Android ping counts",
         "remove ios from platforms (line 2), or drop this option"],
    ]
    [[line, col, message, hint]] = out["typo"]
    assert (line, col, message) == (3, 21, "unknown field 'tims' in ping") and "times" in hint
    assert out["empty"] == [[3, 5, "'ping' needs a value", "for example: - ping: example.com"]]
    assert out["schema_def"] == ["host", "label", "times"]
    assert out["schema_step"] == ["metric", "ping", "include"]
    assert out["table"] == [
        "| `ping` | reach a host from the device | `ping -c <times> <host>` "
        "| — (iOS has no shell to ping from) |"
    ]


def test_each_step_model_lives_in_its_actions_module() -> None:
    for kind, action in ACTIONS.items():
        assert action.model.__module__ == type(action).__module__, f"{kind}: model and action apart"
        assert action.model is STEP_MODELS[kind]


def test_the_language_modules_name_no_action() -> None:
    """scenario/ reads the actions from the registry; a step kind written there is a second home."""
    kinds = set(ACTIONS)
    models = {a.model.__name__ for a in ACTIONS.values()}
    for name in ("models.py", "schema.py", "platforms.py", "loader.py", "step.py", "fields.py"):
        tree = ast.parse((ROOT / "harness" / "scenario" / name).read_text())
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not (strings & kinds), f"scenario/{name} names the actions {sorted(strings & kinds)}"
        assert not (names & models), f"scenario/{name} names the step models {sorted(names & models)}"
