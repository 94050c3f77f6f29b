"""Every field of the scenario language acts: for each property in the JSON Schema, two runs
that differ only in that field end differently.

The table `PROBES` is checked against the committed schema: a field added to the language
without a probe here fails `test_every_schema_field_has_a_probe`. Each probe runs both
variants for real — Android steps on the virtual device through the real adb server, iOS
steps on the virtual iPhone through the xcrun stand-in, unified-log record fields through the
real oslog parser and expectation engine, selection fields through pytest's own collection —
and asserts that the observations differ (and, where it matters, which one is right).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from verdicts_app import APP

from harness.actions.flow import Expect
from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.logs import expect as ex
from harness.logs.oslog_parser import record_from_json
from harness.result import ScenarioResult
from harness.run.expectations import to_engine_expectation
from harness.run.runner import RunObserver, ScenarioRunner
from harness.run.session import DeviceSession, app_under_test
from harness.run.settings import Settings
from harness.scenario import models as m
from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_text
from harness.scenario.schema import build_schema
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- the rigs
@dataclass
class Run:
    """One scenario's outcome, with what the observer saw (device state after stateful steps)."""

    result: ScenarioResult
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.result.status


@dataclass
class Rig:
    device: AndroidDevice
    home: Path
    ios: DeviceSession
    server: AdbServer
    failures: list[str] = field(default_factory=list)
    _session: DeviceSession | None = None
    #: the off-phone probes' pairs, computing in the background (see OFF_PHONE)
    ahead: dict[str, Future[tuple[object, object]]] = field(default_factory=dict)

    def fresh(self) -> Rig:
        """A rig on a virtual phone of its own: for probes that other probes' leftover work
        (a job still running in the app's process) would disturb. Close it with `close`."""
        farm = VirtualAndroidFarm(
            adb_server=self.server, app_models=[self.home / "fixtures/apps/api_demo.yaml"]
        )
        farm.__enter__()
        rig = Rig(
            AndroidDevice(farm.serials[0], self.server.host, self.server.port),
            self.home,
            self.ios,
            self.server,
        )
        rig._farm = farm  # type: ignore[attr-defined]
        return rig

    def close(self) -> None:
        self._farm.__exit__(None, None, None)  # type: ignore[attr-defined]

    def android(self, steps: str, head: str = "app: {model: api_demo}\n", tail: str = "") -> Run:
        text = f"name: probe\n{head}{tail}steps:\n{steps}"
        (scenario,) = load_text(text, file=str(self.home / "probe.yaml"), base_dir=self.home)
        notes: list[str] = []
        artifacts = self.home / "artifacts" / str(len(list((self.home / "artifacts").glob("*"))))
        runner = ScenarioRunner(
            scenario,
            self.device,
            app_under_test(scenario, "android"),
            artifacts_dir=artifacts,
            observer=RunObserver(on_note=notes.append),
        )
        result = runner.run()
        self.failures.append(result.failure)
        files = sorted(p.name for p in artifacts.glob("*")) if artifacts.exists() else []
        return Run(result, notes, files)

    def leased(self, steps: str, head: str) -> Run:
        """The scenario as `bgtest run` runs it on this phone (a lease through a session that
        names the rig's adb server and serial): where ``device:`` and ``requires:`` are read."""
        if self._session is None:
            self._session = DeviceSession(
                Settings.build(os.environ, adb_server=f"{self.server.host}:{self.server.port}",
                               device=self.device.serial),
                note=lambda _: None,
            )
        text = f"name: probe\n{head}app: {{model: api_demo}}\nsteps:\n{steps}"
        (scenario,) = load_text(text, file=str(self.home / "probe.yaml"), base_dir=self.home)
        return Run(self._session.run(scenario, "android"))

    def iphone(self, steps: str, head: str = "app: {model: nwm_ios_demo}\n") -> Run:
        text = f"name: probe\nplatforms: [ios]\n{head}steps:\n{steps}"
        (scenario,) = load_text(
            text, file=str(ROOT / "scenarios" / "probe.yaml"), base_dir=ROOT / "scenarios"
        )
        return Run(self.ios.run(scenario, "ios"))


@pytest.fixture(scope="module")
def rig(
    adb_server: AdbServer, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Rig]:
    home = tmp_path_factory.mktemp("fields")
    (home / "fixtures" / "apps").mkdir(parents=True)
    (home / "fixtures" / "apps" / "api_demo.yaml").write_text(APP)
    (home / "fixtures" / "apps" / "nwm_demo.yaml").write_text(
        (ROOT / "fixtures/apps/nwm_demo.yaml").read_text()
    )
    (home / "artifacts").mkdir()
    (home / "night.yaml").write_text("- launch: apidemo://enqueue/api-2\n")
    models = [home / "fixtures/apps/api_demo.yaml", ROOT / "fixtures/apps/nwm_demo.yaml"]
    settings = Settings.build(os.environ, report_dir=tmp_path_factory.mktemp("ios-reports"))
    ios = DeviceSession(settings, note=lambda _: None)
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="off-phone-probes")
    try:
        with VirtualAndroidFarm(adb_server=adb_server, app_models=models) as farm:
            rig = Rig(AndroidDevice(farm.serials[0], adb_server.host, adb_server.port), home, ios, adb_server)
            if "PYTEST_XDIST_WORKER" not in os.environ:
                for name in _selected_off_phone(request.session):
                    rig.ahead[name] = background.submit(PROBES[GROUPS[name][0]], rig)
            yield rig
            background.shutdown(cancel_futures=True)
            if rig._session is not None:
                rig._session.close()
    finally:
        background.shutdown(cancel_futures=True)
        ios.close()


API_1_SUCCEEDS = "  - expect: {task: api-1, state: succeeded, within: 10m}\n"


def loads(text: str) -> str:
    """``ok`` or the first validation message."""
    try:
        load_text(text, file="probe.yaml")
    except ScenarioError as exc:
        return str(exc).splitlines()[0]
    return "ok"


Probe = Callable[[Rig], tuple[object, object]]
PROBES: dict[tuple[str, str], Probe] = {}


def probe(*keys: tuple[str, str]) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        for key in keys:
            assert key not in PROBES, key
            PROBES[key] = fn
        return fn

    return register


def status(run: Run) -> str:
    return run.status


def last_note(run: Run) -> str:
    return run.notes[-1] if run.notes else ""


# ----------------------------------------------------------------------------- scenario level
@probe(("Scenario", "name"))
def _name(r: Rig) -> tuple[object, object]:
    return loads("name: a\nsteps: [stop_app]\n"), loads("name: ''\nsteps: [stop_app]\n")


@probe(("Scenario", "description"))
def _description(r: Rig) -> tuple[object, object]:
    a = r.android("  - stop_app\n", tail="description: the long story\n")
    b = r.android("  - stop_app\n")
    assert a.result.to_json()["description"] == "the long story"
    return a.result.description, b.result.description


@probe(("Scenario", "tags"))
def _tags(r: Rig) -> tuple[object, object]:
    # one pytest collection (the plugin, as `bgtest run -k` uses it) over two scenarios that
    # differ only in their tags
    folder = r.home / "tagged"
    folder.mkdir(exist_ok=True)
    for name, tag in (("a", "nightly"), ("b", "weekly")):
        (folder / f"{name}.yaml").write_text(f"name: {name}\ntags: [{tag}]\nsteps: [stop_app]\n")
    argv = ["--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder), "--bgtest-scenarios"]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", *argv, "-k", "nightly", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    ).stdout
    return "a.yaml::" in out, "b.yaml::" in out


@probe(("Scenario", "platforms"))
def _platforms(r: Rig) -> tuple[object, object]:
    steps = "steps: [{expire_task: sync}]\n"
    return loads(f"name: t\nplatforms: [ios]\n{steps}"), loads(f"name: t\nplatforms: [android]\n{steps}")


@probe(("Scenario", "app"), ("App", "model"))
def _app_model(r: Rig) -> tuple[object, object]:
    steps = "  - launch: apidemo://enqueue/api-2\n  - expect: {task: api-2, state: succeeded, within: 5m}\n"
    return status(r.android(steps)), status(r.android(steps, head="app: {model: nwm_demo}\n"))


@probe(("App", "package"))
def _app_package(r: Rig) -> tuple[object, object]:
    # stop_app force-stops the app's package: api-1's retry is cancelled only in that app
    steps = "  - launch: apidemo://enqueue/api-1\n  - stop_app\n" + API_1_SUCCEEDS
    a = r.android(steps, head="app: {package: dev.bgtest.api_demo, library: native_workmanager}\n")
    b = r.android(steps, head="app: {package: dev.brewkits.nwm_demo, library: native_workmanager}\n")
    return status(a), status(b)


@probe(("App", "library"))
def _app_library(r: Rig) -> tuple[object, object]:
    # a line only native_workmanager's vocabulary reads (its own tag, its own words)
    steps = (
        "  - shell: [log, -t, NativeWorkManager, 'Periodic task cancelled: api-9']\n"
        "  - expect: {task: api-9, state: cancelled, within: 1m}\n"
    )
    head = "app: {model: api_demo, library: %s}\n"
    return status(r.android(steps, head=head % "native_workmanager")), status(
        r.android(steps, head=head % "flutter_workmanager")
    )


@probe(("Scenario", "vars"))
def _vars(r: Rig) -> tuple[object, object]:
    steps = "  - launch: apidemo://enqueue/${t}\n  - expect: {task: api-2, state: succeeded, within: 5m}\n"
    return status(r.android(steps, tail="vars: {t: api-2}\n")), status(
        r.android(steps, tail="vars: {t: api-3}\n")
    )


@probe(("Scenario", "timeout"))
def _timeout(r: Rig) -> tuple[object, object]:
    return status(r.android("  - wait: 2h\n", tail="timeout: 3h\n")), status(
        r.android("  - wait: 2h\n", tail="timeout: 1h\n")
    )


@probe(("Scenario", "max_wait"))
def _max_wait(r: Rig) -> tuple[object, object]:
    return loads("name: t\nmax_wait: 41d\nsteps: [{wait: 40d}]\n"), loads("name: t\nsteps: [{wait: 40d}]\n")


CRASH = '  - shell: [log, -t, AndroidRuntime, -p, e, "FATAL EXCEPTION: main"]\n  - wait: 1m\n'


@probe(("Scenario", "fail_fast_on"))
def _scenario_fail_fast(r: Rig) -> tuple[object, object]:
    return status(r.android(CRASH, tail='fail_fast_on: ["FATAL EXCEPTION"]\n')), status(r.android(CRASH))


@probe(("Scenario", "setup"))
def _setup(r: Rig) -> tuple[object, object]:
    steps = "  - expect: {task: api-2, state: succeeded, within: 5m}\n"
    a = r.android(steps, tail="setup:\n  - launch: apidemo://enqueue/api-2\n")
    return status(a), status(r.android(steps))


@probe(("Scenario", "steps"))
def _steps(r: Rig) -> tuple[object, object]:
    return status(r.android("  - stop_app\n")), status(
        r.android("  - expect: {task: api-2, state: failed}\n")
    )


@probe(("Scenario", "finally"))
def _finally(r: Rig) -> tuple[object, object]:
    a = r.android("  - stop_app\n", tail="finally:\n  - launch: apidemo://enqueue/api-2\n")
    b = r.android("  - stop_app\n")
    return [s.phase for s in a.result.steps], [s.phase for s in b.result.steps]


@probe(("Step", "include"))
def _include(r: Rig) -> tuple[object, object]:
    a = r.android("  - include: night.yaml\n  - expect: {task: api-2, state: succeeded, within: 5m}\n")
    b = r.android("  - expect: {task: api-2, state: succeeded, within: 5m}\n")
    return status(a), status(b)


# ----------------------------------------------------------------------------- every step's label
STEP_WITH_LABEL = {
    "Background": "background",
    "Battery": "battery: unplugged",
    "BatterySaver": "battery_saver: on",
    "LowPower": "low_power: on",
    "Broadcast": "broadcast: {action: dev.bgtest.api_demo.ENQUEUE}",
    "Capture": "capture: journal",
    "ClearData": "clear_data",
    "Diagnostics": "diagnostics",
    "Doze": "doze: light",
    "Expect": "expect: {tag: nobody, never: true, within: 1s}",
    "Install": None,
    "Kill": "kill",
    "Launch": "launch",
    "Network": "network: {wifi: on}",
    "OpenUrl": "open_url: apidemo://enqueue/api-2",
    "Reboot": None,
    "RunTask": None,
    "Screen": "screen: on",
    "Server": "server: []",
    "Shell": "shell: [log, -t, probe, hello]",
    "StandbyBucket": "standby_bucket: active",
    "StopApp": "stop_app",
    "Uninstall": None,
    "Wait": "wait: 1s",
    "ExpireTask": None,
    "Push": None,
}


def _label_probe(model: str) -> Probe:
    def check(r: Rig) -> tuple[object, object]:
        written = STEP_WITH_LABEL[model]
        if written is None:  # steps that need more set-up: the label is shown the same way
            written = "stop_app"
        kind, _, body = written.partition(": ")
        labelled = (
            f"  - {kind}: "
            + (
                "{label: the probe}"
                if not body
                else (
                    body[:-1] + ", label: the probe}"
                    if body.startswith("{")
                    else f"{{{_primary(kind)}: {body}, label: the probe}}"
                )
            )
            + "\n"
        )
        plain = f"  - {written}\n"
        a, b = r.android(labelled), r.android(plain)
        return a.result.steps[0].summary, b.result.steps[0].summary

    return check


def _primary(kind: str) -> str:
    primary = m.STEP_MODELS[kind].primary
    assert primary is not None
    return primary


for _model in STEP_WITH_LABEL:
    PROBES[(_model, "label")] = _label_probe(_model)


# ----------------------------------------------------------------------------- actions (Android)
@probe(("Install", "path"))
def _install(r: Rig) -> tuple[object, object]:
    model = r.home / "fixtures/apps/api_demo.yaml"
    return status(r.android(f"  - install: {model}\n")), status(
        r.android("  - install: /nonexistent/app.apk\n")
    )


@probe(("Uninstall", "package"))
def _uninstall(r: Rig) -> tuple[object, object]:
    model = r.home / "fixtures/apps/api_demo.yaml"
    a = r.android(f"  - uninstall\n  - install: {model}\n")
    b = r.android(f"  - uninstall: com.example.missing\n  - install: {model}\n")
    return status(a), status(b)


@probe(("ClearData", "package"))
def _clear_data(r: Rig) -> tuple[object, object]:
    return status(r.android("  - clear_data\n")), status(r.android("  - clear_data: com.example.missing\n"))


@probe(("Launch", "activity"))
def _activity(r: Rig) -> tuple[object, object]:
    return status(r.android("  - launch: {activity: .MainActivity}\n")), status(
        r.android("  - launch: {activity: .NoSuchActivity}\n")
    )


SUCCEEDS = "  - expect: {task: api-2, state: succeeded, within: 5m}\n"


@probe(("Launch", "deep_link"))
def _deep_link(r: Rig) -> tuple[object, object]:
    return status(r.android("  - launch: apidemo://enqueue/api-2\n" + SUCCEEDS)), status(
        r.android("  - launch: apidemo://enqueue/api-3\n" + SUCCEEDS)
    )


@probe(("Launch", "extras"))
def _launch_extras(r: Rig) -> tuple[object, object]:
    steps = (
        "  - launch: {deep_link: apidemo://enqueue/load%s}\n  - wait: 5m\n"
        "  - expect: {task: load-2, state: succeeded}\n"
    )
    return status(r.android(steps % ", extras: {count: 3}")), status(r.android(steps % ""))


BROADCAST = """  - launch
  - stop_app
  - broadcast:
      action: %(action)s
      extras: {task: %(task)s}
      include_stopped: %(stopped)s
  - expect: {task: api-2, state: succeeded, within: 5m}
"""


def _broadcast(
    action: str = "dev.bgtest.api_demo.ENQUEUE", task: str = "api-2", stopped: str = "true"
) -> str:
    # launched once (out of the NEVER standby bucket, where no job runs), then force-stopped
    return BROADCAST % {"action": action, "task": task, "stopped": stopped}


@probe(("Broadcast", "action"))
def _bc_action(r: Rig) -> tuple[object, object]:
    return status(r.android(_broadcast())), status(r.android(_broadcast(action="dev.bgtest.api_demo.OTHER")))


@probe(("Broadcast", "extras"))
def _bc_extras(r: Rig) -> tuple[object, object]:
    return status(r.android(_broadcast())), status(r.android(_broadcast(task="api-3")))


@probe(("Broadcast", "include_stopped"))
def _bc_stopped(r: Rig) -> tuple[object, object]:
    return status(r.android(_broadcast())), status(r.android(_broadcast(stopped="false")))


@probe(("Broadcast", "component"))
def _bc_component(r: Rig) -> tuple[object, object]:
    steps = _broadcast().replace("include_stopped", "component: %s\n      include_stopped")
    return status(r.android(steps % ".BgtestHookReceiver")), status(
        r.android(steps % "com.example.other/.Receiver")
    )


@probe(("OpenUrl", "url"))
def _open_url(r: Rig) -> tuple[object, object]:
    return status(r.android("  - open_url: apidemo://enqueue/api-2\n" + SUCCEEDS)), status(
        r.android("  - open_url: apidemo://enqueue/api-3\n" + SUCCEEDS)
    )


@probe(("StopApp", "package"))
def _stop_app(r: Rig) -> tuple[object, object]:
    # api-1 retries after 30 s; a force-stop in between cancels it until the next launch
    steps = "  - launch: apidemo://enqueue/api-1\n  - stop_app%s\n" + API_1_SUCCEEDS
    return status(r.android(steps % "")), status(r.android(steps % ": com.example.other"))


KILLED = (
    "  - expect: {tag: ActivityManager, message: 'Killing \\d+:dev.bgtest.api_demo/.*kill background', "
    "within: 1m}\n"
)


@probe(("Kill", "package"))
def _kill(r: Rig) -> tuple[object, object]:
    steps = "  - launch\n  - background\n  - kill%s\n" + KILLED
    own = r.fresh()
    try:
        return status(own.android(steps % "")), status(own.android(steps % ": com.example.other"))
    finally:
        own.close()


@probe(("Reboot", "timeout"))
def _reboot(r: Rig) -> tuple[object, object]:
    return status(r.android("  - reboot\n")), status(r.android("  - reboot: {timeout: 1ms}\n"))


@probe(("Doze", "mode"))
def _doze(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - doze: deep\n")), last_note(r.android("  - doze: light\n"))


@probe(("Battery", "state"))
def _battery_state(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - battery: unplugged\n")), last_note(r.android("  - battery: charging\n"))


@probe(("Battery", "level"))
def _battery_level(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - battery: {level: 15}\n")), last_note(
        r.android("  - battery: {level: 60}\n")
    )


@probe(("BatterySaver", "enabled"))
def _saver(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - battery_saver: on\n")), last_note(r.android("  - battery_saver: off\n"))


@probe(("LowPower", "enabled"))
def _low_power(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - low_power: on\n")), last_note(r.android("  - low_power: off\n"))


@probe(("Network", "wifi"))
def _wifi(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - network: {wifi: off}\n")), last_note(
        r.android("  - network: {wifi: on}\n")
    )


@probe(("Network", "data"))
def _data(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - network: {data: off}\n")), last_note(
        r.android("  - network: {data: on}\n")
    )


# ---- the fault proxy (issue 13): the demo app's 256 KB upload, 5 s of work, a 30 s timeout
def _upload(r: Rig, rule: str, network: str = "") -> str:
    """The upload's scenario status with ``rule`` answering it (and ``network`` quality)."""
    steps = f"  - server: [{rule}]\n" + (f"  - network: {network}\n" if network else "")
    steps += "  - launch: nwmdemo://enqueue/upload\n"
    steps += "  - expect: {task: upload, state: succeeded, within: 20s}\n"
    return status(r.android(steps, head="app: {model: nwm_demo}\n"))


_OK = "{host: api.example.com, method: POST, path: /upload, respond: 201}"


@probe(("Step", "server"), ("Server", "rules"), ("ServerRule", "respond"))
def _server_respond(r: Rig) -> tuple[object, object]:
    return _upload(r, _OK), _upload(r, _OK.replace("201", "503"))


@probe(("ServerRule", "host"))
def _server_host(r: Rig) -> tuple[object, object]:  # a rule for another host: the real one is asked
    return _upload(r, _OK), _upload(r, _OK.replace("api.", "cdn."))


@probe(("ServerRule", "method"))
def _server_method(r: Rig) -> tuple[object, object]:
    return _upload(r, _OK), _upload(r, _OK.replace("POST", "GET"))


@probe(("ServerRule", "path"))
def _server_path(r: Rig) -> tuple[object, object]:
    return _upload(r, _OK), _upload(r, _OK.replace("/upload", "/sync"))


@probe(("ServerRule", "latency"))
def _server_latency(r: Rig) -> tuple[object, object]:  # 5 s of work + 20 s on the wire > 20 s
    return _upload(r, _OK), _upload(r, _OK.replace("}", ", latency: 20s}"))


@probe(("ServerRule", "bandwidth"))
def _server_bandwidth(r: Rig) -> tuple[object, object]:  # 256 KB at 64 kbps: past the timeout
    return _upload(r, _OK), _upload(r, _OK.replace("}", ", bandwidth: 64kbps}"))


@probe(("Network", "latency"))
def _net_latency(r: Rig) -> tuple[object, object]:
    return _upload(r, _OK, "{latency: 0s}"), _upload(r, _OK, "{latency: 20s}")


@probe(("Network", "loss"))
def _net_loss(r: Rig) -> tuple[object, object]:
    return _upload(r, _OK, "{loss: 0%}"), _upload(r, _OK, "{loss: 100%}")


@probe(("Network", "bandwidth"))
def _net_bandwidth(r: Rig) -> tuple[object, object]:
    return _upload(r, _OK, "{bandwidth: 10mbps}"), _upload(r, _OK, "{bandwidth: 64kbps}")


@probe(("Network", "airplane"))
def _airplane(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - network: {airplane: on}\n")), last_note(
        r.android("  - network: {airplane: off}\n")
    )


@probe(("StandbyBucket", "bucket"))
def _bucket(r: Rig) -> tuple[object, object]:
    return last_note(r.android("  - standby_bucket: rare\n")), last_note(
        r.android("  - standby_bucket: active\n")
    )


@probe(("StandbyBucket", "package"))
def _bucket_package(r: Rig) -> tuple[object, object]:
    a = r.android("  - standby_bucket: {bucket: rare}\n")
    b = r.android("  - standby_bucket: {bucket: rare, package: dev.brewkits.nwm_demo}\n")
    return last_note(a), last_note(b)


@probe(("Screen", "on"))
def _screen(r: Rig) -> tuple[object, object]:
    check = "  - shell: [sh, -c, \"dumpsys power | grep -q 'state=OFF'\"]\n"
    return status(r.android("  - screen: off\n" + check)), status(r.android("  - screen: on\n" + check))


@probe(("RunTask", "task"))
def _run_task(r: Rig) -> tuple[object, object]:
    steps = (
        "  - network: airplane\n  - launch: apidemo://enqueue/net-sync\n  - run_task: %s\n"
        "  - expect: {task: net-sync, state: started, within: 1m}\n"
    )
    return status(r.android(steps % "net-sync")), status(r.android(steps % "api-2"))


@probe(("Shell", "argv"))
def _shell_argv(r: Rig) -> tuple[object, object]:
    steps = "  - shell: [log, -t, %s, hello]\n  - expect: {tag: Probe, message: hello, within: 1m}\n"
    return status(r.android(steps % "Probe")), status(r.android(steps % "Other"))


@probe(("Shell", "check"))
def _shell_check(r: Rig) -> tuple[object, object]:
    return status(r.android('  - shell: {argv: ["false"], check: true}\n')), status(
        r.android('  - shell: {argv: ["false"], check: false}\n')
    )


@probe(("Capture", "what"))
def _capture_what(r: Rig) -> tuple[object, object]:
    return r.android("  - capture: journal\n").files, r.android("  - capture: screenshot\n").files


@probe(("Capture", "name"))
def _capture_name(r: Rig) -> tuple[object, object]:
    return r.android("  - capture: {what: journal, name: mine}\n").files, r.android(
        "  - capture: journal\n"
    ).files


def _span(run: Run) -> int:
    return run.result.device_end_ms - run.result.device_start_ms


@probe(("Wait", "duration"))
def _wait_duration(r: Rig) -> tuple[object, object]:
    return _span(r.android("  - wait: 1h\n")) // 3_600_000, _span(r.android("  - wait: 3h\n")) // 3_600_000


@probe(("Wait", "until"))
def _wait_until(r: Rig) -> tuple[object, object]:
    steps = "  - launch: apidemo://enqueue/api-2\n  - wait: {until: api-2 %s, timeout: 1h}\n"
    return status(r.android(steps % "succeeded")), status(r.android(steps % "failed"))


@probe(("Wait", "timeout"))
def _wait_timeout(r: Rig) -> tuple[object, object]:
    steps = "  - wait: {until: api-2 succeeded, timeout: %s}\n"
    return _span(r.android(steps % "1h")) // 3_600_000, _span(r.android(steps % "3h")) // 3_600_000


# ----------------------------------------------------------------------------- expectations
LOG_W = '  - shell: [log, -t, Probe, -p, w, "slow response 503"]\n'
API_1 = "  - launch: apidemo://enqueue/api-1\n"
API_23 = "  - launch: apidemo://enqueue/api-2\n  - launch: apidemo://enqueue/api-3\n"


def _expect(body_a: str, body_b: str, before: str = API_1) -> Probe:
    def check(r: Rig) -> tuple[object, object]:
        return status(r.android(before + f"  - expect: {body_a}\n")), status(
            r.android(before + f"  - expect: {body_b}\n")
        )

    return check


PROBES[("Expect", "task")] = _expect(
    "{task: api-1, state: retried, within: 10m}", "{task: api-2, state: retried, within: 10m}"
)
PROBES[("Expect", "state")] = _expect(
    "{task: api-1, state: retried, within: 10m}", "{task: api-1, state: failed, within: 10m}"
)
PROBES[("Expect", "tag")] = _expect("{tag: Probe, within: 1m}", "{tag: Other, within: 1m}", LOG_W)
PROBES[("Expect", "level")] = _expect(
    "{tag: Probe, level: warn, within: 1m}", "{tag: Probe, level: error, within: 1m}", LOG_W
)
PROBES[("Expect", "message")] = _expect(
    "{tag: Probe, message: '50\\d', within: 1m}", "{tag: Probe, message: '40\\d', within: 1m}", LOG_W
)
PROBES[("Expect", "within")] = _expect(
    "{task: upload, state: succeeded, within: 1m}",
    "{task: upload, state: succeeded, within: 1s}",
    "  - launch: apidemo://enqueue/upload\n",
)
PROBES[("Expect", "count")] = _expect(
    "{task: api-1, state: retried, count: 1, within: 10m}",
    "{task: api-1, state: retried, count: 2, within: 10m}",
)
PROBES[("Expect", "never")] = _expect(
    "{task: api-1, state: failed, never: true, within: 10m}",
    "{task: api-1, state: retried, never: true, within: 10m}",
)
PROBES[("Expect", "in_order")] = _expect(
    "{in_order: [api-1 retried, api-1 succeeded], within: 10m}",
    "{in_order: [api-1 succeeded, api-1 retried], within: 10m}",
)
PROBES[("Expect", "latency")] = _expect(
    '{task: upload, latency: "<= 1m", within: 10m}',
    '{task: upload, latency: ">= 1m", within: 10m}',
    "  - launch: apidemo://enqueue/upload\n",
)
PROBES[("Expect", "success_rate")] = _expect(
    '{task: "api-*", success_rate: ">= 50%", within: 10m}',
    '{task: "api-*", success_rate: ">= 100%", within: 10m}',
    API_23,
)
# the Probe line after the launch: a guard looks from the window's start (the last action's
# marker), so a line logged before it, even in the same device millisecond, trips nothing
PROBES[("Expect", "fail_fast_on")] = _expect(
    "{task: api-2, state: succeeded, within: 10m}",
    "{task: api-2, state: succeeded, within: 10m, fail_fast_on: [{tag: Probe}]}",
    "  - launch: apidemo://enqueue/api-2\n" + LOG_W,
)
# in_order entries (Match) and fail_fast_on entries (LogMatch): the same fields, one level down
PROBES[("Match", "task")] = _expect(
    "{in_order: [api-1 retried], within: 10m}", "{in_order: [api-2 retried], within: 10m}"
)
PROBES[("Match", "state")] = _expect(
    "{in_order: [api-1 retried], within: 10m}", "{in_order: [api-1 failed], within: 10m}"
)
PROBES[("Match", "tag")] = _expect(
    "{in_order: [{tag: Probe}], within: 1m}", "{in_order: [{tag: Other}], within: 1m}", LOG_W
)
PROBES[("Match", "level")] = _expect(
    "{in_order: [{tag: Probe, level: W}], within: 1m}",
    "{in_order: [{tag: Probe, level: E}], within: 1m}",
    LOG_W,
)
PROBES[("Match", "message")] = _expect(
    "{in_order: [{message: 'slow response'}], within: 1m}",
    "{in_order: [{message: 'fast response'}], within: 1m}",
    LOG_W,
)
_GUARDED = "{task: api-2, state: succeeded, within: 10m, fail_fast_on: [%s]}"
_BEFORE_GUARD = "  - launch: apidemo://enqueue/api-2\n" + LOG_W
PROBES[("LogMatch", "tag")] = _expect(_GUARDED % "{tag: Other}", _GUARDED % "{tag: Probe}", _BEFORE_GUARD)
PROBES[("LogMatch", "level")] = _expect(
    _GUARDED % "{tag: Probe, level: error}", _GUARDED % "{tag: Probe, level: warn}", _BEFORE_GUARD
)
PROBES[("LogMatch", "message")] = _expect(
    _GUARDED % "{tag: Probe, message: '40\\d'}", _GUARDED % "{tag: Probe, message: '50\\d'}", _BEFORE_GUARD
)


# ----------------------------------------------------------------------------- unified-log fields
# iOS only (refused for Android at validation): real `log stream --style ndjson` lines through
# the oslog parser and the expectation engine, with the spec the runner builds from the YAML.
def _oslog(subsystem: str, category: str, image: str, message: str) -> str:
    return json.dumps(
        {
            "timestamp": "2026-05-12 10:00:01.000000+0000",
            "messageType": "Default",
            "eventType": "logEvent",
            "subsystem": subsystem,
            "category": category,
            "processImagePath": f"/usr/libexec/{image}",
            "processID": 80,
            "threadID": 9,
            "eventMessage": message,
        }
    )


UNIFIED = [
    _oslog("com.apple.BackgroundTasks", "scheduler", "dasd", "Starting simulated task"),
    _oslog("dev.brewkits.app", "sync", "Runner", "sync done"),
]


def _engine_probe(field_name: str, yes: str, no: str, where: str) -> Probe:
    def judge(value: str) -> str:
        if where == "expect":
            body = f"{{{field_name}: {value}, within: 1h}}"
        elif where == "in_order":
            body = f"{{in_order: [{{{field_name}: {value}}}], within: 1h}}"
        else:
            body = f"{{message: 'sync done', within: 1h, fail_fast_on: [{{{field_name}: {value}}}]}}"
        (scenario,) = load_text(f"name: t\nplatforms: [ios]\nsteps:\n  - expect: {body}\n", file="p.yaml")
        step = scenario.steps[0]
        assert isinstance(step, Expect)
        engine = ex.ExpectationEngine(None)
        spec = to_engine_expectation(step, 3_600_000)
        records = [record_from_json(json.loads(line), line, i) for i, line in enumerate(UNIFIED)]
        start = min(rec.time_ns for rec in records if rec is not None) - 1
        checks = [engine.add(spec, start)] + [
            engine.add(ex.Expectation(match=g, never=True), start) for g in spec.fail_fast_on
        ]
        for rec in records:
            if rec is not None:
                engine.feed(rec)
        engine.finish(start + 3_600_000 * 1_000_000)
        return "failed" if any(c.status == "failed" for c in checks) else "passed"

    return lambda r: (judge(yes), judge(no))


for _where, _model in (("expect", "Expect"), ("in_order", "Match"), ("fail_fast_on", "LogMatch")):
    PROBES[(_model, "subsystem")] = _engine_probe(
        "subsystem", "com.apple.BackgroundTasks", "com.apple.other", _where
    )
    PROBES[(_model, "category")] = _engine_probe("category", "scheduler", "lifecycle", _where)
    PROBES[(_model, "process")] = _engine_probe("process", "dasd", "SpringBoard", _where)


# ----------------------------------------------------------------------------- iOS actions
IOS_APP = "app: {model: nwm_ios_demo, bundle_id: %s}\n"
IOS_LAUNCH = "  - launch: {arguments: [%s], env: {MODE: %s}}\n"
_LAUNCHED: dict[tuple[int, str], tuple[str, dict[str, object]]] = {}


def _ios_launch(r: Rig, variant: str) -> tuple[str, dict[str, object]]:
    """The iPhone launches the launch and app options are compared on, run once each (an iOS
    run costs seconds): the scenario's status and what the virtual iPhone's WebDriverAgent
    reports for the app in front (real WDA client). ``a`` and ``b`` differ in the arguments
    and the environment; ``other-app`` is ``a`` with another bundle id."""
    key = (id(r), variant)
    if key not in _LAUNCHED:
        bundle, args, mode = {
            "a": ("dev.brewkits.nwmIosDemo", "-sync, now", "fast"),
            "b": ("dev.brewkits.nwmIosDemo", "-later", "slow"),
            "other-app": ("dev.example.NotInstalled", "-sync, now", "fast"),
        }[variant]
        run = r.iphone(IOS_LAUNCH % (args, mode), head=IOS_APP % bundle)
        assert variant == "other-app" or run.status == "passed", run.result.failure
        shown = r.ios.ios(None).wda.client.app_current()["processArguments"] if run.status == "passed" else {}
        _LAUNCHED[key] = (run.status, dict(shown))
    return _LAUNCHED[key]


@probe(("App", "bundle_id"))
def _app_bundle(r: Rig) -> tuple[object, object]:
    return _ios_launch(r, "a")[0], _ios_launch(r, "other-app")[0]


@probe(("Launch", "arguments"))
def _ios_arguments(r: Rig) -> tuple[object, object]:
    return _ios_launch(r, "a")[1]["args"], _ios_launch(r, "b")[1]["args"]


@probe(("Launch", "env"))
def _ios_env(r: Rig) -> tuple[object, object]:
    return _ios_launch(r, "a")[1]["env"], _ios_launch(r, "b")[1]["env"]


@probe(("Push", "payload"))
def _ios_push(r: Rig) -> tuple[object, object]:
    steps = (
        "  - launch\n  - push: {payload: {aps: {content-available: 1}, %s}}\n"
        "  - expect: {message: 'Processing direct command: enqueue_task', within: 1m}\n"
    )
    command = "native_wm: {action: enqueue_task, data: {taskId: periodic-sync}}"
    return status(r.iphone(steps % command)), status(r.iphone(steps % "other: 1"))


@probe(("RunTask", "hook"))
def _ios_hook(r: Rig) -> tuple[object, object]:
    steps = (
        "  - launch: {deep_link: 'nwmios://enqueue/periodic-sync'}\n  - run_task: {task: periodic-sync%s}\n"
        "  - expect: {task: periodic-sync, state: succeeded, within: 1m}\n"
    )
    return status(r.iphone(steps % "")), status(r.iphone(steps % ", hook: 'nwmios://nothing/here'"))


@probe(("ExpireTask", "task"))
def _ios_expire(r: Rig) -> tuple[object, object]:
    steps = (
        "  - launch: {deep_link: 'nwmios://enqueue/stuck-sync'}\n  - run_task: stuck-sync\n"
        "  - expire_task: %s\n"
        "  - expect: {subsystem: com.apple.BackgroundTasks, message: 'Expiring simulated task', within: 1m}\n"
    )
    head = "tags: [ios-device]\napp: {model: nwm_ios_demo}\n"  # lldb expiration: an iPhone's
    # the other BGTask identifier the app registered is not the task that is running
    a = r.iphone(steps % "stuck-sync", head=head)
    b = r.iphone(steps % "dev.brewkits.native_workmanager.task", head=head)
    return status(a), status(b)


@probe(("Step", "background"))
def _background(r: Rig) -> tuple[object, object]:
    on_screen = (
        '  - shell: [sh, -c, "dumpsys activity activities | grep mResumedActivity | grep -q api_demo"]\n'
    )
    own = r.fresh()
    try:
        return status(own.android("  - launch\n  - background\n" + on_screen)), status(
            own.android("  - launch\n" + on_screen)
        )
    finally:
        own.close()


@probe(("Step", "diagnostics"))
def _diagnostics(r: Rig) -> tuple[object, object]:
    steps = "  - launch: apidemo://enqueue/api-2\n%s  - expect: {tag: WM-DiagnosticsWrkr, within: 1m}\n"
    return status(r.android(steps % "  - diagnostics\n")), status(r.android(steps % ""))


@probe(("Scenario", "redact"))
def _redact(r: Rig) -> tuple[object, object]:
    # redaction is the run's (bgtest run writes every console line through it)
    def console(redact: str) -> bool:
        folder = r.home / f"redact-{bool(redact)}"
        folder.mkdir(exist_ok=True)
        (folder / "s.yaml").write_text(
            f"name: r\n{redact}steps:\n  - shell: [log, -t, Probe, 'order=XYZ789']\n"
            "  - expect: {tag: Probe, message: nothing, within: 1s}\n"
        )
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "run",
                str(folder / "s.yaml"),
                "--report",
                str(folder / "rep"),
                "--adb-server",  # the rig's phone: no virtual device started for it
                f"{r.server.host}:{r.server.port}",
                "--device",
                r.device.serial,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=folder,
        )
        return "XYZ789" in out.stdout + out.stderr

    return console('redact: ["order=(\\\\w+)"]\n'), console("")


def _metric(r: Rig, body: str, before: str = "  - launch: apidemo://enqueue/api-2\n  - wait: 1h\n") -> Run:
    return r.android(before + f"  - metric: {body}\n")


@probe(("Metric", "memory"))
def _metric_memory(r: Rig) -> tuple[object, object]:
    return status(_metric(r, '{memory: "<= 10GB"}')), status(_metric(r, '{memory: "<= 1KB"}'))


@probe(("Metric", "battery"))
def _metric_battery(r: Rig) -> tuple[object, object]:
    on_battery = "  - battery: unplugged\n  - launch: apidemo://enqueue/load?count=50\n  - wait: 2h\n"
    return status(_metric(r, '{battery: "< 100%/day"}', on_battery)), status(
        _metric(r, '{battery: "< 0.001%/day"}', on_battery)
    )


@probe(("Metric", "queue"))
def _metric_queue(r: Rig) -> tuple[object, object]:
    pending = "  - network: airplane\n  - launch: apidemo://enqueue/net-sync\n"
    return status(_metric(r, '{queue: "< 10"}', pending)), status(_metric(r, '{queue: "< 1"}', pending))


@probe(("Metric", "measure"), ("Step", "metric"))
def _metric_measure(r: Rig) -> tuple[object, object]:
    def names(run: Run) -> list[str]:
        return [reading.name for reading in run.result.metrics]

    return names(_metric(r, "[memory]")), names(_metric(r, "[queue]"))


STEP_WITH_LABEL["Metric"] = "metric: {queue: '< 100'}"
PROBES[("Metric", "label")] = _label_probe("Metric")


# An action is there to act: each kind is proven by a probe of its own options above.
for _kind, _probe in {
    "battery": _battery_state,
    "battery_saver": _saver,
    "broadcast": _bc_action,
    "capture": _capture_what,
    "clear_data": _clear_data,
    "doze": _doze,
    "expect": PROBES[("Expect", "state")],
    "expire_task": _ios_expire,
    "install": _install,
    "kill": _kill,
    "launch": _deep_link,
    "low_power": _low_power,
    "network": _wifi,
    "open_url": _open_url,
    "push": _ios_push,
    "reboot": _reboot,
    "run_task": _run_task,
    "screen": _screen,
    "shell": _shell_argv,
    "standby_bucket": _bucket,
    "stop_app": _stop_app,
    "uninstall": _uninstall,
    "wait": _wait_duration,
}.items():
    PROBES[("Step", _kind)] = _probe

# ----------------------------------------------------------------------------- the device asked for
# Read where a run leases its device (`bgtest run`'s session): on this phone (a virtual Pixel 8,
# android-flagship, API 34, not low-RAM) a scenario that asks for another device is skipped with
# the reason, one that fits runs. (That `device: {profile}` *builds* the virtual device asked for
# when none is attached is test_metrics_e2e's: a 1 GB phone kills the worker a flagship runs.)
def _asks(head_a: str, head_b: str) -> Probe:
    def check(r: Rig) -> tuple[object, object]:
        a, b = r.leased("  - stop_app\n", head_a), r.leased("  - stop_app\n", head_b)
        assert a.status == "passed", a.result.failure
        return b.status, b.result.failure

    return check


PROBES[("Scenario", "device")] = PROBES[("DeviceSettings", "profile")] = _asks(
    "device: {profile: android-flagship}\n", "device: {profile: android-go}\n"
)
PROBES[("Scenario", "requires")] = PROBES[("Requires", "profile")] = _asks(
    "requires: {profile: [android-flagship, iphone-7]}\n", "requires: {profile: android-legacy}\n"
)
PROBES[("Requires", "low_ram")] = _asks("requires: {low_ram: false}\n", "requires: {low_ram: true}\n")
PROBES[("Requires", "sdk")] = _asks('requires: {sdk: ">= 26"}\n', 'requires: {sdk: "< 26"}\n')


# ----------------------------------------------------------------------------- the tests
def schema_fields() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for name, definition in build_schema()["definitions"].items():
        for alt in [definition, *definition.get("anyOf", [])]:
            for prop in alt.get("properties", {}):
                found.add((name, prop))
    return found


def test_every_schema_field_has_a_probe() -> None:
    fields = schema_fields()
    assert not fields - PROBES.keys(), f"fields without a probe: {sorted(fields - PROBES.keys())}"
    assert not PROBES.keys() - fields, f"probes for fields the schema lacks: {sorted(PROBES.keys() - fields)}"


def _groups() -> dict[str, list[tuple[str, str]]]:
    """The fields each probe proves (an action kind and its option share one), probe by probe."""
    by_probe: dict[int, list[tuple[str, str]]] = {}
    for key in sorted(PROBES):
        by_probe.setdefault(id(PROBES[key]), []).append(key)
    return {" ".join(f"{d}.{f}" for d, f in keys): keys for keys in by_probe.values()}


GROUPS = _groups()

#: Probes that need no Android phone and take seconds (an iOS run starts ~15 `xcrun` processes,
#: `tags` a pytest): outside xdist they run one after another in a background thread while the
#: Android probes run in the test's own, and each test item waits for its pair. Under xdist the
#: workers already overlap, and a worker cannot know which items it will be sent.
OFF_PHONE = {_app_bundle, _ios_arguments, _ios_env, _ios_push, _ios_hook, _ios_expire, _tags}


def _off_phone(name: str) -> bool:
    return PROBES[GROUPS[name][0]] in OFF_PHONE


def _selected_off_phone(session: pytest.Session) -> list[str]:
    """The off-phone groups among this run's items (after -k / deselection), in run order."""
    here = sys.modules[__name__]
    names = [item.callspec.params.get("fields") for item in session.items
             if getattr(item, "module", None) is here and hasattr(item, "callspec")]
    return [n for n in dict.fromkeys(names) if n in GROUPS and _off_phone(n)]


# the off-phone groups last: the Android probes run while their pairs are computed
@pytest.mark.parametrize("fields", sorted(GROUPS, key=lambda name: (_off_phone(name), name)))
def test_the_field_changes_the_outcome(rig: Rig, fields: str) -> None:
    keys = GROUPS[fields]
    ahead = rig.ahead.get(fields)
    a, b = ahead.result() if ahead is not None else PROBES[keys[0]](rig)
    assert a != b, f"{fields}: both variants gave {a!r}" + "".join(f"\n{f}" for f in rig.failures[-2:])
