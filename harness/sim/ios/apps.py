"""What a virtual app's background library does on iOS, and which lines it prints where.

Two libraries are modelled from their sources (research native_workmanager.md §0, §1c, §1e, §3):

- **native_workmanager** — debug lines are ``print()`` to the app's stdout with the
  ``[NativeWorkManager] `` prefix (only on the Simulator: on a device ``NativeLogger`` is off),
  ``NSLog`` lines reach the unified log. One-time work runs in-process at once (after its
  initial delay); only periodic work goes to BGTaskScheduler, under NWM's two identifiers, with
  a FIFO list of pending tasks that each OS launch pops ONE entry from.
- **flutter_workmanager** — one-off work in-process; periodic work is a
  ``BGAppRefreshTaskRequest`` named after the unique name; debug lines go to the unified log
  under ``dev.fluttercommunity.workmanager``/``debug``.

A work's worker (``workers:`` in the app model) decides how long a run takes and how it ends.
"""

from __future__ import annotations

from .facts import INPROC_MAX_ATTEMPTS

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any

    from harness.apps.model import AppModel, Work, Worker

    from .phone import Phone

#: The identifiers native_workmanager registers (research native_workmanager.md §3 iOS).
NWM_REFRESH_ID = "dev.brewkits.native_workmanager.refresh"
NWM_PROCESSING_ID = "dev.brewkits.native_workmanager.task"

_NWM = "[NativeWorkManager] "
_FWM_SUB = "dev.fluttercommunity.workmanager"


class AppRuntime:
    """The code of one installed app inside its (virtual) process.

    It reads the app from its plain installed form (``installed.py``: no pydantic in the
    process), deep links included (``harness/apps/links.py``); only a hook that changes the
    work it enqueues (``overrides:``) asks for the validated model (:attr:`hooks`).
    """

    def __init__(self, dev: Phone, bid: str) -> None:
        self.dev = dev
        self.bid = bid
        self.app = dev.installed_app(bid)
        self.model = self.app.model
        self.lib: str = self.app.library

    @property
    def hooks(self) -> AppModel:
        """The validated model, for a hook's changes to a work (``work_with``)."""
        return self.dev.app_model(self.bid).model

    # ------------------------------------------------------------- helpers
    @property
    def now(self) -> int:
        return self.dev.w.now()

    def debug(self, line: str) -> None:
        """NWM's NativeLogger.d: stdout, and only on the Simulator."""
        if self.dev.kind == "simulator":
            self.dev.out(self.bid, _NWM + line)

    def nslog(self, line: str) -> None:
        self.dev.nslog(self.bid, _NWM + line)

    def fwm(self, msg: str, type: str = "Debug") -> None:
        self.dev.applog(self.bid, msg, subsystem=_FWM_SUB, category="debug", type=type)

    def identifiers(self) -> list[str]:
        ids = list(self.app.ios.bg_task_identifiers)
        if self.lib == "native_workmanager":
            return [i for i in (NWM_PROCESSING_ID, NWM_REFRESH_ID) if i in ids]
        return ids

    # ---------------------------------------------------------- lifecycle
    def on_launch(self, args: list[str], user: bool) -> None:
        for ident in self.identifiers():
            self.dev.bglog(self.bid, f"registerForTaskWithIdentifier: {ident}", type="Debug")
        if self.lib == "native_workmanager":
            self.debug("KMPBridge: Initialized with NativeTaskScheduler from kmpworkmanager v2.4.3")
            self.debug("BGTaskSchedulerManager: Handlers registered")
        self.dev.bglog(self.bid, "Application finished launching", type="Debug")
        hooks = self.app.ios.launch_arguments
        for i, arg in enumerate(args):
            if arg in hooks and i + 1 < len(args):
                self.enqueue_template(hooks[arg], {"work": args[i + 1], "task": args[i + 1]})

    def enqueue_template(self, template: str, values: dict[str, str]) -> None:
        name = template
        for k, v in values.items():
            name = name.replace("{" + k + "}", v)
        if name in self.model.work:
            self.enqueue(name, {})

    def on_url(self, url: str) -> None:
        hooks = self.app.ios.debug_hooks
        for template, fn in ((hooks.run_task, self.debug_run), (hooks.expire_task, self.debug_expire)):
            if template and "{identifier}" in template:
                head, _, tail = template.partition("{identifier}")
                if url.startswith(head) and url.endswith(tail) and len(url) > len(head) + len(tail):
                    fn(url[len(head) : len(url) - len(tail)] if tail else url[len(head) :])
                    return
        from harness.apps.links import find_hook, resolve_hook

        found = find_hook(self.model.hooks, url)
        if found is None:
            return
        hook, raw = found
        try:
            action = resolve_hook(hook, dict(raw))
        except ValueError:
            return
        for i in range(action.repeat):
            for name in action.names:
                if name in self.model.work:
                    self.enqueue(name, action.changes_for(i))

    def on_push(self, payload: dict[str, Any]) -> None:
        cmd = payload.get("native_wm")
        if self.lib != "native_workmanager" or not isinstance(cmd, dict):
            return
        action = str(cmd.get("action", ""))
        self.debug(f"📡 Processing direct command: {action}")
        data = cmd.get("data") if isinstance(cmd.get("data"), dict) else {}
        task_id = str(data.get("taskId", "")) if data else ""
        if action == "enqueue_task" and task_id in self.model.work:
            self.enqueue(task_id, {})

    # ------------------------------------------------------------ enqueue
    def task_id(self, name: str, work: Work) -> str:
        return work.unique.name if work.unique else name

    def bg_task(self, name: str, work: Work) -> tuple[str, str, bool, bool]:
        """(type, identifier, requires_external_power, requires_network) of the BGTaskRequest the
        library submits for periodic ``work``: the app model's ``ios.tasks`` entry, else the
        library's default (NWM: its two identifiers, processing when the work needs charging or
        idle; flutter_workmanager: a refresh request named after the unique name)."""
        spec = self.app.ios.tasks.get(name)  # None: every field is the library's default
        heavy = work.constraints.charging or work.constraints.device_idle
        kind = getattr(spec, "type", None) or ("processing" if heavy else "refresh")
        if getattr(spec, "identifier", None):
            ident = spec.identifier
        elif self.lib == "native_workmanager":
            ident = NWM_PROCESSING_ID if kind == "processing" else NWM_REFRESH_ID
        else:
            ident = work.unique.name if work.unique else name
        power = getattr(spec, "requires_external_power", None)
        if power is None:
            power = work.constraints.charging
        net = getattr(spec, "requires_network", None)
        if net is None:
            net = work.constraints.network != "not_required"
        return kind, ident, power, net

    def enqueue(self, name: str, changes: dict[str, object]) -> None:
        work = self.hooks.work_with(name, changes) if changes else self.model.work[name]
        tid = self.task_id(name, work)
        if self.lib == "native_workmanager":
            self.nslog("handle: enqueue")
            self.nslog("handleEnqueue called")
        if work.kind == "periodic":
            self._submit_periodic(name, work, tid)
        else:
            self._start_inproc(name, work, tid, work.initial_delay_ms, attempt=1)

    def _submit_periodic(self, name: str, work: Work, tid: str) -> None:
        kind, ident, power, net = self.bg_task(name, work)
        delay = work.initial_delay_ms or int(work.interval_ms or 0)
        earliest = self.now + delay
        if self.lib == "native_workmanager":
            pend = self.dev.d["nwm_pending"].setdefault(self.bid, [])
            pend[:] = [p for p in pend if p["task"] != tid]
            pend.append({"task": tid, "work": name, "kind": kind})
            if kind == "refresh":
                self.debug(f"BGTaskSchedulerManager: Using BGAppRefreshTask with identifier '{ident}'")
            else:
                self.debug(
                    f"BGTaskSchedulerManager: Using BGProcessingTask for heavy task with identifier '{ident}'"
                )
        code = self.dev.bgtasks.submit(self.bid, kind, ident, earliest, power, net)
        if self.lib == "native_workmanager":
            if code is None:
                self.debug(f"BGTaskSchedulerManager: Scheduled task '{tid}' with identifier '{ident}'")
            else:
                self.nslog("ERROR: BGTaskSchedulerManager: failed to schedule task")
        elif self.lib == "flutter_workmanager":
            what = "BGAppRefreshTask" if kind == "refresh" else "BGProcessingTask"
            if code is None:
                self.dev.applog(self.bid, f"{what} submitted {ident} earliestBeginInSeconds:{delay / 1000:g}")
                self.fwm(f"Task scheduled: {name}")
            else:
                self.dev.applog(
                    self.bid,
                    f"Could not schedule {what} identifier:{ident} error:The operation "
                    f"couldn’t be completed. (BGTaskSchedulerErrorDomain error {code}.)",
                    type="Error",
                )

    # --------------------------------------------------- in-process work
    def _start_inproc(self, name: str, work: Work, tid: str, delay_ms: int, attempt: int) -> None:
        self.dev.d["inproc"].append(
            {
                "bid": self.bid,
                "work": name,
                "task": tid,
                "phase": "waiting",
                "due": self.now + delay_ms,
                "end": None,
                "attempt": attempt,
                "frozen": None,
            }
        )

    def on_inproc(self, item: dict[str, Any]) -> None:
        inproc = self.dev.d["inproc"]
        if item["phase"] == "waiting":
            worker = self.worker(item["work"])
            if worker.outcome(item["attempt"] - 1) == "hang":
                inproc.remove(item)  # never returns, never reports
                return
            item["phase"] = "running"
            item["end"] = self.now + worker.duration_ms
            if self.lib == "flutter_workmanager":
                self.fwm(f"Task started: {item['work']}, callbackHandle: 0")
            return
        inproc.remove(item)
        outcome = self.run_outcome(item["work"], item["attempt"] - 1)
        tid = item["task"]
        if outcome == "success":
            self.report(tid, item["work"], True, item["attempt"])
        elif outcome == "retry" and item["attempt"] < INPROC_MAX_ATTEMPTS:
            work = self.model.work[item["work"]]
            delay = work.backoff.delay_ms * (
                2 ** (item["attempt"] - 1) if work.backoff.policy == "exponential" else item["attempt"]
            )
            self.debug(
                f"[Retry] Task '{tid}': attempt {item['attempt']}/{INPROC_MAX_ATTEMPTS} failed — "
                f"retrying in {delay}ms"
            )
            self._start_inproc(item["work"], work, tid, delay, item["attempt"] + 1)
        else:
            self.report(tid, item["work"], False, item["attempt"])

    def report(self, tid: str, name: str, ok: bool, attempts: int, ms: int | None = None) -> None:
        if self.lib == "native_workmanager":
            if ok:
                self.debug(f"Task '{tid}' completed successfully")
            else:
                self.debug(f"Task '{tid}' failed after {attempts} attempt(s)")
        elif self.lib == "flutter_workmanager":
            dur = ms if ms is not None else self.worker(name).duration_ms
            if ok:
                self.fwm(f"Task completed: {name}, success: true, duration: {dur}ms")
            else:
                self.fwm(f"Task failed: {name}, error: failure", type="Error")

    def worker(self, name: str) -> Worker:
        return self.model.workers[self.model.work[name].worker]

    def run_outcome(self, name: str, attempt: int) -> str:
        """The scripted result of one run; HTTP calls fail without network (their NSLog lines)."""
        worker = self.worker(name)
        outcome: str = worker.outcome(attempt)
        for call in worker.http:
            what = "HttpSyncWorker" if call.method == "GET" else "HttpRequestWorker"
            if not self.dev.d["network"]:
                if self.lib == "native_workmanager":
                    self.nslog(f"{what}: Error - The Internet connection appears to be offline.")
                return worker.on_network_error
            if call.status >= 400:  # retry_on decides, as on Android (Worker.http_outcome)
                if self.lib == "native_workmanager":
                    self.nslog(f"{what}: Failed - Status {call.status}")
                return worker.http_outcome(call.status, outcome)
            if self.lib == "native_workmanager":
                self.nslog(f"{what}: Success - Status {call.status}, Body size: 512 bytes")
        return "failure" if outcome == "crash" else outcome

    # --------------------------------------------------------- BG tasks
    def on_bg_task(self, task: dict[str, Any]) -> None:
        """The registered launch handler runs: pick the work this identifier stands for."""
        name = self._pick_work(task["kind"], task["ident"])
        if name is None:
            return
        worker = self.worker(name)
        task["work"] = name
        # a hanging worker never calls setTaskCompleted: only its expiration ends the task
        task["end"] = None if worker.outcome(0) == "hang" else self.now + worker.duration_ms

    def _pick_work(self, kind: str, ident: str) -> str | None:
        if self.lib == "native_workmanager":
            if kind == "refresh":
                self.debug("BGTaskSchedulerManager: App refresh task started")
            else:
                self.debug("BGTaskSchedulerManager: Processing task started")
            pend = self.dev.d["nwm_pending"].get(self.bid, [])
            for entry in pend:
                if entry["kind"] == kind:
                    pend.remove(entry)
                    return str(entry["work"])
            if kind == "refresh":
                self.debug("BGTaskSchedulerManager: No pending refresh tasks")
            return None
        for name, work in self.model.work.items():
            if work.kind == "periodic" and self.bg_task(name, work)[1] == ident:
                if self.lib == "flutter_workmanager":
                    self.fwm(f"Task started: {name}, callbackHandle: 0")
                return name
        return None

    def on_bg_task_done(self, task: dict[str, Any], success: bool) -> None:
        name = task.get("work")
        if not name or task.get("expired"):
            return
        outcome = self.run_outcome(name, 0)
        work = self.model.work[name]
        tid = self.task_id(name, work)
        task["success"] = outcome == "success"
        self.report(tid, name, outcome == "success", 1)

    def on_bg_task_expired(self, task: dict[str, Any]) -> None:
        task["expired"] = True
        name = task.get("work")
        if self.lib == "native_workmanager":
            self.debug(
                "BGTaskSchedulerManager: Refresh task expired"
                if task["kind"] == "refresh"
                else "BGTaskSchedulerManager: Task expired"
            )
            self.debug("⚠️ OS Expiration: Stopped all active workers")
            if name:
                self.report(self.task_id(name, self.model.work[name]), name, False, 1)
        elif self.lib == "flutter_workmanager":
            self.dev.applog(self.bid, f"BGAppRefreshTask expired: {task['ident']}")

    # ------------------------------------------------------ debug hooks
    def debug_run(self, ident: str) -> None:
        """The app's own debug URL: call the BGTask handler code path directly (works on a simulator)."""
        kind = (
            "processing"
            if ident.endswith(".task")
            or any(
                self.bg_task(n, w)[:2] == ("processing", ident)
                for n, w in self.model.work.items()
                if w.kind == "periodic"
            )
            else "refresh"
        )
        task = {
            "bid": self.bid,
            "kind": kind,
            "ident": ident,
            "started": self.now,
            "deadline": None,
            "simulated": True,
            "end": None,
            "work": None,
            "hook": True,
        }
        self.dev.d["running"].append(task)
        self.on_bg_task(task)
        if task["end"] is None and task["work"] is None:
            task["end"] = self.now

    def debug_expire(self, ident: str) -> None:
        for task in list(self.dev.d["running"]):
            if task["bid"] == self.bid and task["ident"] == ident:
                self.on_bg_task_expired(task)
                self.dev.d["running"].remove(task)
                return


def runtime(dev: Phone, bid: str) -> AppRuntime:
    return AppRuntime(dev, bid)
