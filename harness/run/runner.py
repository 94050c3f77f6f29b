
"""One scenario on one device: setup → steps → finally → restore, judged from the device's logs.

Time is device time. Every action step starts with a *barrier*: the runner has the journal
write a marker line to the device log and waits until its own reader has seen it, so the
journal holds everything the device logged before the step, and the marker's timestamp is the
step's start in device time — on a phone and on a virtual device alike.

Expectation windows: an ``expect`` looks at the device's log from its *anchor* — the start of
the most recent action step before it (or of the scenario) — and, with ``within: D``, up to
anchor + D. If the window is still open and the expectation undecided, the runner lets time
pass: on a virtual device it advances the device clock in slices; on a phone it waits.

The runner never names a platform: the device is a :class:`~harness.devices.base.Device`, each
step's action comes from :mod:`harness.actions.registry`, and artifacts are the report's
(:mod:`harness.report.artifacts`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.actions.flow import Expect, Wait
from harness.actions.metrics import Metric
from harness.actions.registry import ACTIONS, action_for
from harness.actions.system import Diagnostics
from harness.apps.target import AppUnderTest
from harness.devices.base import Device, LogInterest, LogReader, MetricReader
from harness.errors import BgtestError, DeviceError, StepFailed, UnsupportedAction
from harness.logs import expect as ex
from harness.logs.device_states import state_changes
from harness.logs.record import LogRecord
from harness.logs.vocab import VocabState, library_vocabularies, load_vocabulary
from harness.metrics import Measurement
from harness.network.explain import what_the_network_did
from harness.network.session import ScenarioNetwork, shared_proxy
from harness.report import redaction
from harness.report.artifacts import ArtifactWriter
from harness.result import MetricReading, ScenarioResult, StepResult
from harness.run import exits, interrupts
from harness.run.expectations import NS, ExpectationSteps, _Ctx
from harness.run.guard import StateGuard
from harness.run.interrupts import Interrupted
from harness.run.ledger import DeviceLedger
from harness.run.settings import Settings
from harness.scenario import models as m
from harness.scenario.values import Comparison


@dataclass
class RunObserver:
    """Hooks for a live view; every one optional."""

    on_step: Callable[[StepResult], None] | None = None
    on_step_done: Callable[[StepResult], None] | None = None
    on_wait: Callable[[int, int, str], None] | None = None  # done_ms, total_ms, what
    on_note: Callable[[str], None] | None = None


def log_interest(scenario: m.Scenario) -> LogInterest:
    """Every process/tag and subsystem the scenario's expectations name."""
    matches: list[Any] = list(scenario.fail_fast_on)
    for step in scenario.all_steps():
        if isinstance(step, Wait) and step.until is not None:
            step = step.until
        if isinstance(step, Expect):
            matches += [step, *(step.in_order or ()), *(step.fail_fast_on or ())]
    processes = {n for match in matches for n in (match.process, match.tag) if n}
    subsystems = {match.subsystem for match in matches if match.subsystem}
    return LogInterest(frozenset(processes), frozenset(subsystems))


class ScenarioRunner(ExpectationSteps):
    """Runs one scenario on one device and returns a :class:`ScenarioResult`."""

    #: On a virtual device, an open window is walked in slices this long at most, so an
    #: expectation passes close to when its record appears (as it would on a phone).
    SLICE_MS = 60_000

    def __init__(
        self,
        scenario: m.Scenario,
        device: Device,
        app: AppUnderTest | None = None,
        artifacts_dir: Path | None = None,
        observer: RunObserver | None = None,
        ledger: DeviceLedger | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.scenario = scenario
        self._settings = settings  # None: this process's environment, read when first needed
        self.device = device
        self.app = app or AppUnderTest(device.platform)
        self.obs = observer or RunObserver()
        loc = scenario.location
        self.result = ScenarioResult(
            name=scenario.name,
            file=str(loc.file) if loc else "",
            line=loc.line if loc else 0,
            platform=device.platform,
            description=scenario.description or "",
        )
        self.artifacts = ArtifactWriter(self.result, artifacts_dir)
        self.journal: LogReader | None = None
        self._guards: list[ex.Check] = []
        self.engine: ex.ExpectationEngine | None = None
        #: the ledger writes down what the run is about to change (None: a device that dies with the run)
        self.guard = StateGuard(device, self.app.ids, ledger, self.result.location)
        self.ctx = _Ctx()
        self._virtual = False
        self._metrics: MetricReader | None = None
        self._step_index = 0
        self._network: ScenarioNetwork | None = None

    # ----------------------------------------------------------------- RunContext
    @property
    def anchor_ns(self) -> int:
        return self.ctx.anchor_ns

    @anchor_ns.setter
    def anchor_ns(self, value: int) -> None:
        self.ctx.anchor_ns = value

    @property
    def scenario_timeout_ms(self) -> int | None:
        return self.scenario.timeout

    def barrier(self, what: str) -> int:
        return self._barrier(what)

    def let_time_pass(self, ms: int, what: str, until: Callable[[], bool] | None = None) -> None:
        self._let_time_pass(ms, what, until)

    def evaluate(
        self, step: Expect, anchor_ns: int, end_ns: int | None, what: str, closes_at: int | None = None
    ) -> None:
        self._evaluate(step, anchor_ns, end_ns, what, closes_at)

    def save_artifact(self, name: str, data: bytes) -> Path:
        return self.artifacts.save(name, data)

    def measure(self, name: str) -> Measurement:
        assert self._metrics is not None, "metrics start with the scenario"
        return self._metrics.measure(name)

    @property
    def network(self) -> ScenarioNetwork:
        if self._network is None:
            settings = self._settings or Settings.from_environment()
            self._network = ScenarioNetwork(self._inject, lambda: shared_proxy(settings.proxy_confdir))
        return self._network

    def _inject(self, record: LogRecord) -> None:
        """A request the proxy saw, into the journal (on the proxy's thread)."""
        if self.journal is not None:
            self.journal.inject(record)

    def record_metric(self, reading: Measurement, bound: Comparison | None) -> None:
        ok = None if bound is None or reading.value is None else bound.ok(reading.value)
        self.result.metrics.append(MetricReading(
            step=self._step_index, name=reading.name, value=reading.value, unit=reading.spec.unit,
            source=reading.source, reason=reading.reason, bound=str(bound) if bound is not None else "",
            ok=ok, shown=reading.spec.format(reading.value) if reading.value is not None else "",
        ))
        if self.obs.on_note:
            self.obs.on_note(f"{reading.name}: {reading.text()}")

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
                [load_vocabulary(name) for name in library_vocabularies(self.app.library, device.platform)]
            )
            self.engine = ex.ExpectationEngine(vocab)
            if self._virtual:
                # A virtual device is shared by the scenarios of a run: start each one from a
                # freshly installed app, as a phone in a farm would be prepared. (Before the
                # journal: on iOS its log filter names the installed app's executable.)
                device.fresh_app(self.app)
            self.journal = device.open_journal(self.engine, log_interest(self.scenario), self.app)
            start = self._barrier("scenario start")
            self.ctx.scenario_start_ns = self.ctx.anchor_ns = start
            self.ctx.anchor_seq = self.ctx.barrier_seq
            self.engine.origin_ns = start
            self.result.device_start_ms = start // NS
            with self.journal.lock:
                self._guards = [
                    self.engine.add(self._fail_fast_only(spec), start) for spec in self.scenario.fail_fast_on
                ]
            self._start_metrics()
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
        with interrupts.deferred(then_raise=False):  # a signal here must not skip the restore
            self._mark_restore()
        self._phase("finally", self.scenario.finally_, interruptible=False)
        with interrupts.deferred(then_raise=False):  # a signal now waits until the device is back
            self._finish_network()
            self.result.restored = self.guard.restore()
            self._finish()
        received = interrupts.received()
        if interrupted is None and received is not None:
            interrupted = Interrupted(received)
        if interrupted is not None:
            raise interrupted

    def _finish_network(self) -> None:
        """Server rules that matched no request fail the scenario: a typo in a host must not
        pass as a server that was never asked."""
        if self._network is None:
            return
        unmatched = self._network.finish()
        if not unmatched:
            return
        text = "\n".join(f"  {line}" for line in unmatched)
        if self.result.status == "passed":
            self.result.status = "failed"
            self.result.failure = f"server rules that matched no request:\n{text}"
        else:
            self.result.failure += f"\nalso, server rules that matched no request:\n{text}"

    def _start_metrics(self) -> None:
        """A scenario with ``metric:`` steps measures from its start: reset the OS's counters now."""
        names = {n for step in self.scenario.all_steps() if isinstance(step, Metric) for n in step.names()}
        if names:
            assert self.journal is not None
            self._metrics = self.device.metrics(self.app, self.journal)
            self._metrics.start(names)

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
        if self.journal is not None:
            if self.result.status != "passed":
                self.artifacts.failure_bundle(self.device, self.app, self.journal)
            else:
                self.artifacts.journal_only(self.journal)
        self._stop_journal()

    def _collect_states(self) -> None:
        """The state changes the device logged (Doze, screen, saver, the app's process), for the
        timeline; a log without such lines (the unified log) gives none, and its lanes come from
        the snapshots."""
        if self.journal is not None:
            self.result.states = state_changes(self.journal.all_records(), self.app.ident)

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
                summary=redaction.active().text(action_for(step).describe(step)),
                location=f"{loc.file}:{loc.line}" if loc else "",
            )
            self.result.steps.append(record)
            self._step_index = index
            if self.obs.on_step:
                self.obs.on_step(record)
            before = self.device.round_trips.copy()
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
                record.round_trips = self.device.round_trips.since(before)
                if self.obs.on_step_done:
                    self.obs.on_step_done(record)
                if interruptible:
                    raise
                continue
            record.round_trips = self.device.round_trips.since(before)
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
        action = action_for(step)
        touched = action.touched(step)
        changes = bool(touched) and action.available(self.device.platform)
        if changes and action.marks_start and self.guard.saved is None:
            # the guard's snapshot is the state at the step's marker: read in the marker's command
            self.device.snapshot_at_next_barrier(self.app.ids)
        if action.marks_start:
            start = self._barrier(record.summary)
            self.ctx.anchor_ns, self.ctx.anchor_seq = start, self.ctx.barrier_seq
            record.device_start_ms = start // NS
        if changes and self.guard.before(touched):  # before the step changes anything
            self.result.start_state = self.guard.saved_dict()
        if not record.device_start_ms:
            record.device_start_ms = self._device_now_ns() // NS
        self.ctx.window = None
        try:
            action.execute(step, self)
            if touched:
                # the state as the step left it: the timeline's lanes, and the live view's note
                after = self.device.snapshot(self.app.ids)
                record.state = after.as_dict()
                if self.obs.on_note:
                    self.obs.on_note(after.summary())
            if self._guards:
                if action.marks_start:
                    self._barrier(f"after {record.summary}")
                self._check_scenario_guards()
            if record.phase != "finally":
                self._check_budget()
        finally:
            # also when the step failed: its real device time, and the window it judged
            record.device_end_ms = self._device_now_ns() // NS
            if self.ctx.window is not None:
                start, end = self.ctx.window
                record.window_start_ms = start // NS
                record.window_end_ms = (end if end is not None else self._device_now_ns()) // NS

    # ----------------------------------------------------------------- time
    def _barrier(self, what: str, timeout: float = 30.0) -> int:
        """A marker through the journal; its device time (ns) once the reader has it.

        Only an id: a marker that quoted the step would match the step's own ``message:``.
        """
        assert self.journal is not None and self.engine is not None
        rec = self.journal.barrier(f"bgtest-step-{uuid.uuid4().hex[:12]}", timeout=timeout)
        with self.journal.lock:
            self.engine.advance_to(rec.time_ns)
        self.ctx.barrier_seq = rec.seq
        return rec.time_ns

    def _device_now_ns(self) -> int:
        return self.engine.now_ns if self.engine is not None else 0

    def _let_time_pass(
        self, ms: int, what: str, until: Callable[[], bool] | None = None, only_fails_early: bool = False
    ) -> None:
        """Let ``ms`` of device time pass: a clock advance where the device's clock moves only
        when asked (a manual virtual clock), else real waiting — on a phone, and on a virtual
        device whose clock is realtime or scaled (advancing that one would jump its clock).

        With ``until``, time passes in slices so a decided expectation stops the wait (a virtual
        device that can tell runs on through slices with nothing logged in them: they decide
        nothing; ``Device.advance`` says how far it went); one that can only end early by failing
        (``never``) is walked in one advance on a manual clock: the records come in the same
        order and decide the same way, in two round trips instead of two per slice (a phone
        still waits in slices, to report a failure early)."""
        rate = self.device.clock_rate()
        done = 0
        sliced = until is not None and not (only_fails_early and rate is None)
        slice_ms = max(self.SLICE_MS, ms // 40) if sliced else ms
        while done < ms:
            step = min(slice_ms, ms - done)
            if rate is None:
                # the device may run on through slices with nothing in them (nothing to decide)
                step = self.device.advance(ms - done, slice_ms if sliced else None)
            else:
                self._sleep_real(step, done, ms, what, rate)
            done += step
            self._barrier(what)
            if until is not None and until():
                return

    def _sleep_real(self, step_ms: int, done: int, total: int, what: str, rate: float) -> None:
        """Wait while the device's clock covers ``step_ms`` (at ``rate`` device s per wall s),
        telling the live view how far it got, about once a second."""
        start = time.monotonic()
        end = start + step_ms / rate / 1000
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 1.0))
            if self.obs.on_wait:
                covered = min(step_ms, int((time.monotonic() - start) * rate * 1000))
                self.obs.on_wait(done + covered, total, what)

    def _ask_diagnostics(self) -> int | None:
        diagnostics = ACTIONS["diagnostics"]
        if not (diagnostics.available(self.device.platform) and self.app.ident):
            return None
        try:
            diagnostics.execute(Diagnostics(), self)
            return self._barrier("diagnostics")
        except BgtestError:
            return None  # the failure message says diagnostics were not available

    def _network_summary(self) -> list[str]:
        if self._network is None or not self._network.active or self.engine is None:
            return []
        return what_the_network_did(self._network.records(), self.engine.rel)

    def _state_summary(self) -> str:
        try:
            return self.device.snapshot(self.app.ids).summary()
        except BgtestError:
            return "unknown (device unreachable)"
