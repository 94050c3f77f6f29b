"""The guide's Pre-Deployment Checklist items: which scenario templates run for each, and how each is judged.

An item is ✓ when every scenario it ran passed (and its review found nothing), ✗ when one
failed, and ``manual`` when bgtest cannot decide it here, with what to do by hand. The
scenarios are written from the templates in ``templates/`` into the report folder, so a
failing item can be rerun alone with ``bgtest run DIR/checklist/<file>``.
"""

from __future__ import annotations

import fnmatch
import json
import plistlib
import shutil
import string
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.apps.errors import AppModelError
from harness.apps.ios import load_ios_app
from harness.apps.loader import load_app_model
from harness.apps.model import AppModel
from harness.checklist.config import Checklist, PlatformPart
from harness.checklist.metrics import load_detail

TEMPLATES = Path(__file__).with_name("templates")

#: id → title, as the guide words them (the automatable ones and those that stay manual).
ITEMS: dict[str, str] = {
    "low_end": "Tested on low-end devices",
    "poor_network": "Tested with poor network",
    "battery_saver": "Tested with battery saver enabled",
    "force_close": "Force-close app and verify tasks run",
    "reboot": "Tested after device reboot",
    "background_execution": "Tested background execution on both Android and iOS",
    "constraints": "Reviewed constraints",
    "permissions": "Reviewed permissions",
    "load": "Load tested",
    "error_logging": "Added error logging",
    "monitoring": "Set up monitoring",
    "worker_inputs": "Documented worker inputs",
}
MANUAL = {
    "error_logging": "wire task failures to your error tracker (Sentry, Crashlytics) with context; "
    "bgtest reads the device log, not your backend",
    "monitoring": "track completion rates and execution times in production and alert on failure "
    "spikes (the Success Metrics below are the targets)",
    "worker_inputs": "document each worker's expected JSON input and validate it; bgtest cannot see "
    "your input contracts",
}
_ENDED = ("killed", "died")
_ANDROID_NET = ("android.permission.INTERNET", "android.permission.ACCESS_NETWORK_STATE")


@dataclass
class Item:
    id: str
    title: str
    status: str = "manual"  # passed | failed | manual
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "status": self.status, "detail": self.detail}


@dataclass
class Planned:
    """One scenario file written for the run, and the item it serves (None: measurements only)."""

    file: Path
    item: str | None
    platform: str


def _flow(value: str) -> str:
    """A value for a YAML template: JSON is YAML's flow syntax, so any text stays one scalar."""
    return json.dumps(value)


def _app(part: PlatformPart, folder: Path) -> str:
    """The scenario's ``app:``; an app model is copied next to the scenarios, where the loader looks."""
    if part.app_model is not None:
        apps = folder / "fixtures" / "apps"
        apps.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(part.app_model, apps / part.app_model.name)
        return json.dumps({"model": part.app_model.stem})
    return json.dumps(
        {"package" if part.platform == "android" else "bundle_id": part.package, "library": part.library}
    )


def plan(config: Checklist, folder: Path, items: list[str]) -> list[Planned]:
    """Write the scenarios ``items`` need (and the measuring one) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Planned] = []

    def write(
        template: str,
        item: str | None,
        part: PlatformPart,
        lines: dict[str, str] | None = None,
        **values: str,
    ) -> None:
        """``values`` go in as YAML scalars, ``lines`` (whole step lines, or nothing) as they are."""
        text = string.Template((TEMPLATES / f"{template}.yaml").read_text(encoding="utf-8"))
        filled = text.substitute(
            app=_app(part, folder), **{k: _flow(v) for k, v in values.items()}, **(lines or {})
        )
        path = folder / f"{template}.yaml"
        path.write_text(filled, encoding="utf-8")
        out.append(Planned(path, item, part.platform))

    wanted = set(items) | ({"force_close", "reboot"} if "background_execution" in items else set())
    android, ios = config.android, config.ios
    if android is not None:
        task = {"task": android.task, "enqueue": android.enqueue}
        write("android_day", None, android, **task)
        if "battery_saver" in wanted:
            write("android_battery_saver", "battery_saver", android, **task)
        if "force_close" in wanted:
            write("android_force_close", "force_close", android, **task)
        if "reboot" in wanted:
            write("android_reboot", "reboot", android, **task)
        if "low_end" in wanted:
            write("android_low_end", "low_end", android, **task)
        if "poor_network" in wanted and android.network_task and android.network_enqueue:
            write(
                "android_poor_network",
                "poor_network",
                android,
                lines=_timeout_steps(android, android.network_task),
                task=android.network_task,
                enqueue=android.network_enqueue,
            )
        if "load" in wanted and config.load is not None:
            write(
                "android_load",
                "load",
                android,
                enqueue=config.load.enqueue,
                tasks=config.load.tasks,
                within=f"{config.load.within_ms}ms",
            )
    if ios is not None:
        task = {"task": ios.task, "enqueue": ios.enqueue}
        if "battery_saver" in wanted:
            write("ios_low_power", "battery_saver", ios, **task)
        if "force_close" in wanted:
            write("ios_force_close", "force_close", ios, **task)
        if "low_end" in wanted:
            write("ios_low_end", "low_end", ios, **task)
        if "poor_network" in wanted and ios.network_task and ios.network_enqueue:
            write("ios_poor_network", "poor_network", ios, task=ios.network_task, enqueue=ios.network_enqueue)
    return out


def _timeout_steps(part: PlatformPart, task: str) -> dict[str, str]:
    """The ``server`` step that makes the network task's first request time out, and the expect
    that the app retried it (the guide: "network timeout → retry").

    With an app model the rule names the task's first HTTP call and answers the status the model's
    server gives; a phone's app (no model) gets a rule for every host that lets the requests after
    the first through to the real server. A model whose task makes no call gets neither step.
    """
    model = _model(part)
    if model is None:
        rule: dict[str, object] | None = {"host": "*", "respond": ["timeout", "pass"]}
    else:
        work = next(
            (w for key, w in model.work.items()
             if task in (key, *w.tags) or (w.unique is not None and w.unique.name == task)),
            None,
        )  # fmt: skip
        calls = model.workers[work.worker].http if work is not None else ()
        rule = None
        if calls:
            url = urlsplit(calls[0].url)
            rule = {"host": url.hostname or "*", "method": calls[0].method, "path": url.path or "/",
                    "respond": ["timeout", calls[0].status]}  # fmt: skip
    if rule is None:
        return {"server": "", "retried": ""}
    retried = {"task": task, "state": "retried", "count": ">= 1", "within": "30m"}
    return {
        "server": f"  - server: [{json.dumps(rule)}]  # its first request never gets an answer\n",
        "retried": f"  - expect: {json.dumps(retried)}  # the client's timeout, then Result.retry()\n",
    }


# --------------------------------------------------------------------------- judging
def _by_item(planned: list[Planned], results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_file = {str(p.file.resolve()): p for p in planned}
    out: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        p = by_file.get(str(Path(r.get("file", "")).resolve()))
        if p is not None and p.item is not None:
            out.setdefault(p.item, []).append(r)
    return out


def _from_runs(item: Item, runs: list[dict[str, Any]], missing: str = "") -> Item:
    """✗ when a run failed; ✓ when every run passed; manual when nothing ran, or when a run was
    skipped (its device is not what the item needs, e.g. a phone that is no Android Go one)."""
    if not runs:
        item.status, item.detail = "manual", missing
        return item
    judged = [r for r in runs if not _not_here(r)]
    failed = [r for r in judged if r.get("status") != "passed"]
    skipped = len(judged) < len(runs)
    item.status = "failed" if failed else "manual" if skipped else "passed"
    item.detail = "; ".join(
        f"{r['platform']}: {r['status']}" + (f" ({r['failure'].splitlines()[0]})" if r.get("failure") else "")
        for r in runs
    )
    return item


def judge(
    config: Checklist, items: list[str], planned: list[Planned], results: list[dict[str, Any]]
) -> list[Item]:
    """Every item asked for, decided from the run's results and the reviews."""
    runs = _by_item(planned, results)
    out: list[Item] = []
    for item_id in items:
        item = Item(item_id, ITEMS[item_id])
        if item_id in MANUAL:
            item.detail = MANUAL[item_id]
        elif item_id == "low_end":
            item = _low_end(item, runs.get(item_id, []))
        elif item_id == "poor_network":
            item = _poor_network(item, config, runs.get(item_id, []))
        elif item_id == "background_execution":
            item = _background(item, config, runs)
        elif item_id == "constraints":
            item = _constraints(item, config)
        elif item_id == "permissions":
            item = _permissions(item, config)
        elif item_id == "load":
            missing = "" if config.load else "add load: {enqueue, tasks, within} to run a load test"
            _from_runs(item, runs.get(item_id, []), missing)
            for r in runs.get(item_id, []):
                item.detail += "; " + load_detail(r, _package(config.android))
        else:
            _from_runs(item, runs.get(item_id, []), "no platform configured for it")
            if item_id == "reboot" and config.ios is not None and item.status != "manual":
                item.detail += "; iOS: reboot a device by hand and check the next refresh"
        out.append(item)
    return out


def _not_here(run: dict[str, Any]) -> bool:
    """A run that could not mean anything on its device: skipped (not the device it asks for), or
    refused a step the device cannot do (exit 2, e.g. a network switch on a real Simulator)."""
    return run.get("status") == "skipped" or (run.get("status") == "error" and run.get("exit_code") == 2)


def _poor_network(item: Item, config: Checklist, runs: list[dict[str, Any]]) -> Item:
    """The network task on each platform that names one; a platform without one is said (its
    app may have no network work: that is not a failure, and not a pass for it either)."""
    lacking = [
        f"{p.platform}: not run (give {p.platform}.network_task/network_enqueue, a task that needs "
        "the network, to run it)"
        for p in (config.android, config.ios)
        if p is not None and not p.network_task
    ]
    _from_runs(item, runs, "; ".join(lacking))
    for r in runs:
        said = _network_said(r.get("failure") or "")
        if said:
            item.detail += f"; {r['platform']}: the network: {said}"
    if runs and lacking:
        item.detail += "; " + "; ".join(lacking)
    if any(r["platform"] == "ios" for r in runs):
        # actions/network.py: `server:` rules are Android's only, the iOS drivers are not routed yet
        item.detail += (
            "; iOS: offline only (a server timeout needs bgtest's proxy, which iOS devices are not "
            "routed to yet: check the retry by hand with a proxy on the Mac)"
        )
    return item


#: Why an iOS low-end run that passed proves nothing where the iPhone is virtual or a Simulator.
IOS_LOW_END_WHY = (
    "iOS: not measurable on {where}: what breaks background work on an iPhone 7 is jetsam (iOS ends "
    "the app when memory runs short), and {why}; run `bgtest checklist --device UDID` on an "
    "iPhone 7-class device, or read Xcode Organizer's Terminations (MetricKit's "
    "memoryLimitTerminationCount) for the app"
)
_NO_JETSAM = {
    "virtual": "the virtual iPhone has no memory pressure to model honestly: Apple publishes no "
    "iPhone 7 per-app jetsam limits, and what is free depends on the user's other apps",
    "simulator": "a Simulator app is a Mac process that jetsam never ends",
}


def _no_jetsam(run: dict[str, Any]) -> str | None:
    """Where an iOS run could not meet memory pressure: a virtual iPhone or a Simulator
    (ios_metrics.py: a Simulator app is a Mac process). None on an iPhone, or when unknown."""
    device = run.get("device") or {}
    if run.get("platform") != "ios":
        return None
    if device.get("virtual") == "yes":
        return "virtual"
    return "simulator" if device.get("kind") == "simulator" else None


def _network_said(failure: str) -> str:
    """What the proxy did to a failed run's requests, as its failure says it (run/runner.py's
    "what the network did" part), on one line."""
    _, found, rest = failure.partition("what the network did (bgtest's proxy):\n")
    if not found:
        return ""
    lines = []
    for line in rest.splitlines():
        if not line.startswith("    "):
            break
        lines.append(line.strip())
    return "; ".join(lines)


def _low_end(item: Item, runs: list[dict[str, Any]]) -> Item:
    """The tasks on a low-end profile: a virtual device is built as one, a phone only counts if it
    is one (else its scenario is skipped and the item stays manual, with what to do by hand).

    On iOS only an iPhone can show it: a run on the virtual iPhone or a Simulator that passed
    leaves the item manual, saying why (a failure there still fails it: the task did not run on
    iOS 15 at all)."""
    unmeasured = [r for r in runs if _no_jetsam(r) and r.get("status") == "passed"]
    measured = [r for r in runs if r not in unmeasured]
    _from_runs(item, measured, "" if unmeasured else "no platform configured for it")
    if unmeasured:
        where = _no_jetsam(unmeasured[0]) or "virtual"
        text = IOS_LOW_END_WHY.format(
            where="the virtual iPhone" if where == "virtual" else "the Simulator", why=_NO_JETSAM[where])
        item.detail = f"{item.detail}; {text}" if item.detail else text
        if item.status == "passed":
            item.status = "manual"
    if item.status == "manual" and any(_not_here(r) for r in runs):
        item.detail += (
            "; run `bgtest checklist --device SERIAL` on an Android phone with < 2 GB RAM "
            "(ro.config.low_ram) and on an iPhone 7-class device"
        )
    for r in runs:
        # the device's own word on why the task did not finish: its process ended under it
        ended = [s for s in r.get("states", []) if s.get("lane") == "process" and s.get("value") in _ENDED]
        if r.get("status") == "failed" and ended:
            profile = r.get("device", {}).get("profile", r["platform"])
            item.detail += (
                f"; on the {profile} phone the app's process ended {len(ended)} time(s) "
                f"(first: {ended[0]['line']})"
            )
    return item


def _background(item: Item, config: Checklist, runs: dict[str, list[dict[str, Any]]]) -> Item:
    both = runs.get("force_close", []) + runs.get("reboot", [])
    platforms = {r["platform"] for r in both}
    _from_runs(item, both)
    if both:
        item.detail = "; ".join(
            f"{what} on {r['platform']}: {r['status']}"
            for what in ("force_close", "reboot")
            for r in runs.get(what, [])
        )
    lacking = [
        p
        for p, part in (("android", config.android), ("ios", config.ios))
        if part is None or p not in platforms
    ]
    if lacking and item.status != "failed":
        item.status = "manual"
        item.detail = (
            item.detail + "; " if item.detail else ""
        ) + f"not run on {', '.join(lacking)}: configure it"
    return item


def _package(part: PlatformPart | None) -> str | None:
    model = _model(part)
    return model.package if model is not None else part.package if part is not None else None


def _model(part: PlatformPart | None) -> AppModel | None:
    return load_app_model(part.app_model) if part is not None and part.app_model is not None else None


def _constraints(item: Item, config: Checklist) -> Item:
    """Work that can never run as declared, or not as often as declared (androidx.work's own rules)."""
    models = [(p.platform, m) for p in (config.android, config.ios) if (m := _model(p)) is not None]
    if not models:
        item.detail = (
            "no app model to read: check each WorkRequest's constraints by hand "
            "(`adb shell dumpsys jobscheduler PKG` lists them per job)"
        )
        return item
    flags: list[str] = []
    for platform, model in models:
        for name, work in model.work.items():
            c = work.constraints
            if work.expedited is not None and (c.charging or c.device_idle or c.battery_not_low):
                # WorkRequest.Builder.build(): "Expedited jobs only support network and storage constraints"
                flags.append(
                    f"{platform} {name}: expedited work with charging/idle/battery constraints "
                    "is refused by WorkManager (it never runs)"
                )
            if work.kind == "periodic" and work.interval_ms is not None and work.interval_ms < 15 * 60_000:
                flags.append(
                    f"{platform} {name}: interval below 15 min is clamped to 15 min "
                    "(PeriodicWorkRequest.MIN_PERIODIC_INTERVAL_MILLIS)"
                )
            if c.device_idle and c.charging and c.network == "unmetered":
                flags.append(f"{platform} {name}: idle + charging + unmetered runs only at night on Wi-Fi")
    item.status = "failed" if any("never runs" in f for f in flags) else "passed"
    count = sum(len(m.work) for _, m in models)
    item.detail = (
        "; ".join(flags) if flags else f"{count} WorkRequests reviewed: each can run under its constraints"
    )
    return item


def _info_plist(ios: PlatformPart | None) -> tuple[str, list[str], list[str]] | None:
    """(where from, BGTaskSchedulerPermittedIdentifiers, UIBackgroundModes): the file, else the model's."""
    if ios is None:
        return None
    if ios.info_plist is not None:
        with ios.info_plist.open("rb") as fh:
            plist = plistlib.load(fh)
        return (
            "Info.plist",
            list(plist.get("BGTaskSchedulerPermittedIdentifiers") or []),
            list(plist.get("UIBackgroundModes") or []),
        )
    if ios.app_model is None:
        return None
    try:
        app = load_ios_app(ios.app_model)
    except AppModelError:
        return None
    return (
        "the app model's Info.plist keys",
        list(app.ios.bg_task_identifiers),
        list(app.ios.background_modes),
    )


def _permissions(item: Item, config: Checklist) -> Item:
    findings: list[str] = []
    failed = False
    reviewed = []
    android, ios = config.android, config.ios
    if android is not None and android.manifest is not None:
        reviewed.append("AndroidManifest")
        ns = "{http://schemas.android.com/apk/res/android}name"
        declared = {e.get(ns, "") for e in ET.parse(android.manifest).getroot().iter("uses-permission")}
        model = _model(android)
        needs_net = model is None or any(
            w.constraints.network != "not_required" or model.workers[w.worker].http
            for w in model.work.values()
        )
        if needs_net and _ANDROID_NET[0] not in declared:
            failed = True
            findings.append("AndroidManifest lacks android.permission.INTERNET (network work)")
    keys = _info_plist(ios)
    if ios is not None and keys is not None:
        where, permitted, modes = keys
        reviewed.append(where)
        if not any(fnmatch.fnmatchcase(ios.task, p) for p in permitted):
            failed = True
            findings.append(f"BGTaskSchedulerPermittedIdentifiers lacks {ios.task} (submit fails)")
        if not {"fetch", "processing"} & set(modes):
            failed = True
            findings.append("UIBackgroundModes has neither fetch nor processing")
    if not reviewed:
        item.detail = (
            "give android.manifest (the merged AndroidManifest.xml) and ios.info_plist to review "
            "them; by hand: INTERNET for network work, BGTaskSchedulerPermittedIdentifiers and "
            "UIBackgroundModes (fetch, processing) for every task identifier"
        )
        return item
    item.status = "failed" if failed else "passed"
    item.detail = "; ".join(findings) or f"{' and '.join(reviewed)} declare what the tasks need"
    return item
