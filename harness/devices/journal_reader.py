"""What every device's continuous log reader shares: the reader thread, reboot hand-over and
the queries the runner asks of the journal. Platforms add how to open the stream
(``open``), how to wait after a break (``_on_disconnect``) and how markers are found.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator
from pathlib import Path

from harness.logs.journal import Journal
from harness.logs.record import LogRecord


class JournalReader(abc.ABC):
    """A ``LogSource`` read on a thread into a :class:`Journal`; subclasses open the stream."""

    thread_name = "journal"

    def __init__(self, journal: Journal, reconnect_timeout: float = 180.0) -> None:
        self.journal = journal
        self.reconnect_timeout = reconnect_timeout
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._reboot_expected = False
        self._was_reading = False
        self.error: str = ""

    # ------------------------------------------------------------- the reader
    @abc.abstractmethod
    def open(self, since: str | None) -> Iterator[bytes]:
        """One run of the platform's log stream (``logcat``, ``log stream``), resumed at ``since``."""

    @abc.abstractmethod
    def _on_disconnect(self, error: BaseException | None) -> None:
        """After a break: wait for the device (and for its boot, after a reboot)."""

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self.thread_name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self.journal.follow(self, should_stop=lambda: self._stop, on_disconnect=self._on_disconnect)
        except Exception as exc:  # the reader must never die silently: the runner reports it
            self.error = f"log reader stopped: {exc}"
            self._wake()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _join(self) -> None:
        self._wake()
        if self._thread is not None:
            self._thread.join(10)

    def pause(self) -> None:
        """The device is about to reboot: the next break is a reboot, not a hiccup.

        The reader thread stays: when the stream breaks it waits for the new boot itself and
        reads it from its start (the Mobly ``handle_reboot`` idea, with the reader owning its
        own reconnection).
        """
        self._reboot_expected = True
        self._was_reading = self._thread is not None and self._thread.is_alive() and not self._stop

    def resume(self) -> None:
        """The device has booted again: a reader that was reading and gave up meanwhile (the
        reboot outlasted its reconnect timeout) starts again; one that was stopped stays so."""
        alive = self._thread is not None and self._thread.is_alive()
        if self._was_reading and not alive and not self._stop:
            self.error = ""
            self._start_thread()

    def wait_rebooted(self, timeout: float) -> bool | None:
        """This reader does not watch the boot: the driver waits for it (see ``LogReader``)."""
        return None

    # ------------------------------------------------------------- queries
    @property
    def lock(self) -> threading.RLock:
        """Held by the reader while it feeds the engine; hold it to read or change the engine."""
        return self.journal.lock  # type: ignore[return-value]

    def inject(self, rec: LogRecord) -> None:
        self.journal.add_external(rec)

    def records(self) -> list[LogRecord]:
        """The records parsed live (in selective mode, those the expectations can use)."""
        with self.journal.lock:
            return list(self.journal.records)

    def all_records(self) -> list[LogRecord]:
        """Every record of the stream, re-read from the kept raw bytes (artifacts, timelines)."""
        return list(self.journal.all_records())

    def records_since(self, anchor_ns: int) -> list[LogRecord]:
        return self.journal.history_since(anchor_ns)

    def job_id_for(self, task: str) -> int | None:
        vocab = self.journal.vocab
        return vocab.job_id_for(task) if vocab is not None else None

    def _line(self, rec: LogRecord) -> str:
        return rec.raw or f"{rec.level}/{rec.tag}: {rec.message}"

    def text(self, since_ns: int = 0) -> str:
        lines = [self._line(rec) for rec in self.journal.all_records() if rec.time_ns >= since_ns]
        return "\n".join(lines) + ("\n" if lines else "")

    def diagnostics_text(self) -> str:
        return ""

    def save(self, path: Path) -> Path:
        return self.journal.save(path)
