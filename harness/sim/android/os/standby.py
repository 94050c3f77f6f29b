"""App standby buckets (UsageStatsManager values 5–50) and the job quotas that hang off them.

A package with no recorded use is in NEVER, as AppStandbyController keeps it; its first launch
(``package_started``, or :meth:`AppStandby.report_launch`) puts it in ACTIVE. There is no decay
over time: buckets move only when an app is launched or the shell sets them (``am
set-standby-bucket`` / ``am set-inactive``, registered by the activity manager, call in here).
Apps on the power-save whitelist (except-idle included) are EXEMPTED, as getAppMinBucket says.

The per-bucket quotas are QuotaController's defaults (Android 12+), exposed as data for
JobScheduler, which does the accounting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import SystemContext

EXEMPTED, ACTIVE, WORKING_SET, FREQUENT, RARE, RESTRICTED, NEVER = 5, 10, 20, 30, 40, 45, 50
BUCKET_NAMES = {
    EXEMPTED: "EXEMPTED",
    ACTIVE: "ACTIVE",
    WORKING_SET: "WORKING_SET",
    FREQUENT: "FREQUENT",
    RARE: "RARE",
    RESTRICTED: "RESTRICTED",
    NEVER: "NEVER",
}
_PREFIXES = (
    ("ac", ACTIVE),
    ("wo", WORKING_SET),
    ("fr", FREQUENT),
    ("ra", RARE),
    ("re", RESTRICTED),
    ("ne", NEVER),
    ("ex", EXEMPTED),
)

MIN = 60_000
HOUR = 60 * MIN


@dataclass(frozen=True)
class BucketQuota:
    """What QuotaController allows a bucket (``QcConstants`` defaults).

    Regular jobs: ``allowed_ms`` of run time per rolling ``window_ms``, at most ``max_jobs`` job
    starts and ``max_sessions`` sessions per window. Expedited jobs: ``ej_limit_ms`` per rolling
    ``ej_window_ms`` (24 h). ``max_execution_ms`` caps run time over any 24 h.
    """

    bucket: int
    window_ms: int
    allowed_ms: int
    max_jobs: int
    max_sessions: int
    ej_limit_ms: int
    ej_window_ms: int = 24 * HOUR
    max_execution_ms: int = 4 * HOUR

    @property
    def name(self) -> str:
        return BUCKET_NAMES[self.bucket]


QUOTAS: dict[int, BucketQuota] = {
    EXEMPTED: BucketQuota(EXEMPTED, 10 * MIN, 10 * MIN, 75, 75, 45 * MIN),
    ACTIVE: BucketQuota(ACTIVE, 10 * MIN, 10 * MIN, 75, 75, 30 * MIN),
    WORKING_SET: BucketQuota(WORKING_SET, 2 * HOUR, 10 * MIN, 120, 10, 30 * MIN),
    FREQUENT: BucketQuota(FREQUENT, 8 * HOUR, 10 * MIN, 200, 8, 10 * MIN),
    RARE: BucketQuota(RARE, 24 * HOUR, 10 * MIN, 48, 3, 10 * MIN),
    RESTRICTED: BucketQuota(RESTRICTED, 24 * HOUR, 10 * MIN, 10, 1, 5 * MIN),
    NEVER: BucketQuota(NEVER, 24 * HOUR, 0, 0, 0, 0),
}
#: Quota top-ups: an app on top earns EJ time (10 s), user interaction 15 s; grace periods.
EJ_REWARD_TOP_APP_MS = 10_000
EJ_REWARD_INTERACTION_MS = 15_000
EJ_GRACE_TOP_APP_MS = 1 * MIN
EJ_GRACE_TEMP_ALLOWLIST_MS = 3 * MIN


class BucketError(ValueError):
    """``am set-standby-bucket`` with a name Android does not know (message: ``Unknown bucket: X``)."""


def parse_bucket(text: str) -> int:
    """The bucket as ActivityManagerShellCommand parses it: a name prefix or a raw integer."""
    low = text.lower()
    for prefix, value in _PREFIXES:
        if low.startswith(prefix):
            return value
    try:
        return int(text)
    except ValueError:
        raise BucketError(f"Unknown bucket: {text}") from None


class AppStandby:
    """Bucket per package; publishes ``standby_bucket`` and ``constraints`` on every change."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self._buckets: dict[str, int] = {}
        device.bus.subscribe("package_started", self._on_started)
        device.bus.subscribe("package_removed", self._on_removed)

    def bucket(self, package: str) -> int:
        idle = self.device.idle
        if idle.is_power_save_whitelisted(package):
            return EXEMPTED
        bucket = self._buckets.get(package, NEVER)
        if (self.device.profile.sdk or 34) < 28:
            # No standby buckets before Android P: App Standby only knows idle (am set-inactive) apps.
            return RARE if bucket >= RARE and package in self._buckets else ACTIVE
        return bucket

    def bucket_name(self, package: str) -> str:
        return BUCKET_NAMES.get(self.bucket(package), str(self.bucket(package)))

    def quota(self, package: str) -> BucketQuota:
        b = self.bucket(package)
        if b in QUOTAS:
            return QUOTAS[b]
        # A raw integer bucket: the next stricter named bucket's quota.
        return QUOTAS[min((k for k in QUOTAS if k >= b), default=NEVER)]

    def set_bucket(self, package: str, bucket: int) -> None:
        if self._buckets.get(package) == bucket:
            return
        self._buckets[package] = bucket
        self.device.bus.publish("standby_bucket", package=package, bucket=self.bucket(package))
        self.device.bus.publish("constraints")

    def report_launch(self, package: str) -> None:
        """A user launch: the app is ACTIVE."""
        self.set_bucket(package, ACTIVE)

    def is_inactive(self, package: str) -> bool:
        """``am get-inactive``: idle means bucket RARE or worse (isAppIdleFiltered)."""
        return self.bucket(package) >= RARE

    def set_inactive(self, package: str, inactive: bool) -> None:
        """``am set-inactive``: true → RARE, false → ACTIVE."""
        self.set_bucket(package, RARE if inactive else ACTIVE)

    def all_buckets(self) -> list[tuple[str, int]]:
        return sorted((p, self.bucket(p)) for p in self._buckets)

    def _on_started(self, package: str) -> None:
        self.report_launch(package)

    def _on_removed(self, package: str) -> None:
        self._buckets.pop(package, None)
