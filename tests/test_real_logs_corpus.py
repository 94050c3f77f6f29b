"""The corpus of real pasted logs (tests/real_logs) stays consistent with its own data.

The corpus is the ground truth that `bgtest logs` is measured against (the test of the parser
lives with the parser). This file only keeps the manifest honest: every excerpt is listed once,
every expected event points at a line that exists, and the names and ids it claims are really
printed on that line. An expectation that drifts from the data fails here, not in a parser test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS_DIR = Path(__file__).parent / "real_logs"
MANIFEST = CORPUS_DIR / "corpus.yaml"

PLATFORMS = {"android", "ios"}
LIBRARIES = {"androidx.work", "flutter_workmanager", "native_workmanager", "bgtaskscheduler", "other"}
EVENTS = {"enqueued", "started", "succeeded", "failed", "retried", "cancelled"}
EXCERPT_KEYS = {"id", "file", "source", "platform", "library", "format", "notes", "expected"}
OPTIONAL_KEYS = {"expected_other", "links", "stack"}
EVENT_KEYS = {"line", "event", "task", "ids"}


def _load_manifest() -> list[dict[str, Any]]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data["excerpts"]


EXCERPTS = _load_manifest()


def _lines(excerpt: dict[str, Any]) -> list[str]:
    return (CORPUS_DIR / excerpt["file"]).read_text(encoding="utf-8").splitlines()


def _events(excerpt: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(key, event) for key in ("expected", "expected_other") for event in excerpt.get(key) or []]


def test_every_excerpt_is_listed_once_and_every_listed_file_exists() -> None:
    ids = [excerpt["id"] for excerpt in EXCERPTS]
    assert len(ids) == len(set(ids)), "duplicate excerpt ids"
    listed = {excerpt["file"] for excerpt in EXCERPTS}
    on_disk = {path.name for path in CORPUS_DIR.glob("*.log")}
    assert listed == on_disk, f"not on disk: {listed - on_disk}; not in corpus.yaml: {on_disk - listed}"
    for excerpt in EXCERPTS:
        assert excerpt["file"] == f"{excerpt['id']}.log"


def test_the_corpus_is_big_and_varied_enough() -> None:
    assert len(EXCERPTS) >= 30
    assert {excerpt["platform"] for excerpt in EXCERPTS} == PLATFORMS
    assert len({excerpt["format"] for excerpt in EXCERPTS}) >= 10


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda excerpt: excerpt["id"])
def test_excerpt_metadata(excerpt: dict[str, Any]) -> None:
    keys = set(excerpt)
    assert keys >= EXCERPT_KEYS, f"missing {EXCERPT_KEYS - keys}"
    assert keys <= EXCERPT_KEYS | OPTIONAL_KEYS, f"unknown {keys - EXCERPT_KEYS - OPTIONAL_KEYS}"
    assert excerpt["platform"] in PLATFORMS
    assert excerpt["library"] in LIBRARIES
    assert excerpt["format"] and excerpt["notes"]
    source = excerpt["source"]
    assert source["url"].startswith("https://github.com/")
    assert f"github.com/{source['repository']}/" in source["url"]
    assert source["thread"]


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda excerpt: excerpt["id"])
def test_excerpt_file_is_a_plain_text_paste(excerpt: dict[str, Any]) -> None:
    raw = (CORPUS_DIR / excerpt["file"]).read_bytes()
    text = raw.decode("utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n"), "one trailing newline, no padding"
    assert "\r" not in text


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda excerpt: excerpt["id"])
def test_links_name_what_their_lines_print(excerpt: dict[str, Any]) -> None:
    lines = _lines(excerpt)
    for link in excerpt.get("links") or []:
        id_line, name_line = link["lines"]
        assert 1 <= id_line < name_line <= len(lines)
        assert link["id"] in lines[id_line - 1]
        assert link["name"] in lines[name_line - 1]
        assert link["by"] == "start-sequence"


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda excerpt: excerpt["id"])
def test_expected_events_are_evidenced_on_their_line(excerpt: dict[str, Any]) -> None:
    lines = _lines(excerpt)
    linked = {(link["id"], link["name"]) for link in excerpt.get("links") or []}
    for kind in ("expected", "expected_other"):
        numbers = [event["line"] for event in excerpt.get(kind) or []]
        assert numbers == sorted(numbers), f"{kind} not in line order"
    for kind, event in _events(excerpt):
        where = f"{excerpt['id']} {kind} line {event['line']}"
        assert set(event) == EVENT_KEYS, where
        assert event["event"] in EVENTS, where
        assert 1 <= event["line"] <= len(lines), where
        line = lines[event["line"] - 1]
        ids = [str(item) for item in event["ids"]]
        assert ids, where
        for item in ids:
            assert item in line, f"{where}: id {item!r} is not on the line"
        named_here = event["task"] in line
        named_by_link = any((item, event["task"]) in linked for item in ids)
        assert named_here or named_by_link, f"{where}: task {event['task']!r} not on the line nor linked"
