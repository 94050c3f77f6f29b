"""A debug hook's deep link: matching a URI, and what one delivery asks for — no pydantic here.

The pydantic ``Hook`` and ``Param`` (``model.py``) call these, and so does the virtual iPhone's
stand-in when an ``openurl`` reaches an installed app's plain snapshot
(``harness/sim/ios/installed.py``). They read a hook's fields only: ``deep_link``, ``match``,
``params`` (each with ``type`` and ``default``), ``enqueue``, ``repeat``, ``overrides``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from ..durations import DurationError, parse_duration_ms

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

#: The built-in hook param: 0-based repetition number (``unique_name: "load-{index}"``).
INDEX_PARAM = "index"

#: Upper bound of ``repeat`` so a hook cannot ask a device to enqueue millions of requests.
MAX_REPEAT = 10_000

#: A ``{param}`` reference in a hook's link, work names, repeat and overrides.
PARAM_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def duration_value(value: Any) -> Any:
    """A duration as written (``30s``, a number of seconds) in milliseconds; others unchanged."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, str)):
        try:
            return parse_duration_ms(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
    return value


def convert_param(kind: str, raw: object) -> object:
    """Turn a delivered string (or an ``--ei`` int) into a param of type ``kind``; ValueError
    when it does not fit."""
    if kind == "string":
        return str(raw)
    if kind == "int":
        if isinstance(raw, bool):
            raise ValueError(f"not an integer: {raw!r}")
        try:
            return int(str(raw))
        except ValueError:
            raise ValueError(f"not an integer: {raw!r}") from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError(f"not a boolean: {raw!r}")
    try:
        return parse_duration_ms(raw if isinstance(raw, (int, float)) else str(raw))
    except DurationError as exc:
        raise ValueError(str(exc)) from None


def link_pattern(deep_link: str) -> re.Pattern[str]:
    out = []
    pos = 0
    for m in PARAM_REF.finditer(deep_link):
        out.append(re.escape(deep_link[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[^/?#]+)")
        pos = m.end()
    out.append(re.escape(deep_link[pos:]))
    return re.compile("".join(out))


def link_captures(deep_link: str | None) -> list[str]:
    return PARAM_REF.findall(deep_link or "")


def match_deep_link(hook: Any, uri: str) -> dict[str, str] | None:
    """Raw params when ``uri`` is ``hook``'s link (path captures, then query parameters)."""
    if hook.deep_link is None:
        return None
    base, _, query = uri.partition("?")
    base = base.partition("#")[0]
    pattern = link_pattern(hook.deep_link)
    m = pattern.fullmatch(base) if hook.match == "exact" else pattern.match(base)
    if m is None:
        return None
    raw = {k: unquote(v) for k, v in m.groupdict().items()}
    for key, value in parse_qsl(query, keep_blank_values=True):
        raw.setdefault(key, value)
    return raw


def find_hook(hooks: Any, uri: str) -> tuple[Any, dict[str, str]] | None:
    """The first of ``hooks`` whose deep link ``uri`` is, with its raw params."""
    for hook in hooks:
        raw = match_deep_link(hook, uri)
        if raw is not None:
            return hook, raw
    return None


def resolve_hook(hook: Any, raw: dict[str, object]) -> HookAction:
    """Typed params, repeat count and overrides for one delivery; ValueError on a bad value."""
    values: dict[str, object] = {}
    for name, spec in hook.params.items():
        if name in raw:
            try:
                values[name] = convert_param(spec.type, raw[name])
            except ValueError as exc:
                raise ValueError(f"param {name}: {exc}") from None
        elif spec.default is not None:
            values[name] = convert_param(spec.type, spec.default)
    for name in link_captures(hook.deep_link):
        if name not in values and name in raw:
            values[name] = str(raw[name])

    def fill(text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) == INDEX_PARAM:
                return m.group(0)  # filled per repetition by HookAction.changes_for
            if m.group(1) not in values:
                raise ValueError(f"missing param {m.group(1)}")
            value = values[m.group(1)]
            spec = hook.params.get(m.group(1))
            if spec is not None and spec.type == "duration":
                return f"{value}ms"  # keeps its unit when parsed again as a duration
            return str(value).lower() if isinstance(value, bool) else str(value)

        return PARAM_REF.sub(sub, text)

    names = tuple(fill(n) for n in hook.enqueue)
    repeat = hook.repeat
    if isinstance(repeat, str):
        try:
            repeat = int(fill(repeat))
        except ValueError as exc:
            raise ValueError(f"repeat: {exc}") from None
    if not 1 <= repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be 1..{MAX_REPEAT}, got {repeat}")
    changes: dict[str, object] = {}
    ov = hook.overrides
    if ov is not None:
        if ov.initial_delay is not None:
            delay = ov.initial_delay
            changes["initial_delay_ms"] = duration_value(fill(delay) if isinstance(delay, str) else delay)
        if ov.unique_name is not None:
            changes["unique_name"] = fill(ov.unique_name)
        if ov.unique_policy is not None:
            changes["unique_policy"] = fill(ov.unique_policy)
        if ov.tags:
            changes["tags"] = tuple(fill(t) for t in ov.tags)
        if ov.input:
            changes["input"] = {k: fill(v) if isinstance(v, str) else v for k, v in ov.input.items()}
    return HookAction(names, repeat, changes, values)


class HookAction:
    """What one hook delivery asks for: enqueue ``names`` ``repeat`` times, with ``changes`` applied."""

    __slots__ = ("changes", "names", "params", "repeat")

    def __init__(
        self, names: tuple[str, ...], repeat: int, changes: dict[str, object], params: dict[str, object]
    ) -> None:
        self.names = names
        self.repeat = repeat
        self.changes = changes
        self.params = params

    def changes_for(self, index: int) -> dict[str, object]:
        """The changes for repetition ``index`` (``{index}`` filled in)."""
        if not self.changes:
            return self.changes
        token = "{" + INDEX_PARAM + "}"

        def fill(value: object) -> object:
            if isinstance(value, str):
                return value.replace(token, str(index))
            if isinstance(value, tuple):
                return tuple(fill(v) for v in value)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        return {k: fill(v) for k, v in self.changes.items()}

    def __repr__(self) -> str:
        return f"HookAction(names={self.names}, repeat={self.repeat}, changes={self.changes})"
