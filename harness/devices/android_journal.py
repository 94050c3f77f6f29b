"""The continuous logcat reader of one Android device, feeding the log journal.

One reader per device for the whole scenario (``logcat -v threadtime -v year -b main,system,crash``:
the year keeps device time unambiguous);
when the link drops — a reboot, a USB hiccup — it waits for the device and resumes with
``-T '<last time>'`` so the journal has no gap and no duplicate (the journal does the
boundary de-duplication). After an expected reboot it waits for ``sys.boot_completed`` and
reads the new boot's buffer from its start.

The runner synchronises with it through markers: it logs a unique line and waits here until
the reader has delivered it (`wait_for_marker`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from harness.devices.adbwire import AdbWireError, ShellStream
from harness.devices.android import AndroidDevice
from harness.logs.expect import ExpectationEngine
from harness.logs.journal import Journal
from harness.logs.record import LogRecord

LOGCAT = ["logcat", "-v", "threadtime", "-v", "year", "-b", "main,system,crash"]


class DeviceJournal:
    def __init__(
        self, device: AndroidDevice, engine: ExpectationEngine | None = None, reconnect_timeout: float = 180.0
    ) -> None:
        self.device = device
        # Selective: only records the expectations and vocabularies can use are parsed live
        # (plus bgtest's own markers); the raw stream is kept whole for artifacts and late
        # questions, so nothing is lost.
        self.journal = Journal(platform="android", engine=engine, selective=engine is not None,
                               time_style="year", always_tags=frozenset({"bgtest", "bgtest-end"}))
        self.reconnect_timeout = reconnect_timeout
        self._cond = threading.Condition()
        self._stop = False
        self._stream: ShellStream | None = None
        self._thread: threading.Thread | None = None
        self._reboot_expected = False
        self._first = True
        self._streaming = False
        self.error: str = ""

    # ------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 10.0) -> None:
        """Start reading; return once logcat is streaming, so no line logged after this is missed."""
        self._thread = threading.Thread(target=self._main, name=f"logcat-{self.device.serial}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._streaming and not self.error and time.monotonic() < deadline:
                self._cond.wait(0.05)

    def stop(self) -> None:
        self._stop = True
        stream = self._stream
        if stream is not None:
            stream.close()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(10)
        self.journal.flush()

    def expect_reboot(self) -> None:
        """The runner is about to reboot the device: the next break is a reboot, not a hiccup."""
        self._reboot_expected = True

    # ------------------------------------------------------------- the reader
    def _main(self) -> None:
        try:
            self.journal.follow(self, should_stop=lambda: self._stop, on_disconnect=self._on_disconnect)
        except Exception as exc:  # the reader must never die silently: the runner reports it
            self.error = f"log reader stopped: {exc}"
            with self._cond:
                self._cond.notify_all()

    def open(self, since: str | None) -> Iterator[bytes]:
        """``LogSource`` for the journal: one logcat run, resumed at ``since`` when given."""
        args = list(LOGCAT)
        if since is not None:
            args += ["-T", since]
        elif self._first:
            args += ["-T", "1"]  # from now on: the scenario's own records, not yesterday's
        self._first = False
        import shlex

        try:
            stream = self.device.wire.open_stream(shlex.join(args))
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

    def _on_disconnect(self, error: BaseException | None) -> None:
        deadline = time.monotonic() + self.reconnect_timeout
        rebooting = self._reboot_expected
        delay = 0.02
        while not self._stop and time.monotonic() < deadline:
            try:
                if self.device.wire.state() == "device":
                    if not rebooting:
                        return
                    if self.device.wire.shell("getprop sys.boot_completed", timeout=5).out.strip() == "1":
                        self._reboot_expected = False
                        self.journal.rebooted()
                        return
            except (AdbWireError, OSError):
                pass
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        if not self._stop:
            self.error = f"the device did not come back within {self.reconnect_timeout:.0f} s"

    # ------------------------------------------------------------- queries
    @property
    def lock(self) -> threading.RLock:
        """Held by the reader while it feeds the engine; hold it to read or change the engine."""
        return self.journal.lock  # type: ignore[return-value]

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

    def records_since(self, anchor_ns: int) -> list[LogRecord]:
        return self.journal.history_since(anchor_ns)

    def job_id_for(self, task: str) -> int | None:
        vocab = self.journal.vocab
        return vocab.job_id_for(task) if vocab is not None else None

    def text(self, since_ns: int = 0) -> str:
        lines = [
            rec.raw or f"{rec.level}/{rec.tag}: {rec.message}"
            for rec in self.journal.all_records()
            if rec.time_ns >= since_ns
        ]
        return "\n".join(lines) + ("\n" if lines else "")

    def diagnostics_text(self) -> str:
        recs = self.journal.tag("WM-DiagnosticsWrkr")
        return "\n".join(r.raw or r.message for r in recs) + "\n"

    def save(self, path: Path) -> Path:
        return self.journal.save(path)
