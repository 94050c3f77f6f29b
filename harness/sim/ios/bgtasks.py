"""BGTaskScheduler inside the app and dasd deciding when requests run (research ios.md §3)."""

from __future__ import annotations

from .facts import (
    DASD,
    MAX_PROCESSING_REQUESTS,
    PROCESSING_BUDGET_MS,
    REFRESH_BUDGET_MS,
    date_text,
    short_hex,
)
from .phone import Phone
from .power import Power
from .springboard import SpringBoard

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any


class BGTaskScheduler:
    """Requests, running tasks and their budgets; dasd's launches; lldb's simulated launches."""

    def __init__(self, dev: Phone, springboard: SpringBoard, power: Power) -> None:
        self.dev = dev
        self.springboard = springboard
        self.power = power

    def submit(
        self,
        bid: str,
        kind: str,
        ident: str,
        earliest_ms: int | None,
        power: bool = False,
        network: bool = False,
    ) -> int | None:
        """``BGTaskScheduler.submit``: None when accepted, else the BGTaskSchedulerErrorDomain code."""
        desc = self.request_desc(kind, ident, earliest_ms, power, network)
        self.dev.bglog(bid, f"submitTaskRequest: {desc}")
        model = self.dev.installed_app(bid)
        code: int | None = None
        mode = "fetch" if kind == "refresh" else "processing"
        if self.dev.kind == "simulator":
            code = 1
        elif ident not in model.ios.bg_task_identifiers or mode not in model.ios.background_modes:
            code = 3
        elif self.dev.d["lpm"] and kind == "refresh":
            code = 1  # Background App Refresh is off under Low Power Mode [U]
        else:
            mine = [r for r in self.dev.d["requests"] if r["bid"] == bid and r["ident"] != ident]
            if kind == "refresh" and any(r["kind"] == "refresh" for r in mine):
                code = 2
            if (
                kind == "processing"
                and sum(r["kind"] == "processing" for r in mine) >= MAX_PROCESSING_REQUESTS
            ):
                code = 2
        if code is not None:
            self.dev.bglog(
                bid,
                f"Error submitting task request: {desc}, error: Error Domain="
                f'BGTaskSchedulerErrorDomain Code={code} "(null)"',
                type="Error",
            )
            return code
        for old in [r for r in self.dev.d["requests"] if r["bid"] == bid and r["ident"] == ident]:
            self.dev.d["requests"].remove(old)
            self.dev.syslog(
                DASD,
                "Daemon Canceling Activities: {(\n    " + old["activity"] + "\n)}",
                subsystem="com.apple.duetactivityscheduler",
                category="scheduler",
            )
            self.dev.syslog(
                DASD,
                f"CANCELED: {old['activity']} at priority 10 <private>!",
                subsystem="com.apple.duetactivityscheduler",
                category="scheduler",
            )
        prefix = "bgRefresh" if kind == "refresh" else "bgProcessing"
        seed = f"{bid}{ident}{self.dev.w.now()}{self.dev.w.state['seq']}"
        activity = f"{prefix}-{ident}:{short_hex(seed)}"
        now = self.dev.w.now()
        req = {
            "bid": bid,
            "kind": kind,
            "ident": ident,
            "earliest": earliest_ms,
            "power": power,
            "network": network,
            "submitted": now,
            "activity": activity,
        }
        self.dev.d["requests"].append(req)
        self.dev.bglog(bid, f"Submitting task request activity: {activity}")
        start = earliest_ms if earliest_ms is not None else now
        end = start + (2 * 86_400_000 if kind == "processing" else 86_400_000)
        self.dev.syslog(
            DASD,
            f"Submitted Activity: {activity} at priority 10 ({date_text(start)} - {date_text(end)})",
            subsystem="com.apple.duetactivityscheduler",
            category="scheduler",
        )
        return None

    @staticmethod
    def request_desc(kind: str, ident: str, earliest_ms: int | None, power: bool, network: bool) -> str:
        date = date_text(earliest_ms) if earliest_ms is not None else "(null)"
        if kind == "refresh":
            return f"<BGAppRefreshTaskRequest: {ident}, earliestBeginDate: {date}>"
        return (
            f"<BGProcessingTaskRequest: {ident}, earliestBeginDate: {date}, "
            f"requiresExternalPower={int(power)}, requiresNetworkConnectivity={int(network)}>"
        )

    @staticmethod
    def task_desc(kind: str, ident: str) -> str:
        return f"<{'BGAppRefreshTask' if kind == 'refresh' else 'BGProcessingTask'}: {ident}>"

    def cancel_request(self, bid: str, ident: str | None) -> None:
        if ident is None:
            self.dev.bglog(bid, "cancelAllTaskRequests")
            self.dev.d["requests"] = [r for r in self.dev.d["requests"] if r["bid"] != bid]
            return
        self.dev.bglog(bid, f"cancelTaskRequestWithIdentifier: {ident}")
        requests = self.dev.d["requests"]
        self.dev.d["requests"] = [r for r in requests if not (r["bid"] == bid and r["ident"] == ident)]

    def blocked_reason(self, req: dict[str, Any]) -> str | None:
        """Why dasd will not run ``req`` now (None = it may run once its earliest date has passed)."""
        if not self.dev.booted:
            return "device is shut down"
        if req["bid"] not in self.dev.d["apps"]:
            return "app not installed"
        if self.dev.d["lpm"]:
            return "Low Power Mode"
        if not self.power.battery_ok():
            return "battery low"
        if req["power"] and not self.dev.d["charging"]:
            return "requires external power"
        if req["network"] and not self.dev.d["network"]:
            return "requires network connectivity"
        if req["bid"] in self.dev.d["force_quit"] and req["kind"] == "refresh":
            return "app was force-quit by the user"
        if any(t["bid"] == req["bid"] and t["ident"] == req["ident"] for t in self.dev.d["running"]):
            return "already running"
        return None

    def pending(self, bid: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.dev.d["requests"] if bid is None or r["bid"] == bid]

    def dasd_launch(self, req: dict[str, Any], simulated: bool = False) -> None:
        from .apps import runtime

        bid = req["bid"]
        self.dev.d["requests"].remove(req)
        acts = "{(\n    " + req["activity"] + "\n)}"
        if not simulated:
            self.dev.syslog(
                DASD,
                f"STARTING: {req['activity']} at priority 10 <private>",
                subsystem="com.apple.duetactivityscheduler",
                category="scheduler",
            )
        if bid not in self.dev.d["procs"]:
            self.springboard.spawn(bid, [], {}, "background")
            self.dev.bglog(bid, f"Handling launch from daemon for activities: {acts}")
            runtime(self.dev, bid).on_launch([], user=False)
            self.dev.bglog(bid, f"Application launched for activities: {acts}")
        proc = self.dev.d["procs"][bid]
        if proc["state"] == "suspended":
            proc["state"] = "background"
            self.springboard.resume_inproc(bid)
        proc["suspend_at"] = None
        desc = self.task_desc(req["kind"], req["ident"])
        if not simulated:
            self.dev.bglog(bid, f"Calling handlers for activities: {acts}")
        self.dev.bglog(bid, f"Running task: {desc}")
        self.dev.bglog(bid, f"Starting simulated task: {desc}" if simulated else f"Starting task: {desc}")
        now = self.dev.w.now()
        budget = REFRESH_BUDGET_MS if req["kind"] == "refresh" else PROCESSING_BUDGET_MS
        task = {
            "bid": bid,
            "kind": req["kind"],
            "ident": req["ident"],
            "started": now,
            # A simulated launch has no budget: BGTaskScheduler runs it with a nil dasd activity,
            # and only dasd's willExpireActivities (matched by the activity's uuid) or
            # _simulateExpirationForTaskWithIdentifier: (which requires the nil activity) expire a
            # task — decompiled BGTaskScheduler.m, iOS 18.2 (research ios.md §3). On a phone a
            # debugger-launched refresh task runs past 30 s until the developer expires it.
            "deadline": None if simulated else now + budget,
            "simulated": simulated,
            "end": None,
            "work": None,
        }
        self.dev.d["running"].append(task)
        runtime(self.dev, bid).on_bg_task(task)
        if task["end"] is None and task["work"] is None:  # nothing to do: the handler completes at once
            task["end"] = now

    def complete_task(self, task: dict[str, Any], success: bool) -> None:
        from .apps import runtime

        self.dev.d["running"].remove(task)
        bid = task["bid"]
        desc = self.task_desc(task["kind"], task["ident"])
        runtime(self.dev, bid).on_bg_task_done(task, success)
        success = bool(task.get("success", success))  # what the handler passed to setTaskCompleted
        if task.get("hook"):
            pass  # the app's debug hook ran its handler code directly: BGTaskScheduler knows nothing
        elif task["simulated"]:
            self.dev.bglog(bid, f"Marking simulated task complete: {desc}")
        else:
            self.dev.bglog(bid, f"Marking task {desc} complete with success: {int(success)}")
        self.maybe_suspend(bid)

    def expire_task(self, task: dict[str, Any]) -> None:
        from .apps import runtime

        bid = task["bid"]
        desc = self.task_desc(task["kind"], task["ident"])
        if task.get("hook"):
            pass
        elif task["simulated"]:
            self.dev.bglog(bid, f"Expiring simulated task: {desc}")
        else:
            self.dev.bglog(bid, "Will expire activities: {(\n    " + desc + "\n)}")
            self.dev.bglog(bid, f"Expiring task: {desc}")
        runtime(self.dev, bid).on_bg_task_expired(task)
        self.complete_task(task, False)

    def maybe_suspend(self, bid: str) -> None:
        proc = self.dev.d["procs"].get(bid)
        if proc is None or proc["state"] != "background":
            return
        if any(t["bid"] == bid for t in self.dev.d["running"]):
            return
        if proc["suspend_at"] is None or proc["suspend_at"] > self.dev.w.now():
            proc["suspend_at"] = self.dev.w.now()

    def simulate_launch(self, bid: str, ident: str) -> None:
        """``_simulateLaunchForTaskWithIdentifier:`` inside the app (only fires for a pending request)."""
        self.dev.bglog(bid, f"Simulating launch for task with identifier {ident}")
        if any(t["bid"] == bid and t["ident"] == ident for t in self.dev.d["running"]):
            self.dev.bglog(bid, f"Task with identifier {ident} is already running")
            return
        self.dev.bglog(bid, "Getting pending task requests")
        mine = [r for r in self.dev.d["requests"] if r["bid"] == bid]
        self.dev.bglog(
            bid, "Found pending activities: {(" + "".join(f"\n    {r['activity']}" for r in mine) + "\n)}"
        )
        for req in mine:
            if req["ident"] == ident:
                self.dasd_launch(req, simulated=True)
                return
        self.dev.bglog(bid, f"No task request with identifier {ident} has been scheduled", type="Error")

    def simulate_expiration(self, bid: str, ident: str) -> None:
        self.dev.bglog(bid, f"Simulating expiration for task with identifier {ident}")
        for task in list(self.dev.d["running"]):
            if task["bid"] == bid and task["ident"] == ident and task["simulated"]:
                self.expire_task(task)
                return
