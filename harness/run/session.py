"""A test session's devices: which one each scenario runs on, started and stopped once.

Shared by the pytest plugin and ``bgtest run`` (which goes through the plugin). It starts the
embedded virtual devices lazily — only when a scenario needs one and nothing real is there —
and says so in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.apps.errors import AppModelError
from harness.apps.target import AppUnderTest
from harness.devices.android import AndroidDevice
from harness.devices.base import Device
from harness.devices.lease import DeviceLeases, Lease, lease_dir
from harness.devices.pool import Candidate, android_candidates, list_devices
from harness.errors import BgtestError, DeviceError
from harness.report.artifacts import run_folder
from harness.result import ScenarioResult, Status, combined
from harness.run import exits, interrupts
from harness.run.ledger import DeviceLedger
from harness.run.requirements import facts, unmet
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


def embedded_only(settings: Settings, platforms: Collection[str]) -> bool:
    """Whether every scenario of ``platforms`` would run on bgtest's own virtual devices: none
    named (``--device``, ``--adb-server``, filters, ``--xcrun``, ``BGTEST_*``), none attached (the
    adb server lists no device; no ``xcrun`` here), embedded devices allowed. ``bgtest run``
    asks it before the run to decide on lanes (run/lanes.py); a wrong "no" only costs speed."""
    if not settings.allow_embedded or _naming_options(settings) or set(platforms) - {"android", "ios"}:
        return False
    if "android" in platforms and android_candidates(None, None, (), settings.default_adb_server):
        return False
    if "ios" in platforms:
        from harness.devices.ios_pool import named_udids, xcrun_available

        if named_udids(settings.ios_device) or xcrun_available():
            return False
    return True


@dataclass
class DeviceSession:
    settings: Settings = field(default_factory=Settings.from_environment)
    note: Callable[[str], None] = print
    app_models: list[Path] = field(default_factory=list)
    #: the adb server (host, port) of the virtual phone the run's controller started and lends
    #: to this xdist worker (run/lanes.py): taken instead of starting one
    lent_android: tuple[str, int] | None = None
    _android: AndroidDevice | None = None
    _embedded: Any = None
    _error: BgtestError | None = None
    _runs: int = 0
    _ios_targets: list[Any] | None = None  # the real iOS targets this session may lease
    _ios_error: BgtestError | None = None
    _embedded_ios: Any = None
    _throwaway: set[str] = field(default_factory=set)  # embedded devices: they end with the run
    _recovered: set[str] = field(default_factory=set)
    _pool: list[Candidate] | None = None  # the Android devices this session may lease
    _devices: dict[str, AndroidDevice] = field(default_factory=dict)  # by candidate key
    _leases: DeviceLeases | None = None  # None: in the settings' lease folder
    _held: Lease | None = None  # the android_device fixture's session-long lease
    _last: Candidate | None = None  # the device of the last Android scenario
    _last_key: str = ""  # the lease key and serial of the last scenario's device (any platform)
    _last_serial: str = ""
    _profiled: dict[str, tuple[Any, AndroidDevice]] = field(default_factory=dict)  # profile → embedded

    def __post_init__(self) -> None:
        if self._leases is None:
            self._leases = DeviceLeases(lease_dir(self.settings.runtime_dir))

    # ------------------------------------------------------------- Android
    def _android_pool(self) -> list[Candidate]:
        """The devices this session may lease ([] = none named, none attached: embedded)."""
        if self._error is not None:
            raise self._error
        if self._pool is None:
            try:
                settings = self.settings
                self._pool = android_candidates(settings.adb_server, settings.device,
                                                settings.device_filters, settings.default_adb_server)
            except BgtestError as exc:
                self._error = exc
                raise
        return self._pool

    def _embedded_android(self) -> AndroidDevice:
        if self._android is None:
            from harness.run.embedded import lent_android, take_android

            if not self.settings.allow_embedded:
                raise DeviceError(
                    "adb",
                    "no Android device is attached to the adb server",
                    hint="attach one, `adb connect HOST:PORT`, or drop --no-embedded",
                )
            settings = self.settings
            profile = settings.profile_for("android")
            lent = lent_android(*self.lent_android, profile) if self.lent_android is not None else None
            embedded = lent or take_android(list(self.app_models), profile, settings.adb)
            self._embedded = embedded
            assert embedded.server is not None
            self._throwaway.add(embedded.serial)
            self.note(
                f"no Android device attached: started a virtual one ({embedded.serial}, virtual time) "
                "— pass --device SERIAL to use a phone"
            )
            self._android = AndroidDevice(embedded.serial, embedded.server.host, embedded.server.port)
        return self._android

    def _embedded_as(self, profile: str | None) -> AndroidDevice:
        """The virtual Android device built as ``profile`` (one per profile, kept for the run)."""
        device = self._embedded_android()
        if profile is None or profile == (self._embedded.profile or "android-flagship"):
            return device
        if profile not in self._profiled:
            from harness.run.embedded import EmbeddedAndroid

            embedded = EmbeddedAndroid(
                app_models=list(self.app_models), profile=profile, joins=self._embedded.server).start()
            assert embedded.server is not None
            self._throwaway.add(embedded.serial)
            self.note(f"started a virtual {profile} device ({embedded.serial}) for scenarios asking for it")
            self._profiled[profile] = (
                embedded, AndroidDevice(embedded.serial, embedded.server.host, embedded.server.port))
        return self._profiled[profile][1]

    def _device_at(self, candidate: Candidate) -> AndroidDevice:
        if candidate.key not in self._devices:
            device = AndroidDevice(candidate.serial, candidate.host, candidate.port)
            if self.settings.reconnect_timeout_s is not None:
                device.wire.reconnect_timeout = self.settings.reconnect_timeout_s
            self._devices[candidate.key] = device
        return self._devices[candidate.key]

    def android(self) -> AndroidDevice:
        """A device for Python tests (the ``android_device`` fixture): leased for the whole session."""
        if not self._android_pool():
            return self._embedded_android()
        if self._held is None:
            self._held = self._leases.acquire(self._android_pool())
        return self._device_at(self._held.candidate)

    @contextmanager
    def _android_lease(
        self, profile: str | None = None, avoid: frozenset[str] = frozenset()
    ) -> Iterator[AndroidDevice]:
        """One scenario's Android device: a lease on a free one, released when it ends (a
        virtual one is built as the ``profile`` asked; a phone is what it is). A device in
        ``avoid`` (where this scenario just failed) is taken only when no other is free."""
        pool = self._android_pool()
        if not pool:
            yield self._embedded_as(profile)
            return
        lease = self._leases.acquire_avoiding(pool, avoid)
        self._last = lease.candidate
        self._last_key, self._last_serial = lease.candidate.key, lease.candidate.serial
        try:
            yield self._device_at(lease.candidate)
        finally:
            lease.release()

    def _dropped_out(self) -> Candidate | None:
        """The device the last scenario ran on, if it is no longer online on its server."""
        last = self._last
        if last is None:
            return None
        online = {d.serial for d in list_devices(last.host, last.port) if d.state == "device"}
        return None if last.serial in online else last

    # ------------------------------------------------------------- iOS
    def _ios_pool(self) -> list[Any]:
        """The real iOS targets this session may lease ([] = none: the virtual iPhone)."""
        if self._ios_error is not None:
            raise self._ios_error
        if self._ios_targets is None:
            try:
                self._ios_targets = self._find_ios()
            except BgtestError as exc:
                self._ios_error = exc
                raise
        return self._ios_targets

    def _find_ios(self) -> list[Any]:
        from harness.devices.ios import Xcrun
        from harness.devices.ios_pool import ios_targets, named_udids, xcrun_available

        settings = self.settings
        udids = named_udids(settings.ios_device, settings.device)
        if udids or settings.xcrun or xcrun_available():
            found = ios_targets(Xcrun(settings.xcrun), udids, settings.wda_url)
            if found:
                return found
            if not settings.allow_embedded:
                raise DeviceError(
                    "xcrun", "no iOS simulator is booted",
                    hint="boot one (`xcrun simctl boot UDID`) or drop --no-embedded",
                )
        elif not settings.allow_embedded:
            raise DeviceError(
                "xcrun",
                "no xcrun here (not a Mac) and --no-embedded",
                hint="run on a Mac, pass --xcrun, or drop --no-embedded",
            )
        named = _naming_options(settings)
        if named:
            # A run that names its devices (a phone, a farm, a filter such as virtual=no) must
            # never go green on a virtual device started in their place (docs/farms.md).
            raise DeviceError(
                "xcrun",
                f"no iOS simulator or iPhone among the devices this run names ({named}); "
                "the virtual iPhone is started only when no device is named",
                hint="name the iOS target too (--device UDID, --xcrun, or the BGTEST_XCRUN=… line "
                "`bgtest sim ios` prints), or leave the iOS scenarios out with --platform android",
            )
        return []

    def _virtual_iphone(self, want_kind: str | None, profile: str | None = None) -> Any:
        if self._embedded_ios is None:
            from harness.run.embedded import EmbeddedIphone

            self._embedded_ios = EmbeddedIphone(app_models=list(self.app_models)).start()
            self.note(
                "no iOS simulator booted: started a virtual iPhone (virtual time) "
                "— pass --xcrun or boot a simulator to use a real one"
            )
        device = self._embedded_ios.device(want_kind or "simulator", profile)
        self._throwaway.add(device.serial)
        return device

    def ios(self, want_kind: str | None = None) -> Any:
        """An iOS target of ``want_kind`` ("device" / "simulator"; for Python tests and tools):
        the first real one, else the virtual iPhone. Scenarios lease theirs (``device_for``)."""
        from harness.devices.ios_pool import of_kind

        pool = self._ios_pool()
        return of_kind(pool, want_kind)[0] if pool else self._virtual_iphone(want_kind)

    @contextmanager
    def _ios_lease(
        self, want_kind: str | None, profile: str | None, avoid: frozenset[str] = frozenset()
    ) -> Iterator[Any]:
        """One scenario's iOS target: a lease on a free booted simulator of the kind it wants
        (several are shared out as Android devices are), or the virtual iPhone."""
        from harness.devices.ios_pool import IosTarget, of_kind

        pool = self._ios_pool()
        if not pool:
            yield self._virtual_iphone(want_kind, profile)
            return
        fitting = {IosTarget(d.udid): d for d in of_kind(pool, want_kind)}
        lease = self._leases.acquire_avoiding(list(fitting), avoid)
        self._last_key, self._last_serial = lease.candidate.key, lease.candidate.serial
        try:
            yield fitting[lease.candidate]
        finally:
            lease.release()

    def ledger(self, device: Device) -> DeviceLedger | None:
        """The device's state ledger; on first use in this session, first restore what an
        earlier run that did not finish (SIGKILL, crash, power cut) left changed on it."""
        if device.serial in self._throwaway:
            return None
        ledger = DeviceLedger(device, self.settings.state_dir)
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
    @contextmanager
    def device_for(
        self, scenario: m.Scenario, platform: str, avoid: frozenset[str] = frozenset()
    ) -> Iterator[Device]:
        """The device a scenario runs on for ``platform``, held for the scenario (a bgtest
        error when there is none); one in ``avoid`` only when no other is free."""
        asked = self.asked_profile(scenario, platform)
        if platform == "android":
            with self._android_lease(asked, avoid) as device:
                yield device
        elif platform == "ios":
            from harness.devices.ios_pool import wanted_kind

            with self._ios_lease(wanted_kind(scenario.tags), asked, avoid) as device:
                yield device
        else:
            raise _NoDriver(f"{platform}: no driver for this platform in this build")

    def asked_profile(self, scenario: m.Scenario, platform: str) -> str | None:
        """The profile the scenario (``device: {profile}``) or ``--profile`` asks for on ``platform``."""
        if scenario.device is not None and scenario.device.profile_for(platform):
            return scenario.device.profile_for(platform)
        return self.settings.profile_for(platform)

    def run(
        self, scenario: m.Scenario, platform: str, observer: Any = None, number: int | None = None
    ) -> ScenarioResult:
        """Run one scenario; ``number`` (its place in the whole run) names its report folder.

        A farm device that drops out during it is quarantined and the scenario runs once more
        on another device. With ``--reruns N`` a scenario that fails runs again, up to N
        times, on another device when one is free; a pass after a failure is ``flaky``. The
        result is the last attempt's, with every attempt listed."""
        attempts: list[ScenarioResult] = []
        avoid: set[str] = set()
        reruns_left, dropout_retry = self.settings.reruns, True
        while True:
            self._last, self._last_key, self._last_serial = None, "", ""
            result = self._run_once(scenario, platform, observer, number, attempt=len(attempts) + 1,
                                    avoid=frozenset(avoid))
            if self._last_serial:
                result.device.setdefault("serial", self._last_serial)  # a scenario that never reached it
            attempts.append(result)
            if result.status in ("passed", "skipped") or interrupts.received() is not None:
                break
            gone = self._quarantine(scenario) if result.exit_code == exits.INFRASTRUCTURE else None
            if gone is not None and dropout_retry and self._pool:
                dropout_retry = False
                result.retried_from = gone.serial
                continue
            if reruns_left <= 0 or (gone is not None and not self._pool) or self._would_fail_alike(result):
                break
            reruns_left -= 1
            if self._last_key:
                avoid.add(self._last_key)
            done = self.settings.reruns - reruns_left
            self.note(f"'{scenario.name}' {result.status} on {result.device.get('serial') or 'its device'}: "
                      f"rerun {done} of {self.settings.reruns}")
        return combined(attempts)

    def _would_fail_alike(self, result: ScenarioResult) -> bool:
        """A failure no rerun can change: the scenario asks what the platform cannot do, or the
        run has no device at all (a server that does not answer, no simulator)."""
        no_devices = self._error is not None or self._ios_error is not None
        return result.exit_code == exits.INVALID_INPUT or no_devices

    def _quarantine(self, scenario: m.Scenario) -> Candidate | None:
        """The farm device the last attempt ran on, taken out of this run's pool if it dropped out."""
        gone = self._dropped_out()
        if gone is None or self._pool is None:
            return None
        self._pool = [c for c in self._pool if c != gone]
        self.note(f"<{gone.serial}> dropped out during '{scenario.name}': quarantined for this run")
        return gone

    def _run_once(
        self,
        scenario: m.Scenario,
        platform: str,
        observer: Any = None,
        number: int | None = None,
        attempt: int = 1,
        avoid: frozenset[str] = frozenset(),
    ) -> ScenarioResult:
        from harness.devices.ios_pool import KindMismatch
        from harness.run.runner import ScenarioRunner

        try:
            with self.device_for(scenario, platform, avoid) as device:
                app = app_under_test(scenario, platform)
                why = unmet(scenario, facts(device, platform), self.asked_profile(scenario, platform))
                if why is not None:
                    return _not_run(scenario, platform, "skipped", why, 0)
                self._runs += 1
                artifacts = None
                if self.settings.report_dir is not None:
                    name = scenario.name + (f" attempt {attempt}" if attempt > 1 else "")
                    artifacts = run_folder(self.settings.report_dir, number or self._runs, name, platform)
                runner = ScenarioRunner(
                    scenario,
                    device,
                    app,
                    artifacts_dir=artifacts,
                    observer=observer,
                    ledger=self.ledger(device),
                    settings=self.settings,
                )
                return runner.run()
        except AppModelError as exc:
            return _not_run(scenario, platform, "error", str(exc), exits.for_error(exc))
        except BgtestError as exc:
            if isinstance(exc, (KindMismatch, _NoDriver)):
                return _not_run(scenario, platform, "skipped", exc.render(), 0)
            return _not_run(scenario, platform, "error", exc.render(), exits.for_error(exc))

    def close(self) -> None:
        if self._embedded_ios is not None:
            self._embedded_ios.stop()
            self._embedded_ios = None
        self._ios_targets = None
        if self._held is not None:
            self._held.release()
            self._held = None
        for embedded, _device in self._profiled.values():
            embedded.stop()
        self._profiled.clear()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        self._android = None


class _NoDriver(BgtestError):
    """A platform this build has no driver for: the scenario is skipped, not failed."""


def _naming_options(settings: Settings) -> str:
    """The options by which ``settings`` name this run's devices ('' when none does)."""
    named = [f"--device {settings.device}" if settings.device else "",
             f"--adb-server {settings.adb_server}" if settings.adb_server else "",
             *(f"--device-filter {f}" for f in settings.device_filters),
             f"xcrun {settings.xcrun}" if settings.xcrun else ""]
    return ", ".join(n for n in named if n)


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
