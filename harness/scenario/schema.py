"""JSON Schema of scenario files, for editor completion (VS Code YAML) and outside tools.

Written as draft-07 (``definitions``), the newest draft VS Code's YAML extension fully supports.

bgtest reads YAML 1.2 (``doze: off`` is the text "off"); VS Code's YAML extension and PyYAML
read YAML 1.1, where ``off``/``on``/``yes``/``no`` are booleans. So that an editor shows the
same verdict as ``bgtest validate``, every enum holding such a word also takes the boolean the
1.1 reader makes of it, and bgtest takes that boolean too (``doze: false`` is ``doze: off``);
``tests/test_schema_yaml_versions.py`` checks both readers against bgtest.

pydantic writes the schema of each model; the step *wrapper* forms people type
(``- stop_app``, ``- doze: deep``, ``- doze: {mode: deep}``) exist only in the loader's
normalisation, so this module describes them on top. The committed copy
(``scenario.schema.json``) is checked against :func:`build_schema` by a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.actions.registry import ACTIONS
from harness.scenario.models import Scenario

SCHEMA_FILE = Path(__file__).with_name("scenario.schema.json")

#: Words a YAML 1.1 reader turns into booleans (true/false are booleans in 1.2 as well).
YAML11_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"})
YAML11_FALSE = frozenset({"n", "N", "no", "No", "NO", "off", "Off", "OFF"})
SCHEMA_ID = "https://bgtest.dev/schema/scenario.schema.json"


def _no_required(model: type) -> bool:
    return not any(f.is_required() for f in model.model_fields.values())  # type: ignore[attr-defined]


def _step_schema(defs: dict[str, Any]) -> dict[str, Any]:
    bare = [k for k, a in ACTIONS.items() if _no_required(a.model)]
    alts: list[dict[str, Any]] = [{"enum": bare, "description": "an action without options"}]
    for kind, spec in ACTIONS.items():
        model = spec.model
        forms: list[dict[str, Any]] = [{"$ref": f"#/definitions/{model.__name__}"}]
        compact = model.compact_schema(defs.get(model.__name__, {}).get("properties", {}))
        if compact is not None:
            forms.append(compact)
        if kind in bare:
            forms.append({"type": "null"})
        alts.append(
            {
                "type": "object",
                "title": kind,
                "description": spec.summary,
                "properties": {
                    kind: {"anyOf": forms, "description": f"{spec.summary}. Example: {spec.example}"}
                },
                "required": [kind],
                "additionalProperties": False,
            }
        )
    alts.append(
        {
            "type": "object",
            "title": "include",
            "description": "splice the steps of a shared file (a YAML list of steps)",
            "properties": {"include": {"type": "string", "description": "path relative to this file"}},
            "required": ["include"],
            "additionalProperties": False,
        }
    )
    return {"anyOf": alts}


def _yaml11_booleans(node: Any) -> None:
    """Let every enum with an on/off/yes/no word also take the boolean a YAML 1.1 editor reads."""
    if isinstance(node, list):
        for item in node:
            _yaml11_booleans(item)
        return
    if not isinstance(node, dict):
        return
    enum = node.get("enum")
    if isinstance(enum, list):
        words = {v for v in enum if isinstance(v, str)}
        extra = [b for b, group in ((True, YAML11_TRUE), (False, YAML11_FALSE)) if words & group]
        extra = [b for b in extra if not any(v is b for v in enum)]
        if extra:
            node["enum"] = [*enum, *extra]
            if node.get("type") == "string":
                node["type"] = ["string", "boolean"]
    for value in node.values():
        _yaml11_booleans(value)


def build_schema() -> dict[str, Any]:
    """The whole schema: a document is a scenario or a ``defaults:`` document."""
    base = Scenario.model_json_schema(by_alias=True, ref_template="#/definitions/{model}")
    defs: dict[str, Any] = base.pop("$defs", {})
    defs["Step"] = _step_schema(defs)
    if "Match" in defs:  # in_order: ["sync enqueued", "sync succeeded"]
        defs["Match"] = {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": r"^\S+\s+\S+$",
                    "description": "TASK STATE, e.g. sync succeeded",
                },
                defs["Match"],
            ]
        }
    if "LogMatch" in defs:  # fail_fast_on: ["FATAL EXCEPTION"] — a bare regex for the message
        defs["LogMatch"] = {
            "anyOf": [
                {"type": "string", "description": "regular expression searched in the message"},
                defs["LogMatch"],
            ],
        }
    for section in ("setup", "steps", "finally"):
        prop = base["properties"][section]
        prop["items"] = {"$ref": "#/definitions/Step"}
    for name in ("tags", "platforms"):  # a single word is accepted where a list is expected
        prop = base["properties"][name]
        items = prop.get("items", {})
        base["properties"][name] = {
            "anyOf": [items, {k: v for k, v in prop.items() if k not in ("title", "description", "default")}],
            **{k: v for k, v in prop.items() if k in ("title", "description", "default")},
        }
    defs["Scenario"] = base
    defaults = {
        "type": "object",
        "properties": {k: v for k, v in base["properties"].items() if k not in ("name", "steps")},
        "additionalProperties": False,
    }
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "bgtest scenario",
        "description": "One YAML document = one scenario (or a first 'defaults:' document). "
        "See docs/scenario-language.md.",
        "anyOf": [
            {"$ref": "#/definitions/Scenario"},
            {
                "type": "object",
                "properties": {"defaults": defaults},
                "required": ["defaults"],
                "additionalProperties": False,
                "title": "defaults for the scenarios in this file",
            },
        ],
        "definitions": dict(sorted(defs.items())),
    }
    _yaml11_booleans(schema)
    return schema
