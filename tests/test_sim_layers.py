"""The virtual devices stay in layers: who may import whom inside ``harness/sim``.

Every import counts, including those under ``TYPE_CHECKING`` and inside functions: a reader
follows them all, and a type-only import still ties two modules together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "harness" / "sim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> Iterator[str]:
    """Every harness module ``path`` imports (a ``from pkg import mod`` names the module)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in modules else target
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in SIM.rglob("*.py")}
    everything = {_module_name(p) for p in (ROOT / "harness").rglob("*.py")}
    return {
        name: {m for m in _imports(path, everything) if m.startswith("harness.") and m != name}
        for name, path in paths.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in graph), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_circle_of_more_than_two_modules() -> None:
    big = [sorted(c) for c in _cycles(_graph()) if len(c) > 2]
    assert big == []


def test_sim_does_not_import_the_harness() -> None:
    """The virtual devices are reached only through real protocols; they need none of the harness core.

    Neutral, pure-data modules they share with the core are allowed: the app model, durations, sizes,
    device profiles.
    """
    allowed = ("harness.sim", "harness.apps", "harness.durations", "harness.sizes", "harness.profiles",
               "harness.network.virtual_time")  # the proxy's device-time headers: a wire protocol
    wrong = {
        name: sorted(m for m in deps if not m.startswith(allowed))
        for name, deps in _graph().items()
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_ios_does_not_import_android() -> None:
    wrong = {
        name: sorted(m for m in deps if m.startswith("harness.sim.android"))
        for name, deps in _graph().items()
        if name.startswith("harness.sim.ios")
    }
    assert {k: v for k, v in wrong.items() if v} == {}


#: Android layers, bottom up: a layer may import its own and lower layers only. The program
#: ABI (registry, procio) and the device assembly sit between the OS model and its users.
_ANDROID_LAYERS = (
    ("os",),
    ("procio", "registry", "device"),
    ("shell", "toybox", "commands", "workmanager"),
    ("adb",),
    ("launcher",),
)


def _layer(module: str) -> int | None:
    prefix = "harness.sim.android."
    if not module.startswith(prefix):
        return None
    top = module[len(prefix):].split(".")[0]
    return next((i for i, names in enumerate(_ANDROID_LAYERS) if top in names), None)


def test_android_layers_import_downwards() -> None:
    upward = []
    for name, deps in _graph().items():
        mine = _layer(name)
        if mine is None:
            continue
        for dep in deps:
            theirs = _layer(dep)
            if theirs is not None and theirs > mine:
                upward.append((name, dep))
    # the one sanctioned exception: the activity manager starts an app's WorkManager runtime
    upward = [(a, b) for a, b in upward
              if not (a.endswith(".os.activity") and ".workmanager" in b)]
    assert upward == []
