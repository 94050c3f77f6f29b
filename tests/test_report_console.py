"""The run summary fits the terminal it is drawn for, and says what a reader needs."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len

from harness.report.console import WIDE, summary_text, totals_line, use_color


def _result(name: str, status: str = "passed", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "file": "/somewhere/far/away/from/the/working/folder/scenarios/a_rather_long_file_name.yaml",
        "line": 12,
        "platform": "android",
        "device": {"serial": "127.0.0.1:45105", "virtual": "yes"},
        "status": status,
        "failure": "",
        "wall_s": 0.25,
        "device_start_ms": 0,
        "device_end_ms": 6 * 3600 * 1000,
        "tasks": {
            "periodic-sync": {
                "task": "periodic-sync",
                "last_state": "succeeded",
                "why": "enqueued ×3, started ×6, succeeded ×2",
            },
            "a-task-with-a-really-long-unique-work-name-that-goes-on": {
                "task": "a-task-with-a-really-long-unique-work-name-that-goes-on",
                "last_state": "failed",
                "why": "enqueued ×100, started ×100, retried ×7, succeeded ×93, failed ×7",
            },
        },
        "restored": ["battery reset", "doze unforced", "network wifi on, airplane off"],
        "artifacts": "",
    }
    base.update(extra)
    return base


RESULTS = [
    _result("one-time upload waits for the network and runs after airplane mode ends, " * 2),
    _result(
        "a scenario that failed",
        "failed",
        failure="scenarios/x.yaml:6: expect upload succeeded within 10m\n"
        "  closest records:\n    " + "01-05 10:00:00.000  1234  1250 I WM-WorkerWrapper: " + "x" * 200,
        artifacts="bgtest-report/002-a-scenario-that-failed-android",
    ),
    _result(
        "an iOS scenario for a real device",
        "skipped",
        failure="ios-device: this scenario needs BGTaskScheduler working; the virtual iPhone is a simulator",
        device={"serial": "B7F3-UDID", "virtual": "yes"},
        tasks={},
    ),
]


@pytest.mark.parametrize("width", [80, 120])
def test_no_summary_line_is_longer_than_the_width(width: int) -> None:
    text = summary_text(RESULTS, width=width)
    too_long = [line for line in text.splitlines() if cell_len(line) > width]
    assert not too_long, "\n".join(too_long)


def test_narrow_terminals_get_the_compact_layout_and_wide_ones_tables() -> None:
    narrow = summary_text(RESULTS, width=80)
    wide = summary_text(RESULTS, width=120)
    assert 80 < WIDE <= 120
    assert "last state" not in narrow and "last state" in wide  # the task table's header
    for text in (narrow, wide):
        assert "PASSED" in text and "FAILED" in text and "SKIPPED" in text
        assert "skipped: ios-device: this scenario needs BGTaskScheduler" in text.replace("\n", " ")
        assert "artifacts: bgtest-report/002-a-scenario-that-failed-android" in text
        assert "succeeded ×93" in text
    assert "enqueued ×3, started ×6," in narrow


def test_a_device_shared_by_all_scenarios_is_named_once() -> None:
    same = [_result("a"), _result("b")]
    text = summary_text(same, width=80)
    assert text.startswith("scenarios on 127.0.0.1:45105 (virtual)")
    assert text.count("127.0.0.1:45105") == 1


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in summary_text(RESULTS, width=80, color=False)
    assert "\x1b[32mPASSED" in summary_text(RESULTS, width=80, color=True)


def test_no_color_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(None, Tty()) is True  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(None, Tty()) is False  # type: ignore[arg-type]
    assert use_color(True, Tty()) is True  # type: ignore[arg-type]


def test_totals_line_reads_like_pytests() -> None:
    assert totals_line(RESULTS, 6.49).plain == "1 passed, 1 failed, 1 skipped in 6.49s"


def test_the_same_error_for_many_scenarios_is_told_once() -> None:
    gone = "<R58M123ABC> is not attached to the adb server"
    results = [_result(f"scenario {i}", "error", failure=gone, tasks={}, restored=[]) for i in range(3)]
    text = summary_text(results, width=80)
    assert text.count(gone) == 1 and "and 2 more the same way: scenario 1, scenario 2" in text
