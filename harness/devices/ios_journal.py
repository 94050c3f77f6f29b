"""The continuous unified-log reader of one iOS simulator, feeding the log journal.

One ``xcrun simctl spawn UDID log stream --style ndjson --level debug`` for the whole scenario
(parsed by `OslogParser`: banners, key order and the missing ``process`` key are its problem).
The app's **stdout** — where native_workmanager prints its debug lines, research
native_workmanager.md §0.5 — comes from ``simctl launch --console-pty``: the driver hands each
console to `attach_console` and its lines become records of the app's process with category
``stdout``. Stdout lines carry no time, so each is stamped when it arrives: with the Mac's clock
on a real simulator (a simulator app is a Mac process on the same clock), with the newest
device time the log has shown on the virtual iPhone — never earlier than a record before it.

Barriers: the runner writes a marker line (``simctl spawn UDID logger -t bgtest MARKER``) and
waits here until the stream has delivered it. ``log stream`` only shows what is logged after it
started, so a marker written before the stream is up would be missed: `barrier` writes it
again (the same text) until one copy arrives. On the virtual iPhone, whose clock moves only when
asked, the line the device last wrote (a state read's or a clock advance's ``--mark``) serves as
the barrier when nothing was asked of it since (`IosDevice.standing_mark`): a new one would show
the same time after the same records.

A reboot ends the stream (and every console); after an expected reboot the reader waits for
the simulator to be Booted again and starts a new stream from the new boot.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from harness.devices.journal_reader import JournalReader
from harness.errors import BgtestError, DeviceError
from harness.logs.expect import ExpectationEngine
from harness.logs.journal import Journal
from harness.logs.record import NO_SEQ, LogRecord

if TYPE_CHECKING:
    from harness.devices.ios import Console, IosDevice

_NWM_SCHEDULED = re.compile(r"Scheduled task '(?P<task>[^']+)' with identifier '(?P<ident>[^']+)'")
_SUBMIT = re.compile(r"submitTaskRequest: <BG(?:AppRefresh|Processing)TaskRequest: (?P<ident>[^,>\s]+)")


def bgtask_identifier(task: str, permitted: Sequence[str], records: Sequence[LogRecord]) -> str:
    """The BGTask identifier behind a scenario's task name.

    A permitted identifier is itself; otherwise the app's own words in the journal decide
    (native_workmanager: "Scheduled task 'T' with identifier 'I'"); otherwise the one
    identifier the app submitted; otherwise the name as written.
    """
    if task in permitted:
        return task
    submitted: list[str] = []
    for rec in reversed(records):
        match = _NWM_SCHEDULED.search(rec.message)
        if match and match.group("task") == task:
            return match.group("ident")
        match = _SUBMIT.search(rec.message)
        if match and match.group("ident") not in submitted:
            submitted.append(match.group("ident"))
    if "." not in task and len(submitted) == 1:
        return submitted[0]
    return task


class IosDeviceJournal(JournalReader):
    """The journal of one iOS target: unified log + app stdout, with marker barriers."""

    def __init__(
        self,
        device: IosDevice,
        engine: ExpectationEngine | None = None,
        reconnect_timeout: float = 180.0,
        predicate: str | None = None,
    ) -> None:
        self.device = device
        self.predicate = predicate
        super().__init__(Journal(platform="ios", engine=engine, selective=False), reconnect_timeout)
        self.thread_name = f"oslog-{device.udid}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._console_threads: list[threading.Thread] = []
        self._consoles: list[Console] = []
        self._scanned = 0
        self._last_stamp = 0
        self._last_stdout = 0.0  # monotonic time of the last stdout line
        self._virtual = device.is_virtual
        self._spoke = False  # the stream printed something (its banner): it is listening
        #: the last marker this stream delivered (None: none yet, it may not be listening)
        self._last_marker: LogRecord | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.device.on_console = self.attach_console
        self._start_thread()

    def stop(self) -> None:
        self._stop = True
        if self.device.on_console == self.attach_console:
            self.device.on_console = None
        self.device.journal_closed()
        _end(self._proc)
        for console in self._consoles:
            _end(console.proc)
        self._join()
        for thread in self._console_threads:
            thread.join(5)
        self.journal.flush()

    # ------------------------------------------------------------- unified log
    def open(self, since: str | None) -> Iterator[bytes]:
        """``LogSource`` for the journal: one ``log stream`` run (it cannot resume; a new one starts now)."""
        try:
            proc = self.device.xcrun.popen(self.device.log_stream_args(self.predicate))
        except BgtestError as exc:
            raise ConnectionError(exc.message) from exc
        self._proc = proc
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        try:
            while not self._stop:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                at = self._mark_line_at(chunk)
                if at >= 0:
                    if at:
                        yield chunk[:at]  # what the device logged before the line, first
                    self._let_stdout_arrive()
                    chunk = chunk[at:]
                yield chunk
                with self._cond:
                    self._spoke = True
                    self._cond.notify_all()
        finally:
            _end(proc)
            self._proc = None
            with self._cond:
                self._cond.notify_all()

    def _on_disconnect(self, error: BaseException | None) -> None:
        """The stream ended: wait for the simulator to be Booted again (after a reboot, a new boot)."""
        self._last_marker = None
        self._spoke = False  # the next stream listens once it has printed its own banner
        deadline = time.monotonic() + self.reconnect_timeout
        delay = 0.02
        while not self._stop and time.monotonic() < deadline:
            try:
                entry = self.device._device_entry()
            except BgtestError:
                entry = None
            if entry is not None and entry.state == "Booted":
                if self._reboot_expected:
                    self._reboot_expected = False
                    self.journal.rebooted()
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        if not self._stop:
            self.error = f"the simulator did not come back within {self.reconnect_timeout:.0f} s"

    # ------------------------------------------------------------- app stdout
    def attach_console(self, console: Console) -> None:
        """Follow one ``launch --console-pty``: every stdout line becomes a record of the app."""
        self._consoles.append(console)
        thread = threading.Thread(
            target=self._read_console, args=(console,), name=f"stdout-{console.pid}", daemon=True
        )
        self._console_threads.append(thread)
        thread.start()

    def _read_console(self, console: Console) -> None:
        stream = console.proc.stdout
        if stream is None:
            return
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line:
                    self._stdout_record(console, line)
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self._cond.notify_all()

    def _stdout_record(self, console: Console, line: str) -> None:
        self._last_stdout = time.monotonic()
        with self.journal.lock:
            stamp = self._stamp()
            shown = datetime.fromtimestamp(stamp / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+0000")
            rec = LogRecord(
                time_ns=stamp,
                pid=console.pid,
                tid=0,
                level="Default",
                tag=console.process_name,
                message=line,
                raw=f"{shown} {console.process_name}[{console.pid}] <stdout> {line}",
                subsystem="",
                category="stdout",
                process=console.process_name,
                seq=self._stream_place(),
            )
            self.journal.append(rec)
        with self._cond:
            self._cond.notify_all()

    def _stream_place(self) -> int:
        """A stdout line's place among the log stream's records: that of the last one the stream
        delivered. The line was printed before whatever the stream delivers next (a barrier's
        line waits for the app's output: `_mark_line_at`), so a window that opens at a later
        marker of the same device millisecond leaves it out (``Check.before_anchor``), as it does a
        log line; with no place (``NO_SEQ``) a line printed before a ``stop_app`` counted in the
        ``never`` window that opened after it, on a clock that stands still."""
        return next((r.seq for r in reversed(self.journal.records) if r.seq != NO_SEQ), NO_SEQ)

    def _stamp(self) -> int:
        base = self.journal.last_time_ns if self._virtual else time.time_ns()
        stamp = max(base, self.journal.last_time_ns, self._last_stamp + 1)
        ceiling = self._mark_ceiling() if self._virtual else None
        if ceiling is not None and self._last_stamp < ceiling:
            stamp = min(stamp, ceiling)
        self._last_stamp = stamp
        return stamp

    def _mark_ceiling(self) -> int | None:
        """Just below the device's barrier line in force. While a call writes that line, or it
        stands (nothing asked since, a clock that moves only when asked), the app prints nothing
        after it: a stdout line arriving now — the stand-in copies stdout by polling, so it may
        trail the line — is older, even before a barrier waits for the line."""
        mark = self.device.mark_in_force()
        if mark is None:
            return None
        if mark.at_ms is not None:
            return mark.at_ms * 1_000_000 - 1
        shown = self.journal.by_tag.get("logger")  # the line's process, once the stream showed it
        return shown[-1].time_ns - 1 if shown and shown[-1].message == mark.text else None

    # ------------------------------------------------------------- barriers
    def barrier(self, marker: str, timeout: float = 30.0) -> LogRecord:
        """Write ``marker`` into the unified log and wait for the stream to show it (rewriting it
        while the stream may not have started yet); a ``DeviceError`` when it never does."""
        standing = self.device.standing_mark()
        last = self._last_marker
        if standing is not None and last is not None and last.message == standing:
            return last  # already waited for: nothing can have happened since
        deadline = time.monotonic() + timeout
        self._await_stream(min(timeout, 5.0))
        # A stream that delivered a marker listens, and so does the virtual iPhone's once it has
        # printed its banner (it reads from where it was when it printed it): rewriting soon
        # would only add requests (and make a count depend on the machine's load).
        wait = 5.0 if last is not None or (self._spoke and self._virtual) else 0.5
        if standing is not None:
            marker = standing  # written with the device's last answer: wait for that one
        else:
            self.device.log_marker(marker)
        while True:
            left = deadline - time.monotonic()
            rec = self.wait_for_marker("bgtest", marker, timeout=min(wait, max(left, 0)))
            if rec is not None:
                self._last_marker = rec
                return rec
            if time.monotonic() >= deadline or self.error or self._stop:
                raise DeviceError(
                    self.device.udid,
                    f"its unified log did not show bgtest's marker within {timeout:.0f} s"
                    + (f": {self.error}" if self.error else ""),
                    hint="is `xcrun simctl spawn UDID log stream --style ndjson` working?",
                )
            wait = min(wait * 2, 5.0)
            self.device.log_marker(marker)

    def _await_stream(self, timeout: float) -> None:
        """Before the first marker: until ``log stream`` has printed its banner ("Filtering the
        log data using …", research ios.md §2: it comes first, even with ndjson), so the marker
        is written once instead of again after half a second unseen. The rewrite loop in
        `barrier` still covers a stream that prints no banner or starts listening later."""
        if self._spoke or not self.predicate:
            return
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (self._spoke or self._stop or self.error):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(min(left, 0.2))

    #: The virtual iPhone's stand-in copies app stdout by polling (every 50 ms), as its log
    #: stream does: a line printed before a marker may arrive just after it.
    DRAIN_QUIET_S = 0.06

    def _mark_line_at(self, chunk: bytes) -> int:
        """On the virtual iPhone with an app console open: where the line of the barrier line in
        force starts in this chunk of the stream (-1: not in it). Before it goes into the journal
        the app's stdout printed before it must arrive (stamped below it, `_mark_ceiling`), so no
        expectation is closed by the line before they count.

        Two polled files give no order between them; a line that was printed in the clock advance
        before a barrier must not land after the window the advance was for. A real simulator's
        console is a pty (no polling) and its lines carry the Mac's clock, so nothing waits there.
        """
        if not self._virtual or not any(c.proc.poll() is None for c in self._consoles):
            return -1
        mark = self.device.mark_in_force()
        found = chunk.find(mark.text.encode()) if mark is not None else -1
        return -1 if found < 0 else chunk.rfind(b"\n", 0, found) + 1

    def _let_stdout_arrive(self) -> None:
        """Until the consoles have been quiet for `DRAIN_QUIET_S` (the stand-in's poll)."""
        seen = time.monotonic()
        while not self._stop:
            quiet = time.monotonic() - max(seen, self._last_stdout)
            if quiet >= self.DRAIN_QUIET_S:
                return
            time.sleep(self.DRAIN_QUIET_S - quiet)

    def wait_for_marker(self, tag: str, message: str, timeout: float = 30.0) -> LogRecord | None:
        """The first record whose message carries ``message`` (whatever process ``logger`` shows as)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                with self.journal.lock:
                    records = self.journal.records
                    for index in range(self._scanned, len(records)):
                        rec = records[index]
                        if message in rec.message and rec.category != "stdout":
                            return rec
                    self._scanned = len(records)
                left = deadline - time.monotonic()
                if left <= 0 or self._stop or self.error:
                    return None
                self._cond.wait(min(left, 0.2))

    # ------------------------------------------------------------- queries
    def _line(self, rec: LogRecord) -> str:
        return rec.raw or f"{rec.level} {rec.process}: {rec.message}"


def _end(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a child bgtest started (only ever one of ours, by its own handle)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(3)
    except OSError:
        pass
