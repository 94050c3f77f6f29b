"""Turn model errors and platform gaps into :class:`Diagnostic` s that point at the YAML.

pydantic reports *what* is wrong with a ``loc`` path; the located tree from ``yamlmarks``
knows *where* each path was written. This module joins the two and adds the hint a person
needs (the closest valid name, the allowed values, an example).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from harness.actions.flow import Expect
from harness.actions.registry import ACTIONS, STEP_MODELS
from harness.durations import format_duration_ms
from harness.scenario.errors import Diagnostic, choices_hint, closest
from harness.scenario.models import DEFAULT_MAX_WAIT_MS, Scenario
from harness.scenario.platforms import INCLUDE_KIND, PLATFORMS
from harness.scenario.step import StepBase, step_kind
from harness.scenario.yamlmarks import LMap, LSeq, Span

STEP_SECTIONS = ("setup", "steps", "finally")
ALL_KINDS = (*STEP_MODELS, INCLUDE_KIND)


def locate(
    tree: Any, loc: tuple[Any, ...], root: Span, want_key: bool = False
) -> tuple[Span, Any, tuple[Any, ...]]:
    """The span of the deepest node on ``loc`` present in the tree, that node, and the parts of
    ``loc`` the YAML has.

    ``want_key`` points at the *key* of the last part (for unknown fields) instead of its value.
    A part the YAML does not write is stepped over when the rest still leads somewhere: a
    model's own wrapper field (``server: {host: …}`` is ``server.rules[0]`` to the model) or the
    ``[0]`` of one mapping written for a list of one.
    """
    node, span, seen = tree, getattr(tree, "span", root), ()
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, LMap) and isinstance(part, str) and part in node:
            if want_key and last:
                return node.key_spans[part], node[part], (*seen, part)
            span, node = node.value_spans[part], node[part]
        elif isinstance(node, LSeq) and isinstance(part, int) and 0 <= part < len(node):
            span, node = node.item_spans[part], node[part]
        elif not last and ((isinstance(part, str) and isinstance(node, (LMap, LSeq)))
                           or (part == 0 and isinstance(node, LMap))):
            continue
        else:
            break
        seen = (*seen, part)
    return span, node, seen


def _classify(ann: Any) -> Any:
    """Map an annotation to a model class, ``("list", inner)``, ``"steps"`` or ``None``."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _classify(get_args(ann)[0])
    if origin is list:
        return ("list", _classify(get_args(ann)[0]))
    if origin in (Union, types.UnionType):
        args = [_classify(a) for a in get_args(ann) if a is not type(None)]
        if args and all(isinstance(a, type) and issubclass(a, StepBase) for a in args) and len(args) > 1:
            return "steps"
        models = [a for a in args if a is not None]
        return models[0] if len(models) == 1 else None
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    cur: Any = Scenario
    for part in loc:
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            field = next((f for n, f in cur.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            cur = _classify(field.annotation)
        elif isinstance(cur, tuple) and isinstance(part, int):
            cur = cur[1]
        elif cur == "steps" and part in STEP_MODELS:
            cur = STEP_MODELS[part]
        else:
            return None
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def describe_value(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "int_from_float": "a whole number",
}


_BOUNDS = {
    "less_than_equal": "at most",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "greater_than": "greater than",
}


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def diagnose(exc: ValidationError, tree: LMap, root: Span) -> list[Diagnostic]:
    """One diagnostic per model error, located in the YAML, most useful wording first."""
    out: list[Diagnostic] = []
    errors = exc.errors()
    # A typo (`step:`) also makes the real field (`steps`) missing: report the typo only.
    typos = {
        (
            tuple(e["loc"][:-1]),
            closest(e["loc"][-1], [m["loc"][-1] for m in errors if m["type"] == "missing"]),
        )
        for e in errors
        if e["type"] == "extra_forbidden" and e["loc"]
    }
    for err in errors:
        loc = tuple(err["loc"])
        etype = err["type"]
        if etype == "missing" and loc and (loc[:-1], loc[-1]) in typos:
            continue
        span, node, seen = locate(tree, loc, root, want_key=etype == "extra_forbidden")
        message, hint = _explain(err, loc, node, seen)
        out.append(Diagnostic.at(span, message, hint))
    return out


def _explain(
    err: dict[str, Any], loc: tuple[Any, ...], node: Any, seen: tuple[Any, ...] = ()
) -> tuple[str, str | None]:
    etype, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    field = loc[-1] if loc else "scenario"
    if isinstance(field, int):  # an item of a list: name the list
        named = [p for p in loc if isinstance(p, str)]
        field = f"{named[-1]} entry" if named else "item"
    if etype == "step":
        return _explain_step(value)
    if etype == "extra_forbidden":
        model = _model_at(loc[:-1])
        # named as written: `server: {respnd: …}` is an unknown field in server, not in "rules"
        written = [p for p in (seen or loc)[:-1] if isinstance(p, str)]
        owner = written[-1] if written else "scenario"
        allowed = field_names(model) if model else []
        if model is StepBase or (model and issubclass(model, StepBase)):
            allowed = [n for n in allowed if n != "label"] + ["label"]
        return f"unknown field '{field}' in {owner}", choices_hint(
            field, allowed, "fields"
        ) if allowed else None
    if etype == "missing":
        kind = loc[-2] if len(loc) >= 2 and loc[-2] in STEP_MODELS else None
        if kind and (isinstance(node, str) or (isinstance(node, dict) and node.get(kind) is None)):
            return f"'{kind}' needs a value", f"for example: - {ACTIONS[kind].example}"
        owner = _where(loc[:-1]) or "the scenario"
        return f"missing required field '{field}' in {owner}", None
    if etype == "literal_error":
        allowed = [a.strip("'") for a in ctx.get("expected", "").replace(" or ", ", ").split(", ")]
        return f"{describe_value(value)} is not a valid {field}", choices_hint(value, allowed, "allowed")
    if etype == "value_error":
        text = str(ctx.get("error", err["msg"]))
        return text, None
    if etype in _TYPE_WORDS:
        return f"'{field}' must be {_TYPE_WORDS[etype]}, not {describe_value(value)}", None
    if etype in _BOUNDS:
        return f"'{field}' must be {_BOUNDS[etype]} {next(iter(ctx.values()), '?')}, not {value!r}", None
    if etype == "string_pattern_mismatch":
        what = {
            "package": "an Android package name (e.g. com.example.app)",
            "bundle_id": "an iOS bundle id (e.g. com.example.App)",
        }.get(str(field), "in the expected form")
        return f"{value!r} is not {what}", None
    if etype == "too_short" and field == "steps":
        return "a scenario needs at least one step under steps:", "for example: steps: [{launch: {}}, ...]"
    if etype in ("too_short", "string_too_short"):
        return f"'{field}' must not be empty", None
    return f"{_where(loc)}: {err['msg']}", None


def _explain_step(value: Any) -> tuple[str, str | None]:
    kind = step_kind(value)
    if kind is not None:
        return f"unknown action '{kind}'", choices_hint(kind, ALL_KINDS, "actions")
    if isinstance(value, dict) and len(value) > 1:
        keys = ", ".join(str(k) for k in value)
        return (
            f"a step holds exactly one action, found {len(value)} keys: {keys}",
            "start each action on its own '- ' line; options go inside: - doze: {mode: deep}",
        )
    return (
        f"a step must be an action name or a one-key mapping, not {describe_value(value)}",
        "for example: - stop_app, - doze: deep, - expect: {task: sync, state: succeeded}",
    )


def check_platforms(tree: LMap) -> list[Diagnostic]:
    """Actions and options the scenario's platforms cannot do, found on the raw tree.

    Runs on the raw tree (not the models) so these errors come out together with model errors.
    """
    raw = tree.get("platforms", ["android"])
    if isinstance(raw, str):
        raw = [raw]
    platforms = [p for p in raw if p in PLATFORMS] if isinstance(raw, list) else []
    pspan = tree.value_spans.get("platforms")
    out: list[Diagnostic] = []
    for section in STEP_SECTIONS:
        seq = tree.get(section)
        if not isinstance(seq, LSeq):
            continue
        for item, span in zip(seq, seq.item_spans, strict=False):
            out.extend(_check_step(item, span, platforms, pspan))
            out.extend(_check_matches(_step_matches(item), platforms, pspan))
    guards = tree.get("fail_fast_on")
    if isinstance(guards, LSeq):
        out.extend(_check_matches(list(guards), platforms, pspan))
    return out


#: log-record fields a platform's log does not carry: a match on them could never hold there,
#: so `never: true` would always pass. (logcat -v threadtime: time, pid, tid, level, tag, message;
#: the unified log: subsystem, category, process image — its `tag` is the process name.)
MATCH_FIELD_PLATFORMS: dict[str, tuple[tuple[str, ...], str]] = {
    "subsystem": (("ios",), "logcat has no subsystem; match the tag"),
    "category": (("ios",), "logcat has no category; match the tag"),
    "process": (("ios",), "logcat lines carry a pid, not a process name; match the tag"),
}


def _step_matches(item: Any) -> list[Any]:
    """The match mappings a raw step holds: the expect itself, its in_order entries and
    fail_fast_on, and the same inside ``wait: {until: …}``."""
    kind = step_kind(item)
    body = item.get(kind) if isinstance(item, LMap) else None
    if kind == "wait" and isinstance(body, LMap):
        body = body.get("until")
        if isinstance(body, LMap) and len(body) == 1 and "expect" in body:
            body = body["expect"]
    elif kind != "expect":
        return []
    if not isinstance(body, LMap):
        return []
    found: list[Any] = [body]
    for name in ("in_order", "fail_fast_on"):
        if isinstance(body.get(name), LSeq):
            found.extend(body[name])
    return found


def _check_matches(matches: list[Any], platforms: list[str], pspan: Span | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    where = f" (line {pspan.line})" if pspan else ""
    for match in matches:
        if not isinstance(match, LMap):
            continue
        for name, (allowed, why) in MATCH_FIELD_PLATFORMS.items():
            if name not in match:
                continue
            for p in platforms:
                if p not in allowed:
                    out.append(
                        Diagnostic.at(
                            match.key_spans[name],
                            f"'{name}' cannot match on {p}: {why}",
                            f"remove {p} from platforms{where}, or match this record by tag and message",
                        )
                    )
    return out


def _check_step(item: Any, span: Span, platforms: list[str], pspan: Span | None) -> list[Diagnostic]:
    kind = step_kind(item)
    spec = ACTIONS.get(kind or "")
    if spec is None:
        return []
    out = []
    if isinstance(item, LMap) and kind in item.key_spans:
        span = item.key_spans[kind]  # caret on the action's name, not the whole step
    where = f" (line {pspan.line})" if pspan else ""
    for p in platforms:
        if not spec.available(p):
            others = [o for o in PLATFORMS if o != p]
            out.append(
                Diagnostic.at(
                    span,
                    f"'{kind}' is not available on {p}: {spec.why_not(p)}",
                    f"remove {p} from platforms{where}, or keep this step in a scenario for "
                    f"{', '.join(others)} only",
                )
            )
    body = item.get(kind) if isinstance(item, dict) else None
    options: list[tuple[str, Span]] = []
    if isinstance(body, LMap):
        options = [(k, body.key_spans[k]) for k in body]
        options += [(v, body.value_spans[k]) for k, v in body.items() if isinstance(v, str)]
    elif isinstance(body, str) and isinstance(item, LMap):
        options = [(body, item.value_spans[kind])]
    for name, ospan in options:
        limit = spec.option_limits.get(name)
        if limit is None:
            continue
        allowed, why = limit
        for p in platforms:
            if p not in allowed:
                out.append(
                    Diagnostic.at(
                        ospan,
                        f"'{kind}' option '{name}' is not available on {p}: {why}",
                        f"remove {p} from platforms{where}, or drop this option",
                    )
                )
    return out


def check_waits(scenario: Scenario, tree: LMap) -> list[Diagnostic]:
    """Every wait, window and timeout longer than the scenario's ``max_wait`` (default 30 days).

    Runs on the located models (after the loader gave each step its field spans), so the caret
    points at the duration itself.
    """
    limit = scenario.max_wait or DEFAULT_MAX_WAIT_MS
    out: list[Diagnostic] = []

    def check(ms: int | None, what: str, span: Span | None) -> None:
        if ms is None or ms <= limit or span is None:
            return
        out.append(
            Diagnostic.at(
                span,
                f"{what} of {format_duration_ms(ms)} is longer than this scenario's longest wait "
                f"({format_duration_ms(limit)})",
                f"if you mean it, add max_wait: {format_duration_ms(ms)} to the scenario"
                + (" (or to its defaults)" if scenario.max_wait is None else ""),
            )
        )

    check(scenario.timeout, "timeout", tree.value_spans.get("timeout"))
    for step in scenario.all_steps():
        for name in ("duration", "timeout", "within"):
            check(getattr(step, name, None), f"{step.kind} {name}", step.field_location(name))
        until = getattr(step, "until", None)
        if isinstance(until, Expect):
            check(until.within, "wait until within", step.field_location("until"))
    return out
