"""The platforms and libraries a scenario can name, and per-platform limits on action options.

Which *actions* each platform has lives with the actions (``harness/actions/``, one table for
validation and execution); this module keeps what the scenario models themselves need.
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

OPTION_LIMITS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("launch", "activity"): (("android",), "activities are Android components"),
    ("launch", "extras"): (("android",), "intent extras are Android; on iOS use arguments: or env:"),
    ("launch", "arguments"): (("ios",), "launch arguments are iOS; on Android use extras:"),
    ("launch", "env"): (("ios",), "launch environment is iOS (SIMCTL_CHILD_*); on Android use extras:"),
    ("capture", "dumpsys_jobscheduler"): (("android",), "dumpsys is Android"),
    ("capture", "dumpsys_deviceidle"): (("android",), "dumpsys is Android"),
    ("capture", "dumpsys_battery"): (("android",), "dumpsys is Android"),
    ("capture", "diagnostics"): (("android",), "WorkManager diagnostics exist on Android only"),
    ("standby_bucket", "package"): (("android",), "standby buckets are Android"),
}
"""(action, option or value) → platforms that support it, and why the others do not."""
