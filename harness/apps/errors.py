"""The one error of the app-model format, kept apart from the models so catching it is cheap."""

from __future__ import annotations


class AppModelError(Exception):
    """A malformed app model: ``file:line: message`` (what ``pm install`` prints inside its Failure)."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message
