"""The short error hierarchy every user-facing failure belongs to.

A ``BgtestError`` is something a user can cause and fix (bad scenario, unknown device, a
command the device refused); the CLI prints its message and a hint and exits non-zero, with
no traceback unless ``--debug``. Anything else escaping is a bug in bgtest.
"""

from __future__ import annotations


class BgtestError(Exception):
    """Base of every error a user can act on. ``hint`` says what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class DeviceError(BgtestError):
    """A device could not be reached or refused what was asked. The message starts with it."""

    def __init__(self, device: str, message: str, hint: str = "") -> None:
        super().__init__(f"<{device}> {message}", hint)
        self.device = device


class DeviceCommandError(DeviceError):
    """A device command exited non-zero or printed an error; carries everything to debug it."""

    def __init__(
        self,
        device: str,
        command: str,
        exit_code: int | None,
        stdout: str = "",
        stderr: str = "",
        hint: str = "",
    ) -> None:
        detail = (stderr.strip() or stdout.strip()).splitlines()
        first = detail[-1] if detail else "no output"
        super().__init__(device, f"`{command}` exited {exit_code}: {first}", hint)
        self.command = command
        self.exit_status = exit_code
        self.stdout = stdout
        self.stderr = stderr


class UnsupportedAction(BgtestError):
    """The scenario asks for something this platform or device cannot do.

    With ``device`` (its serial or UDID) the message starts with it, as every device error does.
    """

    def __init__(self, message: str, hint: str = "", device: str | None = None) -> None:
        if device is not None and not message.startswith("<"):
            message = f"<{device}> {message}"
        super().__init__(message, hint)
        self.device = device


class StepFailed(Exception):
    """A step did not hold (a check the scenario asked for): the message is what the user reads.

    Not a :class:`BgtestError`: the scenario *failed*, nothing is wrong with how it was run.
    """
