"""Where the virtual iPhones live between two ``xcrun`` processes: one directory, one lock.

A real ``xcrun simctl`` talks to CoreSimulatorService, a daemon that owns every simulator. The
stand-in has no daemon: each ``bgtest-xcrun`` process locks the home directory, loads the
world (``state.json``), lets virtual time catch up, does its one command and saves. The unified
log and each app's stdout are append-only files next to it, so ``log stream`` and
``launch --console-pty`` can follow them by offset without holding the lock.

``$BGTEST_SIM_HOME`` picks the directory; the default is ``~/.cache/bgtest/ios-sim`` (or under
``$XDG_CACHE_HOME``), so the WDA server of ``bgtest sim ios`` and every ``bgtest-xcrun`` of the
same user see one device.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

#: Bumped when the layout of ``state.json`` changes incompatibly (an old home is then reset).
STATE_VERSION = 1


def default_home() -> Path:
    env = os.environ.get("BGTEST_SIM_HOME")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "bgtest" / "ios-sim"


class SimHome:
    """The directory of one virtual CoreSimulator: ``state.json``, ``log.ndjson``, ``stdout/``, ``apps/``."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_home()

    # ------------------------------------------------------------------ layout
    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def log_file(self) -> Path:
        return self.path / "log.ndjson"

    def stdout_file(self, pid: int) -> Path:
        return self.path / "stdout" / f"{pid}.txt"

    def apps_dir(self, udid: str) -> Path:
        return self.path / "apps" / udid

    def installed_sources(self) -> Path:
        """The app models ``simctl install`` validated, by source file (``installed.py``)."""
        return self.path / "apps" / "sources"

    def device_dir(self, udid: str) -> Path:
        return self.path / "Devices" / udid

    def ensure(self) -> None:
        for sub in ("", "stdout", "apps", "Devices", "Logs"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------- lock
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the home's exclusive lock (an ``flock`` on ``.lock``) for one command."""
        self.ensure()
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ------------------------------------------------------------------ state
    def read_state(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        return data

    def write_state(self, state: dict[str, Any]) -> None:
        state["version"] = STATE_VERSION
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.state_file)

    # ------------------------------------------------------------ append-only
    def append_log(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        with self.log_file.open("a", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n")

    def read_log(self, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Records from byte ``offset`` on, and the offset after the last complete line."""
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except OSError:
            return [], offset
        cut = data.rfind(b"\n")
        if cut == -1:
            return [], offset
        out = []
        for line in data[: cut + 1].splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out, offset + cut + 1

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def append_stdout(self, pid: int, lines: list[str], extra: list[str] | None = None) -> None:
        text = "".join(line + "\n" for line in lines)
        if not text:
            return
        for target in [str(self.stdout_file(pid)), *(extra or [])]:
            try:
                with open(target, "a", encoding="utf-8") as fh:
                    fh.write(text)
            except OSError:
                continue  # a --stdout= path that went away: the app's write fails silently


def wall_now() -> float:
    """Wall-clock seconds shared by every process (realtime clocks are anchored to it)."""
    return time.time()
