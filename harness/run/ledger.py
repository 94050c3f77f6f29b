"""The state ledger: what a run is about to change on a device, written down before it does.

The state guard restores a device when a scenario ends, on a failure, Ctrl-C or SIGTERM. A
SIGKILL, a crash of the Python process or a power cut of the host leaves no chance to: the
phone stays in forced Doze, unplugged, in airplane mode with saver on, and the next run
would pass on it as if nothing were wrong. So before the first state-changing step the
runner records the values to restore and, before each new kind of change, what it touches:

* on the host, one JSON file per device in ``$XDG_STATE_HOME/bgtest/ledger`` (written to a
  temporary file, synced and renamed: a power cut leaves the old entry or the new one);
* on the device too, when its driver can keep a note there
  (:class:`~harness.devices.base.KeepsNotes`), so a run from another host (or after the
  host's state folder is gone) still finds it. A device whose state lives on the host (a
  simulator) has the host file only.

When the scenario's restore has put everything back the entry is removed; what could not be
restored stays recorded. At the start of every run, a device with an entry left by a run
that is no longer alive is restored first, and the run says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.devices.base import Facet, KeepsNotes
from harness.errors import BgtestError
from harness.report.paths import safe_name

VERSION = 1
NOTE = "ledger.json"
"""The name of the device's own copy (:meth:`~harness.devices.base.KeepsNotes.write_note`)."""
MAX_ENTRY_BYTES = 256 * 1024


def _boot_id() -> str:
    """This host's boot: a pid recorded before a power cut means nothing after it."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclasses.dataclass
class Entry:
    """One device's unfinished changes: the saved values and the kinds of state touched
    (:class:`~harness.devices.base.Facet` values)."""

    device: str
    platform: str
    state_type: str
    saved: dict[str, Any]
    packages: list[str]
    kinds: list[str]
    scenario: str = ""
    host: str = ""
    pid: int = 0
    boot_id: str = ""
    started: float = 0.0
    unrestored: list[str] = dataclasses.field(default_factory=list)
    version: int = VERSION

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Entry:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a bgtest ledger entry of this version")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def owned_by_live_run(self) -> bool:
        """Whether the run that wrote this is still running (on this host, since its boot)."""
        if self.host != socket.gethostname() or not self.boot_id or self.boot_id != _boot_id():
            return False
        return self.pid == os.getpid() or _alive(self.pid)

    def saved_state(self) -> Any:
        """The saved values as the device driver's own state type."""
        module, _, name = self.state_type.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in self.saved.items() if k in fields})

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)) if self.started else "?"
        who = f"pid {self.pid} on {self.host}" if self.host else "another run"
        return f"{who}, {when}" + (f", scenario {self.scenario!r}" if self.scenario else "")


class DeviceLedger:
    """The ledger of one device for one run: ``begin`` → ``changing`` … → ``finish``."""

    def __init__(self, device: Any, root: Path) -> None:
        self.device = device
        self.root = root  # bgtest's state folder (Settings.state_dir)
        self.entry: Entry | None = None
        self.warning = ""

    @property
    def path(self) -> Path:
        return self.root / "ledger" / f"{safe_name(self.device.serial)}.json"

    @property
    def _notes(self) -> KeepsNotes | None:
        """The device, when it keeps a copy of the entry itself."""
        return self.device if isinstance(self.device, KeepsNotes) else None

    # ------------------------------------------------------------------ writing
    def begin(self, saved: Any, packages: Sequence[str], scenario: str = "") -> None:
        """Record the values to restore, before the first change.

        An unfinished entry of this same run (a restore that failed earlier) is kept: its
        values are the device as it was before any of this run's changes.
        """
        previous = self.read_host()
        if previous is not None and previous.owned_by_live_run() and previous.pid == os.getpid():
            self.entry = previous
            self.entry.packages = sorted({*previous.packages, *packages})
            return
        cls = type(saved)
        self.entry = Entry(
            device=self.device.serial,
            platform=getattr(self.device, "platform", ""),
            state_type=f"{cls.__module__}.{cls.__qualname__}",
            saved=dataclasses.asdict(saved),
            packages=list(packages),
            kinds=[],
            scenario=scenario,
            host=socket.gethostname(),
            pid=os.getpid(),
            boot_id=_boot_id(),
            started=time.time(),
        )

    def changing(self, kind: str) -> None:
        """Record that ``kind`` of state is about to change (written before the change)."""
        assert self.entry is not None, "begin() first"
        if kind in self.entry.kinds:
            return
        self.entry.kinds.append(kind)
        self._write()

    def finish(self, restored: Sequence[str]) -> None:
        """After the restore: drop the entry, or keep what could not be restored."""
        if self.entry is None:
            return
        failed = [item for item in restored if item.startswith("NOT restored") or "FAILED" in item]
        if failed:
            self.entry.unrestored = failed
            self._write()
        else:
            self.clear()
        self.entry = None

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        if self._notes is not None:
            with contextlib.suppress(BgtestError):
                self._notes.remove_note(NOTE)

    def _write(self) -> None:
        assert self.entry is not None
        text = self.entry.to_json()
        try:
            _atomic_write(self.path, text)
        except OSError as exc:
            self.warning = f"cannot write the state ledger {self.path}: {exc.strerror or exc}"
        if self._notes is not None:
            with contextlib.suppress(BgtestError):
                self._notes.write_note(NOTE, text)

    # ------------------------------------------------------------------ reading
    def read_host(self) -> Entry | None:
        try:
            if self.path.stat().st_size > MAX_ENTRY_BYTES:
                return None
            return Entry.from_json(self.path.read_text())
        except (OSError, ValueError, TypeError):
            return None

    def read_device(self) -> Entry | None:
        if self._notes is None:
            return None
        try:
            text = self._notes.read_note(NOTE)
        except BgtestError:
            return None
        if text is None or len(text) > MAX_ENTRY_BYTES:
            return None
        try:
            return Entry.from_json(text)
        except (ValueError, TypeError):
            return None

    def recover(self, note: Callable[[str], None]) -> list[str] | None:
        """Restore what an earlier run left changed on this device; say so through ``note``.

        Returns what was restored, or ``None`` when there was nothing to do. An entry of a run
        that is still alive (another bgtest on this host using the device) is left alone.
        """
        entry = self.read_host() or self.read_device()
        if entry is None:
            return None
        if entry.owned_by_live_run():
            if entry.pid != os.getpid():
                note(
                    f"<{self.device.serial}> is being changed by another bgtest run ({entry.describe()}); "
                    "its changes are left to it"
                )
            return None
        try:
            saved = entry.saved_state()
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            note(f"<{self.device.serial}> has a state ledger bgtest cannot read ({exc}); removed it")
            self.clear()
            return None
        if not entry.kinds:
            self.clear()
            return None
        facets = {f for f in Facet if f.value in entry.kinds}
        restored = list(self.device.restore(saved, entry.packages, facets))
        failed = [item for item in restored if "FAILED" in item]
        done = ", ".join(restored) or "it was already back as saved"
        note(
            f"<{self.device.serial}> was left changed by an earlier run that did not finish "
            f"({entry.describe()}: {', '.join(entry.kinds)}); restored first: {done}"
        )
        if failed:
            entry.unrestored = failed
            self.entry = entry
            self._write()
            self.entry = None
        else:
            self.clear()
        return restored


def _atomic_write(path: Path, text: str) -> None:
    """Write, sync, rename: after a power cut the file is the old entry or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ledger-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
