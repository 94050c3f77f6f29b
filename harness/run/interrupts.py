"""SIGINT and SIGTERM: stop the run, but never halfway through putting a device back.

A signal becomes :class:`Interrupted` (a ``KeyboardInterrupt``, so pytest stops the session
and still writes JUnit and the reports) — except inside :func:`deferred`, where it is only
recorded and raised when the block ends. Restoring a device and writing the run's reports
are such blocks: a Ctrl-C 0.3 s after a failing step must not leave Low Power Mode on.

The first signal received decides the exit code (130 for SIGINT, 143 for SIGTERM, as a shell
reports a process killed by it), whatever happens afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal; ``exit_code`` is what ``bgtest run`` exits with."""

    def __init__(self, signum: int) -> None:
        self.signal = signal.Signals(signum)
        super().__init__(self.signal.name)

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signal)


class _State:
    received: signal.Signals | None = None
    depth = 0
    pending = False
    #: takes a signal instead of raising it (returns True when it did): an xdist controller
    listener: Callable[[signal.Signals], bool] | None = None


_state = _State()


def received() -> signal.Signals | None:
    """The first SIGINT/SIGTERM this process received, if any."""
    return _state.received


def exit_code() -> int | None:
    """128 + the first signal received, or ``None``."""
    return 128 + int(_state.received) if _state.received is not None else None


#: how soon a signal that arrived inside the import machinery is delivered again
_REDELIVER_S = 0.02


def _handler(signum: int, frame: FrameType | None) -> None:
    sig = signal.Signals(signum)
    if _state.received is None:
        _state.received = sig
    if _state.listener is not None and _state.listener(sig):
        return
    if _state.depth:
        _state.pending = True
        return
    if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        # Raised here, the exception lands in importlib's own bookkeeping (a module lock's
        # weakref callback): Python prints "Exception ignored … Traceback" and can leave the
        # lock to a thread that then waits forever. Deliver it again a moment later, when the
        # main thread runs ordinary code.
        timer = threading.Timer(_REDELIVER_S, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    raise Interrupted(signum)


def on_signal(listener: Callable[[signal.Signals], bool] | None) -> None:
    """Let ``listener`` take SIGINT/SIGTERM instead of raising (when it returns True).

    A process that coordinates others (pytest-xdist's controller) must not stop in the middle
    of its loop: it passes the signal on to its workers and waits for them to restore.
    """
    _state.listener = listener


def install() -> bool:
    """Route SIGINT and SIGTERM here (main thread only; a no-op elsewhere). Idempotent."""
    if threading.current_thread() is not threading.main_thread():
        return False
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    return True


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """SIGINT/SIGTERM handled here for the block, the previous handlers back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def reset() -> None:
    """Forget what was received (a new run in the same process, as in tests)."""
    _state.received = None
    _state.pending = False
    _state.listener = None


@contextlib.contextmanager
def deferred(*, then_raise: bool = True) -> Iterator[None]:
    """Signals wait until the block is done; then (``then_raise``) the first one is raised."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        if not _state.depth and _state.pending:
            _state.pending = False
            if then_raise and _state.received is not None:
                raise Interrupted(_state.received)
