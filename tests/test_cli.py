"""The ``bgtest`` command's own surface: help, version, usage errors, completion, colour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from harness import __version__
from harness.cli import _register, app
from harness.cli_options import chosen_color

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _cli() -> None:
    _register()


def _commands() -> list[list[str]]:
    return [
        ["run"], ["validate"], ["schema"], ["new"], ["devices"], ["sim"], ["sim", "android"], ["sim", "ios"]
    ]


def test_version() -> None:
    for flag in ("--version", "-V"):
        res = runner.invoke(app, [flag])
        assert res.exit_code == 0 and res.output.strip() == f"bgtest {__version__}"


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_help_is_clean_and_fits_80_columns(command: list[str]) -> None:
    res = runner.invoke(app, [*command, "-h"], env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0, res.output
    text = res.output
    assert text.startswith("Usage: ")
    for leftover in ("<bool>", "<str>", "<int>", "<path>", "list[", "{paths}", "<list"):
        assert leftover not in text, (leftover, text)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert runner.invoke(app, [*command, "--help"]).output == text


def test_top_level_help_offers_completion() -> None:
    text = runner.invoke(app, ["-h"]).output
    assert "--install-completion" in text and "--version" in text and "--no-color" in text


def test_run_usage_is_named_by_metavar() -> None:
    text = runner.invoke(app, ["run", "-h"], terminal_width=80).output
    assert "Usage: bgtest run [OPTIONS] PATH..." in text
    assert "--device SERIAL" in text and "-k EXPR" in text and "--platform android|ios" in text
    assert "tags" in text  # -k matches tags, and says so


def _bgtest(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, stdin=subprocess.DEVNULL,
    )


def test_unknown_platform_is_a_usage_error_exit_2() -> None:
    proc = _bgtest("run", "scenarios/", "--platform", "windows")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "'windows' is not one of 'android', 'ios'" in proc.stderr
    assert "pytest" not in proc.stdout + proc.stderr and "inifile" not in proc.stderr


def test_a_bad_k_expression_is_a_usage_error_exit_2() -> None:
    proc = _bgtest("run", "scenarios/", "-k", "doze and (")
    assert proc.returncode == 2
    assert proc.stderr.startswith("bgtest: -k 'doze and (': not a valid expression")


def test_k_matching_nothing_exits_2_before_touching_a_device() -> None:
    proc = _bgtest("run", "scenarios/", "-k", "no_such_tag_anywhere", "--no-embedded")
    assert proc.returncode == 2 and "nothing matched" in proc.stderr


def test_validate_honours_no_color() -> None:
    bad = str(ROOT / "tests" / "scenario_corpus" / "bad_doze_mode.yaml")
    colored = runner.invoke(app, ["validate", "--color", bad])
    assert "\x1b[31m" in colored.output
    plain = runner.invoke(app, ["validate", bad], env={"NO_COLOR": "1"})
    assert plain.exit_code == 2 and "\x1b[" not in plain.output


def test_global_no_color_is_passed_down_not_written_into_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    bad = str(ROOT / "tests" / "scenario_corpus" / "bad_doze_mode.yaml")
    res = runner.invoke(app, ["--no-color", "validate", bad])
    assert res.exit_code == 2 and "\x1b[" not in res.output
    assert "NO_COLOR" not in os.environ  # the next command in this process still colours
    # the click Typer runs commands on (its own copy in Typer 0.2x): the one chosen_color must ask
    group = typer.Context(TyperGroup(name="bgtest"))
    group.color = False  # what `bgtest --no-color` leaves for its command
    with typer.Context(TyperCommand("validate"), parent=group):
        assert chosen_color(None) is False and chosen_color(True) is True
    assert chosen_color(None) is None  # no command running: NO_COLOR and the terminal decide


def test_validate_a_folder_skips_app_models() -> None:
    res = runner.invoke(app, ["validate", "scenarios", "fixtures"])
    assert res.exit_code == 0, res.output
    files = [*Path("scenarios").rglob("*.yaml"), *Path("fixtures").rglob("*.yaml")]
    scenarios = [f for f in files if "steps" in (yaml.safe_load(f.read_text()) or {})]
    assert f"{len(scenarios)} scenarios OK ({len(files)} files)" in res.output
    only_models = runner.invoke(app, ["validate", "fixtures/apps"])
    assert only_models.exit_code == 2 and "app models" in only_models.output


def test_validate_an_app_model_by_name_says_what_it_is() -> None:
    res = runner.invoke(app, ["validate", "--no-color", "fixtures/apps/nwm_demo.yaml"])
    assert res.exit_code == 2 and "this is an app model (fixtures/apps/), not a scenario" in res.output


def test_shell_completion_completes_commands_and_options() -> None:
    def complete(words: str) -> list[str]:
        env = dict(os.environ, _BGTEST_COMPLETE="complete_bash", COMP_WORDS=words,
                   COMP_CWORD=str(len(words.split()) - 1))
        proc = subprocess.run([sys.executable, "-m", "harness.cli"], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=60)
        return proc.stdout.split()

    assert complete("bgtest ru") == ["run"]
    assert complete("bgtest run --pla") == ["--platform"]
