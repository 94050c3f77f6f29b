"""Which iOS targets are there: booted simulators (``xcrun simctl list``) and WDA endpoints.

Used by ``bgtest devices`` and by the session, which leases one target per iOS scenario: every
booted simulator (or every UDID named) is a target, each with its own WebDriverAgent when
``BGTEST_WDA_URL`` pairs one with it (``UDID=URL``), and a run spreads its scenarios over them
as it does over Android devices.
A scenario tagged ``ios-device`` needs BGTaskScheduler to really work — an iPhone, or the
virtual iPhone started with ``--kind device`` — because on the Simulator ``submit`` fails with
Code=1 (research ios.md §3); one tagged ``ios-simulator`` is about the Simulator's own
behaviour; anything else runs on whatever is there (a simulator when bgtest starts one).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from typing import Any

from harness.devices.ios import IosDevice, SimDevice, Xcrun, list_simulators, xcrun_argv
from harness.devices.wda import reachable
from harness.errors import BgtestError, DeviceError

DEVICE_TAG = "ios-device"
SIMULATOR_TAG = "ios-simulator"


class KindMismatch(DeviceError):
    """The scenario needs the other kind of iOS target than the ones there are (reported as skipped)."""


def wanted_kind(tags: list[str]) -> str | None:
    """``device`` / ``simulator`` when a scenario's tags ask for one kind of iOS target."""
    if DEVICE_TAG in tags:
        return "device"
    if SIMULATOR_TAG in tags:
        return "simulator"
    return None
_UDID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


def is_udid(text: str | None) -> bool:
    return bool(text) and bool(_UDID.match(text or ""))


def xcrun_available(path: str | None = None) -> bool:
    """An ``xcrun`` to run: the configured one, or one on PATH (only a Mac has it)."""
    argv = xcrun_argv(path)
    return shutil.which(argv[0]) is not None or os.path.exists(argv[0])


def wda_urls(configured: str | None, device_url: str | None = None) -> list[str]:
    """WDA endpoints worth asking: the configured ones (``Settings.wda_url``, comma-separated,
    ``UDID=URL`` or URL), ``device_url`` (``$DEVICE_URL``), then WDA's default port on this host."""
    urls = []
    for item in (u.strip() for u in (configured or "").split(",")):
        if not item:
            continue
        udid, sep, url = item.partition("=")
        urls.append(url.strip() if sep and is_udid(udid.strip()) else item)
    if device_url:
        urls.append(device_url)
    urls.append("http://localhost:8100")
    return list(dict.fromkeys(u.rstrip("/") for u in urls))


@dataclass
class WdaEndpoint:
    url: str
    device: str
    os: str
    simulator: bool


def reachable_wda(urls: list[str], timeout: float = 0.5) -> list[WdaEndpoint]:
    """The endpoints among ``urls`` whose ``/status`` answers, with what they say they are."""
    found = []
    for url in urls:
        status = reachable(url, timeout)
        if status is None:
            continue
        ios = status.get("ios") or {}
        osinfo = status.get("os") or {}
        found.append(
            WdaEndpoint(
                url=url,
                device=str(status.get("device", "?")),
                os=f"{osinfo.get('name', 'iOS')} {osinfo.get('version', '?')}",
                simulator="simulatorVersion" in ios,
            )
        )
    return found


def booted_simulators(xcrun: Xcrun) -> list[SimDevice]:
    return [d for d in list_simulators(xcrun) if d.state == "Booted"]


@dataclass(frozen=True)
class IosTarget:
    """An iOS simulator as a lease sees it (harness/devices/lease.py)."""

    udid: str

    @property
    def serial(self) -> str:
        return self.udid

    @property
    def key(self) -> str:
        return f"ios/{self.udid}"


def named_udids(*given: str | None) -> list[str]:
    """The simulator UDIDs among ``--device`` / ``BGTEST_IOS_DEVICE`` values (comma lists; the
    rest are adb serials)."""
    parts = [p.strip() for text in given for p in (text or "").split(",")]
    return list(dict.fromkeys(p for p in parts if is_udid(p)))


def wda_pairs(text: str | None) -> tuple[dict[str, str], str | None]:
    """``BGTEST_WDA_URL``: ``UDID=URL`` items pair an endpoint with one simulator; one bare URL
    serves every target without its own (the one-target case). Two bare URLs are ambiguous."""
    paired: dict[str, str] = {}
    bare: list[str] = []
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        udid, sep, url = item.partition("=")
        if sep and is_udid(udid.strip()):
            paired[udid.strip()] = url.strip().rstrip("/")
        else:
            bare.append(item.rstrip("/"))
    if len(bare) > 1:
        raise DeviceError(
            "wda " + ", ".join(bare),
            "several WebDriverAgent URLs and no simulator named for each",
            hint="write BGTEST_WDA_URL as UDID=http://host:8100,UDID2=http://host:8101",
        )
    return paired, (bare[0] if bare else None)


def ios_targets(xcrun: Xcrun, udids: list[str], wda_url: str | None = None) -> list[IosDevice]:
    """The iOS targets a run may lease: the ``udids`` named (each checked: there and booted),
    else every booted simulator; [] when none is booted (the caller may start the virtual one)."""
    paired, shared = wda_pairs(wda_url)
    if udids:
        devices = [IosDevice(udid, xcrun, wda_url=paired.get(udid, shared)) for udid in udids]
        for device in devices:
            device.check()
        return devices
    return [IosDevice(e.udid, xcrun, wda_url=paired.get(e.udid, shared)) for e in booted_simulators(xcrun)]


def of_kind(targets: list[IosDevice], want_kind: str | None) -> list[IosDevice]:
    """The targets a scenario wanting ``want_kind`` may run on; :class:`KindMismatch` (the
    scenario is skipped, with the reason) when there are targets but none of that kind."""
    fitting = [t for t in targets if want_kind is None or t.kind == want_kind]
    if fitting or not targets:
        return fitting
    other = targets[0]
    if want_kind == "device":
        raise KindMismatch(
            other.udid,
            "this scenario is tagged ios-device (BGTaskScheduler must really run) and only simulators "
            "are booted: on the Simulator submit fails with BGTaskSchedulerErrorDomain Code=1",
            hint="run it on an iPhone through WDA, or on the virtual iPhone (`bgtest sim ios --kind device`)",
        )
    raise KindMismatch(
        other.udid,
        "this scenario is tagged ios-simulator (it checks the Simulator's own behaviour) and the only "
        "target is an iPhone",
        hint="boot a simulator (`xcrun simctl boot UDID`) or `bgtest sim ios --kind simulator`",
    )


def print_ios_targets(
    console: Any, xcrun_path: str | None, wda_url: str | None = None, device_url: str | None = None
) -> None:
    """``bgtest devices``' iOS part: booted simulators (through xcrun) and WDA endpoints that answer.

    The caller passes what its settings say (``Settings.xcrun``, ``wda_url``, ``device_url``).
    """
    from rich.table import Table

    from harness.profiles import ios_profile

    xcrun = Xcrun(xcrun_path)
    if xcrun_path or xcrun_available():
        try:
            booted = booted_simulators(xcrun)
        except BgtestError as exc:
            console.print(f"iOS: {exc.render()}")
            booted = []
        if booted:
            table = Table(title=f"iOS simulators booted ({xcrun.path})")
            for column in ("udid", "name", "OS", "profile", "kind"):
                table.add_column(column)
            for entry in booted:
                device = IosDevice(entry.udid, xcrun)
                kind = f"virtual iPhone ({device.kind})" if device.is_virtual else "simulator"
                table.add_row(entry.udid, entry.name, entry.os_version, ios_profile(entry.name), kind)
            console.print(table)
        else:
            console.print(f"no iOS simulator booted ({xcrun.path} simctl list devices)")
    else:
        console.print("no xcrun here (not a Mac): `bgtest run` starts a virtual iPhone for iOS scenarios")
    urls = wda_urls(wda_url, device_url)
    endpoints = reachable_wda(urls)
    if endpoints:
        table = Table(title="WebDriverAgent endpoints")
        for column in ("url", "device", "OS", "simulator"):
            table.add_column(column)
        for ep in endpoints:
            table.add_row(ep.url, ep.device, ep.os, "yes" if ep.simulator else "no")
        console.print(table)
    else:
        console.print("no WebDriverAgent answering at " + ", ".join(urls))
