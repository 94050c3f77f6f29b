"""The runner's iOS actions: each scenario step on an iOS target, through `IosDevice`.

The runner keeps everything platform-neutral (barriers, windows, expectations, restore); this
module is its ``_do_<kind>`` table for iOS. A step iOS cannot do never gets here (validation
names the platform); a step this *target* cannot do — a BGTask launch on a simulator without
the app's hook, a battery switch on a real iPhone — is a bgtest message saying why and what to
do instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from harness.devices.ios import IosDevice, simulator_bgtask_message
from harness.errors import UnsupportedAction
from harness.scenario import models as m

if TYPE_CHECKING:
    from harness.runner import ScenarioRunner

_NWM_SCHEDULED = re.compile(r"Scheduled task '(?P<task>[^']+)' with identifier '(?P<ident>[^']+)'")
_SUBMIT = re.compile(r"submitTaskRequest: <BG(?:AppRefresh|Processing)TaskRequest: (?P<ident>[^,>\s]+)")


@dataclass
class IosApp:
    """What the runner knows of the app under test on iOS (from the app model's ``ios:`` section)."""

    bundle_id: str | None = None
    executable: str | None = None
    identifiers: list[str] = field(default_factory=list)
    hooks: dict[str, str] = field(default_factory=dict)  # run_task / expire_task URL templates

    @classmethod
    def from_model(cls, data: Mapping[str, Any] | None) -> IosApp:
        ios = (data or {}).get("ios") or {}
        if not isinstance(ios, Mapping):
            return cls()
        hooks = ios.get("debug_hooks") or {}
        return cls(
            bundle_id=ios.get("bundle_id"),
            executable=ios.get("executable"),
            identifiers=[str(i) for i in ios.get("bg_task_identifiers") or ()],
            hooks={k: str(v) for k, v in hooks.items() if v} if isinstance(hooks, Mapping) else {},
        )


class IosSteps:
    """``do_<kind>`` for every action iOS supports; the runner looks them up by step kind."""

    def __init__(self, runner: ScenarioRunner, device: IosDevice, app: IosApp | None = None) -> None:
        self.runner = runner
        self.device = device
        self.app = app or IosApp()

    def log_predicate(self) -> str:
        """What ``log stream`` must deliver: the app, the BackgroundTasks/dasd lines, bgtest's markers,
        and every process or subsystem the scenario names.

        A real simulator's unfiltered debug-level stream is thousands of lines a second; the
        filter is applied inside ``log`` (research ios.md §2 predicate fields).
        """
        processes = {"logger", "dasd", "SpringBoard"}
        subsystems = {
            "com.apple.BackgroundTasks",
            "com.apple.duetactivityscheduler",
            "dev.fluttercommunity.workmanager",
        }
        bundle = self.runner.package
        if self.app.executable:
            processes.add(self.app.executable)
        elif bundle:
            processes.add(self.device.executable(bundle))
        scenario = self.runner.scenario
        matches: list[Any] = list(scenario.fail_fast_on)
        for step in scenario.all_steps():
            if isinstance(step, m.Wait) and step.until is not None:
                step = step.until
            if isinstance(step, m.Expect):
                matches += [step, *(step.in_order or ()), *(step.fail_fast_on or ())]
        for match in matches:
            for name in (getattr(match, "process", None), getattr(match, "tag", None)):
                if name:
                    processes.add(name)
            if getattr(match, "subsystem", None):
                subsystems.add(match.subsystem)
        clauses = [f"process == {_quote(p)}" for p in sorted(processes)]
        clauses += [f"subsystem == {_quote(s)}" for s in sorted(subsystems)]
        return " OR ".join(clauses)

    def handler(self, kind: str) -> Any:
        return getattr(self, f"do_{kind}", None)

    def _bundle(self, explicit: str | None = None) -> str:
        if explicit or self.runner.package:
            return explicit or self.runner.package  # type: ignore[return-value]
        raise UnsupportedAction(
            "this step needs the app's bundle id: add app: {bundle_id: …} "
            "or app: {model: …} whose model has an ios: section"
        )

    # ------------------------------------------------------------------ apps
    def do_install(self, step: m.Install) -> None:
        path = step.path or self.runner.app_install_path
        if not path:
            raise UnsupportedAction(
                "install needs a path (the .app), or an app model whose app bgtest can install"
            )
        self.device.install(path)

    def do_uninstall(self, step: m.Uninstall) -> None:
        self.device.uninstall(self._bundle(step.package))

    def do_launch(self, step: m.Launch) -> None:
        bundle = self._bundle()
        self.device.launch(bundle, arguments=step.arguments or (), env=step.env)
        if step.deep_link:
            self.device.open_url(step.deep_link)

    def do_open_url(self, step: m.OpenUrl) -> None:
        self.device.open_url(step.url)

    def do_push(self, step: m.Push) -> None:
        self.device.push(self._bundle(), step.payload)

    def do_stop_app(self, step: m.StopApp) -> None:
        self.device.stop_app(self._bundle(step.package))

    def do_background(self, step: m.Background) -> None:
        self.device.background()

    def do_reboot(self, step: m.Reboot) -> None:
        journal = self.runner.journal
        assert journal is not None
        journal.expect_reboot()
        self.device.reboot(timeout=(step.timeout / 1000) if step.timeout else 180.0)

    # ------------------------------------------------------------------ state
    def do_battery(self, step: m.Battery) -> None:
        self.device.battery(state=step.state, level=step.level)

    def do_low_power(self, step: m.LowPower) -> None:
        self.device.low_power(step.enabled)

    do_battery_saver = do_low_power

    def do_screen(self, step: m.Screen) -> None:
        self.device.screen(step.on)

    def do_network(self, step: m.Network) -> None:
        self.device.network(wifi=step.wifi, data=step.data, airplane=step.airplane)

    # ------------------------------------------------------------------ BGTasks
    def do_run_task(self, step: m.RunTask) -> None:
        self._bgtask("run_task", step.task, step.hook)

    def do_expire_task(self, step: m.ExpireTask) -> None:
        self._bgtask("expire_task", step.task, None)

    def _bgtask(self, action: str, task: str, hook: str | None) -> None:
        bundle = self._bundle()
        identifier = self.identifier_for(task)
        if hook is None and self.device.kind != "device":
            hook = self.app.hooks.get(action)
        if hook is not None:
            self.device.open_url(_fill(hook, identifier=identifier, task=task))
            return
        if self.device.kind != "device":
            raise UnsupportedAction(simulator_bgtask_message(action, identifier, self.device.udid))
        if action == "run_task":
            self.device.run_task(bundle, identifier)
        else:
            self.device.expire_task(bundle, identifier)

    def identifier_for(self, task: str) -> str:
        """The BGTask identifier behind a scenario's task name.

        A permitted identifier is itself; otherwise the app's own words in the journal decide
        (native_workmanager: "Scheduled task 'T' with identifier 'I'"); otherwise the one
        identifier the app submitted; otherwise the name as written.
        """
        if task in self.app.identifiers:
            return task
        journal = self.runner.journal
        submitted: list[str] = []
        if journal is not None:
            for rec in reversed(journal.records()):
                match = _NWM_SCHEDULED.search(rec.message)
                if match and match.group("task") == task:
                    return match.group("ident")
                match = _SUBMIT.search(rec.message)
                if match and match.group("ident") not in submitted:
                    submitted.append(match.group("ident"))
        if "." not in task and len(submitted) == 1:
            return submitted[0]
        return task

    # ------------------------------------------------------------------ capture
    def do_capture(self, step: m.Capture) -> None:
        if step.what not in ("screenshot", "journal"):
            raise UnsupportedAction(
                f"capture {step.what} is Android-only; on iOS capture screenshot or journal"
            )
        self.runner._do_capture(step)


def _quote(text: str) -> str:
    """An NSPredicate string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fill(template: str, **values: str) -> str:
    """A hook URL template with ``{identifier}``/``{task}`` filled in (URL-quoted)."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", quote(value, safe=".-_~"))
    return out
