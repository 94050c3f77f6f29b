"""The continuous logcat reader of one Android device, feeding the log journal.

One reader per device for the whole scenario (``logcat -v threadtime -v year -b main,system,crash,events``:
the year keeps device time unambiguous; the events buffer carries the Doze, battery and screen
transitions the timeline report draws);
when the link drops — a reboot, a USB hiccup — it waits for the device and resumes with
``-T '<last time>'`` so the journal has no gap and no duplicate (the journal does the
boundary de-duplication). After an expected reboot it waits for ``sys.boot_completed`` and
reads the new boot's buffer from its start.

The runner synchronises with it through markers: `barrier` logs a unique line and waits until
the reader has delivered it.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from harness.devices.adbwire import AdbWireError, ShellStream
from harness.devices.journal_reader import JournalReader
from harness.errors import DeviceError
from harness.logs.expect import ExpectationEngine
from harness.logs.journal import Journal
from harness.logs.record import LogRecord

if TYPE_CHECKING:
    from harness.devices.android import AndroidDevice

LOGCAT = ["logcat", "-v", "threadtime", "-v", "year", "-b", "main,system,crash,events"]
#: waits on the device until init has set sys.boot_completed (whole seconds: old toolbox sleeps
#: take no fractions, and a failing sleep would make this a busy loop on the phone)
BOOT_WAIT = 'until [ "$(getprop sys.boot_completed)" = 1 ]; do sleep 1; done'
BOOTED = "bgtest-booted"


class DeviceJournal(JournalReader):
    def __init__(
        self, device: AndroidDevice, engine: ExpectationEngine | None = None, reconnect_timeout: float = 180.0
    ) -> None:
        self.device = device
        # Selective: only records the expectations and vocabularies can use are parsed live
        # (plus bgtest's own markers); the raw stream is kept whole for artifacts and late
        # questions, so nothing is lost.
        journal = Journal(
            platform="android",
            engine=engine,
            selective=engine is not None,
            time_style="year",
            always_tags=frozenset({"bgtest", "bgtest-end"}),
        )
        super().__init__(journal, reconnect_timeout)
        self.thread_name = f"logcat-{device.serial}"
        self._stream: ShellStream | None = None
        self._first = True
        self._streaming = False
        self._boot_wait = False  # the next logcat request waits for boot completion first
        self._booted = False  # since the last pause(): the new boot completed and is followed

    # ------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 10.0) -> None:
        """Start reading; return once logcat is streaming, so no line logged after this is missed."""
        self._start_thread()
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._streaming and not self.error and time.monotonic() < deadline:
                self._cond.wait(0.05)

    def stop(self) -> None:
        self._stop = True
        stream = self._stream
        if stream is not None:
            stream.close()
        self._join()
        self.journal.flush()

    def open(self, since: str | None) -> Iterator[bytes]:
        """``LogSource`` for the journal: one logcat run, resumed at ``since`` when given.

        After a reboot the same request first waits on the device for ``sys.boot_completed``
        (AOSP init sets it once the system server has booted; ``adb wait-for-device`` only
        means adbd is up) and says so on stderr, then becomes logcat: one round trip for the
        boot wait and the new boot's log, which logcat reads from the start of its buffer.
        """
        args = list(LOGCAT)
        if since is not None:
            args += ["-T", since]
        elif self._first:
            args += ["-T", "1"]  # from now on: the scenario's own records, not yesterday's
        self._first = False
        command = shlex.join(args)
        if self._boot_wait:
            command = f"{BOOT_WAIT}; echo {BOOTED} >&2; exec {command}"
        try:
            stream = self.device.wire.open_stream(command, on_stderr=self._on_stderr)
        except AdbWireError as exc:
            raise ConnectionError(str(exc)) from exc
        self._stream = stream
        with self._cond:
            self._streaming = True  # the stream is open: logcat follows from here on
            self._cond.notify_all()
        try:
            for chunk in stream.chunks():
                yield chunk
                with self._cond:
                    self._cond.notify_all()
        finally:
            stream.close()
            self._stream = None
            with self._cond:
                self._cond.notify_all()

    def _on_stderr(self, data: bytes) -> None:
        if self._boot_wait and BOOTED.encode() in data:
            self._boot_wait = False
            self._mark_booted()

    def _mark_booted(self) -> None:
        with self._cond:
            self._booted = True
            self._cond.notify_all()

    def _on_disconnect(self, error: BaseException | None) -> None:
        deadline = time.monotonic() + self.reconnect_timeout
        rebooting = self._reboot_expected
        if rebooting:
            try:  # one request while the device boots, not a poll
                self.device.wire.wait_for("device", min(self.reconnect_timeout, 30.0))
            except AdbWireError:
                pass  # an older adb server, or slow: the loop below decides
            else:
                # adbd is back, so this is the new boot: the next logcat request waits for
                # boot completion on the device before it streams (see `open`)
                self._reboot_expected = False
                self.journal.rebooted()
                self._boot_wait = True
                return
        delay = 0.02
        while not self._stop and time.monotonic() < deadline:
            try:
                if self.device.wire.state() == "device":
                    if not rebooting:
                        return
                    if self.device.wire.shell("getprop sys.boot_completed", timeout=5).out.strip() == "1":
                        self._reboot_expected = False
                        self.journal.rebooted()
                        self._mark_booted()
                        return
            except (AdbWireError, OSError):
                pass
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        if not self._stop:
            self.error = f"the device did not come back within {self.reconnect_timeout:.0f} s"
            self._wake()

    def pause(self) -> None:
        with self._cond:
            self._booted = False
        super().pause()

    def wait_rebooted(self, timeout: float) -> bool | None:
        """Block until the reader is following the new boot, which has completed (True), or
        ``timeout`` passed (False): the driver's reboot needs no requests of its own."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._booted:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop or self.error:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    # ------------------------------------------------------------- barriers
    def barrier(self, marker: str, timeout: float = 30.0) -> LogRecord:
        """Log ``marker`` and wait until the reader has it (one shell command per try).

        A marker can be missed in a reconnect race (logcat resumes from the last line it
        had); then it is logged again, until ``timeout``. The second line pushes the marker
        out of the parser, which holds each last line until the next one shows whether it
        continues a multi-line message.
        """
        deadline = time.monotonic() + timeout
        first, second = (shlex.join(["log", "-t", tag, marker]) for tag in ("bgtest", "bgtest-end"))
        command = f"{first}; {second}"
        while True:
            self.device.marker_shell(command)
            left = deadline - time.monotonic()
            rec = self.wait_for_marker("bgtest", marker, timeout=max(0.1, min(5.0, left)))
            if rec is not None:
                return rec
            if time.monotonic() >= deadline or self.error:
                raise DeviceError(
                    self.device.serial,
                    f"its log did not show bgtest's marker within {timeout:.0f} s"
                    + (f": {self.error}" if self.error else ""),
                    hint="is logcat working? try `adb logcat -d | tail`",
                )

    # ------------------------------------------------------------- queries
    def wait_for_marker(self, tag: str, message: str, timeout: float = 30.0) -> LogRecord | None:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                records = self.journal.by_tag.get(tag, [])
                for rec in records[seen:]:
                    if rec.message == message:
                        return rec
                seen = len(records)
                left = deadline - time.monotonic()
                if left <= 0 or self._stop or self.error:
                    return None
                self._cond.wait(min(left, 0.5))

    def diagnostics_text(self) -> str:
        recs = self.journal.tag("WM-DiagnosticsWrkr")
        return "\n".join(r.raw or r.message for r in recs) + "\n"
