"""The guide's Success Metrics, measured on the device for each platform, with their targets.

Each value says where it comes from: the task events in the device's log (success rate,
completion time, error rate, queue depth), ``dumpsys procstats`` (memory) and ``dumpsys
batterystats`` (battery). What the device cannot tell is "not measurable here", with the reason,
never a number made up.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.apps.loader import load_app_model
from harness.apps.model import AppModel
from harness.checklist.config import Checklist, PlatformPart, Threshold
from harness.devices.android_metrics import BatteryUse, batterystats_use, procstats_app
from harness.durations import format_duration_ms
from harness.report.lanes import task_lanes
from harness.sizes import format_size_kb

_FINISHED = ("succeeded", "failed", "cancelled")


@dataclass
class Metric:
    name: str
    platform: str
    value: float | None
    unit: str
    threshold: Threshold
    source: str
    status: str = "not measurable"  # met | above target | alert | not measurable

    def judge(self) -> Metric:
        if self.value is None:
            return self
        t = self.threshold
        if t.higher_is_better:
            self.status = (
                "met" if self.value >= t.target else "alert" if self.value < t.alert else "above target"
            )
        else:
            self.status = (
                "met" if self.value <= t.target else "alert" if self.value > t.alert else "above target"
            )
        if self.status == "above target" and t.higher_is_better:
            self.status = "below target"
        return self

    def shown(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.unit == "ms":
            return format_duration_ms(int(value))
        if self.unit == "kB":
            return format_size_kb(value)
        if self.unit == "pending":
            return f"{value:g} pending"
        # a small share stays visible: 0.015 %/day is not 0.0
        return f"{value:.2g} {self.unit}" if 0 < abs(value) < 1 else f"{value:.1f} {self.unit}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "platform": self.platform, "value": self.value, "unit": self.unit,
            "target": self.threshold.target, "alert": self.threshold.alert, "status": self.status,
            "source": self.source,
        }  # fmt: skip


def _runs(results: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(run name, outcome, duration ms) of every finished run, paired as the timeline pairs them."""
    out = []
    for r in results:
        for lane in task_lanes(r, r.get("device_end_ms", 0)):
            out += [(span.run, span.value, span.end - span.start) for span in lane.spans]
    return out


def _pattern(name: str) -> str:
    """A unique name with ``{param}`` placeholders (``load-{index}``) as a glob (``load-*``)."""
    return re.sub(r"\{[^}]*\}", "*", name)


def _engines(model: AppModel | None) -> list[tuple[str, str]]:
    """(name or pattern, engine) for each WorkRequest: hook overrides first, then key, tags, unique name."""
    if model is None:
        return []
    out = []
    for hook in model.hooks:
        unique = hook.overrides.unique_name if hook.overrides is not None else None
        for name in hook.enqueue if unique else ():
            work = model.work.get(name)
            if work is not None:
                out.append((_pattern(unique), model.worker_engine(model.workers[work.worker])))
    for key, work in model.work.items():
        engine = model.worker_engine(model.workers[work.worker])
        out += [
            (_pattern(n), engine) for n in [key, *work.tags] + ([work.unique.name] if work.unique else [])
        ]
    return out


def _engine_of(run: str, engines: list[tuple[str, str]]) -> str:
    return next((e for pattern, e in engines if fnmatch.fnmatchcase(run, pattern)), "native")


def _events(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ev for r in results for ev in r.get("events", []) if isinstance(ev, dict)]


def _hours(results: list[dict[str, Any]]) -> float:
    return sum(max(0, r.get("device_end_ms", 0) - r.get("device_start_ms", 0)) for r in results) / 3_600_000


def _queue_depth(results: list[dict[str, Any]]) -> float | None:
    """Peak of work enqueued and not yet finished (a periodic task stays pending: WorkManager keeps it)."""
    peak = None
    for r in results:
        pending: set[str] = set()
        events = sorted((e for e in r.get("events", []) if isinstance(e, dict)), key=lambda e: e["time_ms"])
        for ev in events:
            if ev["state"] == "enqueued":
                pending.add(ev["run"])
            elif ev["state"] in _FINISHED:
                pending.discard(ev["run"])
            peak = max(peak or 0, len(pending))
    return peak


def _is(result: dict[str, Any], scenario: Path) -> bool:
    return Path(result.get("file", "")).resolve() == scenario.resolve()


def load_detail(result: dict[str, Any], package: str | None) -> str:
    """The load test in numbers: its runs, the slowest, the queue's peak, the app's memory under load."""
    runs = [(o, d) for _n, o, d in _runs([result]) if o in ("succeeded", "failed")]
    ok = sum(1 for o, _d in runs if o == "succeeded")
    parts = [f"{ok} of {len(runs)} runs succeeded"]
    if runs:
        parts.append(f"slowest {format_duration_ms(max(d for _o, d in runs))}")
    parts.append(f"queue peak {_queue_depth([result]) or 0}")
    procstats = _artifact(result, "procstats.txt")
    app = procstats_app(procstats, package) if procstats and package else None
    parts.append(
        f"app memory under load {format_size_kb(app[1])} peak PSS (procstats)"
        if app
        else "memory under load not measurable here (no procstats entry)"
    )
    return ", ".join(parts)


def _artifact(result: dict[str, Any], name: str) -> str | None:
    folder = result.get("artifacts")
    path = Path(folder) / name if folder else None
    return path.read_text(encoding="utf-8", errors="replace") if path is not None and path.is_file() else None


def _android_device_metrics(
    part: PlatformPart, day: dict[str, Any] | None, package: str | None
) -> tuple[tuple[float | None, str], tuple[float | None, str]]:
    """(memory kB, source), (battery %/day, source) from the measuring scenario's dumpsys captures."""
    if day is None or package is None:
        why = (
            "not measurable here: the measuring scenario did not run"
            if day is None
            else "not measurable here: no package known"
        )
        return (None, why), (None, why)
    procstats = _artifact(day, "procstats.txt")
    battery = _artifact(day, "batterystats.txt")
    app = procstats_app(procstats, package) if procstats else None
    if app is None:
        memory = (None, "not measurable here: dumpsys procstats has no entry for the app's process")
        return memory, (None, "not measurable here: the app's uid is unknown (no procstats entry)")
    uid, peak_kb = app
    memory = (float(peak_kb), f"dumpsys procstats: peak PSS of {package} over 6 h, one task at a time")
    if battery is None:
        return memory, (None, "not measurable here: dumpsys batterystats was not captured")
    use = batterystats_use(battery, uid)
    if not isinstance(use, BatteryUse):
        return memory, (None, f"not measurable here: {use}")
    return memory, (
        use.percent_per_day,
        f"dumpsys batterystats --charged: {use.uid_mah:g} mAh for uid {uid} of {use.capacity_mah:g} mAh "
        f"over {format_duration_ms(use.on_battery_ms)} on battery, scaled to a day",
    )


def measure(
    config: Checklist, results: list[dict[str, Any]], day_file: Path | None, load_file: Path | None = None
) -> list[Metric]:
    """All six metrics for each configured platform (queue depth in steady use: not the load burst)."""
    out: list[Metric] = []
    th = config.thresholds
    for part in (config.android, config.ios):
        if part is None:
            continue
        mine = [r for r in results if r.get("platform") == part.platform]
        where = f"task events in the {part.platform} device log ({len(mine)} scenarios)"
        model = load_app_model(part.app_model) if part.app_model is not None else None
        counts = {"succeeded": 0, "failed": 0, "retried": 0}
        for ev in _events(mine):
            if ev["state"] in counts:
                counts[ev["state"]] += 1
        finished = counts["succeeded"] + counts["failed"]
        rate = 100 * counts["succeeded"] / finished if finished else None
        out.append(
            Metric(
                "success rate",
                part.platform,
                rate,
                "%",
                th["success_rate"],
                f"{where}: {counts['succeeded']} succeeded of {finished} finished"
                if finished
                else f"not measurable here: no run finished in the {part.platform} scenarios",
            )
        )
        engines = _engines(model)
        runs = [(n, o, d) for n, o, d in _runs(mine) if o in ("succeeded", "failed")]
        for engine in ("native", "dart"):
            durations = [d for n, _o, d in runs if _engine_of(n, engines) == engine]
            out.append(
                Metric(
                    f"completion time ({engine})",
                    part.platform,
                    float(max(durations)) if durations else None,
                    "ms",
                    th[f"completion_{engine}"],
                    f"{where}: slowest of {len(durations)} {engine} runs, start to outcome"
                    if durations
                    else f"not measurable here: no {engine} worker ran",
                )
            )
        hours = _hours(mine)
        errors = counts["failed"] + counts["retried"]
        out.append(
            Metric(
                "error rate",
                part.platform,
                errors / hours if hours else None,
                "errors/h",
                th["error_rate"],
                f"{where}: {errors} failed or retried runs in {hours:.1f} h of device time",
            )
        )
        steady = [r for r in mine if load_file is None or not _is(r, load_file)]
        out.append(
            Metric(
                "queue depth",
                part.platform,
                _queue_depth(steady),
                "pending",
                th["queue_depth"],
                f"task events in the {part.platform} device log ({len(steady)} scenarios, not the load "
                "burst): peak of work enqueued and not yet finished",
            )
        )
        if part.platform == "android":
            day = next((r for r in mine if day_file is not None and _is(r, day_file)), None)
            package = model.package if model is not None else part.package
            (mem, mem_src), (bat, bat_src) = _android_device_metrics(part, day, package)
        else:
            mem, bat = None, None
            mem_src = (
                "not measurable here: iOS gives no per-app memory figures through xcrun or WebDriverAgent "
                "(on an iPhone: Xcode's memory gauge, MetricKit's MXMemoryMetric)"
            )
            bat_src = (
                "not measurable here: iOS gives no per-app energy figures through xcrun or WebDriverAgent "
                "(on an iPhone: Xcode's Energy Organizer, MetricKit's MXCPUMetric)"
            )
        out.append(Metric("memory per task", part.platform, mem, "kB", th["memory"], mem_src))
        out.append(Metric("battery impact", part.platform, bat, "%/day", th["battery"], bat_src))
    return [m.judge() for m in out]
