"""The signal handler itself (harness.run.interrupts), in this process with real signals."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from harness.run import interrupts


@pytest.fixture
def handled() -> Iterator[None]:
    interrupts.reset()
    with interrupts.handling():
        yield
    interrupts.reset()


def _frame_in(filename: str) -> FrameType:
    namespace: dict[str, object] = {"sys": sys}
    exec(compile("frame = sys._getframe()", filename, "exec"), namespace)
    frame = namespace["frame"]
    assert isinstance(frame, FrameType)
    return frame


def test_a_signal_inside_the_import_machinery_is_delivered_again_outside_it(handled: None) -> None:
    """Raised inside importlib (a module lock's weakref callback), the exception is 'ignored' with
    a traceback on stderr and may leave the lock held; the handler sends the signal again."""
    interrupts._handler(signal.SIGTERM, _frame_in("<frozen importlib._bootstrap>"))  # no raise here
    assert interrupts.received() == signal.SIGTERM
    with pytest.raises(interrupts.Interrupted) as caught:
        threading.Event().wait(30)  # the signal comes again and interrupts this wait
    assert caught.value.exit_code == 143


def test_a_signal_in_ordinary_code_raises_at_once(handled: None) -> None:
    with pytest.raises(interrupts.Interrupted):
        interrupts._handler(signal.SIGINT, _frame_in(__file__))
    assert interrupts.exit_code() == 130
