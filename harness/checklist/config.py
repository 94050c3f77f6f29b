"""``checklist.yaml``: the team's app, the tasks the checklist follows, the load, the thresholds.

Read with the scenario language's YAML reader, so every mistake is reported at its
``file:line:col`` (an unknown key or item with the closest known one, an app model that does
not exist, a threshold whose alert is better than its target), all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.durations import DurationError, format_duration_ms, parse_duration_ms
from harness.scenario.errors import Diagnostic, ScenarioError, choices_hint, closest
from harness.scenario.loader import find_app_model
from harness.scenario.yamlmarks import LMap, LSeq, Span, YamlLoadError, load_documents
from harness.sizes import SizeError, format_size_kb, parse_size_kb
from harness.userfiles import UnreadableFile, read_bounded

MAX_BYTES = 200_000
LIBRARIES = (
    "androidx.work",
    "native_workmanager",
    "flutter_workmanager",
    "kmpworkmanager",
    "bgtaskscheduler",
)

#: The guide's Success Metrics: (unit, target, alert, higher is better). Sizes in kB, times in ms.
DEFAULT_THRESHOLDS: dict[str, tuple[str, float, float, bool]] = {
    "success_rate": ("%", 95, 90, True),
    "completion_native": ("ms", 30_000, 60_000, False),  # < 30 s; alert at 2x expected
    "completion_dart": ("ms", 300_000, 600_000, False),  # < 5 min; alert at 2x expected
    "error_rate": ("errors/h", 5, 10, False),
    "queue_depth": ("pending", 10, 50, False),
    "memory": ("kB", 50 * 1024, 100 * 1024, False),
    "battery": ("%/day", 2, 5, False),
}


@dataclass
class PlatformPart:
    """The app on one platform and the tasks the checklist's scenarios follow."""

    platform: str
    app_model: Path | None = None
    package: str | None = None
    library: str | None = None
    task: str = ""
    enqueue: str = ""
    network_task: str | None = None
    network_enqueue: str | None = None
    manifest: Path | None = None
    info_plist: Path | None = None
    span: Span | None = None


@dataclass
class Load:
    enqueue: str
    tasks: str
    within_ms: int


@dataclass
class Threshold:
    unit: str
    target: float
    alert: float
    higher_is_better: bool


@dataclass
class Checklist:
    path: Path
    android: PlatformPart | None = None
    ios: PlatformPart | None = None
    load: Load | None = None
    items: list[str] | None = None
    thresholds: dict[str, Threshold] = field(default_factory=dict)


class _Reader:
    """Collects diagnostics while reading the tree; values are returned even when one is wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Diagnostic] = []
        #: (mapping, key) a typo already stands for: ``taks:`` is reported once, at the typo
        #: with "did you mean 'task'?", not a second time as a missing ``task``
        self._meant: set[tuple[int, str]] = set()

    def fail(self, span: Span, message: str, hint: str | None = None) -> None:
        self.problems.append(Diagnostic.at(span, message, hint))

    def mapping(self, value: Any, span: Span, what: str, keys: tuple[str, ...]) -> LMap | None:
        if not isinstance(value, LMap):
            self.fail(span, f"{what} is a mapping", f"keys: {', '.join(keys)}")
            return None
        for key in value:
            if key not in keys:
                meant = closest(key, keys)
                if meant is not None and meant not in value:
                    self._meant.add((id(value), meant))
                self.fail(
                    value.key_spans[key], f"unknown key {key!r} in {what}", choices_hint(key, keys, "keys")
                )
        return value

    def meant(self, tree: LMap, key: str) -> bool:
        """Whether an unknown key of ``tree`` was reported as a typo of ``key``."""
        return (id(tree), key) in self._meant

    def missing(self, tree: LMap, key: str, message: str) -> None:
        """``key`` is required and absent: say so, unless a typo of it was reported already."""
        if not self.meant(tree, key):
            self.fail(tree.span, message)

    def text(self, tree: LMap, key: str, what: str, required: bool = False) -> str | None:
        if key not in tree:
            if required:
                self.missing(tree, key, f"{what} needs {key!r}")
            return None
        value = tree[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(tree.value_spans[key], f"{what}.{key} is a text")
            return None
        return value

    def file(self, tree: LMap, key: str, what: str) -> Path | None:
        name = self.text(tree, key, what)
        if name is None:
            return None
        path = (self.path.parent / name).resolve()
        if not path.is_file():
            self.fail(
                tree.value_spans[key],
                f"{what}.{key}: no such file {name}",
                "a path relative to checklist.yaml",
            )
            return None
        return path


_PLATFORM_KEYS = ("app", "task", "enqueue", "network_task", "network_enqueue", "manifest", "info_plist")


def _platform(r: _Reader, tree: LMap, name: str) -> PlatformPart | None:
    node = r.mapping(tree[name], tree.value_spans[name], name, _PLATFORM_KEYS)
    if node is None:
        return None
    part = PlatformPart(platform=name, span=tree.key_spans[name])
    if "app" not in node:
        what = "an app model name (fixtures/apps/<name>.yaml) or {package, library}"
        r.missing(node, "app", f"{name} needs 'app': {what}")
    else:
        app, span = node["app"], node.value_spans["app"]
        if isinstance(app, str):
            part.app_model = find_app_model(app, r.path.parent)
            if part.app_model is None:
                r.fail(
                    span,
                    f"app model {app!r} not found: no fixtures/apps/{app}.yaml by the checklist or above",
                    "a virtual device runs only apps it has a model of; on a phone use {package, library}",
                )
        elif isinstance(app, LMap):
            app_node = r.mapping(app, span, f"{name}.app", ("package", "library"))
            if app_node is not None:
                part.package = r.text(app_node, "package", f"{name}.app", required=True)
                part.library = r.text(app_node, "library", f"{name}.app", required=True)
                if part.library is not None and part.library not in LIBRARIES:
                    r.fail(
                        app_node.value_spans["library"],
                        f"unknown library {part.library!r}",
                        choices_hint(part.library, LIBRARIES, "libraries"),
                    )
        else:
            r.fail(span, f"{name}.app is a model name or {{package, library}}")
    part.task = r.text(node, "task", name, required=True) or ""
    part.enqueue = r.text(node, "enqueue", name, required=True) or ""
    part.network_task = r.text(node, "network_task", name)
    part.network_enqueue = r.text(node, "network_enqueue", name)
    typo = r.meant(node, "network_task") or r.meant(node, "network_enqueue")
    if (part.network_task is None) != (part.network_enqueue is None) and not typo:
        r.fail(node.span, f"{name}: network_task and network_enqueue go together")
    if name == "android":
        part.manifest = r.file(node, "manifest", name)
        if "info_plist" in node:
            r.fail(node.key_spans["info_plist"], "info_plist belongs under ios:")
    else:
        part.info_plist = r.file(node, "info_plist", name)
        if "manifest" in node:
            r.fail(node.key_spans["manifest"], "manifest (AndroidManifest.xml) belongs under android:")
    return part


def _load(r: _Reader, tree: LMap) -> Load | None:
    node = r.mapping(tree["load"], tree.value_spans["load"], "load", ("enqueue", "tasks", "within"))
    if node is None:
        return None
    enqueue = r.text(node, "enqueue", "load", required=True)
    tasks = r.text(node, "tasks", "load", required=True)
    within = r.text(node, "within", "load") or "30m"
    try:
        within_ms = parse_duration_ms(within)
    except DurationError as exc:
        r.fail(node.value_spans.get("within", node.span), str(exc))
        within_ms = 0
    if enqueue is None or tasks is None:
        return None
    return Load(enqueue, tasks, within_ms)


def _number(r: _Reader, metric: str, unit: str, value: Any, span: Span) -> float | None:
    try:
        if unit == "ms":
            return float(parse_duration_ms(value))
        if unit == "kB":
            return float(parse_size_kb(value))
    except (DurationError, SizeError) as exc:
        r.fail(span, f"thresholds.{metric}: {exc}")
        return None
    text = str(value).strip().removesuffix("%").removesuffix("/h").removesuffix("/day").strip()
    try:
        number = float(text)
    except ValueError:
        r.fail(span, f"thresholds.{metric}: not a number: {value!r}")
        return None
    if number < 0 or number != number or number == float("inf"):
        r.fail(span, f"thresholds.{metric}: must be zero or more")
        return None
    if unit == "%" and number > 100:  # a success rate above 100 % could never be met
        r.fail(span, f"thresholds.{metric}: {value} is a share: between 0% and 100%")
        return None
    return number


def _thresholds(r: _Reader, tree: LMap) -> dict[str, Threshold]:
    out = _thresholds_default()
    node = r.mapping(
        tree["thresholds"], tree.value_spans["thresholds"], "thresholds", tuple(DEFAULT_THRESHOLDS)
    )
    if node is None:
        return out
    for metric in node:
        if metric not in out:
            continue
        entry = r.mapping(node[metric], node.value_spans[metric], f"thresholds.{metric}", ("target", "alert"))
        if entry is None:
            continue
        current = out[metric]
        for key in ("target", "alert"):
            if key in entry:
                number = _number(r, metric, current.unit, entry[key], entry.value_spans[key])
                if number is not None:
                    setattr(current, key, number)
        better = (
            current.alert >= current.target if current.higher_is_better else current.alert <= current.target
        )
        if better:
            where = entry.value_spans.get("alert", entry.span)
            r.fail(
                where,
                f"thresholds.{metric}: the alert ({_shown(current, current.alert)}) is not worse than "
                f"the target ({_shown(current, current.target)})",
                "higher is better" if current.higher_is_better else "lower is better",
            )
    return out


def _shown(threshold: Threshold, value: float) -> str:
    if threshold.unit == "ms":
        return format_duration_ms(int(value))
    if threshold.unit == "kB":
        return format_size_kb(value)
    return f"{value:g}{'%' if threshold.unit.startswith('%') else ''}"


def load_checklist(path: Path, known_items: tuple[str, ...]) -> Checklist:
    """Read and check ``path``; raise :class:`ScenarioError` with every problem found."""
    r = _Reader(path)
    try:
        text = read_bounded(path, MAX_BYTES).decode("utf-8")
        docs = load_documents(text, str(path))
    except (UnreadableFile, UnicodeDecodeError) as exc:
        raise ScenarioError([Diagnostic(str(path), 1, 1, f"cannot read the checklist: {exc}")]) from None
    except YamlLoadError as exc:
        raise ScenarioError([Diagnostic.at(exc.span, exc.message, exc.hint)], {str(path): text}) from None
    whole = Span(str(path), 1, 1, 1, 1)
    if len(docs) != 1 or not isinstance(docs[0].root, LMap):
        raise ScenarioError(
            [Diagnostic.at(whole, "a checklist is one YAML mapping", "start from `bgtest checklist --init`")]
        )
    tree = docs[0].root
    r.mapping(tree, tree.span, "the checklist", ("android", "ios", "load", "items", "thresholds"))
    config = Checklist(path=path)
    if "android" in tree:
        config.android = _platform(r, tree, "android")
    if "ios" in tree:
        config.ios = _platform(r, tree, "ios")
    typo = r.meant(tree, "android") or r.meant(tree, "ios")
    if "android" not in tree and "ios" not in tree and not typo:
        r.fail(tree.span, "the checklist needs android:, ios: or both", "see `bgtest checklist --init`")
    if "load" in tree:
        config.load = _load(r, tree)
    if "items" in tree:
        items = tree["items"]
        if not isinstance(items, LSeq):
            r.fail(tree.value_spans["items"], "items is a list of checklist item ids", ", ".join(known_items))
        else:
            config.items = []
            for item, span in zip(items, items.item_spans, strict=True):
                if item not in known_items:
                    r.fail(
                        span,
                        f"unknown checklist item {item!r}",
                        choices_hint(str(item), known_items, "items"),
                    )
                else:
                    config.items.append(item)
    config.thresholds = _thresholds(r, tree) if "thresholds" in tree else _thresholds_default()
    if r.problems:
        raise ScenarioError(r.problems, {str(path): text})
    return config


def _thresholds_default() -> dict[str, Threshold]:
    return {name: Threshold(u, t, a, h) for name, (u, t, a, h) in DEFAULT_THRESHOLDS.items()}
