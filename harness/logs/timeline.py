"""The task timeline of captured logs: what `bgtest logs` prints.

Each capture is read in its own format (`formats.read_capture`) and through the same
vocabularies the live engine uses. Names are resolved over the whole capture, the way a reader
does: a WorkSpec UUID printed on a scheduling line is named by the tags or the worker class a
later line ties to it; work that nothing names keeps its UUID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .formats import Capture, read_capture, sniff
from .logcat_parser import Interest
from .vocab import TaskEvent, VocabState, vocabulary_for_log


@dataclass(frozen=True)
class TimelineEvent:
    """One task event of a capture, as `bgtest logs --json` prints it."""

    time: str  # ISO 8601 device time as the capture printed it ("" when it printed none)
    task: str  # the best name
    ids: tuple[str, ...]  # every id linked to the task
    event: str
    file: str
    line: int
    line_ids: tuple[str, ...] = ()  # the ids printed on that line
    text: str = ""

    def as_json(self) -> dict[str, object]:
        return {"time": self.time or None, "task": self.task, "ids": list(self.ids), "event": self.event,
                "file": self.file, "line": self.line}


@dataclass
class CaptureTimeline:
    capture: Capture
    events: list[TimelineEvent] = field(default_factory=list)

    def by_task(self) -> dict[str, list[TimelineEvent]]:
        out: dict[str, list[TimelineEvent]] = {}
        for ev in self.events:
            out.setdefault(ev.task, []).append(ev)
        return out


def read_timeline(path: str | Path, *, library: str | None = None, platform: str | None = None,
                  selective: bool = True) -> CaptureTimeline:
    """Read one capture and name its task events. Raises `formats.UnknownFormat`, `OSError`,
    `VocabularyError` (unknown library)."""
    sniffed = sniff(path, platform)
    vocab = vocabulary_for_log(library, sniffed[2])
    interest = Interest(vocab.tags, tuple(lit.encode() for lit in vocab.literals)) if selective else None
    capture = read_capture(path, interest=interest, sniffed=sniffed)
    state = VocabState([vocab])
    found: list[TaskEvent] = []
    for rec in capture.records:
        found += state.events(rec)
    found += state.release_unlinked()
    found = [ev for ev in found if not ev.prior]  # names are resolved over the whole capture below
    found.sort(key=lambda e: (e.record.seq + e.line, e.time_ns))
    timeline = CaptureTimeline(capture)
    for ev in found:
        line = ev.record.seq + ev.line
        timeline.events.append(TimelineEvent(
            time=capture.times.get(ev.record.seq, ""), task=state.best_name(ev),
            ids=tuple(state.ids_for(ev)), event=ev.state, file=capture.path, line=line,
            line_ids=ev.ids, text=_line_text(ev)))
    return timeline


def _line_text(ev: TaskEvent) -> str:
    lines = ev.record.message.split("\n")
    return lines[ev.line] if ev.line < len(lines) else lines[0]
