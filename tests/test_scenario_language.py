"""The scenario language: the broken-scenario corpus, round trips, models, locations, CLI, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.actions.power import Doze
from harness.actions.registry import ACTIONS, render_markdown_table
from harness.cli import _register, app
from harness.scenario import models as m
from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_file, load_paths, load_text
from harness.scenario.schema import SCHEMA_FILE, build_schema

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "scenario_corpus"
EXAMPLES = ROOT / "tests" / "scenario_examples"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())
BASE = "name: t\napp: {package: com.example.app, library: androidx.work}\n"


def test_corpus_is_complete() -> None:
    files = {p.stem for p in CORPUS.glob("*.yaml")} - {"expected"}
    assert len(files) >= 40
    assert files == set(EXPECTED), "every corpus file needs an expected entry and vice versa"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_error_points_at_the_defect(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BGTEST_CORPUS_UNSET_VAR", raising=False)
    want = EXPECTED[name]
    with pytest.raises(ScenarioError) as info:
        load_file(CORPUS / f"{name}.yaml")
    diags = info.value.diagnostics
    where = want.get("file", f"{name}.yaml")
    hits = [d for d in diags if Path(d.file).name == where and want["message"] in d.message]
    assert hits, f"no diagnostic with {want['message']!r}; got {[str(d.message) for d in diags]}"
    d = hits[0]
    assert (d.line, d.col) == (want["line"], want["col"])
    if "hint" in want:
        assert d.hint and want["hint"] in d.hint
    text = info.value.render()
    assert f"{d.file}:{d.line}:{d.col}: " in text and "^" in text  # header, source line and caret


def test_all_errors_of_a_file_are_reported() -> None:
    text = BASE + "steps:\n  - doze: deeep\n  - wait: 2x\n  - stopapp\n  - expect: {task: a, withn: 1h}\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, "many.yaml")
    lines = sorted(d.line for d in info.value.diagnostics)
    assert lines == [4, 5, 6, 7]


def test_rendering_has_caret_under_the_value_and_hint() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(BASE + "steps:\n  - doze: deeep\n", "r.yaml")
    assert str(info.value).splitlines() == [
        "r.yaml:4:11: the text 'deeep' is not a valid mode",
        "    4 |   - doze: deeep",
        "      |           ^^^^^",
        "hint: did you mean 'deep'? allowed: deep, light, off, step",
    ]


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for d in (EXAMPLES, ROOT / "scenarios")
        if d.is_dir()
        for p in d.rglob("*.y*ml")
        if "shared" not in p.parts
    ),
    ids=lambda p: p.name,
)
def test_bundled_and_example_scenarios_validate(path: Path) -> None:
    scenarios = load_file(path)
    assert scenarios
    for s in scenarios:
        assert s.location is not None and s.location.file == str(path)
        for step in s.all_steps():
            assert step.location is not None and step.location.line >= 1


def test_compact_forms_and_typed_parameters() -> None:
    text = (
        BASE
        + """steps:
  - stop_app
  - doze: deep
  - wait: 2h
  - battery_saver: on
  - network: offline
  - screen: off
  - expect: sync succeeded
  - expect: {task: "load-*", state: succeeded, success_rate: ">= 95%"}
  - expect: {task: "load-*", latency: "<= 30s"}
  - expect: {task: "load-*", state: succeeded, count: ">= 3"}
  - wait: {until: {task: sync, state: succeeded}, timeout: 1h}
"""
    )
    (s,) = load_text(text, "c.yaml")
    kinds = [st.kind for st in s.steps]
    assert kinds == [
        "stop_app",
        "doze",
        "wait",
        "battery_saver",
        "network",
        "screen",
        "expect",
        "expect",
        "expect",
        "expect",
        "wait",
    ]
    doze, wait, saver, net, screen, ev, rate, latency, count, until = s.steps[1:]
    assert isinstance(doze, Doze) and doze.mode == "deep"
    assert wait.duration == 7_200_000
    assert saver.enabled is True and screen.on is False
    assert (net.wifi, net.data, net.airplane) == (False, False, None)
    assert (ev.task, ev.state) == ("sync", "succeeded")
    assert rate.success_rate.ok(0.96) and not rate.success_rate.ok(0.9)
    assert latency.latency.ok(30_000) and not latency.latency.ok(30_001)
    assert count.count.ok(3) and not count.count.ok(2)
    assert until.until is not None and until.until.task == "sync" and until.timeout == 3_600_000
    assert (doze.location.line, doze.location.col) == (5, 5)
    mode = doze.field_location("mode")  # the compact value itself (`doze: deep`), for carets
    assert mode is not None and (mode.line, mode.col) == (5, 11)
    assert doze.field_location("label") == doze.location  # not written: the step


def test_defaults_include_and_vars(tmp_path: Path) -> None:
    (tmp_path / "night.yaml").write_text("- doze: deep\n- wait: ${night}\n")
    f = tmp_path / "s.yaml"
    f.write_text(
        "defaults:\n  app: {package: com.example.app, library: androidx.work}\n  vars: {night: 6h}\n"
        "---\nname: a\nvars: {n: 2}\nsteps:\n  - include: night.yaml\n"
        '  - expect: {task: t, state: succeeded, count: "${n}"}\n  - open_url: "${env:BG_URL}"\n'
        "---\nname: b\nsteps: [launch]\n"
    )
    a, b = load_file(f, env={"BG_URL": "app://x"})
    assert [st.kind for st in a.steps] == ["doze", "wait", "expect", "open_url"]
    assert a.steps[1].duration == 6 * 3_600_000
    assert a.steps[1].location.file == str(tmp_path / "night.yaml") and a.steps[1].location.line == 2
    assert a.steps[2].count.ok(2) and a.steps[3].url == "app://x"
    assert b.app is not None and b.app.package == "com.example.app"


def test_app_model_resolved_upward(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "apps").mkdir(parents=True)
    (tmp_path / "fixtures" / "apps" / "demo.yaml").write_text(
        "package: dev.demo\nlibrary: native_workmanager\nios: {bundle_id: dev.Demo}\n"
    )
    (tmp_path / "scenarios").mkdir()
    f = tmp_path / "scenarios" / "s.yaml"
    f.write_text("name: a\nplatforms: [android, ios]\napp: {model: demo}\nsteps: [launch]\n")
    (s,) = load_file(f)
    assert s.app.model_path == tmp_path / "fixtures" / "apps" / "demo.yaml"
    assert (s.app.package, s.app.bundle_id, s.app.library) == ("dev.demo", "dev.Demo", "native_workmanager")


def test_every_action_has_a_model_and_a_row() -> None:
    assert set(ACTIONS) == set(m.STEP_MODELS)


def test_schema_committed_copy_is_fresh() -> None:
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == build_schema(), "run: bgtest schema -o harness/scenario/scenario.schema.json"


def test_docs_embed_the_generated_platform_table() -> None:
    doc = (ROOT / "docs" / "scenario-language.md").read_text()
    assert render_markdown_table() in doc, "regenerate the table in docs/scenario-language.md"


runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _cli() -> None:
    _register()


def test_cli_validate_ok_and_invalid() -> None:
    ok = runner.invoke(app, ["validate", str(EXAMPLES)])
    assert ok.exit_code == 0 and "scenarios OK" in ok.output
    bad = runner.invoke(app, ["validate", str(CORPUS / "bad_doze_mode.yaml"), "--no-color"])
    assert bad.exit_code == 2
    assert "bad_doze_mode.yaml:4:11: the text 'deeep' is not a valid mode" in bad.output
    assert "Traceback" not in bad.output
    missing = runner.invoke(app, ["validate", "/nonexistent/x.yaml"])
    assert missing.exit_code == 2 and "cannot read scenario file" in missing.output


def test_cli_new_writes_a_valid_starter(tmp_path: Path) -> None:
    out = tmp_path / "starter.yaml"
    res = runner.invoke(app, ["new", "Nightly sync", "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    (s,) = load_file(out)
    assert s.name == "Nightly sync"
    again = runner.invoke(app, ["new", "Nightly sync", "-o", str(out)])
    assert again.exit_code == 2


def test_cli_schema_output(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert runner.invoke(app, ["schema", "--output", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == build_schema()


def test_load_paths_skips_step_lists_in_folders() -> None:
    result = load_paths([EXAMPLES])
    assert result.ok and len(result.scenarios) == 6


def _schema_validator():  # type: ignore[no-untyped-def]
    jsonschema = pytest.importorskip("jsonschema")
    schema = build_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _documents(path: Path) -> list[object]:
    from harness.scenario.yamlmarks import load_documents, to_plain

    return [to_plain(d.root) for d in load_documents(path.read_bytes(), str(path)) if d.root is not None]


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_schema_accepts_what_the_loader_accepts(path: Path) -> None:
    validator = _schema_validator()
    for doc in _documents(path):
        assert not [e.message for e in validator.iter_errors(doc)]


@pytest.mark.parametrize(
    "name",
    [
        "unknown_top_field",
        "unknown_action_bare",
        "unknown_action_mapping",
        "bad_doze_mode",
        "bad_duration_wait",
        "unknown_expect_field",
        "two_actions_one_step",
        "bad_task_state",
        "shell_string",
        "bad_count",
        "bad_latency",
        "wrong_type_tags",
        "unknown_platform",
        "bad_standby_bucket",
    ],
)
def test_schema_flags_what_an_editor_can_see(name: str) -> None:
    validator = _schema_validator()
    assert any(list(validator.iter_errors(doc)) for doc in _documents(CORPUS / f"{name}.yaml"))


def test_env_defaults_escapes_and_single_word_lists() -> None:
    text = (
        "name: t\nplatforms: android\ntags: nightly\n"
        "app: {package: com.example.app, library: androidx.work}\n"
        'vars: {mode: "${env:BG_MODE:-fast}"}\n'
        'steps:\n  - open_url: "app://x/${mode}/$${literal}"\n'
    )
    (s,) = load_text(text, "e.yaml", env={})
    assert s.platforms == ["android"] and s.tags == ["nightly"]
    assert s.steps[0].url == "app://x/fast/${literal}"
    (s,) = load_text(text, "e.yaml", env={"BG_MODE": "slow"})
    assert s.steps[0].url == "app://x/slow/${literal}"


def test_error_inside_wait_until_points_at_the_nested_field() -> None:
    text = BASE + "steps:\n  - wait:\n      until: {task: a, state: finished}\n      timeout: 1h\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, "w.yaml")
    (d,) = info.value.diagnostics
    assert (d.line, d.col) == (5, 31) and "finished" in d.message


def test_alias_reuse_and_merge_keys() -> None:
    text = BASE + (
        "x-night: &night\n  - doze: deep\n  - wait: 6h\n"  # unknown top-level key: must be reported
    )
    with pytest.raises(ScenarioError) as info:
        load_text(text + "steps: *night\n", "a.yaml")
    assert "unknown field 'x-night'" in info.value.diagnostics[0].message
    ok = BASE + "setup: &night\n  - doze: deep\n  - wait: 6h\nsteps: *night\n"
    (s,) = load_text(ok, "a.yaml")
    assert [st.kind for st in s.steps] == ["doze", "wait"]
    assert s.steps[0].location.line == 4  # the aliased steps point at where they were written


def test_app_model_from_the_repository_fixtures() -> None:
    (s,) = load_file(EXAMPLES / "app_model_ref.yaml", env={})
    assert s.app is not None and s.app.model_path == ROOT / "fixtures" / "apps" / "nwm_demo.yaml"
    assert s.app.package == "dev.brewkits.nwm_demo" and s.app.library == "native_workmanager"
    assert s.app.bundle_id
    assert s.steps[0].url == "nwmdemo://enqueue/upload?build=debug"


def test_cli_validate_empty_folder_and_color(tmp_path: Path) -> None:
    empty = runner.invoke(app, ["validate", str(tmp_path)])
    assert empty.exit_code == 2 and "no scenario files" in empty.output
    colored = runner.invoke(app, ["validate", "--color", str(CORPUS / "bad_doze_mode.yaml")])
    assert colored.exit_code == 2 and "\x1b[31m" in colored.output


def test_a_scalar_document_is_not_a_scenario() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text("just some words\n", "w.yaml")
    assert "not the text 'just some words'" in info.value.diagnostics[0].message


def test_in_order_accepts_task_state_words() -> None:
    text = BASE + "steps:\n  - expect: {in_order: [sync enqueued, sync succeeded, {tag: WM-Processor}]}\n"
    (s,) = load_text(text, "o.yaml")
    first, second, third = s.steps[0].in_order
    assert (first.task, first.state, second.state, third.tag) == (
        "sync",
        "enqueued",
        "succeeded",
        "WM-Processor",
    )
