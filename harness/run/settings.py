"""One settings object for a run, built once from the command line, pytest options and the
environment, and passed down — no module reads ``os.environ`` for these on its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where the devices are and where reports go."""

    device: str | None = None  # --device: an adb serial, or a simulator UDID
    adb_server: str | None = None  # HOST:PORT of the adb server (farms)
    xcrun: str | None = None  # the xcrun to run (a command line)
    ios_device: str | None = None  # an iOS UDID to use
    wda_url: str | None = None  # WebDriverAgent of the iOS target (comma-separated: several)
    device_url: str | None = None  # $DEVICE_URL, facebook-wda's own: one more WDA `bgtest devices` asks
    report_dir: Path | None = None
    allow_embedded: bool = True  # start a virtual device when no real one is there
    profiles: tuple[str, ...] = ()  # --profile: the virtual devices' profiles (one per platform)
    reruns: int = 0  # --reruns: run a failed scenario again up to this many times (flaky if it passes)
    device_filters: tuple[str, ...] = ()  # --device-filter: sdk>=31, model=Pixel*, virtual=no …
    #: $BGTEST_RECONNECT_TIMEOUT: seconds a farm device may be gone before its command fails
    #: (None: the driver's default, long enough for a USB hiccup or a reboot's drop)
    reconnect_timeout_s: float | None = None

    def profile_for(self, platform: str) -> str | None:
        """The ``--profile`` given for ``platform``'s virtual device (None: its default)."""
        from harness.profiles import PROFILES

        return next((p for p in self.profiles if p in PROFILES and PROFILES[p].platform == platform), None)

    @classmethod
    def build(cls, environ: Mapping[str, str], **given: object) -> Settings:
        """``given`` (options; None = not given) over ``BGTEST_XCRUN`` / ``BGTEST_IOS_DEVICE`` /
        ``BGTEST_WDA_URL`` / ``DEVICE_URL`` from ``environ``."""
        values = {k: v for k, v in given.items() if v is not None}
        env = {
            "xcrun": environ.get("BGTEST_XCRUN") or None,
            "ios_device": environ.get("BGTEST_IOS_DEVICE") or None,
            "wda_url": environ.get("BGTEST_WDA_URL") or None,
            "device_url": environ.get("DEVICE_URL") or None,
        }
        for key, value in env.items():
            if value is not None:
                values.setdefault(key, value)
        return cls(**values)  # type: ignore[arg-type]
