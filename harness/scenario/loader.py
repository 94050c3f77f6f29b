"""Read scenario files into :class:`Scenario` models, or report every problem in them at once.

A file holds one or more YAML documents. An optional first document ``defaults: {...}`` gives
fields every scenario in the file inherits (``vars`` merge; other fields are overridden).
``- include: path.yaml`` splices a shared list of steps (relative to the including file;
cycles are errors). Strings may use ``${var}`` (from ``vars:``) and ``${env:NAME}`` /
``${env:NAME:-default}``; ``$${`` writes a literal ``${``. ``app: {model: NAME}`` is resolved
to ``fixtures/apps/NAME.yaml`` found upward from the scenario file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.scenario.errors import Diagnostic, ScenarioError, choices_hint, closest
from harness.scenario.models import Scenario
from harness.scenario.platforms import LIBRARIES
from harness.scenario.step import StepBase
from harness.scenario.validation import STEP_SECTIONS, check_platforms, check_waits, describe_value, diagnose
from harness.scenario.yamlmarks import MAX_BYTES, LMap, LSeq, Span, YamlLoadError, copy_tree, load_documents
from harness.userfiles import UnreadableFile, read_bounded

SCENARIO_SUFFIXES = (".yaml", ".yml")
MAX_INCLUDE_DEPTH = 16
_VAR = re.compile(r"\$(\$?)\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass
class LoadResult:
    """Scenarios from many files plus every diagnostic; ``ok`` when there are none."""

    scenarios: list[Scenario] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def error(self) -> ScenarioError:
        return ScenarioError(list(self.diagnostics), dict(self.sources))


class _Ctx:
    """State of loading one file: its diagnostics, the sources read, the include cache."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.diags: list[Diagnostic] = []
        self.sources: dict[str, str] = {}
        self.include_cache: dict[Path, list[Any] | None] = {}

    def add(self, span: Span, message: str, hint: str | None = None) -> None:
        self.diags.append(Diagnostic.at(span, message, hint))


def _start(file: str) -> Span:
    return Span(file, 1, 1, 1, 1)


def load_file(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> list[Scenario]:
    """Every scenario in ``path``; raises :class:`ScenarioError` listing all problems."""
    result = LoadResult()
    _load_into(Path(path), result, os.environ if env is None else env, skip_step_lists=False)
    if not result.ok:
        raise result.error()
    return result.scenarios


def load_text(
    text: str | bytes,
    file: str = "<string>",
    *,
    env: Mapping[str, str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> list[Scenario]:
    """Like :func:`load_file` for text in memory (includes resolve against ``base_dir``)."""
    ctx = _Ctx(os.environ if env is None else env)
    if isinstance(text, str):
        ctx.sources[file] = text
    scenarios = _load_text(text, file, Path(base_dir) if base_dir else Path.cwd(), ctx, False)
    if ctx.diags:
        raise ScenarioError(
            sorted(ctx.diags, key=lambda d: (d.file != file, d.file, d.line, d.col)), ctx.sources
        )
    return scenarios


def load_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    in_folder: bool = False,
) -> LoadResult:
    """Load files and folders (``*.yaml``/``*.yml`` below them); never raises for bad input.

    In folders, files that hold only a step list (made for ``include:``) and app models (kept
    next to scenarios in ``fixtures/apps/``) are skipped; ``in_folder`` treats the files given
    the same way (pytest collects a folder one file at a time).
    """
    result = LoadResult()
    environ = os.environ if env is None else env
    for p in paths:
        path = Path(p)
        if path.is_dir():
            # `.YAML` too: a scenario a folder holds is never left out for its name's case
            found = (q for q in path.rglob("*") if q.suffix.lower() in SCENARIO_SUFFIXES and q.is_file())
            for f in sorted(found):
                _load_into(f, result, environ, skip_step_lists=True)
        else:
            _load_into(path, result, environ, skip_step_lists=in_folder)
    return result


def is_app_model(root: object) -> bool:
    """An app model's shape: a top-level ``package:`` (a scenario has it under ``app:``), no steps."""
    return isinstance(root, LMap) and "package" in root and "steps" not in root and "name" not in root


_UNREADABLE_HINT = (
    "a scenario file is a regular file of at most 1 MB: split a large one (includes share steps)"
)


def _load_into(path: Path, result: LoadResult, env: Mapping[str, str], skip_step_lists: bool) -> None:
    ctx = _Ctx(env)
    file = str(path)
    try:
        data: bytes | None = read_bounded(path, MAX_BYTES)
    except UnreadableFile as exc:
        ctx.add(
            _start(file),
            f"cannot read scenario file: {exc.reason}",
            "check the path; folders are searched for *.yaml and *.yml" if exc.missing else _UNREADABLE_HINT,
        )
        data = None
    if data is not None:
        ctx.sources[file] = data.decode("utf-8", errors="replace")
        scenarios = _load_text(data, file, path.parent, ctx, skip_step_lists)
        result.scenarios.extend(scenarios)
        result.files += 1
    result.diagnostics.extend(sorted(ctx.diags, key=lambda d: (d.file != file, d.file, d.line, d.col)))
    result.sources.update(ctx.sources)


def _load_text(text: str | bytes, file: str, base: Path, ctx: _Ctx, skip_step_lists: bool) -> list[Scenario]:
    try:
        docs = load_documents(text, file)
    except YamlLoadError as exc:
        ctx.add(exc.span, exc.message, exc.hint)
        return []
    docs = [d for d in docs if d.root is not None]
    if skip_step_lists and docs and all(isinstance(d.root, LSeq) for d in docs):
        return []
    if docs and all(is_app_model(d.root) for d in docs):
        if not skip_step_lists:
            ctx.add(
                docs[0].root.key_spans["package"],
                "this is an app model (fixtures/apps/), not a scenario",
                "a scenario names it with app: {model: NAME}; check app models with `adb install` "
                "on a virtual device",
            )
        return []
    if not docs:
        ctx.add(_start(file), "file holds no scenario", "start with: name: <what it proves>, then steps:")
        return []
    defaults: LMap | None = None
    scenarios: list[Scenario] = []
    for i, doc in enumerate(docs):
        root = doc.root
        if isinstance(root, LMap) and "defaults" in root and len(root) == 1:
            if i != 0:
                ctx.add(
                    root.key_spans["defaults"],
                    "the defaults document must be the first in the file",
                    "move it to the top, followed by ---",
                )
            elif not isinstance(root["defaults"], LMap):
                ctx.add(root.value_spans["defaults"], "defaults must be a mapping of scenario fields")
            else:
                defaults = root["defaults"]
                for bad in ("name", "steps"):
                    if bad in defaults:
                        ctx.add(
                            defaults.key_spans[bad],
                            f"'{bad}' cannot be a default",
                            "give each scenario its own name and steps",
                        )
            continue
        if isinstance(root, LSeq):
            ctx.add(
                doc.span,
                "this document is a list of steps, not a scenario",
                "a scenario is a mapping with name: and steps:; step lists are for include:",
            )
            continue
        if not isinstance(root, LMap):
            ctx.add(
                doc.span,
                f"a scenario is a mapping with name: and steps:, not {describe_value(root)}",
                "start with: name: <what it proves>",
            )
            continue
        scenario = _one(root, doc.span, defaults, base, ctx)
        if scenario is not None:
            scenarios.append(scenario)
    return scenarios


def _merge_defaults(doc: LMap, defaults: LMap | None) -> LMap:
    if defaults is None:
        return doc
    merged = LMap(doc.span)
    for src in (defaults, doc):
        for k, v in src.items():
            if k == "vars" and isinstance(v, LMap) and isinstance(merged.get("vars"), LMap):
                combined = LMap(v.span)
                for vs in (merged["vars"], v):
                    for vk, vv in vs.items():
                        dict.__setitem__(combined, vk, vv)
                        combined.key_spans[vk] = vs.key_spans[vk]
                        combined.value_spans[vk] = vs.value_spans[vk]
                v = combined
            if k == "redact" and isinstance(v, LSeq) and isinstance(merged.get("redact"), LSeq):
                patterns = LSeq(v.span)  # the defaults' patterns and the scenario's own, both
                for seq in (merged["redact"], v):
                    patterns.extend(seq)
                    patterns.item_spans.extend(seq.item_spans)
                v = patterns
            dict.__setitem__(merged, k, v)
            merged.key_spans[k] = src.key_spans[k]
            merged.value_spans[k] = src.value_spans[k]
    return merged


def _one(doc: LMap, span: Span, defaults: LMap | None, base: Path, ctx: _Ctx) -> Scenario | None:
    tree = _merge_defaults(doc, defaults)
    before = len(ctx.diags)
    for section in STEP_SECTIONS:
        seq = tree.get(section)
        if isinstance(seq, LSeq):
            dict.__setitem__(tree, section, _expand_includes(seq, base, ctx, []))
    include_failed = len(ctx.diags) > before
    var_spans: set[Span] = set()
    _substitute_all(tree, ctx, var_spans)
    try:
        scenario: Scenario | None = Scenario.model_validate(tree)
    except ValidationError as exc:
        for d in diagnose(exc, tree, span):
            if Span(d.file, d.line, d.col, d.end_line or d.line, d.end_col or d.col) in var_spans:
                continue  # already reported as an undefined variable
            if include_failed and d.message.startswith("a scenario needs at least one step"):
                continue  # the failed include is the cause
            ctx.diags.append(d)
        scenario = None
    ctx.diags.extend(check_platforms(tree))
    if scenario is not None:
        _resolve_app(scenario, tree, base, ctx)
    if scenario is None or len(ctx.diags) > before:
        return None
    scenario._location = span
    for section, attr in zip(STEP_SECTIONS, ("setup", "steps", "finally_"), strict=False):
        seq = tree.get(section)
        steps: list[StepBase] = getattr(scenario, attr)
        if isinstance(seq, LSeq):
            for step, item_span, raw in zip(steps, seq.item_spans, seq, strict=False):
                step._location = item_span
                body = raw.get(step.kind) if isinstance(raw, LMap) else None
                if isinstance(body, LMap):
                    step._field_spans = dict(body.value_spans)
                elif step.primary is not None and isinstance(raw, LMap) and step.kind in raw:
                    step._field_spans = {step.primary: raw.value_spans[step.kind]}  # `wait: 2h`
    waits = check_waits(scenario, tree)
    if waits:
        ctx.diags.extend(waits)
        return None
    return scenario


# --------------------------------------------------------------------------- include


def _expand_includes(seq: LSeq, base: Path, ctx: _Ctx, stack: list[Path]) -> LSeq:
    out = LSeq(seq.span)
    for item, span in zip(seq, seq.item_spans, strict=False):
        if not (isinstance(item, LMap) and len(item) == 1 and "include" in item):
            out.append(item)
            out.item_spans.append(span)
            continue
        target = item["include"]
        vspan = item.value_spans["include"]
        if not isinstance(target, str) or not target.strip():
            ctx.add(vspan, "include needs a file path", "for example: - include: common/doze-night.yaml")
            continue
        shown = Path(os.path.normpath(base / target))  # as the user would write it, for messages
        path = shown.resolve()
        if path in stack or len(stack) >= MAX_INCLUDE_DEPTH:
            chain = " → ".join(p.name for p in [*stack, path])
            ctx.add(
                vspan,
                f"include cycle: {chain}",
                "a shared step list must not include itself, directly or through other files",
            )
            continue
        steps = _read_step_list(path, shown, target, vspan, ctx)
        if steps is None:
            continue
        inner = _expand_includes(steps, shown.parent, ctx, [*stack, path])
        out.extend(inner)
        out.item_spans.extend(inner.item_spans)
    return out


def _read_step_list(path: Path, shown: Path, target: str, span: Span, ctx: _Ctx) -> LSeq | None:
    if path not in ctx.include_cache:
        ctx.include_cache[path] = None
        try:
            data = read_bounded(shown, MAX_BYTES)  # unresolved: a refusal names the symlink
        except UnreadableFile as exc:
            if path.exists():  # there, but a FIFO, a device, too large …
                ctx.add(span, f"cannot read included file {target}: {exc.reason}")
                return None
            here = path.parent
            near = sorted(p.name for p in here.glob("*.y*ml")) if here.is_dir() else []
            ctx.add(
                span,
                f"included file not found: {target}",
                _file_hint(Path(target), near)
                if near
                else f"paths are relative to the including file ({path.parent})",
            )
            return None
        ctx.sources[str(shown)] = data.decode("utf-8", errors="replace")
        try:
            docs = load_documents(data, str(shown))
        except YamlLoadError as exc:
            ctx.add(exc.span, exc.message, exc.hint)
            return None
        roots = [d.root for d in docs if d.root is not None]
        if len(roots) != 1 or not isinstance(roots[0], LSeq):
            ctx.add(
                span,
                f"{target} is not a list of steps",
                "an included file holds one YAML list: - doze: deep / - wait: 2h",
            )
            return None
        ctx.include_cache[path] = roots[0]
    cached = ctx.include_cache[path]
    if cached is None:
        return None
    return copy_tree(cached)


def _file_hint(target: Path, near: list[str]) -> str:
    """Compare names without their common ``.yaml`` so the guess is about the name itself."""
    stems = {Path(n).stem: n for n in near}
    guess = closest(target.stem, list(stems))
    listed = ", ".join(near)
    return f"did you mean '{stems[guess]}'? files there: {listed}" if guess else f"files there: {listed}"


# --------------------------------------------------------------------------- variables


def _substitute_all(tree: LMap, ctx: _Ctx, bad: set[Span]) -> None:
    raw_vars = tree.get("vars")
    values: dict[str, Any] = {}
    if isinstance(raw_vars, LMap):
        for name, value in raw_vars.items():
            vspan = raw_vars.value_spans[name]
            if isinstance(value, str):
                value = _expand(value, {}, vspan, ctx, bad, only_env=True)
                dict.__setitem__(raw_vars, name, value)
            values[name] = value
    for key in list(tree):
        if key != "vars":
            _walk(tree, key, tree.value_spans[key], values, ctx, bad)


def _walk(
    container: LMap | LSeq, key: Any, span: Span, values: dict[str, Any], ctx: _Ctx, bad: set[Span]
) -> None:
    value = container[key]
    if isinstance(value, str):
        if "${" in value:
            new = _expand(value, values, span, ctx, bad, only_env=False)
            if isinstance(container, LMap):
                dict.__setitem__(container, key, new)
            else:
                container[key] = new
    elif isinstance(value, LMap):
        for k in list(value):
            _walk(value, k, value.value_spans[k], values, ctx, bad)
    elif isinstance(value, LSeq):
        for i in range(len(value)):
            _walk(value, i, value.item_spans[i], values, ctx, bad)


def _expand(text: str, values: dict[str, Any], span: Span, ctx: _Ctx, bad: set[Span], only_env: bool) -> Any:
    whole = _VAR.fullmatch(text)
    if whole and not whole.group(1):
        found = _lookup(whole.group(2), values, span, ctx, bad, only_env)
        return text if found is _MISSING else found  # ${n} alone keeps the value's type (count: ${n})

    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return "${" + m.group(2) + "}"
        found = _lookup(m.group(2), values, span, ctx, bad, only_env)
        return m.group(0) if found is _MISSING else str(found)

    return _VAR.sub(repl, text)


_MISSING = object()


def _lookup(expr: str, values: dict[str, Any], span: Span, ctx: _Ctx, bad: set[Span], only_env: bool) -> Any:
    expr = expr.strip()
    if expr.startswith("env:"):
        name, _, default = expr[4:].partition(":-")
        if name in ctx.env:
            return ctx.env[name]
        if ":-" in expr:
            return default
        bad.add(span)
        ctx.add(
            span,
            f"environment variable {name} is not set",
            f"set it before running, or give a default: ${{env:{name}:-value}}",
        )
        return _MISSING
    if not _NAME.match(expr):
        bad.add(span)
        ctx.add(
            span,
            f"'${{{expr}}}' is not a variable reference",
            "write ${name} for a var, ${env:NAME} for the environment, $${ for a literal ${",
        )
        return _MISSING
    if not only_env and expr in values:
        return values[expr]
    bad.add(span)
    if only_env:
        ctx.add(span, f"vars cannot refer to other vars (${{{expr}}})", "vars may use ${env:NAME} only")
    else:
        ctx.add(
            span,
            f"undefined variable ${{{expr}}}",
            choices_hint(expr, list(values), "defined vars") if values else "define it under vars:",
        )
    return _MISSING


# --------------------------------------------------------------------------- app models


def find_app_model(name: str, start: Path) -> Path | None:
    """``fixtures/apps/<name>.yaml`` in ``start`` or the nearest parent that has it, else bgtest's demos."""
    from harness.apps.demo import DEMO_APPS

    for folder in [start.resolve(), *start.resolve().parents]:
        for suffix in (".yaml", ".yml"):
            candidate = folder / "fixtures" / "apps" / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    for suffix in (".yaml", ".yml"):
        candidate = DEMO_APPS / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _nearest_models(start: Path) -> list[str]:
    for folder in [start.resolve(), *start.resolve().parents]:
        apps = folder / "fixtures" / "apps"
        if apps.is_dir():
            return sorted(p.stem for p in apps.glob("*.y*ml"))
    return []


def _resolve_app(scenario: Scenario, tree: LMap, base: Path, ctx: _Ctx) -> None:
    app = scenario.app
    app_tree = tree.get("app")
    app_span = tree.value_spans.get("app", tree.span)
    if app is not None and app.model is not None:
        mspan = app_tree.value_spans.get("model", app_span) if isinstance(app_tree, LMap) else app_span
        path = find_app_model(app.model, base)
        if path is None:
            known = _nearest_models(base)
            ctx.add(
                mspan,
                f"app model '{app.model}' not found: no fixtures/apps/{app.model}.yaml in {base} or above",
                choices_hint(app.model, known, "app models")
                if known
                else "app models live in fixtures/apps/<name>.yaml of the repository",
            )
            return
        app._model_path = path
        from harness.apps.errors import AppModelError
        from harness.apps.loader import load_app_model  # only when a scenario names a model

        try:
            model = load_app_model(read_bounded(path, MAX_BYTES), name=str(path))
        except UnreadableFile as exc:
            ctx.add(mspan, f"cannot read app model {path}: {exc.reason}")
            return
        except AppModelError as exc:
            ctx.add(mspan, f"app model {exc}", "fix the app model at that line (fixtures/apps/*.yaml)")
            return
        ios = model.ios or {}
        if app.package is None:
            app.package = model.package
        if app.library is None and model.library in LIBRARIES:
            app.library = model.library
        if app.bundle_id is None and isinstance(ios.get("bundle_id"), str):
            app.bundle_id = ios["bundle_id"]
    if app is None:
        return
    if "android" in scenario.platforms and app.package is None:
        ctx.add(
            app_span,
            "android is in platforms but the app has no package",
            "add package: com.example.app (or use an app model that names one)",
        )
    if "ios" in scenario.platforms and app.bundle_id is None:
        ctx.add(
            app_span,
            "ios is in platforms but the app has no bundle_id",
            "add bundle_id: com.example.App (or an app model with ios: {bundle_id: …})",
        )
