"""The house rules of the layout (ARCHITECTURE.md): no import circle in the harness core, the
core reaches ``harness.sim`` only through the embedded launcher, and nobody parses app models
or names a platform where the rules say not to."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "harness"


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(path: Path) -> set[str]:
    """Every ``harness…`` module a file imports when it runs (``if TYPE_CHECKING:`` blocks aside)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("harness"))
            elif (
                isinstance(child, ast.ImportFrom)
                and child.level == 0
                and (child.module or "").startswith("harness")
            ):
                found.add(child.module or "")
                found.update(f"{child.module}.{a.name}" for a in child.names)
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in HARNESS.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        if name.startswith("harness.sim"):
            continue
        graph[name] = {m for m in _runtime_imports(path) if m in files and not m.startswith("harness.sim")}
    return graph


def test_no_import_circle_in_the_harness_core() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt not in graph:
                continue
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert not circles, "import circles: " + "; ".join(" → ".join(c) for c in circles)


def test_only_the_embedded_launcher_imports_the_virtual_devices() -> None:
    offenders = []
    for path in HARNESS.rglob("*.py"):
        name = _module(path)
        if name.startswith("harness.sim") or name == "harness.run.embedded":
            continue
        if any(m.startswith("harness.sim") for m in _runtime_imports(path)) and name != "harness.cli":
            offenders.append(name)
    assert not offenders


@pytest.mark.parametrize("room", ["harness/run", "harness/actions"])
def test_the_runner_and_the_actions_never_name_a_platform(room: str) -> None:
    """Platform knowledge lives in the drivers (harness/devices) and the action table's text."""
    for path in (ROOT / room).rglob("*.py"):
        code = path.read_text()
        if path.name in ("session.py", "embedded.py", "settings.py"):
            continue  # picking a device per platform is their job
        for needle in (
            '== "ios"',
            '== "android"',
            "IosDevice",
            "AndroidDevice",
            "harness.devices.ios",
            "harness.devices.android",
        ):
            assert needle not in code, f"{path.relative_to(ROOT)} names a platform: {needle}"


def test_app_models_are_read_by_the_one_loader() -> None:
    """No second parser of fixtures/apps/*.yaml outside harness/apps."""
    for path in HARNESS.rglob("*.py"):
        if "apps" in path.relative_to(HARNESS).parts[:1]:
            continue
        code = path.read_text()
        assert (
            "model_path).read_text" not in code
            and "bg_task_identifiers" not in code.replace("task_identifiers", "")
        ) or path.name == "target.py", path
