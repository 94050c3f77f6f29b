"""Vocabularies: which log lines mean that a task was enqueued / started / succeeded / failed /
retried / cancelled, for one library. The knowledge lives in `harness/vocab/*.yaml` (data);
this module compiles it once and applies it.

A rule names where a line comes from (`tag` on Android -- one tag or a list, e.g. WorkManager's
tag with and without the `WM-` prefix it gained in 2.1; `subsystem` or `process` on iOS; or
only a `contains` literal when the process is the app's and unknown in advance), a regex with
named groups, and the event.

Naming (issue #9: work is named the way real apps name it). Groups give names and ids:
`task` (the id itself: a plugin's task id, a BGTask identifier), `tags` and `names` (comma
lists: WorkManager tags, Diagnostics unique names), `cls` (a worker class), `uuid` (a WorkSpec
id), `job` (its JobScheduler job id), `activity` (a dasd activity). A tag that is a class name
(dotted, last part capitalised: WorkManager adds the worker class as a tag) names the task by
its simple and its full name, after every user tag. `alias` links a key that a later line
prints (a BGTask identifier) to the task names on the same line. Any rule whose match carries
a `uuid` together with names is a link; an event that only knows a UUID is held until a link
names it, then re-emitted with its original record and time (`late=True`), so windows stay
right; `release_unlinked()` gives up waiting and names them by the UUID.

No event is lost or invented (issue #9 item 3): a record may hold several log calls that
logcat could not tell apart (same time, pid, tid and tag), so every physical line of a joined
message is matched on its own; a message whose lines match nothing is also matched unwrapped
(a hard-wrapped paste). A record whose source is unknown (a paste that lost its header) is
tried against every rule.

Runs that span lines (`start_sequence`, `hold_state` / `use_state`): WorkManager's Processor
`processing U` followed in the same process by WorkerWrapper `Starting work for <class>` ties U
to the class; a `Starting work for <class>` with no such opener is a start of the class.
BackgroundTasks' `Marking task (null) complete with success: 1` carries its outcome to the
next `Complete task request activity` line, which names the task.

`dedupe: 10s` drops an event when the same task (the same WorkSpec, when there is one) had the
same state within that time (two libraries or two layers logging one fact), `dedupe_after:
[retried]` also when it follows one of those states (WorkManager re-schedules a work right
after a retry; dasd cancels the request that a new submit replaces).

Lookup is a dict hit on the record's tag / subsystem / process, then a literal `contains`
check, and only then the regex: most records cost one dict lookup.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from harness.durations import parse_duration_ms

from .record import LogRecord

#: WorkManager's own workers (DiagnosticsWorker, ConstraintTrackingWorker): never a scenario's task.
_WM_INTERNAL = "androidx.work.impl."
#: libyaml's loader when PyYAML has it (a CLI start reads every vocabulary file)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RECENT = 64
"""Event times kept per (task, state) for `dedupe`: enough for held events re-emitted late."""
STATES = ("enqueued", "started", "succeeded", "failed", "retried", "cancelled")
VOCAB_DIR = Path(__file__).resolve().parent.parent / "vocab"
#: A WorkManager tag that is a worker class: `com.example.SyncWorker`, `a.b.Outer$Inner`.
_CLASS = re.compile(r"^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*\.[A-Z][\w$]*$")
_START_SEQUENCE = ("open", "close")
#: How long a Processor `processing U` waits for its WorkerWrapper `Starting work for <class>`.
_SEQUENCE_NS = 10 * 1_000_000_000


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A task changed state, according to one log record.

    `task` is the best name (user tag / unique name / task id, else the worker class's simple
    name, else the UUID), `names` every name a scenario may use for it, `ids` the ids printed
    on the line itself (UUID, job id, worker class, BGTask identifier, dasd activity), `line`
    the physical line of the record's message that said it (0 = the first).
    """

    task: str
    state: str
    time_ns: int
    record: LogRecord
    names: frozenset[str] = frozenset()
    uuid: str | None = None
    rule: str = ""
    late: bool = False
    ids: tuple[str, ...] = ()
    line: int = 0
    #: a re-emission under names learnt later (a Diagnostics row named the UUID): the names the
    #: event already went out under, so a check that matched those does not count it twice
    prior: frozenset[str] = frozenset()

    def is_for(self, task: str) -> bool:
        return task == self.task or task in self.names or task == self.uuid


@dataclass(slots=True)
class Rule:
    id: str
    source: str  # vocabulary file stem
    key: str  # "tag" | "subsystem" | "process" | "" (any)
    values: tuple[str, ...]
    regex: re.Pattern[str]
    contains: str = ""
    event: str | None = None
    state_from: str | None = None
    state_map: dict[str, str] = field(default_factory=dict)
    dedupe_ns: int = 0
    dedupe_after: tuple[str, ...] = ()
    multiline: bool = False
    ignore: re.Pattern[str] | None = None
    start_sequence: str = ""
    hold_state: str = ""
    use_state: str = ""
    #: this line takes back the event of rule ``refuses`` that the same process logged just
    #: before, for the same task (a submit the framework then refused)
    refuses: str = ""


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

    #: rule id -> the rules that may take its event back (see ``Rule.refuses``)
    refusals: dict[str, list[Rule]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rule in self.rules:
            if rule.refuses:
                self.refusals.setdefault(rule.refuses, []).append(rule)
            tables = {"tag": self.by_tag, "subsystem": self.by_subsystem, "process": self.by_process}
            table = tables.get(rule.key)
            if table is None:
                self.anywhere.append(rule)
            else:
                for value in rule.values:
                    table.setdefault(value, []).append(rule)

    @property
    def tags(self) -> frozenset[str]:
        return frozenset(self.by_tag)

    @property
    def literals(self) -> tuple[str, ...]:
        return tuple(r.contains for r in self.anywhere if r.contains)

    def candidates(self, rec: LogRecord) -> list[Rule]:
        if not rec.tag and not rec.process and not rec.subsystem:
            return self.rules  # the paste lost the header: any rule may apply
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
    naming = {"task", "tags", "names", "uuid", "cls"}
    if (event or state_from) and not groups & naming and not doc.get("hold_state"):
        raise VocabularyError(f"{where}: an event rule needs a task, tags, names, cls or uuid group")
    seq = str(doc.get("start_sequence") or "")
    if seq and seq not in _START_SEQUENCE:
        raise VocabularyError(f"{where}: start_sequence is one of {', '.join(_START_SEQUENCE)}, not {seq!r}")
    needs = {"open": "uuid", "close": "cls"}.get(seq)
    if needs and needs not in groups:
        raise VocabularyError(f"{where}: start_sequence {seq} needs a {needs} group")
    raw_values = doc.get(keys[0]) if keys else ()
    values = tuple(str(v) for v in raw_values) if isinstance(raw_values, list) else (str(raw_values),)
    return Rule(
        id=rid, source=source, key=keys[0] if keys else "", values=values if keys else (),
        regex=regex, contains=str(doc.get("contains") or ""), event=event, state_from=state_from,
        state_map=state_map,
        dedupe_ns=parse_duration_ms(doc["dedupe"]) * 1_000_000 if doc.get("dedupe") else 0,
        dedupe_after=tuple(str(x) for x in doc.get("dedupe_after") or ()),
        multiline=bool(doc.get("multiline")), ignore=ignore, start_sequence=seq,
        hold_state=str(doc.get("hold_state") or ""), use_state=str(doc.get("use_state") or ""),
        refuses=str(doc.get("refuses") or ""),
    )


def _load_rules(name: str, directory: Path, seen: tuple[str, ...]) -> tuple[list[Rule], list[str]]:
    if name in seen:
        raise VocabularyError(f"vocabulary include cycle: {' -> '.join((*seen, name))}")
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise VocabularyError(f"unknown vocabulary {name!r}; known: {', '.join(known)}")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
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


def merged_vocabularies(names: Iterable[str]) -> Vocabulary:
    """One vocabulary from several (e.g. every library of a platform, for a log of unknown
    origin): a rule included by two of them (androidx WorkManager under both plugins) is
    applied once, with the ignore list of the first that has it."""
    seen: set[tuple[str, str]] = set()
    rules: list[Rule] = []
    platforms: list[str] = []
    for name in names:
        vocab = load_vocabulary(name)
        platforms += [p for p in vocab.platforms if p not in platforms]
        for rule in vocab.rules:
            if (rule.source, rule.id) not in seen:
                seen.add((rule.source, rule.id))
                rules.append(rule)
    return Vocabulary(name="+".join(names), platforms=tuple(platforms), rules=rules)


def _split_names(text: str | None) -> list[str]:
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


#: how long a submit waits for its refusal while other processes log: the framework refuses in
#: the same call, microseconds later (dasd's own lines about the submit come milliseconds later)
_REFUSAL_NS = 5_000_000


@dataclass(slots=True)
class _Awaiting:
    """An event held until the next line of its process shows it was not refused."""

    state: str
    rec: LogRecord
    rule: Rule
    names: list[str]
    uuid: str | None
    ids: tuple[str, ...]
    line: int

    def emit(self, vocab: VocabState, out: list[TaskEvent]) -> None:
        vocab._emit(self.state, self.rec, self.rule, self.names, self.uuid, out, ids=self.ids, line=self.line)


class VocabState:
    """Applies one or more vocabularies to one device's records: keeps UUID links, the
    UUID -> JobScheduler job id map, and the recent events used for `dedupe`."""

    def __init__(self, vocabularies: Iterable[Vocabulary]) -> None:
        self.vocabularies = list(vocabularies)
        self.links: dict[str, set[str]] = {}
        self.job_ids: dict[str, int] = {}
        self.aliases: dict[str, set[str]] = {}  # BGTask identifier -> the library's task ids
        self._unresolved: dict[str, list[tuple[Rule, str, LogRecord, tuple[str, ...], int]]] = {}
        self._emitted: dict[str, list[TaskEvent]] = {}  # UUID -> its events so far (for renaming)
        self._last: dict[tuple[str, str], deque[tuple[int, str | None]]] = {}
        self._rank: dict[str, int] = {}  # 1: a class's simple name, 2: its full name, 3: a UUID
        self._order: dict[str, int] = {}  # first-seen order among names of equal rank
        self._opened: dict[int, list[tuple[str, int]]] = {}  # pid -> (UUID, time) started, class unknown
        self._held_state: dict[tuple[str, int, str], str] = {}  # (hold key, pid, process) -> state
        self._names_cache: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        #: (pid, process) -> an event whose next line may refuse it (out once that line does not)
        self._awaiting: dict[tuple[int, str], _Awaiting] = {}
        self._refusals: dict[str, list[Rule]] = {}
        #: task name -> the line that refused its request: a failure then says why no event came
        self.refused: dict[str, LogRecord] = {}
        for vocab in self.vocabularies:
            for rid, rules in vocab.refusals.items():
                self._refusals.setdefault(rid, []).extend(rules)

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

    def uuids(self) -> set[str]:
        """Every WorkSpec UUID seen so far, named or not."""
        return {*self.links, *self._unresolved, *self._emitted}

    def is_full_class_name(self, name: str) -> bool:
        """A worker class's fully qualified name (its simple name names the same work)."""
        return self._rank.get(name) == 2

    def best(self, names: Iterable[str]) -> list[str]:
        """Names best first: user tags, unique names and task ids, then simple class names,
        then full class names; in the order first seen within each rank."""
        order = self._order
        for n in names:
            if n not in order:
                order[n] = len(order)
        return sorted(set(names), key=lambda n: (self._rank.get(n, 0), order[n]))

    def ids_for(self, event: TaskEvent) -> list[str]:
        """Every id linked to an event's task: its names, the WorkSpec UUID, its job id, the
        ids printed on its line (for `bgtest logs --json`)."""
        out = list(event.ids)
        names = set(event.names)
        if event.uuid:
            names |= self.links.get(event.uuid, set())
            out.append(event.uuid)
            if event.uuid in self.job_ids:
                out.append(str(self.job_ids[event.uuid]))
        out += self.best(names)
        return list(dict.fromkeys(out))

    def best_name(self, event: TaskEvent) -> str:
        """The best name known now (a later link may have named a UUID)."""
        if event.uuid and self.links.get(event.uuid):
            return self.best(self.links[event.uuid] | set(event.names))[0]
        return event.task

    # -- matching ---------------------------------------------------------------------------
    def events(self, rec: LogRecord) -> list[TaskEvent]:
        out: list[TaskEvent] = []
        if self._awaiting:
            self._settle(rec, out)
        msg = rec.message
        lines = msg.split("\n") if "\n" in msg else None
        for vocab in self.vocabularies:
            for rule in vocab.candidates(rec):
                if rule.multiline:
                    for m in rule.regex.finditer(msg):
                        self._apply(rule, m, rec, out, msg.count("\n", 0, m.start()))
                elif lines is None:
                    m = rule.regex.search(msg)
                    if m is not None:
                        self._apply(rule, m, rec, out, 0)
                else:
                    self._per_line(rule, lines, rec, out)
        return out

    def _per_line(self, rule: Rule, lines: list[str], rec: LogRecord, out: list[TaskEvent]) -> None:
        """Several log calls may share one record: each physical line is matched on its own;
        only when none matches is the message tried unwrapped (a paste wrapped at a width)."""
        search = rule.regex.search
        hit = False
        for i, text in enumerate(lines):
            m = search(text)
            if m is not None:
                hit = True
                self._apply(rule, m, rec, out, i)
        if not hit:
            m = search("".join(lines))
            if m is not None:
                self._apply(rule, m, rec, out, 0)

    def _names(self, rule: Rule, gd: dict[str, str | None]) -> tuple[list[str], list[str]]:
        """(names best first, ids printed on the line) from a match's groups."""
        key = (rule.ignore, gd.get("task"), gd.get("names"), gd.get("tags"), gd.get("cls"))
        cached = self._names_cache.get(key)
        if cached is None:
            cached = self._split(rule, *key[1:])
            if len(self._names_cache) >= 4096:
                self._names_cache.clear()
            self._names_cache[key] = cached
        names, ids = list(cached[0]), list(cached[1])
        if names:
            aliases = self.aliases
            for n in list(names):
                if n in aliases:
                    names += [a for a in aliases[n] if a not in names]
        return names, ids

    def _split(self, rule: Rule, task: str | None, names_text: str | None, tags: str | None,
               cls: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names and ids from the groups' text (the same text recurs on every run: cached)."""
        user: list[str] = []
        classes: list[str] = []
        ids: list[str] = []
        if task:
            user.append(task)
            ids.append(task)
        for n in _split_names(names_text) + _split_names(tags):
            (classes if _CLASS.match(n) else user).append(n)
        if cls:
            classes.append(cls)
        if rule.ignore is not None:
            user = [n for n in user if not rule.ignore.search(n)]
        names = list(dict.fromkeys(user))
        for c in dict.fromkeys(classes):
            simple = c.rsplit(".", 1)[-1]
            self._rank.setdefault(simple, 1)
            self._rank[c] = 2
            names += [simple, c] if simple not in names else [c]
            ids.append(c)
        return tuple(names), tuple(ids)

    def _apply(self, rule: Rule, m: re.Match[str], rec: LogRecord, out: list[TaskEvent], line: int) -> None:
        gd = m.groupdict()
        if rule.refuses:
            held = self._awaiting.get((rec.pid, rec.process))
            if held is not None and held.rule.id == rule.refuses and gd.get("task") in held.names:
                del self._awaiting[(rec.pid, rec.process)]  # refused: it never was pending
                for name in held.names:
                    self.refused[name] = rec
            if gd.get("task"):
                self.refused[gd["task"]] = rec
            return
        ordered, ids = self._names(rule, gd)
        alias = gd.get("alias")
        if alias and ordered:
            self.aliases.setdefault(alias, set()).update(n for n in ordered if self._rank.get(n, 0) == 0)
        uuid = gd.get("uuid")
        if uuid:
            uuid = uuid.lower()
            ids.insert(0, uuid)
            self._rank[uuid] = 3  # the last resort of a name
        job = gd.get("job")
        if job and job.isdigit():
            ids.insert(1 if uuid else 0, job)
            if uuid:
                self.job_ids[uuid] = int(job)
        if gd.get("activity"):
            ids.append(str(gd["activity"]))
        if rule.start_sequence == "open" and uuid:
            self._opened.setdefault(rec.pid, []).append((uuid, rec.time_ns))
        elif rule.start_sequence == "close":
            opened = {u for u, t in self._opened.pop(rec.pid, []) if rec.time_ns - t <= _SEQUENCE_NS}
            if len(opened) == 1:  # the start of exactly one work is open: this is its worker
                self._link(opened.pop(), ordered, out, release=False)
                return
            if opened:  # starts of several works are open: the log does not say whose class it is
                return
        if uuid:
            if ordered:
                self._link(uuid, ordered, out)
            linked = self.links.get(uuid)
            if linked and not linked.issubset(ordered):
                ordered = self.best([*ordered, *linked])
            if uuid in self._unresolved:
                ordered = []  # earlier events of this work still wait for a name: keep the order
        state = rule.event
        if rule.state_from:
            state = rule.state_map.get(gd.get(rule.state_from) or "")
        if rule.hold_state and state is not None and not ordered:  # a later line names the task
            self._held_state[(rule.hold_state, rec.pid, rec.process)] = state
            return
        if rule.use_state:
            state = self._held_state.pop((rule.use_state, rec.pid, rec.process), None)
        if state is None:
            return
        if not ordered:
            if uuid:
                self._unresolved.setdefault(uuid, []).append((rule, state, rec, tuple(ids), line))
            return
        if rule.id in self._refusals:
            earlier = self._awaiting.pop((rec.pid, rec.process), None)
            if earlier is not None:
                earlier.emit(self, out)
            held = _Awaiting(state, rec, rule, ordered, uuid, tuple(ids), line)
            self._awaiting[(rec.pid, rec.process)] = held
            return
        self._emit(state, rec, rule, ordered, uuid, out, ids=tuple(ids), line=line)

    # -- events a next line may refuse -------------------------------------------------------------
    def _settle(self, rec: LogRecord, out: list[TaskEvent]) -> None:
        """Before ``rec``'s own events: an awaiting event of ``rec``'s process goes out unless
        ``rec`` refuses it; one of another process goes out once its process had a moment to
        say so (the framework logs the refusal in the same call, right after the submit)."""
        for key, held in list(self._awaiting.items()):
            if key == (rec.pid, rec.process):
                if any(r.regex.search(rec.message) for r in self._refusals.get(held.rule.id, ())):
                    continue  # _apply decides, by task
            elif rec.time_ns - held.rec.time_ns <= _REFUSAL_NS:
                continue
            del self._awaiting[key]
            held.emit(self, out)

    def release_awaiting(self, up_to_ns: int | None = None) -> list[TaskEvent]:
        """Events no refusal followed, logged at or before ``up_to_ns`` (None: all). The journal
        holds every record up to a barrier's time, so a refusal would have been read by then."""
        out: list[TaskEvent] = []
        for key, held in list(self._awaiting.items()):
            if up_to_ns is None or held.rec.time_ns <= up_to_ns:
                del self._awaiting[key]
                held.emit(self, out)
        return out

    def _link(self, uuid: str, names: list[str], out: list[TaskEvent], *, release: bool = True) -> None:
        """Tie a UUID to names. A line that prints the work's tags (a result line, a Diagnostics
        row) releases the events held for it, named by everything known; a start sequence only
        names the class, and the held events keep waiting for the tags (or the end)."""
        known = self.links.setdefault(uuid, set())
        added = not known.issuperset(names)
        if added:
            known.update(names)
        if not release:
            return
        if added and uuid in self._emitted:  # events that went out before these names were known
            ranked = self.best(known)
            for ev in self._emitted[uuid]:
                new = [n for n in ranked if n not in ev.names and n not in ev.prior]
                if new:
                    out.append(replace(ev, task=new[0], names=frozenset(new), late=True,
                                       prior=ev.names | ev.prior))
        if uuid not in self._unresolved:
            return
        ranked = self.best(known)
        for held_rule, held_state, held_rec, held_ids, held_line in self._unresolved.pop(uuid, []):
            self._emit(held_state, held_rec, held_rule, ranked, uuid, out, late=True, ids=held_ids,
                       line=held_line)

    def _emit(self, state: str, rec: LogRecord, rule: Rule, names: list[str], uuid: str | None,
              out: list[TaskEvent], *, late: bool = False, ids: tuple[str, ...] = (), line: int = 0) -> None:
        t = rec.time_ns
        # the same WorkSpec or the same user name (an entry of another WorkSpec does not count);
        # class names are shared by many works, so they count only when nothing else names it
        keys = ([uuid] if uuid else []) + [n for n in names if not self._rank.get(n, 0)] or names
        if rule.dedupe_ns and self._seen_recently(keys, state, rule, t, uuid):
            return
        for k in keys:
            recent = self._last.get((k, state))
            if recent is None:
                recent = self._last[(k, state)] = deque(maxlen=_RECENT)
            recent.append((t, uuid))
        all_names = frozenset(names) | {uuid} if uuid else frozenset(names)  # the UUID names it too
        ev = TaskEvent(names[0], state, t, rec, all_names, uuid, rule.id, late, ids, line)
        out.append(ev)
        if uuid:
            emitted = self._emitted.setdefault(uuid, [])
            if len(emitted) < _RECENT:
                emitted.append(ev)

    def _seen_recently(self, keys: list[str], state: str, rule: Rule, t: int, uuid: str | None) -> bool:
        """Against every recent event of the task, not just the last one: a held event re-emitted
        late (its UUID got a name) lands between events already emitted, and must not count
        one run twice (WM-Processor and TaskStore both say "started")."""
        window = rule.dedupe_ns
        for k in keys:
            for st in (state, *rule.dedupe_after):
                for seen_t, seen_uuid in self._last.get((k, st), ()):
                    if uuid and seen_uuid and seen_uuid != uuid:
                        continue
                    gap = t - seen_t
                    if (abs(gap) if st == state else gap) <= window and (st == state or gap >= 0):
                        return True
        return False

    # -- work that no line named yet ------------------------------------------------------------
    def unresolved(self) -> dict[str, list[tuple[str, LogRecord]]]:
        """Events still waiting for a link, per UUID: (state, record) -- 'unnamed work' in reports."""
        return {k: [(h[1], h[2]) for h in v] for k, v in self._unresolved.items()}

    def anonymous_events(self) -> dict[str, list[tuple[str, int, str]]]:
        """Work that no line tied to a user name (a tag, a unique work name, a task id): WorkSpec
        UUID -> (state, time, name it went out under) of its events. Only WorkManager's
        diagnostics can name it further."""
        out: dict[str, list[tuple[str, int, str]]] = {}
        for uuid in dict.fromkeys([*self._emitted, *self._unresolved]):
            names = self.links.get(uuid, ())
            if any(not self._rank.get(n, 0) or n.startswith(_WM_INTERNAL) for n in names):
                continue  # named; or WorkManager's own worker (the diagnostics bgtest asked for)
            out[uuid] = [(e.state, e.time_ns, e.task) for e in self._emitted.get(uuid, ())] + [
                (h[1], h[2].time_ns, uuid) for h in self._unresolved.get(uuid, ())]
        return out

    def anonymous(self) -> dict[str, list[int]]:
        """`anonymous_events` as UUID -> event times."""
        return {u: [t for _s, t, _n in evs] for u, evs in self.anonymous_events().items()}

    def release_unlinked(self) -> list[TaskEvent]:
        """Stop waiting: every held event is emitted under the best name known (its worker
        class, from a start sequence) or else its UUID -- at the end of a log file, or when
        WorkManager's diagnostics did not name it. In the order they were logged."""
        out: list[TaskEvent] = self.release_awaiting()
        held = sorted(((h, u) for u, hs in self._unresolved.items() for h in hs),
                      key=lambda x: (x[0][2].seq, x[0][4]))
        self._unresolved.clear()
        for (rule, state, rec, ids, line), uuid in held:
            names = self.best(self.links[uuid]) if self.links.get(uuid) else [uuid]
            self._emit(state, rec, rule, names, uuid, out, late=True, ids=ids, line=line)
        return out


#: An app's `library` (as app models and scenarios spell it) -> its vocabulary, per platform.
_LIBRARY_VOCABULARIES = {
    "android": {
        "androidx.work": "androidx_workmanager",
        "androidx_workmanager": "androidx_workmanager",
        "native_workmanager": "native_workmanager",
        "flutter_workmanager": "flutter_workmanager",
        "kmpworkmanager": "kmpworkmanager",
    },
    "ios": {
        "native_workmanager": "native_workmanager_ios",
        "flutter_workmanager": "flutter_workmanager_ios",
        "kmpworkmanager": "kmpworkmanager",
        "bgtaskscheduler": "bgtaskscheduler",
    },
}
#: A log whose library is not known: every vocabulary of the platform (their shared rules once).
_EVERY_LIBRARY = {
    "android": ("androidx_workmanager", "flutter_workmanager", "native_workmanager"),
    "ios": ("bgtaskscheduler", "flutter_workmanager_ios", "native_workmanager_ios", "kmpworkmanager"),
}


def library_vocabularies(library: str | None, platform: str = "android") -> list[str]:
    """The vocabulary file for an app's library on a platform (it includes the system's own)."""
    table = _LIBRARY_VOCABULARIES["ios" if platform == "ios" else "android"]
    default = "bgtaskscheduler" if platform == "ios" else "androidx_workmanager"
    return [table.get(library or "", default)]


def vocabulary_for_log(library: str | None, platform: str) -> Vocabulary:
    """What reads a captured log: the library's vocabulary, or every library of the platform."""
    if library:
        table = _LIBRARY_VOCABULARIES["ios" if platform == "ios" else "android"]
        if library not in table:
            raise VocabularyError(
                f"unknown library {library!r} for {platform}; known: {', '.join(sorted(table))}")
        return load_vocabulary(table[library])
    return merged_vocabularies(_EVERY_LIBRARY["ios" if platform == "ios" else "android"])
