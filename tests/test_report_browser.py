"""The HTML report of a real run on the virtual devices, rendered by Debian's chromium headless.

One ``bgtest run --report DIR`` (a failing Android scenario that moves every state lane, a
retrying task, an iOS Low Power Mode scenario), then chromium loads ``DIR/index.html`` from
disk: the DOM after its scripts ran must hold the lanes, the runs as bars, the shaded failing
window and links to the artifacts; a screenshot must come out. Without chromium the test is
skipped, unless ``BGTEST_REQUIRE_CHROMIUM`` is set (CI installs chromium and sets it).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.devices.adb_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("BGTEST_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here (BGTEST_REQUIRE_CHROMIUM): apt-get install -y chromium")
        pytest.skip("no chromium (Debian: apt-get install -y chromium)")
    return found


def _headless(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


class _Dom(HTMLParser):
    """Elements as (tag, attributes), in document order; enough to ask what the page holds."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def having(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag
            and all(re.search(rf"(^|\s){v}($|\s)", a.get(k.rstrip("_"), "")) for k, v in attrs.items())
        ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(free_port()))  # never the user's adb server
    proc = subprocess.run(
        [
            sys.executable, "-m", "harness.cli", "run",
            "tests/report_scenarios/doze_saver_fails.yaml",
            "scenarios/retry_backoff.yaml",
            "scenarios/ios_low_power.yaml",
            "--report", str(out), "-q",
        ],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the first scenario fails on purpose
    assert (out / "index.html").exists()
    return out


@pytest.fixture(scope="module")
def dom(report: Path) -> _Dom:
    chromium = _chromium()
    proc = _headless(chromium, "--dump-dom", (report / "index.html").as_uri())
    assert proc.returncode == 0, proc.stderr
    parsed = _Dom()
    parsed.feed(proc.stdout)
    return parsed


def test_the_page_ran_its_script_in_the_browser(dom: _Dom) -> None:
    [root] = dom.having("html")
    assert root.get("data-tips") == "ready"
    assert len(dom.having("svg", class_="timeline")) == 3


def test_the_failing_scenario_has_every_state_lane(dom: _Dom) -> None:
    lanes = {a["data-lane"] for a in dom.having("g", class_="lane")}
    for lane in ("screen", "doze_deep", "doze_light", "battery_level", "plugged", "saver", "network",
                 "process", "bucket", "task:periodic-sync", "task:flaky"):  # fmt: skip
        assert lane in lanes, f"no {lane} lane in {sorted(lanes)}"
    values = {a.get("data-value") for a in dom.having("rect", class_="span")}
    assert {"IDLE", "on", "stopped", "running"} <= values  # deep Doze, saver on, the force-stop


def test_runs_are_bars_coloured_by_outcome_with_retry_and_enqueue_marks(dom: _Dom) -> None:
    outcomes = [a["data-outcome"] for a in dom.having("rect", class_="run")]
    assert "succeeded" in outcomes and "retried" in outcomes
    assert "interrupted" in outcomes  # the sync that the force-stop ended
    assert dom.having("path", class_="retried") and dom.having("path", class_="enqueued")
    tips = [a["data-tip"] for a in dom.having("rect", class_="run")]
    assert any("Worker result" in tip for tip in tips)  # hover shows the log line


def test_the_failing_window_is_shaded_and_artifacts_are_linked(dom: _Dom, report: Path) -> None:
    [window] = dom.having("rect", class_="failing-window")
    assert float(window["width"]) > 100  # two hours of a five-hour scenario
    links = [a["href"] for a in dom.having("a") if not a["href"].startswith("#")]
    assert any(link.endswith("journal.txt") for link in links)
    assert any(link.endswith("failing-window.txt") for link in links)
    for link in links:
        assert (report / link).is_file(), link  # relative to the report, so the folder can move
    assert dom.having("section", class_="failed") and dom.having("section", class_="passed")


def test_a_screenshot_of_the_report(report: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    shot = tmp_path / "report.png"
    proc = _headless(
        chromium, "--window-size=1280,2400", f"--screenshot={shot}", (report / "index.html").as_uri()
    )
    assert proc.returncode == 0, proc.stderr
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2400) and len(data) > 50_000  # a drawn page, not a blank one
