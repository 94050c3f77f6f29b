"""Reading memory, battery and queue metrics off an Android device with ``dumpsys``.

Everything here is measured by the OS, not reported by the app:

- memory: ``dumpsys procstats <pkg>`` keeps PSS samples of the app's process (min-avg-max per
  state) since its period began — bgtest resets it when a scenario with a memory metric starts,
  so the maximum covers every task that ran — and ``dumpsys meminfo <pkg>`` gives the live PSS
  at the step. The larger is the reading. (A phone samples PSS every few minutes and on state
  changes, so a task of a few seconds can slip between samples; the live reading catches a task
  that is running at the step.)
- battery: ``dumpsys batterystats --reset`` at the start, ``--charged <pkg>`` at the step: the
  uid's ``Estimated power use`` (mAh) over ``Time on battery``, scaled to 24 h and the battery's
  capacity. BatteryStats counts nothing while the phone charges, so a scenario that never left
  the charger cannot be measured (``dumpsys battery unplug`` — the ``battery: unplugged`` step —
  makes BatteryStats count even on a USB cable).
- queue: ``dumpsys jobscheduler <pkg>``: the app's registered jobs that are not running. That is
  where WorkManager's scheduled work waits; WorkManager hands JobScheduler at most
  ``Configuration.maxSchedulerLimit`` (20 by default) requests at a time, so on a phone a deeper
  WorkManager queue reads as about 20.

The parsers take the text the commands print (both the Android 12+ ``UID u0a35: …`` and the
older ``Uid u0a35: …`` batterystats forms).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from harness.metrics import Measurement, not_measurable

Shell = Callable[[list[str]], str]

_SIZE = re.compile(r"([\d.]+)(KB|MB|GB)")
_SIZE_KB = {"KB": 1, "MB": 1024, "GB": 1024 * 1024}
_TIME_PART = re.compile(r"(\d+)(d|h|m|s|ms)\b")
_TIME_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}


def format_uid(uid: int) -> str:
    """``UserHandle.formatUid``: ``u0a35`` for 10035, a uid below 10000 as is."""
    if uid < 10_000:
        return str(uid)
    user, app_id = divmod(uid, 100_000)
    return f"u{user}a{app_id - 10_000}" if app_id >= 10_000 else f"u{user}s{app_id}"


# ----------------------------------------------------------------------------- parsers
def procstats_app(text: str, package: str) -> tuple[str, int] | None:
    """(uid label such as ``u0a35``, peak PSS kB) of ``package`` from ``dumpsys procstats``.

    The peak is the max of the ``TOTAL`` line's PSS triple: ``(34MB-52MB-74MB/…`` → 74 MB.
    """
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head = re.match(r"^\s*\* (\S+) / (\S+) / v\d+:\s*$", line)
        if head is None or head.group(1) != package:
            continue
        for follow in lines[i + 1: i + 4]:
            m = re.search(r"TOTAL: [\d.]+% \(([^)]*)\)", follow)
            if m:
                sizes = _SIZE.findall(m.group(1).split("/")[0])
                if len(sizes) != 3:
                    return None
                return head.group(2), max(round(float(v) * _SIZE_KB[u]) for v, u in sizes)
        return None
    return None


def meminfo_total_pss_kb(text: str) -> int | None:
    """``TOTAL PSS:   62464`` (App Summary), or the ``TOTAL`` row of older tables; None: no process."""
    m = re.search(r"TOTAL PSS:\s+(\d+)", text) or re.search(r"^\s+TOTAL:?\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def time_ms(text: str) -> int:
    """``1h 2m 3s 4ms`` → 3723004."""
    return sum(int(n) * _TIME_MS[u] for n, u in _TIME_PART.findall(text))


@dataclass(frozen=True)
class BatteryUse:
    """What batterystats attributes to one uid since its last reset."""

    uid_mah: float
    capacity_mah: float
    on_battery_ms: int
    on_battery_now: bool = True

    @property
    def percent_per_day(self) -> float:
        """The uid's drain as a share of the battery, scaled to 24 hours on battery."""
        return self.uid_mah / self.capacity_mah * 100.0 * 86_400_000 / self.on_battery_ms


NEVER_ON_BATTERY = ("the device was on its charger for the whole period and BatteryStats counts only "
                    "time on battery; unplug it first (a 'battery: unplugged' step)")


def batterystats_use(text: str, uid_label: str) -> BatteryUse | str:
    """The uid's use from ``--charged`` output (``UID u0a35: 1.2`` or older ``Uid u0a35: 1.2``),
    or why batterystats cannot tell (a phrase); a uid that used nothing is not listed: 0 mAh."""
    on = re.search(r"currently on battery: (true|false)", text)
    time_on = re.search(r"^\s*Time on battery: (.*?)\(", text, re.M)
    capacity = re.search(r"^\s*Capacity: ([\d.]+)", text, re.M) or re.search(
        r"Estimated battery capacity: ([\d.]+) mAh", text)
    if time_on is None:
        return "batterystats printed no 'Time on battery' line"
    on_battery_ms = time_ms(time_on.group(1))
    if on_battery_ms <= 0:
        return NEVER_ON_BATTERY
    if capacity is None or not float(capacity.group(1)):
        return "batterystats printed no battery capacity"
    mah = re.search(rf"^\s*(?:UID|Uid) {re.escape(uid_label)}: ([\d.]+)", text, re.M)
    return BatteryUse(float(mah.group(1)) if mah else 0.0, float(capacity.group(1)), on_battery_ms,
                      bool(on and on.group(1) == "true"))


def pending_jobs(text: str, uid: int) -> int:
    """The uid's registered jobs (``JOB #u0a35/12:``) minus the running ones (``Slot #n: … #u0a35/12``)."""
    who = re.escape(format_uid(uid))
    registered = set(re.findall(rf"^\s*JOB #{who}/(\d+):", text, re.M))
    active_part = text.split("Active jobs:", 1)[1] if "Active jobs:" in text else ""
    active_part = active_part.split("Recently completed jobs:", 1)[0]
    active = set(re.findall(rf"#{who}/(\d+)\b", active_part))
    return len(registered - active)


def package_uid(text: str, package: str) -> int | None:
    """``package:dev.x uid:10035`` (``pm list packages -U``) → 10035."""
    m = re.search(rf"^package:{re.escape(package)} uid:(\d+)", text, re.M)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------- readings
class AndroidMetrics:
    """Metric readings for one app on one device, through ``shell(argv) -> stdout``."""

    def __init__(self, shell: Shell, package: str) -> None:
        self.shell = shell
        self.package = package
        self._uid: int | None = None

    def uid(self) -> int | None:
        if self._uid is None:
            self._uid = package_uid(self.shell(["pm", "list", "packages", "-U", self.package]), self.package)
        return self._uid

    def start(self, names: set[str]) -> None:
        """A new measuring period: what the scenario's metrics will read begins now."""
        if "memory" in names:
            self.shell(["dumpsys", "procstats", "--reset"])
        if "battery" in names:
            self.shell(["dumpsys", "batterystats", "--reset"])

    def memory(self) -> Measurement:
        app = procstats_app(self.shell(["dumpsys", "procstats", self.package]), self.package)
        peak = app[1] if app else None
        live = meminfo_total_pss_kb(self.shell(["dumpsys", "meminfo", self.package]))
        values = [v for v in (peak, live) if v is not None]
        if not values:
            return not_measurable("memory", "dumpsys procstats / meminfo",
                                  f"no process of {self.package} ran since the scenario started")
        detail = (("procstats_max_pss_kb", str(peak)), ("meminfo_pss_kb", str(live)))
        source = "dumpsys procstats" if peak is not None and peak >= (live or 0) else "dumpsys meminfo"
        return Measurement("memory", float(max(values)), source, detail=detail)

    def battery(self) -> Measurement:
        source = "dumpsys batterystats"
        uid = self.uid()
        if uid is None:
            return not_measurable("battery", source, f"{self.package} is not installed (pm list packages -U)")
        text = self.shell(["dumpsys", "batterystats", "--charged", self.package])
        use = batterystats_use(text, format_uid(uid))
        if isinstance(use, str):
            return not_measurable("battery", source, use)
        detail = (("uid_mah", f"{use.uid_mah:g}"), ("on_battery_ms", str(use.on_battery_ms)),
                  ("capacity_mah", f"{use.capacity_mah:g}"),
                  ("on_battery_now", str(use.on_battery_now).lower()))
        return Measurement("battery", use.percent_per_day, source, detail=detail)

    def queue(self) -> Measurement:
        source = "dumpsys jobscheduler"
        uid = self.uid()
        if uid is None:
            return not_measurable("queue", source, f"{self.package} is not installed (pm list packages -U)")
        text = self.shell(["dumpsys", "jobscheduler", self.package])
        return Measurement("queue", float(pending_jobs(text, uid)), source)

    def measure(self, name: str) -> Measurement:
        return {"memory": self.memory, "battery": self.battery, "queue": self.queue}[name]()
