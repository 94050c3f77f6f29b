"""The scenario language as pydantic models — what the runner receives after loading.

Each step is one model with a ``kind`` (the action's name), typed parameters (durations already
in milliseconds, on/off already booleans, counts already :class:`Comparison`) and its source
``location``. People write steps as one-key mappings (``- doze: deep``) or bare words
(``- stop_app``); ``_unwrap`` turns those compact forms into the model's fields, so the models
stay the only place that knows what is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    Tag,
    WithJsonSchema,
    model_validator,
)

from harness.durations import DurationError, format_duration_ms, parse_duration_ms
from harness.profiles import PROFILES, profile_names
from harness.report.paths import is_safe_name, safe_name
from harness.scenario.platforms import LIBRARIES, PLATFORMS
from harness.scenario.values import Comparison, LogMatch, Match, Regex, describe_expectation, is_glob
from harness.scenario.yamlmarks import Span

# --------------------------------------------------------------------------- value types


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("expected a duration such as 500ms, 30s, 15m, 2h, 1d")
    try:
        return parse_duration_ms(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None


_DURATION_RE = r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)\s*)+$|^\s*\d+(\.\d+)?\s*$"
Duration = Annotated[
    int,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": _DURATION_RE}, {"type": "number", "minimum": 0}],
            "description": "a duration: 500ms, 30s, 15m, 2h, 1d (a bare number is seconds)",
        }
    ),
]
"""A duration, written ``500ms``/``30s``/``15m``/``2h``/``1d``, held as milliseconds."""

_ON = {"on": True, "off": False, "true": True, "false": False, "enabled": True, "disabled": False}


def _onoff(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _ON:
        return _ON[value.strip().lower()]
    raise ValueError("expected on or off")


OnOff = Annotated[
    bool, BeforeValidator(_onoff), WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": ["on", "off"]}]})
]


def _cmp_schema(description: str, numbers: bool, pattern: str) -> dict[str, Any]:
    alts: list[dict[str, Any]] = [{"type": "string", "pattern": pattern}]
    if numbers:
        alts.insert(0, {"type": "integer", "minimum": 0})
    return {"anyOf": alts, "description": description}


_OP_RE = r"^\s*(>=|<=|==|!=|>|<|=)?\s*"
_cmp_serializer = PlainSerializer(lambda c: c.text or str(c), return_type=str)
Count = Annotated[
    Comparison,
    PlainValidator(Comparison.count),
    _cmp_serializer,
    WithJsonSchema(_cmp_schema('how many matches: 1, "0", ">= 3"', True, _OP_RE + r"[0-9]+\s*$")),
]
Rate = Annotated[
    Comparison,
    PlainValidator(Comparison.rate),
    _cmp_serializer,
    WithJsonSchema(
        _cmp_schema(
            'share of matched tasks that succeeded: ">= 95%"', False, _OP_RE + r"[0-9]+(\.[0-9]+)?\s*%\s*$"
        )
    ),
]
Latency = Annotated[
    Comparison,
    PlainValidator(Comparison.latency),
    _cmp_serializer,
    WithJsonSchema(
        _cmp_schema(
            'enqueued → succeeded bound: "<= 30s"', False, _OP_RE + r"([0-9]+(\.[0-9]+)?(ms|s|m|h|d)?)+\s*$"
        )
    ),
]

Platform = Literal["android", "ios"]
Library = Literal[
    "androidx.work", "native_workmanager", "flutter_workmanager", "bgtaskscheduler", "kmpworkmanager"
]
assert set(Library.__args__) == set(LIBRARIES) and set(Platform.__args__) == set(PLATFORMS)  # type: ignore[attr-defined]

_PACKAGE = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$"
_BUNDLE = r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
Scalar = str | int | float | bool


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- steps


class StepBase(_Model):
    """Common to every step: ``kind`` names the action; ``location`` is where it was written."""

    kind: ClassVar[str]
    primary: ClassVar[str | None] = None
    """The field a compact scalar fills (``doze: deep`` → ``mode``)."""

    label: str | None = Field(None, description="a name for this step in reports")
    _location: Span | None = PrivateAttr(None)
    _field_spans: dict[str, Span] = PrivateAttr(default_factory=dict)

    @property
    def location(self) -> Span | None:
        """``file, line, col`` of the step in its source (an included file for included steps)."""
        return self._location

    def field_location(self, name: str) -> Span | None:
        """Where one parameter was written (falls back to the step)."""
        return self._field_spans.get(name, self._location)

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if isinstance(data, str) and data == cls.kind:
            return cls._normalize({})
        if isinstance(data, dict) and len(data) == 1 and cls.kind in data:
            body = data[cls.kind]
            if body is None:
                return cls._normalize({})
            if isinstance(body, dict):
                return cls._normalize(body)
            return cls._normalize(cls._compact(body))
        return cls._normalize(data)

    @classmethod
    def _normalize(cls, params: Any) -> Any:
        """Last touch on the parameters before field validation (subclasses adjust shapes)."""
        return params

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if cls.primary is None:
            raise ValueError(f"'{cls.kind}' takes no value; write '- {cls.kind}' or a mapping of options")
        return {cls.primary: value}


class Install(StepBase):
    kind: ClassVar[str] = "install"
    primary: ClassVar[str | None] = "path"
    path: str | None = Field(None, description="APK / .app to install; default: the app model's build")


class Uninstall(StepBase):
    kind: ClassVar[str] = "uninstall"
    primary: ClassVar[str | None] = "package"
    package: str | None = Field(None, description="default: the scenario's app")


class ClearData(StepBase):
    kind: ClassVar[str] = "clear_data"
    primary: ClassVar[str | None] = "package"
    package: str | None = None


class Launch(StepBase):
    kind: ClassVar[str] = "launch"
    primary: ClassVar[str | None] = "deep_link"
    activity: str | None = Field(None, description="component, e.g. .MainActivity (Android)")
    deep_link: str | None = Field(None, description="URL the app handles, e.g. myapp://enqueue/sync")
    extras: dict[str, Scalar] | None = Field(None, description="intent extras (Android)")
    arguments: list[str] | None = Field(None, description="launch arguments (iOS)")
    env: dict[str, str] | None = Field(None, description="launch environment (iOS, SIMCTL_CHILD_*)")


class Broadcast(StepBase):
    kind: ClassVar[str] = "broadcast"
    primary: ClassVar[str | None] = "action"
    action: str = Field(description="intent action")
    extras: dict[str, Scalar] | None = None
    component: str | None = Field(None, description="receiver component, e.g. .SyncReceiver")
    include_stopped: bool = Field(False, description="also reach a force-stopped app")


class OpenUrl(StepBase):
    kind: ClassVar[str] = "open_url"
    primary: ClassVar[str | None] = "url"
    url: str


class Push(StepBase):
    kind: ClassVar[str] = "push"
    primary: ClassVar[str | None] = "payload"
    payload: dict[str, Any] = Field(description="APNs payload; must contain 'aps'")

    @model_validator(mode="after")
    def _aps(self) -> Push:
        if "aps" not in self.payload:
            raise ValueError("a push payload must contain an 'aps' key (simctl push refuses it otherwise)")
        return self


class StopApp(StepBase):
    kind: ClassVar[str] = "stop_app"
    primary: ClassVar[str | None] = "package"
    package: str | None = None


class Kill(StepBase):
    kind: ClassVar[str] = "kill"
    primary: ClassVar[str | None] = "package"
    package: str | None = None


class Background(StepBase):
    kind: ClassVar[str] = "background"


class Reboot(StepBase):
    kind: ClassVar[str] = "reboot"
    timeout: Duration | None = Field(None, description="how long to wait for the boot")


def _doze_off(value: Any) -> Any:
    """``doze: false`` is ``doze: off``: a YAML 1.1 editor reads ``off`` as false, so both mean it."""
    return "off" if value is False else value


class Doze(StepBase):
    kind: ClassVar[str] = "doze"
    primary: ClassVar[str | None] = "mode"
    mode: Annotated[Literal["deep", "light", "off", "step"], BeforeValidator(_doze_off)]


class Battery(StepBase):
    kind: ClassVar[str] = "battery"
    primary: ClassVar[str | None] = "state"
    state: Literal["unplugged", "charging", "reset"] | None = None
    level: int | None = Field(None, ge=0, le=100, description="battery percentage")

    @model_validator(mode="after")
    def _something(self) -> Battery:
        if self.state is None and self.level is None:
            raise ValueError("battery needs a state (unplugged, charging, reset) or a level: N")
        return self


class BatterySaver(StepBase):
    kind: ClassVar[str] = "battery_saver"
    primary: ClassVar[str | None] = "enabled"
    enabled: OnOff


class LowPower(BatterySaver):
    kind: ClassVar[str] = "low_power"


_NETWORK_PRESETS = {
    "offline": {"wifi": False, "data": False},
    "online": {"wifi": True, "data": True, "airplane": False},
    "airplane": {"airplane": True},
}


class Network(StepBase):
    kind: ClassVar[str] = "network"
    primary: ClassVar[str | None] = "preset"
    wifi: OnOff | None = None
    data: OnOff | None = None
    airplane: OnOff | None = None

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str) and value in _NETWORK_PRESETS:
            return dict(_NETWORK_PRESETS[value])
        raise ValueError(
            f"not a network preset: {value!r}; write offline, online, airplane, "
            "or a mapping such as {wifi: off, data: on}"
        )

    @model_validator(mode="after")
    def _something(self) -> Network:
        if self.wifi is None and self.data is None and self.airplane is None:
            raise ValueError("network needs wifi, data or airplane (or offline / online / airplane)")
        return self


class StandbyBucket(StepBase):
    kind: ClassVar[str] = "standby_bucket"
    primary: ClassVar[str | None] = "bucket"
    bucket: Literal["active", "working_set", "frequent", "rare", "restricted", "never"]
    package: str | None = None


class Screen(StepBase):
    kind: ClassVar[str] = "screen"
    primary: ClassVar[str | None] = "on"
    on: OnOff


def _one_task(value: str) -> str:
    if is_glob(value):
        raise ValueError(f"this action works on one task, and {value!r} is a glob: name the task")
    return value


OneTask = Annotated[str, AfterValidator(_one_task)]


class RunTask(StepBase):
    kind: ClassVar[str] = "run_task"
    primary: ClassVar[str | None] = "task"
    task: OneTask = Field(description="task id / unique work name / BGTask identifier")
    hook: str | None = Field(None, description="iOS Simulator: the app hook (URL) that runs the task")


class ExpireTask(StepBase):
    kind: ClassVar[str] = "expire_task"
    primary: ClassVar[str | None] = "task"
    task: OneTask


class Diagnostics(StepBase):
    kind: ClassVar[str] = "diagnostics"


class Shell(StepBase):
    kind: ClassVar[str] = "shell"
    primary: ClassVar[str | None] = "argv"
    argv: list[str] = Field(min_length=1, description="program and arguments, each quoted for you")
    check: bool = Field(True, description="fail the step on a non-zero exit status")

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                f"shell takes an argv list, not a command line; write shell: {value.split()!r}".replace(
                    "'", '"'
                )
            )
        return {"argv": value}


CaptureWhat = Literal[
    "screenshot", "journal", "dumpsys_jobscheduler", "dumpsys_deviceidle", "dumpsys_battery", "diagnostics",
    "dumpsys_meminfo", "dumpsys_procstats", "dumpsys_batterystats",
]


def _artifact_name(value: str) -> str:
    if not is_safe_name(value):
        raise ValueError(
            f"an artifact name is a plain file name (letters, digits, '.', '_', '-'), not {value!r}: "
            f"it is written inside the report folder; for example {safe_name(value)!r}"
        )
    return value


ArtifactName = Annotated[
    str,
    AfterValidator(_artifact_name),
    WithJsonSchema({"type": "string", "pattern": r"^[A-Za-z0-9_](?!.*\.\.)[A-Za-z0-9._-]{0,99}$"}),
]


class Capture(StepBase):
    kind: ClassVar[str] = "capture"
    primary: ClassVar[str | None] = "what"
    what: CaptureWhat
    name: ArtifactName | None = Field(
        None, description="artifact file name in the report folder; default: what"
    )


def _one_or_many(value: Any) -> Any:
    """``platforms: ios`` means ``[ios]``: a single word where a list is expected."""
    return [value] if isinstance(value, str) else value


MemoryBound = Annotated[
    Comparison,
    PlainValidator(Comparison.size),
    _cmp_serializer,
    WithJsonSchema(_cmp_schema('peak PSS of the app\'s process, e.g. "<= 50MB"', False,
                               _OP_RE + r"[0-9]+(\.[0-9]+)?\s*([kKmMgG][bB]?)?\s*$")),
]
BatteryBound = Annotated[
    Comparison,
    PlainValidator(Comparison.per_day),
    _cmp_serializer,
    WithJsonSchema(_cmp_schema('the app\'s battery use per day on battery, e.g. "< 2%/day"', False,
                               _OP_RE + r"[0-9]+(\.[0-9]+)?\s*%\s*(/\s*day|per\s+day)?\s*$")),
]
QueueBound = Annotated[
    Comparison,
    PlainValidator(Comparison.depth),
    _cmp_serializer,
    WithJsonSchema(_cmp_schema('work waiting to run, e.g. "< 10"', True, _OP_RE + r"[0-9]+\s*$")),
]
MetricName = Literal["memory", "battery", "queue"]


class Metric(StepBase):
    """Measure the app from the device (never from the app): memory, battery drain, queue depth.

    With a bound the step fails when the reading misses it; a metric the device cannot give is
    reported "not measurable here" with the reason and does not fail the step (docs/metrics.md).
    """

    kind: ClassVar[str] = "metric"
    primary: ClassVar[str | None] = "measure"
    measure: Annotated[list[MetricName], BeforeValidator(_one_or_many)] = Field(
        default_factory=list, description="metrics to read and report without a bound: memory, battery, queue"
    )
    memory: MemoryBound | None = Field(
        None, description='peak PSS of the app\'s process since the scenario started, e.g. "<= 50MB"')
    battery: BatteryBound | None = Field(
        None, description='the app\'s drain over the scenario, per day on battery, e.g. "< 2%/day"')
    queue: QueueBound | None = Field(None, description='work waiting to run, e.g. "< 10"')

    @model_validator(mode="after")
    def _something(self) -> Metric:
        if not self.names():
            raise ValueError("metric needs memory:, battery: or queue: (or a list of names to read)")
        doubled = [n for n in self.measure if getattr(self, n) is not None]
        if doubled:
            raise ValueError(f"{doubled[0]} is both measured and bounded; keep the bound")
        return self

    def names(self) -> list[str]:
        """Every metric the step reads, in a fixed order."""
        order = ("memory", "battery", "queue")
        return [n for n in order if n in self.measure or getattr(self, n) is not None]

    def bound(self, name: str) -> Comparison | None:
        return getattr(self, name)  # type: ignore[no-any-return]


class Expect(Match, StepBase):
    """An expectation over the log journal, in device time."""

    kind: ClassVar[str] = "expect"
    primary: ClassVar[str | None] = "task"
    within: Duration | None = Field(None, description="how long to wait for it (device time)")
    count: Count | None = Field(None, description='how many matches: 1, "0", ">= 3" (default ">= 1")')
    never: bool = Field(False, description="no match may appear during `within`")
    in_order: list[Match] | None = Field(None, description="these matches, in this order")
    latency: Latency | None = Field(None, description='enqueued → succeeded, e.g. "<= 30s"')
    success_rate: Rate | None = Field(None, description='share of `task` tasks that succeeded, e.g. ">= 95%"')
    fail_fast_on: list[LogMatch] | None = Field(None, description="records that fail the step at once")

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.split()
            if len(parts) == 2:
                return {"task": parts[0], "state": parts[1]}
        raise ValueError(
            f"not a compact expectation: {value!r}; write 'TASK STATE' "
            "(e.g. periodic-sync succeeded) or a mapping"
        )

    @model_validator(mode="after")
    def _coherent(self) -> Expect:
        """Every field acts, or the combination is refused here: one kind of check per expect."""
        if not (self.is_event or self.is_log or self.in_order):
            raise ValueError(
                "expect needs something to match: task + state, a log field (tag, message, …) or in_order"
            )
        kinds = [
            name
            for name, on in (
                ("in_order", self.in_order is not None),
                ("latency", self.latency is not None),
                ("success_rate", self.success_rate is not None),
                ("count", self.count is not None),
                ("never", self.never),
            )
            if on
        ]
        if len(kinds) > 1:
            if kinds == ["count", "never"]:
                raise ValueError("never: true already means count 0; remove one of them")
            raise ValueError(
                f"one expect checks one thing, this one asks for {' and '.join(kinds)}; "
                "write one expect per check"
            )
        if self.in_order is not None and (self.is_event or self.is_log):
            raise ValueError(
                "in_order lists what it matches itself; move task/state or the log fields into its entries"
            )
        if (self.latency or self.success_rate) and self.task is None:
            raise ValueError("latency and success_rate need the task (or task glob) they measure")
        if self.success_rate is not None and self.state not in (None, "succeeded"):
            raise ValueError(
                f"success_rate is the share of tasks that succeeded; state: {self.state} cannot change "
                "that (remove it, or write state: succeeded)"
            )
        if self.latency is not None and self.state in ("enqueued",):
            raise ValueError(
                "latency runs from enqueued to state (default succeeded); state: enqueued measures nothing"
            )
        if self.task is not None and self.state is None and not (self.latency or self.success_rate):
            raise ValueError(f"task {self.task!r}: say which state to look for, e.g. {self.task} succeeded")
        if self.never and self.within is None:
            raise ValueError("never: true needs a window: add within: <duration>")
        return self

    @property
    def match(self) -> Match | None:
        """The task event or log record this expect counts (``None`` for ``in_order``)."""
        if not (self.is_event or self.is_log):
            return None
        return Match.model_construct(**{name: getattr(self, name) for name in Match.model_fields})

    @property
    def latency_states(self) -> tuple[str, str]:
        """``latency`` runs from ``enqueued`` to ``state`` (default ``succeeded``)."""
        return ("enqueued", self.state or "succeeded")

    def describe(self) -> str:
        """One human line for the console, JUnit and HTML (``expect sync succeeded, within 2h``)."""
        return "expect " + describe_expectation(
            self.match,
            count=self.count,
            never=self.never,
            in_order=self.in_order or (),
            latency=self.latency,
            latency_states=self.latency_states,
            success_rate=self.success_rate,
            fail_fast_on=self.fail_fast_on or (),
            within_ms=self.within,
        )


class Wait(StepBase):
    kind: ClassVar[str] = "wait"
    primary: ClassVar[str | None] = "duration"
    duration: Duration | None = Field(None, description="device time to let pass")
    until: Expect | None = Field(None, description="an expectation; the wait ends when it holds")
    timeout: Duration | None = Field(None, description="longest wait for until: (default: the scenario's)")

    @classmethod
    def _normalize(cls, params: Any) -> Any:
        if isinstance(params, dict) and isinstance(params.get("until"), str):  # until: sync succeeded
            params = dict(params)
            params["until"] = {"expect": params["until"]}
        return params

    @model_validator(mode="after")
    def _one(self) -> Wait:
        if (self.duration is None) == (self.until is None):
            raise ValueError("wait needs either a duration (wait: 2h) or until: <expectation>, not both")
        if self.timeout is not None and self.until is None:
            raise ValueError("timeout applies to wait until:; for a plain wait write the duration")
        if self.until is not None and self.until.within is not None:
            raise ValueError(
                "a wait's window is its timeout: write wait: {until: …, timeout: 1h}, not within"
            )
        if self.until is not None and self.until.label is not None:
            raise ValueError("label names the wait step: put it next to until:, not inside it")
        return self

    def describe(self) -> str:
        """One human line: ``wait: 2h`` or ``wait until sync succeeded (at most 1h)``."""
        if self.duration is not None:
            return f"wait: {format_duration_ms(self.duration)}"
        assert self.until is not None
        text = self.until.describe().removeprefix("expect ")
        limit = f" (at most {format_duration_ms(self.timeout)})" if self.timeout else ""
        return f"wait until {text}{limit}"


STEP_MODELS: dict[str, type[StepBase]] = {
    m.kind: m
    for m in (
        Install,
        Uninstall,
        ClearData,
        Launch,
        Broadcast,
        OpenUrl,
        Push,
        StopApp,
        Kill,
        Background,
        Reboot,
        Doze,
        Battery,
        BatterySaver,
        LowPower,
        Network,
        StandbyBucket,
        Screen,
        RunTask,
        ExpireTask,
        Diagnostics,
        Wait,
        Shell,
        Capture,
        Expect,
        Metric,
    )
}


def step_kind(value: Any) -> str | None:
    """The action a raw step names: the bare word or the single key (``None`` when unclear)."""
    if isinstance(value, StepBase):
        return value.kind
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if isinstance(key, str) else None
    return None


Step = Annotated[
    Union[tuple(Annotated[m, Tag(k)] for k, m in STEP_MODELS.items())],  # type: ignore[misc]  # noqa: UP007
    Discriminator(step_kind, custom_error_type="step", custom_error_message="not a known step"),
]

# --------------------------------------------------------------------------- scenario


class App(_Model):
    """The app under test: ids plus the library whose log vocabulary it speaks, or an app model."""

    model: str | None = Field(None, description="app model name in fixtures/apps/ (e.g. nwm_demo)")
    package: Annotated[str, Field(pattern=_PACKAGE)] | None = Field(None, description="Android package")
    bundle_id: Annotated[str, Field(pattern=_BUNDLE)] | None = Field(None, description="iOS bundle id")
    library: Library | None = Field(None, description="background-work library (log vocabulary)")
    _model_path: Path | None = PrivateAttr(None)

    @property
    def model_path(self) -> Path | None:
        """The resolved ``fixtures/apps/<model>.yaml`` (set by the loader)."""
        return self._model_path

    @model_validator(mode="after")
    def _identified(self) -> App:
        if self.model is None and self.package is None and self.bundle_id is None:
            raise ValueError("app needs a package (Android), a bundle_id (iOS), or model: <name>")
        if self.model is None and self.library is None:
            raise ValueError("app needs the library whose logs it writes: " + ", ".join(LIBRARIES))
        return self


def _known_profile(name: str) -> str:
    if name not in PROFILES:
        raise ValueError(f"unknown device profile {name!r}; known: {', '.join(profile_names())}")
    return name


ProfileName = Annotated[
    str,
    AfterValidator(_known_profile),
    WithJsonSchema({"enum": profile_names(), "description": "a device profile (harness/profiles.py)"}),
]


class DeviceSettings(_Model):
    """The device the scenario wants: on a virtual device this is set, on a phone it cannot be."""

    profile: Annotated[list[ProfileName], BeforeValidator(_one_or_many)] | None = Field(
        None,
        description="device profile of the virtual device, at most one per platform (android-go: 1 GB "
        "low-RAM Android 10; android-legacy: Android 8.1; iphone-7: iOS 15, 2 GB); a phone is what "
        "it is: use requires:",
    )

    @model_validator(mode="after")
    def _one_per_platform(self) -> DeviceSettings:
        seen: dict[str, str] = {}
        for name in self.profile or ():
            platform = PROFILES[name].platform
            if platform in seen:
                raise ValueError(f"two {platform} profiles ({seen[platform]}, {name}); a device has one")
            seen[platform] = name
        return self

    def profile_for(self, platform: str) -> str | None:
        """The profile asked for ``platform``'s virtual device (None: the default one)."""
        return next((n for n in self.profile or () if PROFILES[n].platform == platform), None)


class Requires(_Model):
    """What a device must be for the scenario to mean something; otherwise it is skipped, with why."""

    profile: Annotated[list[ProfileName], BeforeValidator(_one_or_many)] | None = Field(
        None, description="one of these profiles (a phone's is read from its SDK, RAM and ro.config.low_ram)"
    )
    low_ram: bool | None = Field(None, description="ro.config.low_ram (Android Go) must be this")
    sdk: Annotated[Comparison, PlainValidator(Comparison.count), _cmp_serializer,
                   WithJsonSchema(_cmp_schema('Android API level: ">= 28", "< 26"', True,
                                              _OP_RE + r"[0-9]+\s*$"))] | None = Field(
        None, description='Android API level, e.g. "< 28" (before standby buckets)'
    )

    @model_validator(mode="after")
    def _something(self) -> Requires:
        if self.profile is None and self.low_ram is None and self.sdk is None:
            raise ValueError("requires: needs profile, low_ram or sdk")
        return self


DEFAULT_MAX_WAIT_MS = 30 * 86_400_000
"""Waits longer than 30 days are refused unless the scenario raises ``max_wait``: on a phone a
wait is real time, and ``wait: 10000000d`` is a typo, not a plan."""


class Scenario(_Model):
    """One YAML document: a named scenario for one or more platforms."""

    name: str = Field(min_length=1, description="what the scenario proves, in a sentence")
    description: str | None = None
    tags: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(
        default_factory=list, description="for selection with -k"
    )
    platforms: Annotated[list[Platform], BeforeValidator(_one_or_many)] = Field(
        default_factory=lambda: ["android"], min_length=1, description="default: [android]"
    )
    app: App | None = None
    device: DeviceSettings | None = Field(None, description="the virtual device to run on (profile:)")
    requires: Requires | None = Field(
        None, description="run only on a device that is this (profile, low_ram, sdk); skipped otherwise"
    )
    vars: dict[str, Scalar] = Field(default_factory=dict, description="values for ${name} in strings")
    redact: list[Regex] = Field(
        default_factory=list,
        description="regular expressions masked in every report, artifact and console line (the first "
        "group if there is one, else the whole match); added to bgtest's own rules and the defaults'",
    )
    timeout: Duration | None = Field(None, description="device-time budget for the whole scenario")
    max_wait: Duration | None = Field(
        None,
        description="the longest wait, window or timeout this scenario may ask for "
        f"(default {format_duration_ms(DEFAULT_MAX_WAIT_MS)}; a longer one is refused as a likely typo)",
    )
    fail_fast_on: list[LogMatch] = Field(
        default_factory=list, description="records that fail the scenario at once (e.g. FATAL EXCEPTION)"
    )
    setup: list[Step] = Field(default_factory=list, description="steps before the test steps")
    steps: list[Step] = Field(min_length=1, description="the test: actions and expectations, in order")
    finally_: list[Step] = Field(
        default_factory=list, alias="finally", description="steps that always run, even after a failure"
    )
    _location: Span | None = PrivateAttr(None)

    @property
    def location(self) -> Span | None:
        """Where the document starts (file, line, col)."""
        return self._location

    @property
    def file(self) -> str | None:
        return self._location.file if self._location else None

    @model_validator(mode="after")
    def _profiles_fit_platforms(self) -> Scenario:
        for name in (self.device.profile if self.device else None) or ():
            if PROFILES[name].platform not in self.platforms:
                raise ValueError(
                    f"device profile {name} is for {PROFILES[name].platform}; this scenario runs on "
                    f"{', '.join(self.platforms)}")
        return self

    def all_steps(self) -> list[StepBase]:
        return [*self.setup, *self.steps, *self.finally_]
