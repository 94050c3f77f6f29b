"""The platforms and libraries a scenario can name.

Which *actions* (and which of their options) each platform has lives with the actions
(``harness/actions/``, one table for validation and execution); this module keeps what the
scenario models themselves need.
"""

from __future__ import annotations

PLATFORMS: tuple[str, ...] = ("android", "ios")

LIBRARIES: tuple[str, ...] = (
    "androidx.work",
    "native_workmanager",
    "flutter_workmanager",
    "bgtaskscheduler",
    "kmpworkmanager",
)
"""Log vocabularies a scenario's app can speak (``app.library``)."""


INCLUDE_KIND = "include"
"""Not an action: replaced by the steps of the file it names when the scenario loads."""
