"""The JSON Schema of the app-model format, as committed in ``fixtures/apps/app-model.schema.json``.

Editors validate app models against it as they are typed (each fixture starts with a
``yaml-language-server: $schema=app-model.schema.json`` line); a test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .model import AppModel

#: Where the committed JSON Schema lives.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "apps" / "app-model.schema.json"


def schema_json() -> str:
    """The JSON Schema of the format, as committed in ``fixtures/apps/app-model.schema.json``."""
    schema = AppModel.model_json_schema(by_alias=True)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(schema_json(), encoding="utf-8")


if __name__ == "__main__":  # python -m harness.apps.schema [--write]
    if sys.argv[1:] == ["--write"]:
        write_schema()
    else:
        sys.stdout.write(schema_json())
