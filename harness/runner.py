"""One scenario on one device: setup → steps → finally → restore, judged from the device's logs.

Time is device time. Every step starts with a *barrier*: the runner writes a marker line to
the device log and waits until its own logcat reader has seen it, so the journal holds
everything the device logged before the step, and the marker's timestamp is the step's start
in device time — on a phone and on a virtual device alike.

Expectation windows: an ``expect`` looks at the device's log from its *anchor* — the start of
the most recent action step before it (or of the scenario) — and, with ``within: D``, up to
anchor + D. If the window is still open and the expectation undecided, the runner lets time
pass: on a virtual device it advances the device clock in slices; on a phone it waits.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.devices.android import AndroidDevice, DeviceState
from harness.devices.android_journal import DeviceJournal
from harness.durations import format_duration_ms
from harness.errors import BgtestError, DeviceError, UnsupportedAction
from harness.logs import expect as ex
from harness.logs.device_states import state_changes
from harness.logs.vocab import VocabState, library_vocabularies, load_vocabulary
from harness.report import redaction
from harness.report.paths import inside
from harness.result import ScenarioResult, StepResult, TaskOutcome, TimelineEvent
from harness.run import exits, interrupts
from harness.run.interrupts import Interrupted
from harness.run.ledger import DeviceLedger
from harness.scenario import models as m

NS = 1_000_000
MAX_TIMELINE_EVENTS = 2_000

#: Steps that change device state the guard must restore.
STATEFUL = {"doze", "battery", "battery_saver", "low_power", "network", "standby_bucket", "screen"}


class StepFailed(Exception):
    """A step did not hold; the message is what the user reads."""


@dataclass
class RunObserver:
    """Hooks for a live view; every one optional."""

    on_step: Callable[[StepResult], None] | None = None
    on_step_done: Callable[[StepResult], None] | None = None
    on_wait: Callable[[int, int, str], None] | None = None  # done_ms, total_ms, what
    on_note: Callable[[str], None] | None = None


@dataclass
class _Ctx:
    anchor_ns: int = 0
    scenario_start_ns: int = 0
    #: the device-time window [start, end) the last expectation looked at (end None: open)
    window: tuple[int, int | None] | None = None
    #: device time at which the state restore (finally + guard) began, and how many task
    #: events the engine had by then: later ones are reported apart
    restore_ns: int | None = None
    restore_index: int | None = None
    saved: DeviceState | None = None
    changed: set[str] = field(default_factory=set)
    extras: dict[str, Any] = field(default_factory=dict)


class ScenarioRunner:
    """Runs one scenario on one Android device and returns a :class:`ScenarioResult`."""

    #: On a virtual device, an open window is walked in slices this long at most, so an
    #: expectation passes close to when its record appears (as it would on a phone).
    SLICE_MS = 60_000

    def __init__(
        self,
        scenario: m.Scenario,
        device: AndroidDevice,
        platform: str = "android",
        artifacts_dir: Path | None = None,
        observer: RunObserver | None = None,
        app_package: str | None = None,
        app_library: str | None = None,
        launch_activity: str | None = None,
        app_install_path: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.device = device
        self.platform = platform
        self.artifacts_dir = artifacts_dir
        self.obs = observer or RunObserver()
        self.package = app_package or (scenario.app.package if scenario.app else None)
        self.library = app_library or (scenario.app.library if scenario.app else None)
        self.launch_activity = launch_activity
        self.app_install_path = app_install_path
        loc = scenario.location
        self.result = ScenarioResult(
            name=scenario.name,
            file=str(loc.file) if loc else "",
            line=loc.line if loc else 0,
            platform=platform,
        )
        self.journal: DeviceJournal | None = None
        self._guards: list[ex.Check] = []
        self.engine: ex.ExpectationEngine | None = None
        self.ctx = _Ctx()
        self._virtual = False
        self.ios_app: Any = None  # runner_ios.IosApp: the app model's ios: section (iOS runs only)
        self._ios: Any = None
        #: where this run writes what it is about to change (None: a device that dies with the run)
        self.ledger: DeviceLedger | None = None

    # ----------------------------------------------------------------- entry
    def run(self) -> ScenarioResult:
        started = time.monotonic()
        with interrupts.handling():
            try:
                self._run()
            except Interrupted as exc:
                self.result.status = "error"
                self.result.exit_code = exc.exit_code
                self.result.failure = f"interrupted ({exc.signal.name})"
                self._stop_journal()
            finally:
                self.result.wall_s = time.monotonic() - started
        return self.result

    def _run(self) -> None:
        device = self.device
        try:
            self.result.device = device.describe()
            self._virtual = device.is_virtual
            vocab = VocabState(
                [load_vocabulary(name) for name in library_vocabularies(self.library, self.platform)]
            )
            self.engine = ex.ExpectationEngine(vocab)
            if self.platform == "ios":
                self._start_ios()
            else:
                self.journal = DeviceJournal(device, self.engine)
                self.journal.start()
            if self._virtual and self.package and self.platform == "android":
                # A virtual device is shared by the scenarios of a run: start each one from a
                # freshly installed app, as a phone in a farm would be prepared.
                self.device.sh(["pm", "clear", self.package], check=False)
            start = self._barrier("scenario start")
            self.ctx.scenario_start_ns = self.ctx.anchor_ns = start
            self.engine.origin_ns = start
            self.result.device_start_ms = start // NS
            with self.journal.lock:
                self._guards = [
                    self.engine.add(self._fail_fast_only(spec), start) for spec in self.scenario.fail_fast_on
                ]
        except BgtestError as exc:
            self.result.status = "error"
            self.result.exit_code = exits.for_error(exc)
            self.result.failure = exc.render()
            self._stop_journal()
            return
        interrupted: Interrupted | None = None
        try:
            ok = self._phase("setup", self.scenario.setup) and self._phase("steps", self.scenario.steps)
            if not ok and self.result.status == "passed":
                self.result.status = "failed"
        except Interrupted as exc:
            interrupted = exc
        self._mark_restore()
        self._phase("finally", self.scenario.finally_, interruptible=False)
        with interrupts.deferred(then_raise=False):  # a signal now waits until the device is back
            self._restore()
            self._finish()
        received = interrupts.received()
        if interrupted is None and received is not None:
            interrupted = Interrupted(received)
        if interrupted is not None:
            raise interrupted

    def _mark_restore(self) -> None:
        """Where the scenario's own events end: from here on the device is being restored."""
        assert self.engine is not None and self.journal is not None
        try:
            at = self._barrier("restore")
        except BgtestError:
            at = self.engine.now_ns
        with self.journal.lock:
            self.ctx.restore_ns, self.ctx.restore_index = at, len(self.engine.events)

    def _finish(self) -> None:
        try:
            end = self._barrier("scenario end")
            self.result.device_end_ms = end // NS
        except BgtestError:
            pass
        if self.engine is not None and self.journal is not None:
            with self.journal.lock:
                self.engine.release_unlinked()  # the summary shows work no line named, by its UUID
        self._collect_tasks()
        self._collect_states()
        if self.result.status != "passed":
            self._save_artifacts()
        elif self.artifacts_dir is not None and self.journal is not None:
            self.result.artifacts = str(self.artifacts_dir)
            self.artifacts_dir.mkdir(parents=True, exist_ok=True)
            self.journal.save(self.artifacts_dir / "journal.txt")
        self._stop_journal()

    def _stop_journal(self) -> None:
        if self.journal is not None:
            self.journal.stop()

    # ----------------------------------------------------------------- phases
    def _phase(self, phase: str, steps: list[Any], interruptible: bool = True) -> bool:
        for index, step in enumerate(steps):
            loc = step.location
            record = StepResult(
                index=index,
                phase=phase,  # type: ignore[arg-type]
                kind=step.kind,
                summary=redaction.active().text(summarize(step)),
                location=f"{loc.file}:{loc.line}" if loc else "",
            )
            self.result.steps.append(record)
            if self.obs.on_step:
                self.obs.on_step(record)
            try:
                self._step(step, record)
            except StepFailed as exc:
                record.status = "failed"
                record.message = str(exc)
            except (DeviceError, UnsupportedAction, BgtestError) as exc:
                record.status = "error"
                record.message = exc.render()
                self.result.exit_code = max(self.result.exit_code, exits.for_error(exc))
            except ex.ExpectationError as exc:
                record.status = "failed"
                record.message = f"this expectation cannot be evaluated: {exc}"
            except Exception as exc:  # a bug in bgtest: report it on the step, keep restoring
                record.status = "error"
                record.message = f"internal error in bgtest: {exc!r} (please report it with the journal)"
                self.result.exit_code = max(self.result.exit_code, exits.for_error(exc))
            except Interrupted:
                record.status = "error"
                record.message = "interrupted"
                if self.obs.on_step_done:
                    self.obs.on_step_done(record)
                if interruptible:
                    raise
                continue
            record.message = redaction.active().text(record.message)  # before anyone shows it
            if self.obs.on_step_done:
                self.obs.on_step_done(record)
            if record.status != "passed":
                if self.result.status == "passed":
                    self.result.status = "failed" if record.status == "failed" else "error"
                    where = f"{record.location}: " if record.location else ""
                    self.result.failure = f"{where}{record.summary}\n{record.message}"
                if phase != "finally":
                    return False
        return True

    def _step(self, step: Any, record: StepResult) -> None:
        kind = step.kind
        if kind in STATEFUL:
            if self.ctx.saved is None:
                self.ctx.saved = self.device.snapshot(self._packages())
                self.result.start_state = dataclasses.asdict(self.ctx.saved)
                if self.ledger is not None:
                    self.ledger.begin(self.ctx.saved, self._packages(), self.result.location)
            self.ctx.changed.add(kind)
            if self.ledger is not None:
                self.ledger.changing(kind)  # on the host (and the device) before the change
        if kind != "expect" and kind != "wait":
            start = self._barrier(record.summary)
            self.ctx.anchor_ns = start
            record.device_start_ms = start // NS
        handler = getattr(self, f"_do_{kind}", None)
        if self._ios is not None and kind not in ("wait", "expect"):
            handler = self._ios.handler(kind)
        if handler is None:
            raise UnsupportedAction(f"{kind} is not available on {self.platform}")
        if not record.device_start_ms:
            record.device_start_ms = self._device_now_ns() // NS
        self.ctx.window = None
        try:
            handler(step)
            if kind in STATEFUL:
                # the state as the step left it: the timeline's lanes, and the live view's note
                after = self.device.snapshot(self._packages())
                record.state = dataclasses.asdict(after)
                if self.obs.on_note:
                    self.obs.on_note(after.summary())
            if self._guards:
                if kind not in ("expect", "wait"):
                    self._barrier(f"after {record.summary}")
                self._check_scenario_guards()
        finally:
            # also when the step failed: its real device time, and the window it judged
            record.device_end_ms = self._device_now_ns() // NS
            if self.ctx.window is not None:
                start, end = self.ctx.window
                record.window_start_ms = start // NS
                record.window_end_ms = (end if end is not None else self._device_now_ns()) // NS

    # ----------------------------------------------------------------- time
    def _barrier(self, what: str, timeout: float = 30.0) -> int:
        """Log a marker and wait until the journal has it; return its device time (ns).

        A marker can be missed in a reconnect race (logcat resumes from the last line it
        had); then a fresh marker is logged, until ``timeout``.
        """
        assert self.journal is not None and self.engine is not None
        if self._ios is not None:
            return self._ios_barrier(what, timeout)
        deadline = time.monotonic() + timeout
        while True:
            # Only an id: a marker that quoted the step would match the step's own
            # `message:` expectation.
            marker = f"bgtest-step-{uuid.uuid4().hex[:12]}"
            # The second line pushes the marker out of the parser, which holds each last line
            # until the next one shows whether it continues a multi-line message.
            first = shlex.join(["log", "-t", "bgtest", marker])
            self.device.sh(f"{first}; {shlex.join(['log', '-t', 'bgtest-end', marker])}")
            left = deadline - time.monotonic()
            rec = self.journal.wait_for_marker("bgtest", marker, timeout=max(0.1, min(5.0, left)))
            if rec is not None:
                with self.journal.lock:
                    self.engine.advance_to(rec.time_ns)
                return rec.time_ns
            if time.monotonic() >= deadline or self.journal.error:
                raise DeviceError(
                    self.device.serial,
                    f"its log did not show bgtest's marker within {timeout:.0f} s ({what})"
                    + (f": {self.journal.error}" if self.journal.error else ""),
                    hint="is logcat working? try `adb logcat -d | tail`",
                )

    def _start_ios(self) -> None:
        """iOS: the unified-log journal, the iOS actions, and on the virtual iPhone a fresh app."""
        from harness.devices.ios_journal import IosDeviceJournal
        from harness.runner_ios import IosSteps

        self._ios = IosSteps(self, self.device, self.ios_app)  # type: ignore[arg-type]
        if self._virtual and self.package and self.app_install_path:
            # as on Android: every scenario starts from a freshly installed app
            if self.device.is_installed(self.package):
                self.device.stop_app(self.package)
                self.device.uninstall(self.package)
            self.device.install(self.app_install_path)
        # after the install: the log filter names the app's process (CFBundleExecutable)
        self.journal = IosDeviceJournal(  # type: ignore[assignment]
            self.device, self.engine, predicate=self._ios.log_predicate()  # type: ignore[arg-type]
        )
        self.journal.start()

    def _ios_barrier(self, what: str, timeout: float) -> int:
        """iOS: the journal writes the marker (``logger`` in the simulator) until its stream shows it."""
        assert self.journal is not None and self.engine is not None
        # only an id: a marker that quoted the step would match the step's own `message:` regex
        marker = f"bgtest-step-{uuid.uuid4().hex[:12]}"
        rec = self.journal.barrier(marker, timeout=timeout)  # type: ignore[attr-defined]
        if rec is None:
            raise DeviceError(
                self.device.serial,
                f"its unified log did not show bgtest's marker within {timeout:.0f} s ({what})"
                + (f": {self.journal.error}" if self.journal.error else ""),
                hint="is `xcrun simctl spawn UDID log stream --style ndjson` working?",
            )
        with self.journal.lock:
            self.engine.advance_to(rec.time_ns)
        return rec.time_ns

    def _device_now_ns(self) -> int:
        return self.engine.now_ns if self.engine is not None else 0

    def _let_time_pass(self, ms: int, what: str, until: Callable[[], bool] | None = None) -> None:
        """Let ``ms`` of device time pass (clock advance on a virtual device, sleep on a phone)."""
        done = 0
        slice_ms = max(self.SLICE_MS, ms // 40) if until is not None else ms
        while done < ms:
            step = min(slice_ms, ms - done)
            if self._virtual:
                self.device.advance(step)
            else:
                self._sleep_real(step, done, ms, what)
            done += step
            self._barrier(what)
            if until is not None and until():
                return

    def _sleep_real(self, step_ms: int, done: int, total: int, what: str) -> None:
        end = time.monotonic() + step_ms / 1000
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 1.0))
            if self.obs.on_wait:
                self.obs.on_wait(done + step_ms - int(max(left - 1.0, 0) * 1000), total, what)

    # ----------------------------------------------------------------- actions
    def _app(self) -> str:
        if not self.package:
            raise UnsupportedAction(
                "this step needs the scenario's app: add app: {package: …} or app: {model: …}"
            )
        return self.package

    def _packages(self) -> list[str]:
        return [self.package] if self.package else []

    def _do_install(self, step: m.Install) -> None:
        path = step.path or self.app_install_path
        if not path:
            raise UnsupportedAction(
                "install needs a path (the APK), or an app model whose file bgtest can install"
            )
        self.device.install(path)

    def _do_uninstall(self, step: m.Uninstall) -> None:
        self.device.uninstall(step.package or self._app())

    def _do_clear_data(self, step: m.ClearData) -> None:
        self.device.clear_data(step.package or self._app())

    def _do_launch(self, step: m.Launch) -> None:
        self.device.launch(
            self._app(),
            activity=step.activity or self.launch_activity,
            deep_link=step.deep_link,
            extras=step.extras,
        )

    def _do_broadcast(self, step: m.Broadcast) -> None:
        self.device.broadcast(
            step.action,
            self.package,
            step.extras,
            include_stopped=step.include_stopped,
            component=step.component,
        )

    def _do_open_url(self, step: m.OpenUrl) -> None:
        self.device.open_url(step.url)

    def _do_stop_app(self, step: m.StopApp) -> None:
        self.device.stop_app(step.package or self._app())

    def _do_kill(self, step: m.Kill) -> None:
        self.device.kill(step.package or self._app())

    def _do_background(self, step: m.Background) -> None:
        self.device.background()

    def _do_reboot(self, step: m.Reboot) -> None:
        assert self.journal is not None
        self.journal.expect_reboot()
        self.device.reboot(timeout=(step.timeout / 1000) if step.timeout else 180.0)

    def _do_doze(self, step: m.Doze) -> None:
        self.device.doze(step.mode)

    def _do_battery(self, step: m.Battery) -> None:
        if step.state == "reset":
            self.device.battery(reset=True)
        plugged = {"unplugged": False, "charging": True}.get(step.state or "")
        self.device.battery(plugged=plugged, level=step.level)

    def _do_battery_saver(self, step: m.BatterySaver) -> None:
        self.device.battery_saver(step.enabled)

    _do_low_power = _do_battery_saver

    def _do_network(self, step: m.Network) -> None:
        self.device.network(wifi=step.wifi, data=step.data, airplane=step.airplane)

    def _do_standby_bucket(self, step: m.StandbyBucket) -> None:
        self.device.standby_bucket(step.package or self._app(), step.bucket)

    def _do_screen(self, step: m.Screen) -> None:
        self.device.screen(step.on)

    def _do_diagnostics(self, step: m.Diagnostics) -> None:
        self.device.diagnostics(self._app())

    def _do_shell(self, step: m.Shell) -> None:
        result = self.device.sh(step.argv, check=False)
        if step.check and result.exit_code != 0:
            raise StepFailed(
                f"`{' '.join(step.argv)}` exited {result.exit_code}: "
                f"{(result.err or result.out).strip()[-500:]}"
            )

    def _do_capture(self, step: m.Capture) -> None:
        directory = self._artifact_dir()
        name = step.name or step.what
        data = self._capture(step.what)
        suffix = ".png" if step.what == "screenshot" else ".txt"
        inside(directory, f"{name}{suffix}").write_bytes(data)  # validated, and confined again here

    def _do_run_task(self, step: m.RunTask) -> None:
        package = self._app()
        job_id = self._job_id_for(package, step.task)
        if job_id is None:
            raise StepFailed(
                f"no JobScheduler job found for task {step.task!r} of {package}: "
                f"is it enqueued? (`adb shell dumpsys jobscheduler {package}`)"
            )
        self.device.run_job(package, job_id, force=True)

    def _do_expire_task(self, step: m.ExpireTask) -> None:
        raise UnsupportedAction("expire_task is an iOS action (BGTask expiration); Android has no equivalent")

    def _do_wait(self, step: m.Wait) -> None:
        if step.duration is not None:
            self._let_time_pass(step.duration, f"wait {format_duration_ms(step.duration)}")
            return
        assert step.until is not None
        timeout = step.timeout or self.scenario.timeout or 6 * 3_600_000
        # The same window an `expect` here would have (opened by the last action), kept open
        # until `timeout` after the wait began: an event the action caused before the wait
        # started ends the wait at once instead of being missed.
        begun = self._barrier("wait until")
        self._evaluate(step.until, self.ctx.anchor_ns, begun + timeout * NS, what=step.describe())

    def _do_expect(self, step: m.Expect) -> None:
        now = self._barrier(step.describe())
        anchor = self.ctx.anchor_ns
        end = anchor + step.within * NS if step.within is not None else None
        self._evaluate(step, anchor, end, what=step.describe(), closes_at=now)

    # ------------------------------------------------------------- expectations
    def _evaluate(
        self, step: m.Expect, anchor_ns: int, end_ns: int | None, what: str, closes_at: int | None = None
    ) -> None:
        """Judge ``step`` over the window ``[anchor_ns, end_ns)``; ``end_ns`` None: what already
        happened up to ``closes_at`` (the expect step's own barrier)."""
        assert self.engine is not None and self.journal is not None
        spec = to_engine_expectation(step, (end_ns - anchor_ns) // NS if end_ns is not None else None)
        # fail_fast_on patterns are guards of their own, judged in time order with the records
        # since the anchor: a crash logged before the awaited event still fails the step.
        guards_spec = spec.fail_fast_on
        spec = dataclasses.replace(spec, fail_fast_on=())
        self.ctx.window = (anchor_ns, end_ns)
        with self.journal.lock:
            guards = [
                self.engine.add(
                    ex.Expectation(
                        match=g,
                        never=True,
                        text=f"fail_fast_on {g.describe()}: never ({spec.describe()})",
                        where=spec.where,
                    ),
                    anchor_ns,
                    history=self.journal.records_since(anchor_ns),
                )
                for g in guards_spec
            ]
            # Task events since the anchor are replayed by the engine itself; raw log matches
            # need the records (replaying them for an event check would count events twice).
            raw = (spec.match is not None and not spec.match.is_event) or any(
                not item.is_event for item in spec.in_order
            )
            history = self.journal.records_since(anchor_ns) if raw else ()
            check = self.engine.add(spec, anchor_ns, history=history)
            now = self.engine.now_ns
        if end_ns is None:
            # Only what already happened counts: decide now (once unnamed work is named).
            self._name_unlinked(check)
            with self.journal.lock:
                check.close(closes_at if closes_at is not None else now)
                for g in guards:
                    g.close(closes_at if closes_at is not None else now)

        def tripped() -> ex.Check | None:
            return next((g for g in guards if g.status == ex.FAILED), None)

        if end_ns is not None and check.status == ex.PENDING and tripped() is None:
            left_ms = max(0, (end_ns - now) // NS)
            if left_ms:
                self._let_time_pass(
                    left_ms, what, until=lambda: check.status != ex.PENDING or tripped() is not None
                )
            self._name_unlinked(check)
            with self.journal.lock:
                if check.status == ex.PENDING and tripped() is None:
                    self.engine.advance_to(max(self.engine.now_ns, end_ns))
                if check.status == ex.PENDING and tripped() is None:
                    check.close(self.engine.now_ns)
        if end_ns is not None and check.status != ex.PENDING and tripped() is None:
            # decided early: the window the step really looked at ends where it decided
            self.ctx.window = (anchor_ns, max(anchor_ns, min(end_ns, check.decided_ns or end_ns)))
        guard = tripped()
        if guard is not None:
            raise StepFailed(guard.failure_message(self._state_summary()))
        if check.status == ex.FAILED:
            raise StepFailed(check.failure_message(self._state_summary()))

    def _name_unlinked(self, check: ex.Check) -> None:
        """Before a task check decides: work that only a UUID names (issue #9) -- the engine says
        when to ask WorkManager's diagnostics (they name UUIDs); then it stops waiting."""
        assert self.engine is not None and self.journal is not None
        if check.status != ex.PENDING or not check.patterns():
            return
        with self.journal.lock:
            ask = self.platform == "android" and self.engine.wants_diagnostics()
        if ask:
            try:
                self.device.diagnostics(self._app())
                self.engine.diagnostics_asked_ns = self._barrier("diagnostics")
            except BgtestError:
                pass  # the failure message says diagnostics were not available
        with self.journal.lock:
            self.engine.release_unlinked()

    def _check_scenario_guards(self) -> None:
        """The scenario's own fail_fast_on: any match so far fails the scenario at once."""
        for guard in self._guards:
            if guard.status == ex.FAILED:
                raise StepFailed(guard.failure_message(self._state_summary()))

    def _fail_fast_only(self, spec: m.LogMatch) -> ex.Expectation:
        return ex.Expectation(match=spec, never=True, text=f"fail_fast_on: {spec.describe()}: never")

    def _state_summary(self) -> str:
        try:
            return self.device.snapshot(self._packages()).summary()
        except BgtestError:
            return "unknown (device unreachable)"

    # ------------------------------------------------------------- run_task
    def _job_id_for(self, package: str, task: str) -> int | None:
        """The JobScheduler id of a task: from WorkManager's own lines, else the only job."""
        assert self.journal is not None
        job = self.journal.job_id_for(task)
        if job is not None:
            return job
        self.device.diagnostics(package)
        self._barrier("diagnostics")
        job = self.journal.job_id_for(task)
        if job is not None:
            return job
        ids = self.device.job_ids(package)
        return ids[0] if len(ids) == 1 else None

    # ------------------------------------------------------------- restore
    def _restore(self) -> None:
        if self.ctx.saved is None:
            return
        try:
            self.result.restored = self.device.restore(
                self.ctx.saved, self._packages(), only=self.ctx.changed
            )
        except BgtestError as exc:
            self.result.restored = [f"restore failed: {exc.render()}"]
        if self.ledger is not None:
            self.ledger.finish(self.result.restored)

    # ------------------------------------------------------------- results
    def _collect_tasks(self) -> None:
        """The tasks the scenario names (globs expanded to the tasks they matched) and what the
        logs say happened to them; events from the restore on are kept apart."""
        if self.engine is None:
            return
        named = referenced_tasks(self.scenario)
        patterns = [ex.TaskPattern(name) for name in named]
        absent = absence_expected(self.scenario)
        cut_index, cut_ns = self.ctx.restore_index, self.ctx.restore_ns
        tasks = self.result.tasks
        for i, ev in enumerate(self.engine.events):
            rows = list(dict.fromkeys(
                (name, p.text) for p in patterns if (name := ex.name_for(p, ev)) is not None
            ))
            if not patterns:  # a scenario that names no task: every task the log shows
                rows = [(ev.task, ev.task)]
            late = cut_index is not None and i >= cut_index and ev.time_ns >= (cut_ns or 0)
            # the timeline's lane is the name as the scenario wrote it (a glob is one lane);
            # the run is the task it matched, to pair a start with its end
            run, lane = rows[0] if rows else (ev.task, ev.task)
            timeline = self.result.after_restore_events if late else self.result.events
            if len(timeline) < MAX_TIMELINE_EVENTS:
                timeline.append(TimelineEvent(ev.time_ns // NS, lane, ev.state, run, ev.record.short()))
            seen: set[str] = set()
            for name, pattern in rows:
                if name in seen:
                    continue
                seen.add(name)
                outcome = tasks.get(name)
                if outcome is None:
                    outcome = tasks[name] = TaskOutcome(
                        name, pattern=pattern, absence_expected=pattern in absent
                    )
                if late:
                    outcome.after_restore[ev.state] = outcome.after_restore.get(ev.state, 0) + 1
                    continue
                outcome.counts[ev.state] = outcome.counts.get(ev.state, 0) + 1
                if ev.time_ns // NS >= outcome.last_time_ms:
                    outcome.last_state = ev.state
                    outcome.last_time_ms = ev.time_ns // NS
        # a name or glob that matched nothing: a row when that is news (a failed run) or the point
        for p in patterns:
            if any(o.pattern == p.text for o in tasks.values()):
                continue
            if self.result.status != "passed" or p.text in absent:
                tasks[p.text] = TaskOutcome(p.text, pattern=p.text, absence_expected=p.text in absent)

    def _collect_states(self) -> None:
        """The state changes the device logged (Doze, screen, saver, the app's process), for the timeline."""
        if self.journal is None or self.platform != "android":
            return  # the unified log's lines are not read for lanes yet: iOS lanes come from snapshots
        self.result.states = state_changes(self.journal.journal.all_records(), self.package)

    def _artifact_dir(self) -> Path:
        directory = self.artifacts_dir or Path("bgtest-report") / _slug(self.scenario.name)
        directory.mkdir(parents=True, exist_ok=True)
        self.artifacts_dir = directory
        return directory

    def _capture(self, what: str) -> bytes:
        package = self.package or ""
        if what == "screenshot":
            return self.device.screenshot()
        if what == "journal":
            assert self.journal is not None
            return self.journal.text().encode()
        if what == "diagnostics":
            self.device.diagnostics(self._app())
            self._barrier("diagnostics")
            assert self.journal is not None
            return self.journal.diagnostics_text().encode()
        section = what.removeprefix("dumpsys_")
        # the app's own part: its jobs, its process's memory, its uid's power use
        per_app = section in ("jobscheduler", "meminfo", "batterystats") and package
        argv = ["dumpsys", section, *(["--charged"] if section == "batterystats" else [])]
        argv += [package] if per_app else []
        return self.device.sh(argv, check=False).stdout

    def _save_artifacts(self) -> None:
        """On failure: everything a person needs to see why, and a manifest listing it."""
        import json

        if self.journal is None:
            return
        directory = self._artifact_dir()
        files: dict[str, str] = {}
        self.journal.save(directory / "journal.txt")
        files["journal.txt"] = "the device log bgtest read, in device time"
        failing = [s for s in self.result.steps if s.status != "passed"]
        if failing:
            step = failing[0]
            start = (step.device_start_ms - 60_000) * NS
            window = self.journal.text(since_ns=start)
            (directory / "failing-window.txt").write_text(window)
            files["failing-window.txt"] = f"log from a minute before the failing step ({step.location})"
        for what, name in (
            ("dumpsys_jobscheduler", "dumpsys-jobscheduler.txt"),
            ("dumpsys_deviceidle", "dumpsys-deviceidle.txt"),
            ("dumpsys_battery", "dumpsys-battery.txt"),
            ("diagnostics", "workmanager-diagnostics.txt"),
            ("screenshot", "screenshot.png"),
        ):
            if what == "diagnostics" and not self.package:
                continue
            if self.platform == "ios" and what != "screenshot":
                continue  # dumpsys and WorkManager diagnostics are Android's
            try:
                (directory / name).write_bytes(self._capture(what))
                files[name] = what.replace("_", " ")
            except BgtestError as exc:
                files[name] = f"not captured: {exc.message}"
        manifest = {
            "scenario": self.result.name,
            "location": self.result.location,
            "device": self.result.device,
            "status": self.result.status,
            "failure": self.result.failure,
            "restored": self.result.restored,
            "files": files,
        }
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
        self.result.artifacts = str(directory)


# --------------------------------------------------------------------------- helpers
def summarize(step: Any) -> str:
    """A step as the user wrote it, in one line."""
    if isinstance(step, m.Expect):
        return step.describe()
    if step.label:
        return step.label
    if isinstance(step, m.Wait) and step.until is not None:
        text = "wait until " + step.until.describe().removeprefix("expect ")
        return text + (f" (at most {format_duration_ms(step.timeout)})" if step.timeout else "")
    data = step.model_dump(exclude_defaults=True, exclude={"label"})
    if not data:
        return step.kind
    parts = []
    for key, value in data.items():
        if key in ("duration", "timeout", "within") and isinstance(value, int):
            value = format_duration_ms(value)
        if key == "argv" and isinstance(value, list):
            value = shlex.join(value)
        value = _words(value)
        parts.append(value if key == step.primary else f"{key} {value}")
    return f"{step.kind}: " + ", ".join(parts)


def _words(value: Any) -> str:
    """A step's option as people write it: on/off, ``k=v`` pairs, lists with commas — no reprs."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return " ".join(f"{k}={_words(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_words(v) for v in value)
    return str(value)


def to_engine_expectation(step: m.Expect, window_ms: int | None) -> ex.Expectation:
    """The YAML model of an expectation as the engine's spec: the same values, no re-parsing."""
    loc = step.location
    latency_from, latency_to = step.latency_states
    return ex.Expectation(
        match=step.match if step.in_order is None else None,
        within_ns=window_ms * NS if window_ms is not None else None,
        count=step.count,
        never=step.never,
        in_order=tuple(step.in_order or ()),
        latency=step.latency,
        latency_from=latency_from,
        latency_to=latency_to,
        success_rate=step.success_rate,
        tasks=(step.task,) if step.success_rate is not None and step.task else (),
        fail_fast_on=tuple(step.fail_fast_on or ()),
        text=step.describe().removeprefix("expect "),
        where=f"{loc.file}:{loc.line}" if loc else "",
    )


def referenced_tasks(scenario: m.Scenario) -> list[str]:
    """Task names and globs a scenario talks about, in the order it first does."""
    names: list[str] = []

    def add(name: str | None) -> None:
        if name and name not in names:
            names.append(name)

    for step in scenario.all_steps():
        for expect in _expectations(step):
            add(expect.task)
            for item in expect.in_order or ():
                add(item.task)
        if isinstance(step, (m.RunTask, m.ExpireTask)):
            add(step.task)
    return names


def absence_expected(scenario: m.Scenario) -> set[str]:
    """Names and globs whose every mention expects nothing to happen (never: true / count: 0)."""
    quiet: set[str] = set()
    loud: set[str] = set()
    for step in scenario.all_steps():
        for expect in _expectations(step):
            count = expect.count
            zero = expect.never or (count is not None and count.op == "==" and count.value == 0)
            if expect.task:
                (quiet if zero else loud).add(expect.task)
            for item in expect.in_order or ():
                if item.task:
                    loud.add(item.task)
        if isinstance(step, (m.RunTask, m.ExpireTask)):
            loud.add(step.task)
    return quiet - loud


def _expectations(step: object) -> list[m.Expect]:
    if isinstance(step, m.Expect):
        return [step]
    if isinstance(step, m.Wait) and step.until is not None:
        return [step.until]
    return []


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(filter(None, keep.split("-")))[:60] or "scenario"
