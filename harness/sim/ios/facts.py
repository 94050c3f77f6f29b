"""What CoreSimulator and iOS fix for the virtual iPhone: runtimes, device types, budgets,
system paths, and the error text simctl prints. Every other module of ``sim/ios`` reads these.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any, Literal

    Kind = Literal["simulator", "device"]

RUNTIME_ID = "com.apple.CoreSimulator.SimRuntime.iOS-17-2"
RUNTIME_NAME = "iOS 17.2"
RUNTIME_VERSION = "17.2"
RUNTIME_BUILD = "21C62"
RUNTIME_ROOT = (
    "/Library/Developer/CoreSimulator/Volumes/iOS_21C62/Library/Developer/CoreSimulator/Profiles/"
    "Runtimes/iOS 17.2.simruntime/Contents/Resources/RuntimeRoot"
)
#: iOS 15.5 (Xcode 13.4's simulator runtime), what the iphone-7 profile runs: an iPhone 7's last
#: iOS is 15, and 15.5 is the newest iOS 15 runtime Xcode ships for the simulator.
RUNTIME_15_ID = "com.apple.CoreSimulator.SimRuntime.iOS-15-5"
#: Every runtime the virtual CoreSimulator has: identifier -> (name, version, build).
RUNTIMES = {
    RUNTIME_ID: (RUNTIME_NAME, RUNTIME_VERSION, RUNTIME_BUILD),
    RUNTIME_15_ID: ("iOS 15.5", "15.5", "19F70"),
}
DEVICE_TYPES = {
    "iPhone 7": "com.apple.CoreSimulator.SimDeviceType.iPhone-7",
    "iPhone 15": "com.apple.CoreSimulator.SimDeviceType.iPhone-15",
    "iPhone 15 Pro": "com.apple.CoreSimulator.SimDeviceType.iPhone-15-Pro",
    "iPad (10th generation)": "com.apple.CoreSimulator.SimDeviceType.iPad-10th-generation",
}

#: The device types of ``simctl list devicetypes`` (CoreSimulator's profiles, in its JSON shape): which
#: runtimes each one runs is ``min/maxRuntimeVersionString``.
DEVICE_TYPE_PROFILES: list[dict[str, Any]] = [
    {
        "productFamily": "iPhone",
        "bundlePath": "/Library/Developer/CoreSimulator/Profiles/DeviceTypes/iPhone 7.simdevicetype",
        "maxRuntimeVersion": 1048575,
        "maxRuntimeVersionString": "15.255.255",
        "identifier": "com.apple.CoreSimulator.SimDeviceType.iPhone-7",
        "modelIdentifier": "iPhone9,1",
        "minRuntimeVersionString": "10.0.0",
        "minRuntimeVersion": 655360,
        "name": "iPhone 7",
    },
    {
        "productFamily": "iPhone",
        "bundlePath": "/Library/Developer/CoreSimulator/Profiles/DeviceTypes/iPhone 15.simdevicetype",
        "maxRuntimeVersion": 4294967295,
        "maxRuntimeVersionString": "65535.255.255",
        "identifier": "com.apple.CoreSimulator.SimDeviceType.iPhone-15",
        "modelIdentifier": "iPhone15,4",
        "minRuntimeVersionString": "17.0.0",
        "minRuntimeVersion": 1114112,
        "name": "iPhone 15",
    },
    {
        "productFamily": "iPad",
        "bundlePath": "/Library/Developer/CoreSimulator/Profiles/DeviceTypes/"
        "iPad (10th generation).simdevicetype",
        "maxRuntimeVersion": 4294967295,
        "maxRuntimeVersionString": "65535.255.255",
        "identifier": "com.apple.CoreSimulator.SimDeviceType.iPad-10th-generation",
        "modelIdentifier": "iPad13,18",
        "minRuntimeVersionString": "16.0.0",
        "minRuntimeVersion": 1048576,
        "name": "iPad (10th generation)",
    },
]

#: Seconds an app keeps running after it leaves the screen before it is suspended [A, archive].
SUSPEND_AFTER_MS = 5_000
#: Budget of a BGAppRefreshTask (WWDC19 707) and of a BGProcessingTask ("several minutes" [U]).
REFRESH_BUDGET_MS = 30_000
PROCESSING_BUDGET_MS = 300_000
MAX_PROCESSING_REQUESTS = 10
#: Below this charge (and unplugged) dasd runs essential work only (WWDC20 10063).
LOW_BATTERY = 0.20
#: native_workmanager's in-process attempts before "failed after n attempt(s)" [U].
INPROC_MAX_ATTEMPTS = 3

SPRINGBOARD = "com.apple.springboard"
PREFERENCES = "com.apple.Preferences"
#: The built-in apps a session or ``simctl launch`` may start: bundle id -> (name, bundle, executable),
#: as the iOS 17 runtime ships them under ``/Applications`` (the Simulator has no Camera or App Store).
SYSTEM_APPS = {
    PREFERENCES: ("Settings", "/Applications/Preferences.app", "Preferences"),
    "com.apple.mobilesafari": ("Safari", "/Applications/MobileSafari.app", "MobileSafari"),
    "com.apple.Health": ("Health", "/Applications/Health.app", "Health"),
    "com.apple.mobileslideshow": ("Photos", "/Applications/MobileSlideShow.app", "MobileSlideShow"),
    "com.apple.Maps": ("Maps", "/Applications/Maps.app", "Maps"),
    "com.apple.MobileSMS": ("Messages", "/Applications/MobileSMS.app", "MobileSMS"),
    "com.apple.mobilecal": ("Calendar", "/Applications/MobileCal.app", "MobileCal"),
    "com.apple.MobileAddressBook": ("Contacts", "/Applications/Contacts.app", "Contacts"),
    "com.apple.reminders": ("Reminders", "/Applications/Reminders.app", "Reminders"),
    "com.apple.DocumentsApp": ("Files", "/Applications/DocumentsApp.app", "DocumentsApp"),
}

BACKGROUND_TASKS = "/System/Library/Frameworks/BackgroundTasks.framework/BackgroundTasks"
FOUNDATION = "/System/Library/Frameworks/Foundation.framework/Foundation"
DASD = "/usr/libexec/dasd"
SPRINGBOARD_PATH = "/System/Library/CoreServices/SpringBoard.app/SpringBoard"


class SimError(Exception):
    """What CoreSimulator (or the tool) answers: stderr text and exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def sim_error(domain: str, code: int, message: str, exit_code: int | None = None) -> SimError:
    return SimError(
        f"An error was encountered processing the command (domain={domain}, code={code}):\n{message}",
        code if exit_code is None else exit_code,
    )


def invalid_argument() -> SimError:
    """What simctl answers to an option or value it does not take (``EINVAL``)."""
    return sim_error(
        "NSPOSIXErrorDomain",
        22,
        "Simulator device failed to complete the requested operation.\nInvalid argument",
        22,
    )


def short_hex(seed: str) -> str:
    import hashlib  # here: most calls hash nothing (OpenSSL's load is a tenth of a call's imports)

    return hashlib.sha1(seed.encode()).hexdigest()[:8].upper()


def seeded_uuid(seed: str) -> str:
    """The same UUID for the same seed (UDIDs, image UUIDs): an MD5 in the 8-4-4-4-12 form.

    Every log record carries one, so most calls hash: with CPython's own MD5 module, which
    ``hashlib`` falls back to as well, rather than ``hashlib``'s load of OpenSSL first.
    """
    try:
        from _md5 import md5
    except ImportError:  # a Python built without it
        from hashlib import md5

    h = md5(seed.encode()).hexdigest().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def date_text(ms: float) -> str:
    """``2026-01-05 10:00:00 +0000`` — how an NSDate prints in a request's description."""
    from datetime import datetime, timezone

    dt = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S +0000")
