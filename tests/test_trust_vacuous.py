"""An expect whose count decides nothing is refused: `count: ">= 0"` passes on an empty log.

Found from outside: `{task: upload, state: succeeded, count: ">= 0"}` (the typo of ">= 1")
validated and passed with no upload in the log at all; `count: "< 0"` failed every run.
"""

from __future__ import annotations

import pytest

from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_text


def problems(step: str) -> list[str]:
    try:
        load_text(f"name: x\nsteps:\n  - {step}\n", file="s.yaml")
    except ScenarioError as exc:
        return [f"{d.line}:{d.col}: {d.message}" for d in exc.diagnostics]
    return []


@pytest.mark.parametrize(
    ("step", "where", "verdict"),
    [
        ('expect: {task: up, state: succeeded, count: ">= 0"}', "3:13", "count >= 0 holds whatever the log "
         "shows: this expect would always pass"),
        ('expect: {task: up, state: succeeded, count: "< 0", within: 1h}', "3:13",
         "count < 0 can never hold: "
         "this expect would always fail"),
        ('wait: {until: {task: up, state: succeeded, count: ">=0"}, timeout: 1h}', "3:19", "count >= 0 holds "
         "whatever the log shows: this expect would always pass"),
    ],
)
def test_a_count_that_cannot_decide_is_an_error_at_its_step(step: str, where: str, verdict: str) -> None:
    assert problems(step) == [f'{where}: {verdict}; write ">= 1" for at least once, or "0" for never']


@pytest.mark.parametrize("count", ['"0"', '"> 0"', '"<= 0"', '"!= 0"', '">= 1"', "1", '"< 1"'])
def test_a_count_the_log_decides_is_accepted(count: str) -> None:
    assert problems(f"expect: {{task: up, state: succeeded, count: {count}}}") == []


@pytest.mark.parametrize(
    ("step", "where", "field"),
    [
        ('expect: {task: "${env:QA_UNSET:-}", state: started, never: true, within: 1h}', "3:20", "task"),
        ('expect: {tag: "", never: true, within: 1h}', "3:19", "tag"),
        ('expect: {in_order: [{task: "", state: started}], within: 1m}', "3:32", "task"),
    ],
)
def test_an_empty_name_to_match_is_an_error(step: str, where: str, field: str) -> None:
    """`task: "${env:TASK:-}"` with TASK unset named nothing, and a `never` on it always passed."""
    assert problems(step) == [f"{where}: '{field}' must not be empty"]
