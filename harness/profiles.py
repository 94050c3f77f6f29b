"""Device profiles: the phones a team must test on, as data the harness and the virtual devices share.

The deployment guide's checklist says "test on Android devices with < 2 GB RAM" and "on iPhone 7
or older", and memory and scheduling behave differently there (a low-RAM build runs fewer jobs at
once and its low-memory killer ends background work). A profile names such a class of phone.

- On a **virtual** device the profile is *set*: ``bgtest run --profile android-go`` (or a
  scenario's ``device: {profile: android-go}``) builds a phone with that identity, RAM, SDK and
  scheduler limits; it reports the name back in ``ro.bgtest.profile``.
- On a **real** phone it is *read*: :func:`classify` turns what the phone reports (SDK,
  ``ro.config.low_ram``, ``MemTotal``) into the profile it belongs to, so a scenario that
  ``requires: {profile: android-go}`` runs on a Go phone and is skipped, with the reason, elsewhere.

This module is pure data (no pydantic, no I/O) so the core, the CLI and both virtual devices
import it cheaply.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Platform = Literal["android", "ios"]


@dataclass(frozen=True)
class DeviceProfile:
    """One class of phone: what it is and what the virtual device makes of it."""

    name: str
    platform: Platform
    title: str
    model: str
    os_version: str
    #: Android API level (None on iOS).
    sdk: int | None
    #: RAM as the kernel reports it (``MemTotal``), in kB.
    ram_kb: int
    low_ram: bool = False
    #: JobScheduler's concurrency limit (AOSP JobConcurrencyManager; None: the device default).
    max_concurrent_jobs: int | None = None
    #: Design capacity of the battery (batterystats' ``Capacity:``), mAh.
    battery_mah: int = 4000
    #: Extra read-only properties of the build (fingerprint parts, ro.config.*).
    props: dict[str, str] = field(default_factory=dict)
    #: Apps the phone's user left in the background (cached processes the low-memory killer
    #: ends first), as (process name, PSS kB).
    background_apps: tuple[tuple[str, int], ...] = ()
    #: iOS: the simulator device type name and the product type a device reports.
    ios_device_type: str | None = None
    ios_product_type: str | None = None

    @property
    def marketed_ram_gb(self) -> float:
        """RAM as the box says (``MemTotal`` 945,412 kB is a "1 GB" phone): up to the next half GB."""
        return math.ceil(self.ram_kb / (512 * 1024)) / 2

    def summary(self) -> str:
        """One line for ``bgtest devices``: ``android-go — Nokia 1.4, Android 10 (API 29), 1 GB, low-RAM``."""
        ram = f"{self.marketed_ram_gb:g} GB"
        os_name = f"Android {self.os_version} (API {self.sdk})" if self.platform == "android" else (
            f"iOS {self.os_version}")
        extra = ", low-RAM" if self.low_ram else ""
        return f"{self.name} — {self.model}, {os_name}, {ram}{extra}"


_GB = 1024 * 1024

PROFILES: dict[str, DeviceProfile] = {
    p.name: p
    for p in (
        DeviceProfile(
            name="android-flagship",
            platform="android",
            title="a current flagship (the default virtual phone)",
            model="Pixel 8",
            os_version="14",
            sdk=34,
            ram_kb=7_907_000,
            battery_mah=4575,
        ),
        DeviceProfile(
            name="android-go",
            platform="android",
            title="an Android Go phone: 1 GB, ro.config.low_ram, Android 10",
            model="Nokia 1.4",
            os_version="10",
            sdk=29,
            ram_kb=945_412,
            low_ram=True,
            # JobConcurrencyManager: DEFAULT_CONCURRENCY_LIMIT = 8 when isLowRamDeviceStatic(),
            # 16 up to 6 GB, 20 up to 8 GB (AOSP apex/jobscheduler/.../JobConcurrencyManager.java).
            max_concurrent_jobs=8,
            battery_mah=3000,
            props={
                "ro.config.low_ram": "true",
                "ro.build.id": "QP1A.190711.020",
                "ro.build.version.security_patch": "2021-03-01",
                # a Go build's Dalvik heap is small (frameworks/native/build/phone-xhdpi-1024-dalvik-heap)
                "dalvik.vm.heapgrowthlimit": "96m",
                "dalvik.vm.heapsize": "256m",
            },
            # what a user of a 1 GB phone has open: the killer ends these before the app's work
            background_apps=(
                ("com.android.chrome", 62_000),
                ("com.google.android.apps.photosgo", 41_000),
                ("com.whatsapp", 55_000),
            ),
        ),
        DeviceProfile(
            name="android-legacy",
            platform="android",
            title="an older phone: Android 8.1 (API 27), before standby buckets and "
            "cmd connectivity airplane-mode",
            model="Nexus 5X",
            os_version="8.1.0",
            sdk=27,
            ram_kb=1_857_360,
            max_concurrent_jobs=16,  # JobSchedulerService.MAX_JOB_CONTEXTS_COUNT on O/O-MR1
            battery_mah=2700,
            props={
                "ro.build.id": "OPM7.181205.001",
                "ro.build.version.security_patch": "2018-12-05",
            },
        ),
        DeviceProfile(
            name="iphone-flagship",
            platform="ios",
            title="a current iPhone (the default virtual iPhone)",
            model="iPhone 15",
            os_version="17.2",
            sdk=None,
            ram_kb=6 * _GB,
            ios_device_type="iPhone 15",
            ios_product_type="iPhone15,4",
            battery_mah=3349,
        ),
        DeviceProfile(
            name="iphone-7",
            platform="ios",
            title="an iPhone 7 on iOS 15 (2 GB RAM), the oldest the guide asks for",
            model="iPhone 7",
            os_version="15.7",
            sdk=None,
            ram_kb=2 * _GB,
            ios_device_type="iPhone 7",
            ios_product_type="iPhone9,1",
            battery_mah=1960,
        ),
    )
}

DEFAULT_PROFILE: dict[Platform, str] = {"android": "android-flagship", "ios": "iphone-flagship"}


class UnknownProfileError(ValueError):
    """A profile name that is not in :data:`PROFILES`."""

    def __init__(self, name: str, platform: Platform | None = None) -> None:
        known = sorted(p.name for p in PROFILES.values() if platform in (None, p.platform))
        super().__init__(f"unknown device profile {name!r}; known: {', '.join(known)}")
        self.name = name


def get_profile(name: str, platform: Platform | None = None) -> DeviceProfile:
    """The profile called ``name`` (for ``platform`` when given), or :class:`UnknownProfileError`."""
    profile = PROFILES.get(name)
    if profile is None or (platform is not None and profile.platform != platform):
        raise UnknownProfileError(name, platform)
    return profile


def profile_names(platform: Platform | None = None) -> list[str]:
    return sorted(p.name for p in PROFILES.values() if platform in (None, p.platform))


def classify(platform: Platform, *, sdk: int | None = None, low_ram: bool = False,
             ram_kb: int | None = None, declared: str | None = None) -> str:
    """The profile a phone belongs to, from what it reports (how a real phone's profile is *read*).

    ``declared`` is a virtual device's own ``ro.bgtest.profile``; a real phone has none, so its
    class follows the guide's lines: low-RAM (``ro.config.low_ram``, or a phone sold with less than
    2 GB, i.e. ``MemTotal`` under 1.5 GB, since the kernel keeps some) is ``android-go``, an API
    level before 28 (no standby buckets) ``android-legacy``, anything else ``android-flagship``;
    on iOS a phone with 2 GB or less is ``iphone-7``.
    """
    if declared and declared in PROFILES:
        return declared
    if platform == "android":
        if low_ram or (ram_kb is not None and ram_kb < 1.5 * _GB):
            return "android-go"
        if sdk is not None and sdk < 28:
            return "android-legacy"
        return "android-flagship"
    if ram_kb is not None and ram_kb <= 2 * _GB:
        return "iphone-7"
    return "iphone-flagship"


def android_profile(props: Mapping[str, str], meminfo: str = "") -> str:
    """The profile of an Android device from its properties and ``/proc/meminfo`` (read, not set)."""
    sdk_text = props.get("ro.build.version.sdk", "")
    m = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    return classify(
        "android",
        sdk=int(sdk_text) if sdk_text.isdigit() else None,
        low_ram=props.get("ro.config.low_ram", "") == "true",
        ram_kb=int(m.group(1)) if m else None,
        declared=props.get("ro.bgtest.profile") or None,
    )


#: iPhones with 2 GB of RAM or less, the guide's "iPhone 7 or older" (Apple's tech specs).
_SMALL_IPHONES = re.compile(r"^iPhone (5|5s|5c|6|6 Plus|6s|6s Plus|7|SE( \(1st generation\))?)$")


def ios_profile(device_name: str, declared: str | None = None) -> str:
    """The profile of an iPhone (simulator or device) from its device type name."""
    if declared and declared in PROFILES:
        return declared
    return "iphone-7" if _SMALL_IPHONES.match(device_name.strip()) else "iphone-flagship"
