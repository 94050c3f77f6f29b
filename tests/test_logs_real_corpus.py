"""`bgtest logs` reads exactly the task events a careful human reads in real pasted logs.

The ground truth is tests/real_logs/corpus.yaml (31 verbatim excerpts from public issues, with
the reading rules in its README). For every excerpt the command's `--json` output must list
the expected events -- no more, no fewer -- on the expected lines, under the expected best name,
with every id printed on that line among the ids it links, and no id that the file does not
print. The format detected must be the one the corpus names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import _register, app
from harness.logs.formats import sniff
from harness.logs.timeline import read_timeline

CORPUS_DIR = Path(__file__).parent / "real_logs"
EXCERPTS: list[dict[str, Any]] = yaml.safe_load((CORPUS_DIR / "corpus.yaml").read_text(encoding="utf-8"))[
    "excerpts"]
#: The corpus's format names -> the names `bgtest logs` prints.
FORMAT_NAMES = {"xcode-console-stripped": "message-only"}
#: Excerpts with no header at all: only the person knows the platform (`--platform`).
HEADERLESS = {e["id"] for e in EXCERPTS if e["format"] == "xcode-console-stripped"}

_register()
runner = CliRunner()


def _run(excerpt: dict[str, Any]) -> list[dict[str, Any]]:
    args = ["logs", "--json", "--platform", excerpt["platform"], str(CORPUS_DIR / excerpt["file"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: e["id"])
def test_bgtest_logs_reads_what_a_human_reads(excerpt: dict[str, Any]) -> None:
    got = _run(excerpt)
    want = [(e["line"], e["event"], e["task"]) for e in excerpt["expected"]]
    assert [(g["line"], g["event"], g["task"]) for g in got] == want
    text = (CORPUS_DIR / excerpt["file"]).read_text(encoding="utf-8")
    for g, e in zip(got, excerpt["expected"], strict=True):
        assert {str(i) for i in e["ids"]} <= set(g["ids"]), (g, e)
        assert all(i in text for i in g["ids"]), f"an id the file does not print: {g['ids']}"
        assert g["file"].endswith(excerpt["file"])


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: e["id"])
def test_ids_printed_on_the_line_are_exactly_the_corpus_ids(excerpt: dict[str, Any]) -> None:
    timeline = read_timeline(CORPUS_DIR / excerpt["file"], platform=excerpt["platform"])
    assert [sorted(ev.line_ids) for ev in timeline.events] == [
        sorted(str(i) for i in e["ids"]) for e in excerpt["expected"]]


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: e["id"])
def test_format_is_detected_per_file(excerpt: dict[str, Any]) -> None:
    platform = excerpt["platform"] if excerpt["id"] in HEADERLESS else None
    _data, fmt, plat = sniff(CORPUS_DIR / excerpt["file"], platform)
    assert fmt == FORMAT_NAMES.get(excerpt["format"], excerpt["format"])
    assert plat == excerpt["platform"]


def test_the_library_option_reads_only_that_library() -> None:
    excerpt = next(e for e in EXCERPTS if e["id"] == "fwm511-xcode-plain-submitted")
    path = str(CORPUS_DIR / excerpt["file"])
    # flutter_workmanager's own line: read with its vocabulary, not with the bare framework's
    ok = runner.invoke(app, ["logs", "--json", "-p", "ios", "--library", "flutter_workmanager", path])
    assert [json.loads(x)["task"] for x in ok.stdout.splitlines() if x.startswith("{")] == ["dailyReminder"]
    bare = runner.invoke(app, ["logs", "--json", "-p", "ios", "--library", "bgtaskscheduler", path])
    assert not [x for x in bare.stdout.splitlines() if x.startswith("{")]
