"""The app-model format: what a virtual app is, what its debug hooks enqueue, how its workers behave.

An app model (``fixtures/apps/*.yaml``) stands in for an APK on the virtual devices. It is data, so
a scenario author can describe "an app that retries twice then succeeds" without writing code,
and the same file drives the Android PackageManager / ActivityManager, the WorkManager runtime
and the virtual iPhone. Only the format lives here (what the fields mean, how a hook's params
fill its templates); what a device does with an app stays in ``harness/sim``.

Durations are written as people write them (``30s``, ``15m``, ``1h``; a bare number is seconds,
as everywhere in bgtest) and stored as integer milliseconds (attributes end in ``_ms``).
Loading with ``file:line`` errors is :mod:`harness.apps.loader`; the JSON Schema is
:mod:`harness.apps.schema`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from ..sizes import SizeError, parse_size_kb
from .links import (
    MAX_REPEAT,
    HookAction,
    convert_param,
    find_hook,
    link_captures,
    match_deep_link,
    resolve_hook,
)
from .links import duration_value as _duration
from .rules import http_outcome, scripted_outcome

_PACKAGE_RE = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$"


def _size(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, str)):
        try:
            return parse_size_kb(value)
        except SizeError as exc:
            raise ValueError(str(exc)) from None
    return value


#: A memory size in the YAML (``45MB``), an int of kibibytes in Python.
SizeKb = Annotated[
    int,
    BeforeValidator(_size),
    Field(ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([kKmMgG][bB]?)?\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a memory size: 512KB, 45MB, 1.5GB (a bare number is MB)",
        }
    ),
]


#: A duration in the YAML (``30s``), an int of milliseconds in Python.
DurationMs = Annotated[
    int,
    BeforeValidator(_duration),
    Field(ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d))+\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 500ms, 30s, 15m, 1h, 1d (a bare number is seconds)",
        }
    ),
]


def _one_or_many(schema: dict[str, Any]) -> None:
    """JSON Schema of a list field that also takes a single item (``tags: sync``), as the loader does."""
    array = dict(schema)
    for key in ("default", "description", "title"):
        array.pop(key, None)
    item = array.get("items", {})
    for key in list(schema):
        if key not in ("default", "description", "title"):
            del schema[key]
    schema["anyOf"] = [item, array]


class _Model(BaseModel):
    # defer_build: a class builds its validator when something first validates with it, not when
    # it is defined — a process that only unpickles models (the xcrun stand-in, sim/ios/installed.py)
    # never pays for building them
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)


def _dur(alias: str, default: Any, description: str) -> Any:
    return Field(
        default,
        alias=alias,
        validate_default=default is not None,
        description=description + " — a duration: 500ms, 30s, 15m, 1h",
    )


# --------------------------------------------------------------------------- work
NetworkType = Literal["not_required", "connected", "unmetered", "not_roaming", "metered"]
UniquePolicy = Literal["keep", "replace", "append", "append_or_replace", "update"]
Outcome = Literal["success", "retry", "failure", "crash", "hang"]


def _status_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: A status (``429``) or a status class (``5xx``) in ``retry_on``.
RetryStatus = Annotated[
    str,
    BeforeValidator(_status_text),
    Field(pattern=r"^([1-5]xx|[1-5][0-9][0-9])$", description="a status class (5xx, 4xx) or a status (429)"),
]


class Constraints(_Model):
    """WorkManager ``Constraints``: what must hold before the work may run (JobScheduler enforces them)."""

    network: NetworkType = Field(
        "not_required", description="NetworkType: not_required, connected, unmetered, not_roaming or metered"
    )
    charging: bool = Field(False, description="setRequiresCharging")
    battery_not_low: bool = Field(False, description="setRequiresBatteryNotLow")
    storage_not_low: bool = Field(False, description="setRequiresStorageNotLow")
    device_idle: bool = Field(False, description="setRequiresDeviceIdle")


class Backoff(_Model):
    """``setBackoffCriteria``; WorkManager clamps the delay to 10 s – 5 h (the runtime, with warnings)."""

    policy: Literal["linear", "exponential"] = Field("exponential", description="BackoffPolicy")
    delay_ms: DurationMs = _dur("delay", "30s", "initial backoff delay (WorkManager default 30s)")


class Unique(_Model):
    """``enqueueUniqueWork`` / ``enqueueUniquePeriodicWork``: the unique name and the ExistingWorkPolicy."""

    name: str = Field(min_length=1, description="unique work name; may use {param} from the hook")
    policy: UniquePolicy = Field(
        "keep",
        description="ExistingWorkPolicy / ExistingPeriodicWorkPolicy "
        "(periodic work accepts keep, replace and update)",
    )


class Expedited(_Model):
    """``setExpedited(OutOfQuotaPolicy)`` — runs at once, charged against the app's expedited quota."""

    out_of_quota: Literal["run_as_non_expedited", "drop"] = Field(
        "run_as_non_expedited",
        description="RUN_AS_NON_EXPEDITED_WORK_REQUEST or DROP_WORK_REQUEST when the quota is spent",
    )


class Work(_Model):
    """One WorkRequest the app can enqueue, by name (the key under ``work:``)."""

    kind: Literal["one_time", "periodic"] = Field(
        "one_time", description="OneTimeWorkRequest or PeriodicWorkRequest"
    )
    worker: str = Field(description="name of a worker under 'workers:'")
    interval_ms: DurationMs | None = _dur(
        "interval", None, "repeat interval (periodic only; WorkManager clamps it to at least 15m)"
    )
    flex_ms: DurationMs | None = _dur("flex", None, "flex interval (periodic only; at least 5m)")
    initial_delay_ms: DurationMs = _dur("initial_delay", "0s", "setInitialDelay")
    constraints: Constraints = Field(default_factory=Constraints)
    backoff: Backoff = Field(default_factory=Backoff)
    unique: Unique | None = Field(None, description="enqueue as unique work; absent = plain enqueue")
    tags: tuple[str, ...] = Field(
        (),
        description="addTag; the worker class name is added by WorkManager itself",
        json_schema_extra=_one_or_many,
    )
    expedited: Expedited | None = Field(None, description="setExpedited (one-time work without delay only)")
    input: dict[str, str | int | float | bool] = Field(default_factory=dict, description="input Data")
    then: tuple[str, ...] = Field(
        (),
        description="chain: names of one-time work run one after another after "
        "this one succeeds (WorkContinuation.then)",
        json_schema_extra=_one_or_many,
    )

    @field_validator("tags", "then", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class HttpCall(_Model):
    """An HTTP request a worker makes; without network it fails like an IOException does."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str = Field(min_length=1)
    status: int = Field(
        200, ge=100, le=599,
        description="status the server answers when the network is up and no proxy is set "
        "(with the device's http_proxy set, the request really goes through it and its answer counts)",
    )
    timeout_ms: DurationMs = _dur(
        "timeout", "30s", "the client's timeout for this call: an answer that takes longer (or never "
        "comes) fails it with a SocketTimeoutException")
    body_kb: SizeKb = Field(
        0, alias="body", description="size of the request body (an upload), e.g. 256KB; bandwidth "
        "rules charge it")


class Worker(_Model):
    """How a ListenableWorker behaves when it runs."""

    class_name: str = Field(
        alias="class", min_length=1, description="worker class name as WorkManager logs it"
    )
    duration_ms: DurationMs = _dur("duration", "1s", "how long one doWork() takes in device time")
    outcomes: tuple[Outcome, ...] = Field(
        ("success",),
        min_length=1,
        description="result per run attempt, the last one repeating: [retry, retry, success]; crash throws, "
        "hang never returns (WorkManager stops it at its 10-minute limit)",
        json_schema_extra=_one_or_many,
    )
    http: tuple[HttpCall, ...] = Field(
        (),
        description="calls made during doWork(), in order; the first that fails decides the "
        "result: a status in retry_on gives retry, any other 4xx/5xx failure, no answer "
        "(no network, timeout, reset) on_network_error",
    )
    retry_on: tuple[RetryStatus, ...] = Field(
        ("5xx",),
        description="HTTP statuses that make doWork() return Result.retry(): a class (5xx, 4xx) or "
        "a status (429); native_workmanager's HTTP workers retry on >= 500 only",
        json_schema_extra=_one_or_many,
    )
    on_network_error: Outcome = Field(
        "retry", description="result when an HTTP call gets no answer: no network, timeout, "
        "connection reset or refused"
    )
    # What one run costs the device. Optional: without them the virtual device uses the OS
    # model's figures for the engine (the deployment guide: a native worker 2-5 MB and <50 ms
    # to start, a Dart worker 30-50 MB and 500-1000 ms, because it boots a FlutterEngine).
    engine: Literal["native", "dart"] | None = Field(
        None,
        description="native (Kotlin/Java doWork) or dart (a headless FlutterEngine runs a Dart "
        "callback); default: dart for flutter_workmanager apps, native otherwise",
    )
    memory_kb: SizeKb | None = Field(
        None,
        alias="memory",
        description="memory the worker itself holds while it runs (on top of the process and, "
        "for a Dart worker, the engine), e.g. 4MB",
    )
    cpu: float | None = Field(
        None,
        ge=0,
        le=8,
        description="CPU it keeps busy while it runs, in cores (0.25 = a quarter of one core)",
    )

    @field_validator("outcomes", "retry_on", mode="before")
    @classmethod
    def _outcome_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, int)) else value

    def http_outcome(self, status: int | None, scripted: Outcome) -> Outcome:
        """What one call's answer makes of the run (``status`` None: no answer came):
        :func:`harness.apps.rules.http_outcome` with this worker's ``retry_on`` and
        ``on_network_error``."""
        return http_outcome(status, scripted, self.retry_on, self.on_network_error)  # type: ignore[return-value]

    def outcome(self, run_attempt: int) -> Outcome:
        """The scripted result of run attempt ``run_attempt`` (0-based); the last entry repeats."""
        return scripted_outcome(self.outcomes, run_attempt)  # type: ignore[return-value]


# -------------------------------------------------------------------------- hooks
class Param(_Model):
    """A value a hook reads from the deep link (path capture or query) or from broadcast extras."""

    type: Literal["string", "int", "bool", "duration"] = "string"
    default: str | int | bool | None = None

    def convert(self, raw: object) -> object:
        """Turn a delivered string (or an ``--ei`` int) into this type; ValueError when it does not fit."""
        return convert_param(self.type, raw)


class Overrides(_Model):
    """Fields a hook may change on the work it enqueues; strings may use ``{param}``."""

    initial_delay: str | int | None = Field(None, description="duration, e.g. '{delay}' or 10s")
    unique_name: str | None = None
    unique_policy: str | None = Field(
        None, description="keep|replace|append|append_or_replace|update or '{param}'"
    )
    tags: tuple[str, ...] = Field((), description="tags added to the work's own")
    input: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="merged into input Data"
    )


class Hook(_Model):
    """A debug entry point of the app: a deep link or a broadcast that enqueues named work."""

    name: str | None = Field(None, description="label for messages")
    deep_link: str | None = Field(
        None,
        description="URI pattern, e.g. nwmdemo://enqueue/{task}; {x} captures "
        "one path segment; query parameters are read as params too",
    )
    match: Literal["exact", "prefix"] = Field(
        "exact", description="deep link matching (query string ignored)"
    )
    broadcast: str | None = Field(None, description="intent action, e.g. dev.brewkits.nwm_demo.ENQUEUE")
    params: dict[str, Param] = Field(default_factory=dict, description="typed params from the link or extras")
    enqueue: tuple[str, ...] = Field(
        min_length=1,
        description="work names (or '{param}') enqueued in order",
        json_schema_extra=_one_or_many,
    )
    repeat: int | str = Field(
        1,
        description=f"enqueue this many times (1–{MAX_REPEAT}) or '{{param}}'; '{{index}}' in overrides is "
        "the repetition number (0-based)",
    )
    overrides: Overrides | None = Field(None, description="changes to the enqueued work; '{param}' allowed")

    @field_validator("enqueue", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    # ---- matching (harness/apps/links.py: the same rules for a plain snapshot of a hook)
    def captures(self) -> list[str]:
        return link_captures(self.deep_link)

    def match_deep_link(self, uri: str) -> dict[str, str] | None:
        """Raw params when ``uri`` is this hook's link (path captures, then query parameters)."""
        return match_deep_link(self, uri)

    def resolve(self, raw: dict[str, object]) -> HookAction:
        """Typed params, repeat count and overrides for one delivery; ValueError on a bad value."""
        return resolve_hook(self, raw)


# ---------------------------------------------------------------------------- app
class AppModel(_Model):
    """A virtual app: identity, activities, debug hooks, WorkRequests and worker behaviour."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        frozen=True,
        title="bgtest app model",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "A virtual app for bgtest's virtual devices (fixtures/apps/*.yaml). "
            "Installed with 'adb install FILE' / 'pm install PATH' like an APK.",
        },
    )

    package: str = Field(pattern=_PACKAGE_RE, description="applicationId, e.g. dev.brewkits.nwm_demo")
    label: str = Field("", description="application label (defaults to the package)")
    version_name: str = "1.0"
    version_code: int = Field(1, ge=1)
    library: Literal["androidx.work", "native_workmanager", "flutter_workmanager"] = Field(
        "androidx.work", description="which background library, i.e. which plugin log lines are printed"
    )
    debug_logging: bool = Field(
        False,
        description="WorkManager DEBUG lines (Configuration.setMinimumLoggingLevel"
        "(Log.DEBUG)) and the plugin's debug lines",
    )
    debuggable: bool = Field(True, description="android:debuggable (run-as works; plugin debug logs need it)")
    activities: tuple[str, ...] = Field(
        (".MainActivity",),
        min_length=1,
        description="activity classes; the first is the launcher activity",
        json_schema_extra=_one_or_many,
    )
    deep_link_schemes: tuple[str, ...] = Field(
        (), description="URI schemes the launcher activity handles (VIEW)", json_schema_extra=_one_or_many
    )
    hooks: tuple[Hook, ...] = Field(
        (), description="debug hooks: deep link or broadcast -> enqueue named work"
    )
    work: dict[str, Work] = Field(default_factory=dict, description="WorkRequests by name")
    workers: dict[str, Worker] = Field(default_factory=dict, description="worker behaviour by name")
    memory_kb: SizeKb | None = Field(
        None,
        alias="memory",
        description="PSS of the app's process when it is idle in the background, e.g. 30MB "
        "(default: the virtual device's figure for a small app)",
    )
    ios: dict[str, Any] | None = Field(
        None, description="iOS side of the same app (validated by the iOS model)"
    )

    @field_validator("activities", "deep_link_schemes", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    # ---- helpers for PackageManager / ActivityManager / WorkManager
    @property
    def display_label(self) -> str:
        return self.label or self.package

    def activity_class(self, name: str) -> str:
        """Fully qualified class of ``name`` (``.MainActivity`` → ``pkg.MainActivity``)."""
        return self.package + name if name.startswith(".") else name

    def short_activity(self, name: str) -> str:
        """The form ``am`` prints after the slash (``.MainActivity`` when inside the package)."""
        full = self.activity_class(name)
        prefix = self.package + "."
        return full[len(self.package) :] if full.startswith(prefix) else full

    @property
    def launcher(self) -> str:
        return self.activity_class(self.activities[0])

    def find_activity(self, cls: str) -> str | None:
        """The declared activity matching ``cls`` (short or full form), fully qualified."""
        full = self.activity_class(cls)
        for name in self.activities:
            if self.activity_class(name) == full:
                return full
        return None

    def handles_scheme(self, scheme: str) -> bool:
        return scheme.lower() in (s.lower() for s in self.deep_link_schemes)

    def deep_link_hook(self, uri: str) -> tuple[Hook, dict[str, str]] | None:
        return find_hook(self.hooks, uri)

    def broadcast_hooks(self, action: str) -> list[Hook]:
        return [h for h in self.hooks if h.broadcast == action]

    def worker_engine(self, worker: Worker) -> Literal["native", "dart"]:
        """The engine a worker runs on: its own ``engine``, else what the library implies."""
        if worker.engine is not None:
            return worker.engine
        return "dart" if self.library == "flutter_workmanager" else "native"

    def work_with(self, name: str, changes: dict[str, object] | None = None) -> Work:
        """The named work with a hook's ``changes`` applied (KeyError for an unknown name)."""
        work = self.work[name]
        if not changes:
            return work
        update: dict[str, object] = {}
        if "initial_delay_ms" in changes:
            update["initial_delay_ms"] = changes["initial_delay_ms"]
        if "unique_name" in changes or "unique_policy" in changes:
            base = work.unique or Unique(name=str(changes.get("unique_name", name)))
            unique = {
                "name": changes.get("unique_name", base.name),
                "policy": changes.get("unique_policy", base.policy),
            }
            update["unique"] = Unique.model_validate(unique)
        if "tags" in changes:
            update["tags"] = tuple(dict.fromkeys((*work.tags, *changes["tags"])))  # type: ignore[misc]
        if "input" in changes:
            update["input"] = {**work.input, **changes["input"]}  # type: ignore[dict-item]
        return work.model_copy(update=update)
