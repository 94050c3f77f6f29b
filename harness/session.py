"""A test session's devices: which one each scenario runs on, started and stopped once.

Shared by the pytest plugin and ``bgtest run`` (which goes through the plugin). It starts the
embedded virtual device lazily — only when a scenario needs Android and nothing is attached —
and says so in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.devices.android import AndroidDevice
from harness.devices.pool import choose_serial, list_devices, parse_server_address
from harness.errors import BgtestError, DeviceError
from harness.result import ScenarioResult
from harness.run import exits
from harness.run.ledger import DeviceLedger


@dataclass
class AppInfo:
    """What the runner needs from an app model file (read as plain YAML: no simulator import)."""

    package: str | None = None
    library: str | None = None
    activity: str | None = None
    path: str | None = None
    ios: dict[str, Any] = field(default_factory=dict)  # the model's ios: section, as written


def app_info(scenario: Any) -> AppInfo:
    app = scenario.app
    if app is None:
        return AppInfo()
    info = AppInfo(package=app.package, library=app.library)
    if app.model_path:
        try:
            data = yaml.safe_load(Path(app.model_path).read_text()) or {}
        except (OSError, yaml.YAMLError):
            data = {}
        info.package = info.package or data.get("package")
        info.ios = data.get("ios") if isinstance(data.get("ios"), dict) else {}
        info.library = info.library or data.get("library")
        activities = data.get("activities") or []
        if activities:
            first = activities[0]
            info.activity = first if isinstance(first, str) else (first or {}).get("name")
        info.path = str(app.model_path)
    return info


@dataclass
class DeviceSession:
    device: str | None = None
    adb_server: str | None = None
    report_dir: Path | None = None
    allow_embedded: bool = True
    note: Callable[[str], None] = print
    app_models: list[Path] = field(default_factory=list)
    xcrun: str | None = None
    _android: AndroidDevice | None = None
    _embedded: Any = None
    _error: BgtestError | None = None
    _runs: int = 0
    _ios: dict[str, Any] = field(default_factory=dict)  # wanted kind → IosDevice
    _ios_errors: dict[str, BgtestError] = field(default_factory=dict)
    _embedded_ios: Any = None
    _throwaway: set[str] = field(default_factory=set)  # embedded devices: they end with the run
    _recovered: set[str] = field(default_factory=set)

    def android(self) -> AndroidDevice:
        if self._android is not None:
            return self._android
        if self._error is not None:
            raise self._error
        try:
            self._android = self._pick_android()
        except BgtestError as exc:
            self._error = exc
            raise
        return self._android

    def _pick_android(self) -> AndroidDevice:
        host, port = parse_server_address(self.adb_server)
        serial = choose_serial(list_devices(host, port), self.device)
        if serial is not None:
            return AndroidDevice(serial, host, port)
        if not self.allow_embedded:
            raise DeviceError(
                "adb",
                f"no Android device is attached to the adb server at {host}:{port}",
                hint="attach one, `adb connect HOST:PORT`, or drop --no-embedded",
            )
        from harness.embedded import EmbeddedAndroid

        embedded = EmbeddedAndroid(app_models=list(self.app_models)).start()
        self._embedded = embedded
        assert embedded.server is not None
        self._throwaway.add(embedded.serial)
        self.note(
            f"no Android device attached: started a virtual one ({embedded.serial}, virtual time) "
            "— pass --device SERIAL to use a phone"
        )
        return AndroidDevice(embedded.serial, embedded.server.host, embedded.server.port)

    def ios(self, want_kind: str | None = None) -> Any:
        """The iOS target for a scenario (``want_kind``: "device" / "simulator" from its tags)."""
        key = want_kind or "any"
        if key in self._ios:
            return self._ios[key]
        if key in self._ios_errors:
            raise self._ios_errors[key]
        try:
            self._ios[key] = self._pick_ios(want_kind)
        except BgtestError as exc:
            self._ios_errors[key] = exc
            raise
        return self._ios[key]

    def _pick_ios(self, want_kind: str | None) -> Any:
        import os

        from harness.devices.ios import Xcrun
        from harness.devices.ios_pool import choose_ios, is_udid, xcrun_available

        udid = os.environ.get("BGTEST_IOS_DEVICE") or (self.device if is_udid(self.device) else None)
        wda_url = os.environ.get("BGTEST_WDA_URL") or None
        configured = self.xcrun or os.environ.get("BGTEST_XCRUN")
        if udid or configured or xcrun_available():
            found = choose_ios(Xcrun(self.xcrun), udid=udid, want_kind=want_kind, wda_url=wda_url)
            if found is not None:
                return found
            if not self.allow_embedded:
                raise DeviceError(
                    "xcrun",
                    "no iOS simulator is booted" + (" of kind device" if want_kind == "device" else ""),
                    hint="boot one (`xcrun simctl boot UDID`) or drop --no-embedded",
                )
        elif not self.allow_embedded:
            raise DeviceError(
                "xcrun",
                "no xcrun here (not a Mac) and --no-embedded",
                hint="run on a Mac, pass --xcrun, or drop --no-embedded",
            )
        if self._embedded_ios is None:
            from harness.embedded import EmbeddedIphone

            self._embedded_ios = EmbeddedIphone(app_models=list(self.app_models)).start()
            self.note(
                "no iOS simulator booted: started a virtual iPhone (virtual time) "
                "— pass --xcrun or boot a simulator to use a real one"
            )
        device = self._embedded_ios.device(want_kind or "simulator")
        self._throwaway.add(device.serial)
        return device

    def ledger(self, device: Any) -> DeviceLedger | None:
        """The device's state ledger; on first use in this session, first restore what an
        earlier run that did not finish (SIGKILL, crash, power cut) left changed on it."""
        if device.serial in self._throwaway:
            return None
        ledger = DeviceLedger(device)
        if device.serial not in self._recovered:
            self._recovered.add(device.serial)
            try:
                ledger.recover(self.note)
            except BgtestError as exc:
                self.note(
                    f"<{device.serial}> has changes left by an earlier run that could not be restored: "
                    f"{exc.render()}"
                )
        return ledger

    def run(self, scenario: Any, platform: str, observer: Any = None) -> ScenarioResult:
        from harness.runner import ScenarioRunner

        loc = scenario.location
        if platform == "ios":
            return self._run_ios(scenario, observer)
        if platform != "android":
            return ScenarioResult(
                name=scenario.name,
                file=str(loc.file) if loc else "",
                line=loc.line if loc else 0,
                platform=platform,
                status="skipped",
                failure=f"{platform}: no driver for this platform in this build",
            )
        try:
            device = self.android()
        except BgtestError as exc:
            return ScenarioResult(
                name=scenario.name,
                file=str(loc.file) if loc else "",
                line=loc.line if loc else 0,
                platform=platform,
                status="error",
                failure=exc.render(),
                exit_code=exits.for_error(exc),
            )
        info = app_info(scenario)
        self._runs += 1
        artifacts = None
        if self.report_dir is not None:
            from harness.runner import _slug

            artifacts = self.report_dir / f"{self._runs:03d}-{_slug(scenario.name)}-{platform}"
        runner = ScenarioRunner(
            scenario,
            device,
            platform=platform,
            artifacts_dir=artifacts,
            app_package=info.package,
            app_library=info.library,
            launch_activity=info.activity,
            app_install_path=info.path,
            observer=observer,
        )
        runner.ledger = self.ledger(device)
        return runner.run()

    def _run_ios(self, scenario: Any, observer: Any = None) -> ScenarioResult:
        from harness.devices.ios_pool import KindMismatch, wanted_kind
        from harness.runner import ScenarioRunner, _slug
        from harness.runner_ios import IosApp

        loc = scenario.location
        try:
            device = self.ios(wanted_kind(scenario.tags))
        except BgtestError as exc:
            return ScenarioResult(
                name=scenario.name,
                file=str(loc.file) if loc else "",
                line=loc.line if loc else 0,
                platform="ios",
                status="skipped" if isinstance(exc, KindMismatch) else "error",
                failure=exc.render(),
                exit_code=0 if isinstance(exc, KindMismatch) else exits.for_error(exc),
            )
        info = app_info(scenario)
        ios_app = IosApp.from_model({"ios": info.ios})
        bundle = (scenario.app.bundle_id if scenario.app else None) or ios_app.bundle_id
        self._runs += 1
        artifacts = None
        if self.report_dir is not None:
            artifacts = self.report_dir / f"{self._runs:03d}-{_slug(scenario.name)}-ios"
        runner = ScenarioRunner(
            scenario,
            device,
            platform="ios",
            artifacts_dir=artifacts,
            app_package=bundle,
            app_library=info.library,
            app_install_path=info.path if info.ios else None,
            observer=observer,
        )
        runner.ios_app = ios_app
        runner.ledger = self.ledger(device)
        return runner.run()

    def close(self) -> None:
        if self._embedded_ios is not None:
            self._embedded_ios.stop()
            self._embedded_ios = None
        self._ios.clear()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        self._android = None
