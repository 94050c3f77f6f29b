"""What ``bgtest run`` exits with: one table, one place (README "Exit codes" shows it).

A farm's CI must tell "the app's background work is broken" (1) from "the scenario file is
wrong" (2) from "the phone or the server was not there" (3) from "someone stopped the run"
(130/143) without reading the log.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.errors import DeviceCommandError, UnsupportedAction

PASSED = 0
FAILED = 1
INVALID_INPUT = 2
INFRASTRUCTURE = 3
SIGINT = 130
SIGTERM = 143


def for_error(exc: BaseException) -> int:
    """The exit code an error stands for.

    A device that refused a command (non-zero exit) failed the scenario; a device, server,
    xcrun or proxy that could not be reached (any other :class:`BgtestError`) — or a bug in
    bgtest — is infrastructure; a scenario that asks for what the platform cannot do is
    invalid input.
    """
    from harness.run.interrupts import Interrupted
    from harness.run.settings import SettingError
    from harness.scenario.errors import ScenarioError

    if isinstance(exc, Interrupted):
        return exc.exit_code
    if isinstance(exc, (UnsupportedAction, ScenarioError, SettingError)):
        return INVALID_INPUT
    if isinstance(exc, DeviceCommandError):
        return FAILED
    return INFRASTRUCTURE


def for_status(status: str, exit_code: int = 0) -> int:
    """A scenario result's code: its recorded cause, else 1 for failed/error, 0 otherwise
    (``flaky`` included: it passed on a rerun, and the reports say it is flaky)."""
    if exit_code:
        return exit_code
    return FAILED if status in ("failed", "error") else PASSED


def overall(codes: Iterable[int]) -> int:
    """The run's code: the most serious of its scenarios' (interrupted > 3 > 2 > 1 > 0)."""
    return max(codes, default=PASSED)
