"""Vocabularies: which log lines mean that a task was enqueued / started / succeeded / failed /
retried / cancelled, for one library. The knowledge lives in `harness/vocab/*.yaml` (data);
this module compiles it once and applies it.

A rule names where a line comes from (`tag` on Android; `subsystem` or `process` on iOS; or
only a `contains` literal when the process is the app's and unknown in advance), a regex with
named groups, and the event. Task names come from the groups: `task` (the id itself), `tags`
and `names` (comma lists: WorkManager tags, Diagnostics unique names), `uuid` (a WorkSpec id,
resolved to names through *links*). `dedupe: 10s` drops an event when the same task had the
same state within that time (two libraries logging one fact), `dedupe_after: [retried]` also
when it follows one of those states (WorkManager re-schedules a work right after a retry).
Any rule whose match carries a `uuid` together with names is a link; an event that only knows
a UUID is held until a link names it, then re-emitted with its original record and time
(`late=True`), so windows stay right.

Lookup is a dict hit on the record's tag / subsystem / process, then a literal `contains`
check, and only then the regex: most records cost one dict lookup.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.durations import parse_duration_ms

from .record import LogRecord

_RECENT = 64
"""Event times kept per (task, state) for `dedupe`: enough for held events re-emitted late."""
STATES = ("enqueued", "started", "succeeded", "failed", "retried", "cancelled")
VOCAB_DIR = Path(__file__).resolve().parent.parent / "vocab"


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A task changed state, according to one log record."""

    task: str
    state: str
    time_ns: int
    record: LogRecord
    names: frozenset[str] = frozenset()
    uuid: str | None = None
    rule: str = ""
    late: bool = False

    def is_for(self, task: str) -> bool:
        return task == self.task or task in self.names or task == self.uuid


@dataclass(slots=True)
class Rule:
    id: str
    source: str  # vocabulary file stem
    key: str  # "tag" | "subsystem" | "process" | "" (any)
    value: str
    regex: re.Pattern[str]
    contains: str = ""
    event: str | None = None
    state_from: str | None = None
    state_map: dict[str, str] = field(default_factory=dict)
    dedupe_ns: int = 0
    dedupe_after: tuple[str, ...] = ()
    multiline: bool = False
    ignore: re.Pattern[str] | None = None


@dataclass
class Vocabulary:
    """A compiled vocabulary (with its includes). Immutable and shared; state lives in `VocabState`."""

    name: str
    platforms: tuple[str, ...]
    rules: list[Rule]
    by_tag: dict[str, list[Rule]] = field(default_factory=dict)
    by_subsystem: dict[str, list[Rule]] = field(default_factory=dict)
    by_process: dict[str, list[Rule]] = field(default_factory=dict)
    anywhere: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        for rule in self.rules:
            tables = {"tag": self.by_tag, "subsystem": self.by_subsystem, "process": self.by_process}
            table = tables.get(rule.key)
            if table is None:
                self.anywhere.append(rule)
            else:
                table.setdefault(rule.value, []).append(rule)

    @property
    def tags(self) -> frozenset[str]:
        return frozenset(self.by_tag)

    @property
    def literals(self) -> tuple[str, ...]:
        return tuple(r.contains for r in self.anywhere if r.contains)

    def candidates(self, rec: LogRecord) -> list[Rule]:
        found = self.by_tag.get(rec.tag)
        if rec.subsystem and rec.subsystem in self.by_subsystem:
            found = (found or []) + self.by_subsystem[rec.subsystem]
        if rec.process and rec.process in self.by_process:
            found = (found or []) + self.by_process[rec.process]
        if self.anywhere:
            msg = rec.message
            extra = [r for r in self.anywhere if not r.contains or r.contains in msg]
            if extra:
                found = (found or []) + extra
        return found or []


def _compile_rule(doc: dict, source: str, ignore: re.Pattern[str] | None) -> Rule:
    rid = str(doc.get("id") or "?")
    where = f"vocabulary {source}: rule {rid}"
    keys = [k for k in ("tag", "subsystem", "process") if doc.get(k)]
    if len(keys) > 1:
        raise VocabularyError(f"{where}: give one of tag / subsystem / process, not {keys}")
    if not keys and not doc.get("contains"):
        raise VocabularyError(f"{where}: a rule without tag/subsystem/process needs a `contains` literal")
    flags = re.MULTILINE if doc.get("multiline") else 0
    try:
        regex = re.compile(str(doc["regex"]), flags)
    except KeyError:
        raise VocabularyError(f"{where}: missing `regex`") from None
    except re.error as exc:
        raise VocabularyError(f"{where}: bad regex: {exc}") from None
    event = doc.get("event")
    state_map = {str(k): str(v) for k, v in (doc.get("state_map") or {}).items()}
    for state in [event, *state_map.values(), *(doc.get("dedupe_after") or ())]:
        if state is not None and state not in STATES:
            raise VocabularyError(f"{where}: unknown state {state!r}; use one of {', '.join(STATES)}")
    state_from = doc.get("state_from")
    if state_from and state_from not in regex.groupindex:
        raise VocabularyError(f"{where}: state_from names group {state_from!r} that the regex lacks")
    groups = set(regex.groupindex)
    if (event or state_from) and not groups & {"task", "tags", "names", "uuid"}:
        raise VocabularyError(f"{where}: an event rule needs a task, tags, names or uuid group")
    return Rule(
        id=rid, source=source, key=keys[0] if keys else "", value=str(doc.get(keys[0])) if keys else "",
        regex=regex, contains=str(doc.get("contains") or ""), event=event, state_from=state_from,
        state_map=state_map,
        dedupe_ns=parse_duration_ms(doc["dedupe"]) * 1_000_000 if doc.get("dedupe") else 0,
        dedupe_after=tuple(str(x) for x in doc.get("dedupe_after") or ()),
        multiline=bool(doc.get("multiline")), ignore=ignore,
    )


def _load_rules(name: str, directory: Path, seen: tuple[str, ...]) -> tuple[list[Rule], list[str]]:
    if name in seen:
        raise VocabularyError(f"vocabulary include cycle: {' -> '.join((*seen, name))}")
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise VocabularyError(f"unknown vocabulary {name!r}; known: {', '.join(known)}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise VocabularyError(f"vocabulary {name}: {exc}") from None
    rules: list[Rule] = []
    platforms = [str(p) for p in doc.get("platforms") or []]
    own_ignore = [str(p) for p in doc.get("ignore_names") or []]
    for inc in doc.get("include") or []:
        inc_rules, _ = _load_rules(str(inc), directory, (*seen, name))
        rules.extend(inc_rules)
    ignore_parts = own_ignore + [r.ignore.pattern for r in rules if r.ignore is not None]
    ignore = re.compile("|".join(f"(?:{p})" for p in dict.fromkeys(ignore_parts))) if ignore_parts else None
    for r in rules:  # the including library's ignore list applies to included rules too
        r.ignore = ignore
    for item in doc.get("rules") or []:
        rules.append(_compile_rule(item, name, ignore))
    return rules, platforms


@functools.lru_cache(maxsize=64)
def load_vocabulary(name: str, directory: str | None = None) -> Vocabulary:
    """Load and compile `harness/vocab/<name>.yaml` (with includes) once per process."""
    rules, platforms = _load_rules(name, Path(directory) if directory else VOCAB_DIR, ())
    return Vocabulary(name=name, platforms=tuple(platforms), rules=rules)


def available_vocabularies() -> list[str]:
    return sorted(p.stem for p in VOCAB_DIR.glob("*.yaml"))


def _split_names(text: str | None) -> list[str]:
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


class VocabState:
    """Applies one or more vocabularies to one device's records: keeps UUID links, the
    UUID -> JobScheduler job id map, and the recent events used for `dedupe`."""

    def __init__(self, vocabularies: Iterable[Vocabulary]) -> None:
        self.vocabularies = list(vocabularies)
        self.links: dict[str, set[str]] = {}
        self.job_ids: dict[str, int] = {}
        self._unresolved: dict[str, list[tuple[Rule, str, LogRecord]]] = {}
        self._last: dict[tuple[str, str], deque[int]] = {}

    @property
    def tags(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for v in self.vocabularies:
            out |= v.tags
        return out

    @property
    def literals(self) -> tuple[str, ...]:
        return tuple(lit for v in self.vocabularies for lit in v.literals)

    def names_for(self, uuid: str) -> set[str]:
        return self.links.get(uuid, set())

    def job_id_for(self, task: str) -> int | None:
        """The JobScheduler job id WorkManager used for a task (for `cmd jobscheduler run -f`)."""
        for uuid, names in self.links.items():
            if (task in names or task == uuid) and uuid in self.job_ids:
                return self.job_ids[uuid]
        return None

    def events(self, rec: LogRecord) -> list[TaskEvent]:
        out: list[TaskEvent] = []
        for vocab in self.vocabularies:
            for rule in vocab.candidates(rec):
                if rule.multiline:
                    for m in rule.regex.finditer(rec.message):
                        self._apply(rule, m, rec, out)
                else:
                    m = rule.regex.search(rec.message)
                    if m is not None:
                        self._apply(rule, m, rec, out)
        return out

    def _apply(self, rule: Rule, m: re.Match[str], rec: LogRecord, out: list[TaskEvent]) -> None:
        gd = m.groupdict()
        ordered: list[str] = []
        if gd.get("task"):
            ordered.append(gd["task"])
        ordered += _split_names(gd.get("names")) + _split_names(gd.get("tags"))
        if rule.ignore is not None:
            ordered = [n for n in ordered if not rule.ignore.search(n)]
        uuid = gd.get("uuid")
        if uuid:
            uuid = uuid.lower()
            job = gd.get("job")
            if job and job.isdigit():
                self.job_ids[uuid] = int(job)
            if ordered:
                known = self.links.setdefault(uuid, set())
                new = set(ordered) - known
                if new:
                    known.update(new)
                    for held_rule, held_state, held_rec in self._unresolved.pop(uuid, []):
                        self._emit(held_state, held_rec, held_rule, sorted(known), uuid, out, late=True)
            ordered = list(dict.fromkeys(ordered + sorted(self.links.get(uuid, set()) - set(ordered))))
        state = rule.event
        if rule.state_from:
            state = rule.state_map.get(gd.get(rule.state_from) or "")
        if state is None:
            return
        if not ordered:
            if uuid:
                self._unresolved.setdefault(uuid, []).append((rule, state, rec))
            return
        self._emit(state, rec, rule, ordered, uuid, out)

    def _emit(self, state: str, rec: LogRecord, rule: Rule, names: list[str], uuid: str | None,
              out: list[TaskEvent], *, late: bool = False) -> None:
        t = rec.time_ns
        if rule.dedupe_ns:
            # Against every recent event of the task, not just the last one: a held event
            # re-emitted late (its UUID got a name) lands between events already emitted,
            # and must not count one run twice (WM-Processor and TaskStore both say "started").
            for n in names:
                if any(abs(t - x) <= rule.dedupe_ns for x in self._last.get((n, state), ())):
                    return
                for other in rule.dedupe_after:
                    if any(0 <= t - x <= rule.dedupe_ns for x in self._last.get((n, other), ())):
                        return
        for n in names:
            recent = self._last.get((n, state))
            if recent is None:
                recent = self._last[(n, state)] = deque(maxlen=_RECENT)
            recent.append(t)
        out.append(TaskEvent(names[0], state, t, rec, frozenset(names), uuid, rule.id, late))

    def unresolved(self) -> dict[str, list[tuple[str, LogRecord]]]:
        """Events still waiting for a link, per UUID: (state, record) -- 'unnamed work' in reports."""
        return {k: [(state, rec) for _r, state, rec in v] for k, v in self._unresolved.items()}
