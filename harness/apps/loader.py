"""Loading an app model: YAML in, a validated :class:`~harness.apps.model.AppModel` out.

Errors point at the YAML line: the file is composed into a node tree first (``yaml.compose``
keeps start marks), pydantic validates the plain data, and the location of any pydantic error is
walked back through the node tree to the line that holds the offending key or value. References
between sections (a work's worker, a chain step, a hook's ``{param}``), which pydantic cannot
see, are checked afterwards with the same line lookup.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import AppModelError
from .links import INDEX_PARAM, MAX_REPEAT, PARAM_REF
from .model import AppModel

try:  # libyaml composes the same nodes (with their marks) about five times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def _yaml_line(node: yaml.Node | None, loc: tuple[object, ...]) -> int:
    """The 1-based line of the deepest node ``loc`` reaches (the parent when a key is missing)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    # a scalar value sits on the key's line; a block value points at the key too
                    line = (value if isinstance(value, yaml.ScalarNode) else key).start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _check_duplicate_keys(node: yaml.Node, file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise AppModelError(file, key.start_mark.line + 1, f"duplicate key '{key.value}'")
                seen.add(key.value)
            _check_duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, file)


def _message(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if err["type"] == "missing":
        return f"'{err['loc'][-1]}' is required" + (
            f" (in {'.'.join(map(str, err['loc'][:-1]))})" if len(err["loc"]) > 1 else ""
        )
    if err["type"] == "extra_forbidden":
        return f"unknown field '{loc}'"
    return f"{loc}: {msg}" if loc else msg


def _cross_check(model: AppModel) -> tuple[tuple[object, ...], str] | None:
    """References between sections, which pydantic cannot see: (location, message) of the first problem."""
    for name, work in model.work.items():
        if work.worker not in model.workers:
            return ("work", name, "worker"), f"work '{name}': unknown worker '{work.worker}'"
        if work.kind == "periodic":
            if work.interval_ms is None:
                return ("work", name), f"work '{name}': periodic work needs 'interval'"
            if work.then:
                return ("work", name, "then"), f"work '{name}': periodic work cannot be chained"
            if work.expedited is not None:
                return ("work", name, "expedited"), f"work '{name}': PeriodicWorkRequests cannot be expedited"
            if work.unique and work.unique.policy not in ("keep", "replace", "update"):
                return ("work", name, "unique", "policy"), (
                    f"work '{name}': periodic unique work takes keep, replace or update"
                )
        else:
            for key in ("interval_ms", "flex_ms"):
                if getattr(work, key) is not None:
                    field = key[:-3]
                    return ("work", name, field), f"work '{name}': '{field}' is only for periodic work"
            if work.expedited is not None and work.initial_delay_ms:
                return ("work", name, "expedited"), f"work '{name}': expedited work cannot be delayed"
        for i, step in enumerate(work.then):
            if step not in model.work:
                return ("work", name, "then", i), f"work '{name}': unknown work '{step}' in chain"
            if model.work[step].kind != "one_time":
                return ("work", name, "then", i), f"work '{name}': chain step '{step}' must be one_time"
    # chains must not loop
    for start in model.work:
        path: list[str] = []

        def visit(n: str, path: list[str] = path) -> str | None:
            if n in path:
                return " -> ".join([*path[path.index(n) :], n])
            path.append(n)
            for nxt in model.work[n].then:
                found = visit(nxt)
                if found:
                    return found
            path.pop()
            return None

        loop = visit(start)
        if loop:
            return ("work", start, "then"), f"chain loops: {loop}"
    for i, hook in enumerate(model.hooks):
        where: tuple[object, ...] = ("hooks", i)
        if (hook.deep_link is None) == (hook.broadcast is None):
            return where, "a hook needs exactly one of 'deep_link' or 'broadcast'"
        known = {*hook.params, INDEX_PARAM}
        if hook.deep_link is not None:
            scheme, sep, _ = hook.deep_link.partition("://")
            if not sep or not scheme:
                return (*where, "deep_link"), f"deep link '{hook.deep_link}' has no scheme://"
            if not model.handles_scheme(scheme):
                return (*where, "deep_link"), (
                    f"scheme '{scheme}' is not in deep_link_schemes {list(model.deep_link_schemes)}"
                )
            known |= set(hook.captures())
        texts: list[tuple[tuple[object, ...], str]] = [
            ((*where, "enqueue", j), n) for j, n in enumerate(hook.enqueue)
        ]
        if isinstance(hook.repeat, str):
            texts.append(((*where, "repeat"), hook.repeat))
        elif not 1 <= hook.repeat <= MAX_REPEAT:
            return (*where, "repeat"), f"repeat must be 1..{MAX_REPEAT}"
        if hook.overrides is not None:
            ov = hook.overrides
            for key in ("initial_delay", "unique_name", "unique_policy"):
                value = getattr(ov, key)
                if isinstance(value, str):
                    texts.append(((*where, "overrides", key), value))
            texts += [((*where, "overrides", "tags", j), t) for j, t in enumerate(ov.tags)]
        for at, text in texts:
            for ref in PARAM_REF.findall(text):
                if ref not in known:
                    return at, f"'{{{ref}}}' is not a param of this hook (declare it under 'params')"
        for j, n in enumerate(hook.enqueue):
            if not PARAM_REF.search(n) and n not in model.work:
                return (*where, "enqueue", j), f"unknown work '{n}'"
        for pname, param in hook.params.items():
            if param.default is not None:
                try:
                    param.convert(param.default)
                except ValueError as exc:
                    return (*where, "params", pname, "default"), str(exc)
    return None


def load_app_model(source: str | Path | bytes, name: str | None = None) -> AppModel:
    """Parse and validate an app model from a file path or bytes; errors carry ``file:line``.

    ``name`` is the file name used in messages (defaults to the path, or ``<bytes>``).
    """
    if isinstance(source, bytes):
        data, file = source, name or "<bytes>"
    else:
        file = name or str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise AppModelError(file, 0, exc.strerror or str(exc)) from None
    return _parse(data, file).model_copy(deep=True)


@functools.lru_cache(maxsize=32)
def _parse(data: bytes, file: str) -> AppModel:
    """One parse per distinct file content: a run reads the same few models again and again (each
    scenario's loader, the session, both virtual devices, the checklist), and parsing and
    validating one costs tens of milliseconds. Callers get a deep copy, so none can change
    another's; errors are not cached (they are raised again)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AppModelError(file, 1, "not UTF-8 text") from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_duplicate_keys(node, file)
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise AppModelError(file, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise AppModelError(file, 1, f"invalid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise AppModelError(file, 1, "an app model is a mapping with at least 'package'")
    try:
        model = AppModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise AppModelError(file, _yaml_line(node, tuple(first["loc"])), _message(dict(first))) from None
    problem = _cross_check(model)
    if problem is not None:
        loc, message = problem
        raise AppModelError(file, _yaml_line(node, loc), message)
    return model
