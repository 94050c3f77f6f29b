"""The build a device profile describes: its Android release, API level and low-RAM flags in props.

``props.py`` gives every virtual phone a coherent Android 14 identity for its model; a profile
(``harness/profiles.py``) may describe an older or a Go build. This rewrites the properties
tools branch on — ``ro.build.version.sdk``/``release``, the fingerprint and description built
from them, ``ro.config.low_ram`` (ActivityManager.isLowRamDeviceStatic) — and records the
profile's name in ``ro.bgtest.profile`` so the harness can *read* which profile it got.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.profiles import DeviceProfile

    from .props import Properties


def apply_profile(props: Properties, profile: DeviceProfile) -> None:
    sdk, release = str(profile.sdk), profile.os_version
    for key, value in profile.props.items():
        props.set(key, value)
    build_id = props.get("ro.build.id")
    incremental = props.get("ro.build.version.incremental")
    brand, code = props.get("ro.product.brand"), props.get("ro.product.device")
    fingerprint = f"{brand}/{code}/{code}:{release}/{build_id}/{incremental}:user/release-keys"
    props.set("ro.build.version.sdk", sdk)
    props.set("ro.system.build.version.sdk", sdk)
    props.set("ro.build.version.release", release)
    props.set("ro.build.version.release_or_codename", release)
    props.set("ro.build.display.id", build_id)
    props.set("ro.build.fingerprint", fingerprint)
    props.set("ro.system.build.fingerprint", fingerprint)
    props.set("ro.vendor.build.fingerprint", fingerprint)
    props.set("ro.build.description", f"{code}-user {release} {build_id} {incremental} release-keys")
    if int(props.get("ro.product.first_api_level", sdk)) > int(sdk):
        props.set("ro.product.first_api_level", sdk)
    if int(props.get("ro.vndk.version", sdk) or sdk) > int(sdk):
        props.set("ro.vndk.version", sdk)
    props.set("ro.bgtest.profile", profile.name)
