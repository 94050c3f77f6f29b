"""The JSON Schema gives the verdict bgtest gives, whether the editor reads YAML 1.1 or 1.2.

VS Code's YAML extension (and PyYAML) read YAML 1.1, where ``doze: off`` is ``false``; bgtest
and ruamel.yaml read YAML 1.2, where it is the text "off". Every scenario bgtest accepts must
pass the schema under both readers, and what the schema can see to be wrong must fail under both.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_text
from harness.scenario.schema import build_schema

jsonschema = pytest.importorskip("jsonschema")
ruamel_yaml = pytest.importorskip("ruamel.yaml")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "scenario_corpus"


def _yaml11(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _yaml12(text: str) -> list[Any]:
    reader = ruamel_yaml.YAML(typ="safe", pure=True)  # YAML 1.2 unless a %YAML directive says otherwise
    return [d for d in reader.load_all(io.StringIO(text)) if d is not None]


READERS = {"yaml1.1": _yaml11, "yaml1.2": _yaml12}


def _errors(doc: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(build_schema())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def _readme_blocks() -> list[tuple[str, str]]:
    """The scenario examples in README.md and docs/*.md (```yaml blocks with a name: and steps:)."""
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)):
            if re.search(r"^name:", block, re.M) and re.search(r"^steps:", block, re.M):
                found.append((f"{doc.name}#{i}", block))
    return found


def _starter(tmp: Path) -> str:
    from typer.testing import CliRunner

    from harness.cli import _register, app

    _register()
    out = tmp / "starter.yaml"
    assert CliRunner().invoke(app, ["new", "upload survives doze", "-o", str(out)]).exit_code == 0
    return out.read_text()


SCENARIOS = ROOT / "scenarios" / "x.yaml"
EXAMPLES = ROOT / "tests" / "scenario_examples"
ACCEPTED = [
    *[(p.name, p.read_text(), p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))],
    *[(p.name, p.read_text(), p) for p in sorted(EXAMPLES.glob("*.yaml"))],
    *[(name, text, SCENARIOS) for name, text in _readme_blocks()],
    ("doze false", "name: x\nsteps:\n  - doze: false\n  - doze: {mode: off}\n  - screen: on\n", SCENARIOS),
]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("name", "text", "path"), ACCEPTED, ids=[n for n, _, _ in ACCEPTED])
def test_what_bgtest_accepts_passes_the_schema(name: str, text: str, path: Path, reader: str) -> None:
    load_text(text, str(path), base_dir=path.parent)  # bgtest accepts it (raises otherwise)
    docs = READERS[reader](text)
    assert docs and all(not _errors(doc) for doc in docs), [_errors(d) for d in docs]


@pytest.mark.parametrize("reader", READERS)
def test_the_new_starter_passes_the_schema(tmp_path: Path, reader: str) -> None:
    text = _starter(tmp_path)
    assert "doze: off" in text
    for doc in READERS[reader](text):
        assert not _errors(doc)


REJECTED = [
    ("doze on", "name: x\nsteps:\n  - doze: on\n"),
    ("doze yes", "name: x\nsteps:\n  - doze: deeep\n"),
    *[
        (p.stem, p.read_text())
        for p in sorted(CORPUS.glob("*.yaml"))
        if p.stem
        in {
            "unknown_top_field", "unknown_action_bare", "unknown_action_mapping", "bad_doze_mode",
            "bad_duration_wait", "unknown_expect_field", "two_actions_one_step", "bad_task_state",
            "shell_string", "bad_count", "bad_latency", "wrong_type_tags", "unknown_platform",
            "bad_standby_bucket", "screen_not_onoff", "bad_network_preset",
        }
    ],
]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("name", "text"), REJECTED, ids=[n for n, _ in REJECTED])
def test_what_the_schema_can_see_is_wrong_fails_under_both_readers(name: str, text: str, reader: str) -> None:
    with pytest.raises(ScenarioError):
        load_text(text, str(CORPUS / "x.yaml"))
    assert any(_errors(doc) for doc in READERS[reader](text))
