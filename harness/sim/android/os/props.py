"""System properties: the device's identity and boot state, and ``getprop`` / ``setprop``.

The identity is a coherent Android 14 (SDK 34) Pixel user build, so tools that branch on
``ro.build.version.sdk`` or the fingerprint see a phone they know. The model comes from the
device constructor; its code name (``shiba`` for a Pixel 8) drives product, device and
fingerprint. ``ro.bgtest.virtual=1`` is how the harness discovers a virtual device.

``setprop`` follows a production build's SELinux policy for the ``shell`` user: only debug
and log-tag properties (``debug.*``, ``log.tag.*``, ``persist.log.tag.*``) may be set; every
other property, and any ``ro.*``, is refused with init's two-line message and exit 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import SystemContext

#: Known Pixel models: code name, SoC platform, first API level, 32-bit ABIs (Pixel 8 has none).
_PIXELS = {
    "Pixel 6": ("oriole", "gs101", 31, True),
    "Pixel 6 Pro": ("raven", "gs101", 31, True),
    "Pixel 6a": ("bluejay", "gs101", 32, True),
    "Pixel 7": ("panther", "gs201", 33, True),
    "Pixel 7 Pro": ("cheetah", "gs201", 33, True),
    "Pixel 7a": ("lynx", "gs201", 33, True),
    "Pixel Fold": ("felix", "gs201", 33, True),
    "Pixel Tablet": ("tangorpro", "gs201", 33, True),
    "Pixel 8": ("shiba", "zuma", 34, False),
    "Pixel 8 Pro": ("husky", "zuma", 34, False),
    "Pixel 8a": ("akita", "zuma", 34, False),
}
BUILD_ID = "AP2A.240805.005"
BUILD_INCREMENTAL = "12025142"
SECURITY_PATCH = "2024-08-05"
BUILD_DATE_UTC = 1_720_483_200  # 2024-07-09 00:00:00 UTC
PROP_VALUE_MAX = 92
#: Property prefixes the shell domain may set on a user build (AOSP sepolicy: debug_prop, log_tag_prop).
SHELL_SETTABLE = ("debug.", "log.tag", "persist.log.tag", "persist.debug.")


def identity(model: str, serial: str) -> dict[str, str]:
    """The read-only properties of a phone of this model."""
    known = _PIXELS.get(model)
    if known is not None:
        code, platform, first_api, has32 = known
        brand, manufacturer = "google", "Google"
    else:
        code = re.sub(r"[^a-z0-9]", "", model.lower()) or "generic"
        platform, first_api, has32 = "virtual", 34, False
        word = model.split()[0] if model.split() else "generic"
        brand, manufacturer = word.lower(), word
    fingerprint = f"{brand}/{code}/{code}:14/{BUILD_ID}/{BUILD_INCREMENTAL}:user/release-keys"
    abilist32 = "armeabi-v7a,armeabi" if has32 else ""
    props = {
        "ro.build.version.sdk": "34",
        "ro.build.version.release": "14",
        "ro.build.version.release_or_codename": "14",
        "ro.build.version.codename": "REL",
        "ro.build.version.all_codenames": "REL",
        "ro.build.version.preview_sdk": "0",
        "ro.build.version.incremental": BUILD_INCREMENTAL,
        "ro.build.version.security_patch": SECURITY_PATCH,
        "ro.build.version.min_supported_target_sdk": "23",
        "ro.build.id": BUILD_ID,
        "ro.build.display.id": BUILD_ID,
        "ro.build.type": "user",
        "ro.build.tags": "release-keys",
        "ro.build.flavor": f"{code}-user",
        "ro.build.product": code,
        "ro.build.description": f"{code}-user 14 {BUILD_ID} {BUILD_INCREMENTAL} release-keys",
        "ro.build.fingerprint": fingerprint,
        "ro.build.date.utc": str(BUILD_DATE_UTC),
        "ro.build.date": "Tue Jul  9 00:00:00 UTC 2024",
        "ro.build.user": "android-build",
        "ro.build.host": "abfarm-release-rbe-64",
        "ro.build.characteristics": "nosdcard",
        "ro.system.build.version.sdk": "34",
        "ro.system.build.fingerprint": fingerprint,
        "ro.vendor.build.fingerprint": fingerprint,
        "ro.product.brand": brand,
        "ro.product.manufacturer": manufacturer,
        "ro.product.model": model,
        "ro.product.name": code,
        "ro.product.device": code,
        "ro.product.board": code,
        "ro.product.system.model": model,
        "ro.product.vendor.model": model,
        "ro.product.vendor.device": code,
        "ro.product.vendor.name": code,
        "ro.product.vendor.brand": brand,
        "ro.product.first_api_level": str(first_api),
        "ro.product.locale": "en-US",
        "ro.product.cpu.abi": "arm64-v8a",
        "ro.product.cpu.abilist": "arm64-v8a" + ("," + abilist32 if abilist32 else ""),
        "ro.product.cpu.abilist64": "arm64-v8a",
        "ro.product.cpu.abilist32": abilist32,
        "ro.board.platform": platform,
        "ro.hardware": code,
        "ro.boot.hardware": code,
        "ro.zygote": "zygote64_32" if has32 else "zygote64",
        "ro.serialno": serial,
        "ro.boot.serialno": serial,
        "ro.debuggable": "0",
        "ro.secure": "1",
        "ro.adb.secure": "0",
        "ro.bootmode": "normal",
        "ro.boot.verifiedbootstate": "green",
        "ro.boot.flash.locked": "1",
        "ro.crypto.state": "encrypted",
        "ro.crypto.type": "file",
        "ro.sf.lcd_density": "420",
        "ro.opengles.version": "196610",
        "ro.vndk.version": "34",
        "ro.kernel.version": "5.15",
        "ro.bgtest.virtual": "1",
        "persist.sys.timezone": "UTC",
        "persist.sys.locale": "en-US",
        "persist.sys.usb.config": "adb",
        "sys.usb.config": "adb",
        "sys.usb.state": "adb",
        "net.bt.name": "Android",
        "init.svc.adbd": "running",
        "init.svc.logd": "running",
        "init.svc.servicemanager": "running",
        "init.svc.surfaceflinger": "running",
        "init.svc.zygote": "running",
        "sys.boot_completed": "",
        "dev.bootcomplete": "",
        "init.svc.bootanim": "",
    }
    return props


class Properties:
    """The property area: read by everyone, written by the device freely, by the shell per policy."""

    def __init__(self, device: SystemContext) -> None:
        self.device = device
        self._props: dict[str, str] = identity(device.model, device.serial)

    def get(self, key: str, default: str = "") -> str:
        value = self._props.get(key)
        return value if value else default

    def set(self, key: str, value: str) -> None:
        """Set from inside the device (init, system services): no policy check."""
        self._props[key] = value

    def items(self) -> Iterator[tuple[str, str]]:
        """Set properties in name order (empty ones are as good as unset, as getprop shows)."""
        for key in sorted(self._props):
            value = self._props[key]
            if value:
                yield key, value

    def shell_may_set(self, key: str) -> bool:
        """Whether a ``setprop`` from the shell user succeeds (SELinux + ro.* rules)."""
        if key.startswith("ro."):
            return False
        return key.startswith(SHELL_SETTABLE)
