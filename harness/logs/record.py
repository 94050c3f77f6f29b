"""One log record, whatever the platform printed it as.

Android (logcat) and iOS (unified log) records share one shape so the journal, the
vocabularies and the expectation engine never branch on the platform. Time is *device* time
in epoch nanoseconds: a scenario's `within: 2h` means the same on a phone and on a virtual
device whose clock runs in virtual time.
"""

from __future__ import annotations

from dataclasses import dataclass

# Canonical level names. Android prints one letter, the unified log prints a word; an
# expectation may use either, so both map to one name here.
LEVEL_NAMES: dict[str, str] = {
    "V": "verbose", "D": "debug", "I": "info", "W": "warn", "E": "error", "F": "fatal", "A": "fatal",
    "Debug": "debug", "Info": "info", "Default": "default", "Error": "error", "Fault": "fault",
}


def canonical_level(level: str) -> str:
    """Map `E`, `Error`, `error`, `warning` … to one canonical name."""
    if level in LEVEL_NAMES:
        return LEVEL_NAMES[level]
    low = level.lower()
    if low == "warning":
        return "warn"
    if low == "assert":
        return "fatal"
    return LEVEL_NAMES.get(level.upper(), low)


#: The ``seq`` of a record bgtest adds itself (a proxy request): it has no place in the device's
#: stream, only a device time. (An iOS app's stdout line takes the stream's place it arrived at.)
NO_SEQ = -1


@dataclass(slots=True)
class LogRecord:
    """A parsed log record.

    `seq` orders records inside one journal (it is the record's position in the device's
    stream, so it also tells whether two records are the same line). `raw` keeps the exact
    text the device printed for artifacts and failure messages. Multi-line messages are
    joined with ``\\n`` in `message` (and in `raw`).
    """

    time_ns: int
    pid: int
    tid: int
    level: str
    tag: str
    message: str
    raw: str = ""
    seq: int = 0
    subsystem: str = ""
    category: str = ""
    process: str = ""
    uid: str = ""

    @property
    def time_ms(self) -> int:
        return self.time_ns // 1_000_000

    @property
    def level_name(self) -> str:
        return canonical_level(self.level)

    def key(self) -> tuple[int, int, int, str, str]:
        """Identity of a record across two reads of the same device buffer (resume de-dup)."""
        return (self.time_ns // 1_000_000, self.pid, self.tid, self.tag, self.message)

    def short(self) -> str:
        """One line for failure messages: the raw line if we have it, else a rebuilt one.

        A unified-log record's raw text is an ndjson object (``log stream --style ndjson``):
        people read it as ``log stream --style compact`` prints it instead, process, subsystem
        and category, then the message.
        """
        first = self.message.splitlines()[0] if self.message else ""
        more = " …" if "\n" in self.message else ""
        if self.raw.startswith("{"):
            where = ":".join(x for x in (self.subsystem, self.category) if x)
            place = f" [{where}]" if where else ""
            return f"{self.level} {self.process}[{self.pid}]{place} {first}{more}"
        if self.raw:
            return self.raw.split("\n", 1)[0] + (" …" if "\n" in self.raw else "")
        return f"{self.level}/{self.tag}({self.pid}): {first}"
