"""Secrets never reach a report by the names bgtest gives things (found from outside).

A scenario named with a secret var (`name: sync as ${api_token}`) leaked it through the JUnit
`name` attribute (pytest's junitxml writes the item name as it is) and, lower-cased, through
its report folder's name (`001-sync-as-tk-supersecret-42-android`: the masking of the report's
text matches the value as written); `capture: {name: "j-${api_token}"}` leaked it through
the artifact's file name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "tk-SUPERSECRET-42"
SCENARIO = """\
name: sync as ${api_token}
app: {model: nwm_demo}
vars:
  api_token: "${env:API_TOKEN}"
steps:
  - capture: {what: journal, name: "j-${api_token}"}
  - capture: {what: journal, name: before.txt}
  - expect: {tag: NoSuchTag, within: 1s}
"""


def test_a_secret_in_a_scenario_or_capture_name_reaches_no_file_name_and_no_junit(tmp_path: Path) -> None:
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()), API_TOKEN=SECRET)
    report, junit = tmp_path / "report", tmp_path / "junit.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "s.yaml", "--platform", "android",
         "--report", str(report), "--junit", str(junit)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    names = [str(p.relative_to(report)) for p in report.rglob("*")]
    assert any(n.endswith(".txt") and "/j-" in n for n in names), names  # the capture was saved
    assert any(n.endswith("/before.txt") for n in names), names  # its own suffix, not .txt.txt
    leaks = [n for n in names if SECRET.lower() in n.lower()]
    leaks += [str(p) for p in [junit, *report.rglob("*")] if p.is_file() and SECRET.lower().encode()
              in p.read_bytes().lower()]
    assert leaks == [] and SECRET not in proc.stdout + proc.stderr
    assert 'name="sync as [REDACTED][android]"' in junit.read_text()


def test_a_worker_relays_no_secret_to_the_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """In lanes a worker's step lines reach ``bgtest run``'s screen over the relay, and the
    controller, which loaded no scenario, cannot mask what it was not told: the worker sends
    them masked, the scenario's name (its block's header) included."""
    from harness.report import redaction
    from harness.report.relay import Relay
    from harness.result import StepResult

    sent: list[object] = []
    monkeypatch.setattr(redaction, "_active", redaction.Redactor(secrets=[SECRET]))
    relay = Relay(SimpleNamespace(send=sent.append))
    scenario = SimpleNamespace(name=f"sync as {SECRET}")
    observer = relay.observer(scenario, "android")
    step = StepResult(index=0, phase="steps", kind="expect", summary=f"expect {SECRET}", location="s.yaml:5",
                      message=f"no {SECRET}", state={"note": SECRET})  # fmt: skip
    observer.on_step(step)
    observer.on_step_done(step)
    observer.on_note(f"state {SECRET}")
    relay.end(scenario, "android")
    assert len(sent) == 4 and SECRET not in repr(sent), sent
