"""The scenario language as pydantic models — what the runner receives after loading.

A scenario holds its app, device wishes and three step lists. Each step's model lives with its
action (``harness/actions/<family>.py``, a :class:`~harness.scenario.step.StepBase`); the step
lists accept every model the action registry lists, picked by the step's name, so adding an
action never touches this module. The field value types are in ``fields.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)

from harness.actions.registry import STEP_MODELS
from harness.durations import format_duration_ms
from harness.profiles import PROFILES, profile_names
from harness.scenario.fields import (
    OP_RE,
    Duration,
    Scalar,
    StrictModel,
    cmp_schema,
    cmp_serializer,
    one_or_many,
)
from harness.scenario.platforms import LIBRARIES, PLATFORMS
from harness.scenario.step import StepBase, step_union
from harness.scenario.values import Comparison, LogMatch, Regex
from harness.scenario.yamlmarks import Span

Platform = Literal["android", "ios"]
Library = Literal[
    "androidx.work", "native_workmanager", "flutter_workmanager", "bgtaskscheduler", "kmpworkmanager"
]
assert set(Library.__args__) == set(LIBRARIES) and set(Platform.__args__) == set(PLATFORMS)  # type: ignore[attr-defined]

_PACKAGE = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$"
_BUNDLE = r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"

Step = step_union(STEP_MODELS.values())
"""One step: the model of the action it names (``harness.actions.registry``)."""

# --------------------------------------------------------------------------- scenario


class App(StrictModel):
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


class DeviceSettings(StrictModel):
    """The device the scenario wants: on a virtual device this is set, on a phone it cannot be."""

    profile: Annotated[list[ProfileName], BeforeValidator(one_or_many)] | None = Field(
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


def _api_level(value: object) -> Comparison:
    """An Android API level bound, read as a count is (`sdk: ">= 3l"` is not "a count expression")."""
    try:
        return Comparison.count(value)
    except ValueError:
        raise ValueError(
            f'not an Android API level bound: {value!r}; write e.g. ">= 31", "< 28" or 34') from None


class Requires(StrictModel):
    """What a device must be for the scenario to mean something; otherwise it is skipped, with why."""

    profile: Annotated[list[ProfileName], BeforeValidator(one_or_many)] | None = Field(
        None, description="one of these profiles (a phone's is read from its SDK, RAM and ro.config.low_ram)"
    )
    low_ram: bool | None = Field(None, description="ro.config.low_ram (Android Go) must be this")
    sdk: Annotated[Comparison, PlainValidator(_api_level), cmp_serializer,
                   WithJsonSchema(cmp_schema('Android API level: ">= 28", "< 26"', True,
                                              OP_RE + r"[0-9]+\s*$"))] | None = Field(
        None, description='Android API level, e.g. "< 28" (before standby buckets)'
    )

    @model_validator(mode="after")
    def _something(self) -> Requires:
        if self.profile is None and self.low_ram is None and self.sdk is None:
            raise ValueError("requires: needs profile, low_ram or sdk")
        return self

    def never_met_on(self, platform: str) -> str | None:
        """What no ``platform`` device can ever be (run/requirements.py skips it there), or None.

        An iPhone has no Android API level and no ``ro.config.low_ram``; a profile list without
        one of the platform's profiles fits none of its devices.
        """
        if self.profile is not None and not any(PROFILES[p].platform == platform for p in self.profile):
            return f"profile {' or '.join(self.profile)} (none of them is for {platform})"
        if platform == "ios" and self.sdk is not None:
            return f"sdk {self.sdk} (an Android API level)"
        if platform == "ios" and self.low_ram:
            return "low_ram: true (Android's ro.config.low_ram)"
        return None


DEFAULT_MAX_WAIT_MS = 30 * 86_400_000
"""Waits longer than 30 days are refused unless the scenario raises ``max_wait``: on a phone a
wait is real time, and ``wait: 10000000d`` is a typo, not a plan."""


class Scenario(StrictModel):
    """One YAML document: a named scenario for one or more platforms."""

    name: str = Field(min_length=1, description="what the scenario proves, in a sentence")
    description: str | None = None
    tags: Annotated[list[str], BeforeValidator(one_or_many)] = Field(
        default_factory=list, description="for selection with -k"
    )
    platforms: Annotated[list[Platform], BeforeValidator(one_or_many)] = Field(
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
        for platform in self.platforms:
            never = self.requires.never_met_on(platform) if self.requires else None
            if never:
                raise ValueError(f"requires {never}: on {platform} this scenario would always be skipped; "
                                 "remove it, or the platform from platforms:")
        return self

    def all_steps(self) -> list[StepBase]:
        return [*self.setup, *self.steps, *self.finally_]
