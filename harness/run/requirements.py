"""Whether a device is the one a scenario asks for: ``device: {profile}`` and ``requires:``.

A virtual device is *given* the profile a scenario (or ``--profile``) asks for; a phone is what
it is, so there the asked profile is a requirement like ``requires:``. A scenario whose device
does not fit is skipped with the reason, never run on the wrong phone and never failed for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.devices.base import Device
from harness.profiles import PROFILES
from harness.scenario import models as m


@dataclass(frozen=True)
class DeviceFacts:
    """What decides a requirement, as the device describes itself."""

    platform: str
    profile: str
    virtual: bool
    sdk: int | None = None
    low_ram: bool = False


def facts(device: Device, platform: str) -> DeviceFacts:
    """The facts of ``device`` (its ``describe()``: profile, sdk, low_ram, virtual)."""
    info = device.describe()
    sdk = info.get("sdk", "")
    return DeviceFacts(
        platform=platform,
        profile=info.get("profile", ""),
        virtual=info.get("virtual") == "yes",
        sdk=int(sdk) if sdk.isdigit() else None,
        low_ram=info.get("low_ram") == "true",
    )


def unmet(scenario: m.Scenario, device: DeviceFacts, asked_profile: str | None) -> str | None:
    """Why ``scenario`` must not run on this device, or None when it may."""
    where = "the virtual device" if device.virtual else "this phone"
    if asked_profile is not None and device.profile != asked_profile:
        read = "" if device.virtual else " (a phone's profile is read from it, not set)"
        return f"asks for a {asked_profile} device; {where} is {device.profile}{read}"
    req = scenario.requires
    if req is None:
        return None
    if req.profile is not None:
        mine = [p for p in req.profile if PROFILES[p].platform == device.platform]
        if device.profile not in mine:
            wanted = " or ".join(mine) if mine else f"a {' or '.join(req.profile)} device"
            return f"requires {wanted}; {where} is {device.profile}"
    if req.low_ram is not None and device.low_ram != req.low_ram:
        want = str(req.low_ram).lower()
        return f"requires low_ram: {want}; {where} has ro.config.low_ram={str(device.low_ram).lower()}"
    if req.sdk is not None:
        if device.sdk is None:
            return "requires an Android API level; this device has none"
        if not req.sdk.ok(device.sdk):
            return f"requires API level {req.sdk}; {where} is API {device.sdk}"
    return None
