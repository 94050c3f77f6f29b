"""A test session's devices: which one each scenario runs on, started and stopped once.

Shared by the pytest plugin and ``bgtest run`` (which goes through the plugin). It starts the
embedded virtual devices lazily — only when a scenario needs one and nothing real is there —
and says so in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.apps.errors import AppModelError
from harness.apps.target import AppUnderTest
from harness.devices.android import AndroidDevice
from harness.devices.base import Device
from harness.devices.pool import choose_serial, list_devices, parse_server_address
from harness.errors import BgtestError, DeviceError
from harness.report.artifacts import run_folder
from harness.result import ScenarioResult, Status
from harness.run import exits
from harness.run.ledger import DeviceLedger
from harness.run.settings import Settings
from harness.scenario import models as m


def app_under_test(scenario: m.Scenario, platform: str) -> AppUnderTest:
    """The scenario's app on ``platform``, its model read by the one app-model loader."""
    app = scenario.app
    if app is None:
        return AppUnderTest(platform)
    return AppUnderTest.build(
        platform,
        package=app.package,
        bundle_id=app.bundle_id,
        library=app.library,
        model_path=app.model_path,
    )


@dataclass
class DeviceSession:
    settings: Settings = field(default_factory=Settings)
    note: Callable[[str], None] = print
    app_models: list[Path] = field(default_factory=list)
    _android: AndroidDevice | None = None
    _embedded: Any = None
    _error: BgtestError | None = None
    _runs: int = 0
    _ios: dict[str, Any] = field(default_factory=dict)  # wanted kind → IosDevice
    _ios_errors: dict[str, BgtestError] = field(default_factory=dict)
    _embedded_ios: Any = None
    _throwaway: set[str] = field(default_factory=set)  # embedded devices: they end with the run
    _recovered: set[str] = field(default_factory=set)

    # ------------------------------------------------------------- Android
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
        host, port = parse_server_address(self.settings.adb_server)
        serial = choose_serial(list_devices(host, port), self.settings.device)
        if serial is not None:
            return AndroidDevice(serial, host, port)
        if not self.settings.allow_embedded:
            raise DeviceError(
                "adb",
                f"no Android device is attached to the adb server at {host}:{port}",
                hint="attach one, `adb connect HOST:PORT`, or drop --no-embedded",
            )
        from harness.run.embedded import EmbeddedAndroid

        embedded = EmbeddedAndroid(app_models=list(self.app_models)).start()
        self._embedded = embedded
        assert embedded.server is not None
        self._throwaway.add(embedded.serial)
        self.note(
            f"no Android device attached: started a virtual one ({embedded.serial}, virtual time) "
            "— pass --device SERIAL to use a phone"
        )
        return AndroidDevice(embedded.serial, embedded.server.host, embedded.server.port)

    # ------------------------------------------------------------- iOS
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
        from harness.devices.ios import Xcrun
        from harness.devices.ios_pool import choose_ios, is_udid, xcrun_available

        settings = self.settings
        udid = settings.ios_device or (settings.device if is_udid(settings.device) else None)
        if udid or settings.xcrun or xcrun_available():
            found = choose_ios(
                Xcrun(settings.xcrun), udid=udid, want_kind=want_kind, wda_url=settings.wda_url
            )
            if found is not None:
                return found
            if not settings.allow_embedded:
                raise DeviceError(
                    "xcrun",
                    "no iOS simulator is booted" + (" of kind device" if want_kind == "device" else ""),
                    hint="boot one (`xcrun simctl boot UDID`) or drop --no-embedded",
                )
        elif not settings.allow_embedded:
            raise DeviceError(
                "xcrun",
                "no xcrun here (not a Mac) and --no-embedded",
                hint="run on a Mac, pass --xcrun, or drop --no-embedded",
            )
        if self._embedded_ios is None:
            from harness.run.embedded import EmbeddedIphone

            self._embedded_ios = EmbeddedIphone(app_models=list(self.app_models)).start()
            self.note(
                "no iOS simulator booted: started a virtual iPhone (virtual time) "
                "— pass --xcrun or boot a simulator to use a real one"
            )
        device = self._embedded_ios.device(want_kind or "simulator")
        self._throwaway.add(device.serial)
        return device

    def ledger(self, device: Device) -> DeviceLedger | None:
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

    # ------------------------------------------------------------- runs
    def device_for(self, scenario: m.Scenario, platform: str) -> Device:
        """The device a scenario runs on for ``platform`` (a bgtest error when there is none)."""
        if platform == "android":
            return self.android()
        if platform == "ios":
            from harness.devices.ios_pool import wanted_kind

            return self.ios(wanted_kind(scenario.tags))  # type: ignore[no-any-return]
        raise _NoDriver(f"{platform}: no driver for this platform in this build")

    def run(
        self, scenario: m.Scenario, platform: str, observer: Any = None, number: int | None = None
    ) -> ScenarioResult:
        """Run one scenario; ``number`` (its place in the whole run) names its report folder."""
        from harness.devices.ios_pool import KindMismatch
        from harness.run.runner import ScenarioRunner

        try:
            device = self.device_for(scenario, platform)
            app = app_under_test(scenario, platform)
        except AppModelError as exc:
            return _not_run(scenario, platform, "error", str(exc), exits.for_error(exc))
        except BgtestError as exc:
            if isinstance(exc, (KindMismatch, _NoDriver)):
                return _not_run(scenario, platform, "skipped", exc.render(), 0)
            return _not_run(scenario, platform, "error", exc.render(), exits.for_error(exc))
        self._runs += 1
        artifacts = None
        if self.settings.report_dir is not None:
            artifacts = run_folder(self.settings.report_dir, number or self._runs, scenario.name, platform)
        runner = ScenarioRunner(
            scenario, device, app, artifacts_dir=artifacts, observer=observer, ledger=self.ledger(device)
        )
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


class _NoDriver(BgtestError):
    """A platform this build has no driver for: the scenario is skipped, not failed."""


def _not_run(scenario: m.Scenario, platform: str, status: Status, why: str, exit_code: int) -> ScenarioResult:
    loc = scenario.location
    return ScenarioResult(
        name=scenario.name,
        file=str(loc.file) if loc else "",
        line=loc.line if loc else 0,
        platform=platform,
        status=status,
        failure=why,
        exit_code=exit_code,
    )
