"""A scenario's artifact folder: what a person needs to see why it failed, with a manifest.

The runner hands the writer the journal and the device; the writer decides what goes where
(the Maestro ``TestDebugReporter`` idea): on success only the journal (when a report folder
was asked for); on failure the journal, the log from a minute before the failing step, every
capture the device offers for a failure (dumpsys, WorkManager diagnostics, a screenshot) and a
``manifest.json`` listing each file or why it is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import BgtestError
from harness.report import redaction
from harness.report.paths import inside
from harness.result import ScenarioResult

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.base import Device, LogReader

NS = 1_000_000


#: Where reports go unless --report / --bgtest-report says otherwise (both routes).
DEFAULT_REPORT_DIR = Path("bgtest-report")


def slug(name: str) -> str:
    """A scenario name as a folder name."""
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(filter(None, keep.split("-")))[:60] or "scenario"


def run_folder(report_dir: Path, number: int, name: str, platform: str) -> Path:
    """``REPORT/001-periodic-sync-survives-forced-doze-android``: the one name of a run's folder.

    ``number`` is the scenario run's place in the whole run (pytest's collection order, which
    every xdist worker shares), so folders stay unique under ``-n`` and sort in run order. The
    name is redacted first: the slug lower-cases it, so a secret in it would escape the masking
    of the report's text (which matches the value as written).
    """
    return report_dir / f"{number:03d}-{slug(redaction.active().text(name))}-{platform}"


class ArtifactWriter:
    """The artifact folder of one scenario run (``directory``, else as :func:`run_folder` names it)."""

    def __init__(self, result: ScenarioResult, directory: Path | None = None) -> None:
        self.result = result
        self.directory = directory

    def folder(self) -> Path:
        result = self.result
        directory = self.directory or run_folder(DEFAULT_REPORT_DIR, 1, result.name, result.platform)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        return directory

    def save(self, name: str, data: bytes) -> Path:
        """A named artifact (``capture``); the name is confined to the folder once more here, and
        redacted (a name built from a secret var must not carry it into the report's listing)."""
        path = inside(self.folder(), redaction.active().text(name))
        path.write_bytes(data)
        return path

    def journal_only(self, journal: LogReader) -> None:
        """A passing run with a report folder: its journal, for the timeline and later questions."""
        if self.directory is None:
            return
        self.result.artifacts = str(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        journal.save(self.directory / "journal.txt")

    def failure_bundle(self, device: Device, app: AppUnderTest, journal: LogReader) -> None:
        """On failure: everything a person needs to see why, and a manifest listing it."""
        directory = self.folder()
        files: dict[str, str] = {}
        journal.save(directory / "journal.txt")
        files["journal.txt"] = "the device log bgtest read, in device time"
        failing = [s for s in self.result.steps if s.status != "passed"]
        if failing:
            step = failing[0]
            window = journal.text(since_ns=(step.device_start_ms - 60_000) * NS)
            (directory / "failing-window.txt").write_text(window)
            files["failing-window.txt"] = f"log from a minute before the failing step ({step.location})"
        for what, name in device.failure_captures():
            if what == "diagnostics" and not app.ident:
                continue
            try:
                (directory / name).write_bytes(device.capture(what, app, journal))
                files[name] = what.replace("_", " ")
            except BgtestError as exc:
                files[name] = f"not captured: {exc.message}"
        manifest = {
            "scenario": self.result.name,
            "location": self.result.location,
            "device": self.result.device,
            "status": self.result.status,
            "failure": self.result.failure,
            "restored": self.result.restored,
            "files": files,
        }
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
        self.result.artifacts = str(directory)
