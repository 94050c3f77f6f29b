"""The ``ios:`` section of an app model: what the virtual app is on the virtual iPhone.

The shared model (:mod:`harness.apps.model`) owns the file and keeps ``ios:`` as a plain
mapping; this module validates it. Everything is optional except ``bundle_id``, so the
sections already in ``fixtures/apps/*.yaml`` stay valid::

    ios:
      bundle_id: dev.brewkits.nwmDemo
      url_schemes: [nwmdemo]
      bg_task_identifiers: [dev.brewkits.native_workmanager.task, dev.brewkits.native_workmanager.refresh]
      executable: Runner                 # CFBundleExecutable (Flutter apps are "Runner")
      background_modes: [fetch, processing]
      debug_hooks:                       # the app's own debug entry points (what a simulator needs)
        run_task: "nwmdemo://bgtest/run/{identifier}"
        expire_task: "nwmdemo://bgtest/expire/{identifier}"
      launch_arguments:                  # `simctl launch UDID BUNDLE -enqueue periodic-sync`
        -enqueue: "{work}"
      tasks:                             # per work name: how the library submits it on iOS
        big-upload: {type: processing, requires_external_power: true}

The hooks, ``work`` and ``workers`` sections of the model are shared with Android: a deep link
hook fires on ``simctl openurl``, the same work names are enqueued.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import AppModelError
from .model import AppModel
from .rules import handles_url


class TaskSpec(BaseModel):
    """How one named work is submitted to BGTaskScheduler on iOS (overrides the library default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see model._Model

    type: Literal["refresh", "processing"] | None = None
    identifier: str | None = None
    requires_external_power: bool | None = None
    requires_network: bool | None = None


class DebugHooks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see model._Model

    run_task: str | None = Field(None, description="URL template with {identifier}: runs the BGTask handler")
    expire_task: str | None = Field(None, description="URL template with {identifier}: fires its expiration")


class IosApp(BaseModel):
    """The validated ``ios:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # see model._Model

    bundle_id: str = Field(pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9_-]+)+$")
    display_name: str | None = None
    executable: str = "Runner"
    version: str | None = None
    url_schemes: tuple[str, ...] = ()
    bg_task_identifiers: tuple[str, ...] = ()
    background_modes: tuple[
        Literal["fetch", "processing", "remote-notification", "audio", "location"], ...
    ] = (
        "fetch",
        "processing",
        "remote-notification",
    )
    debug_hooks: DebugHooks = Field(default_factory=DebugHooks)
    launch_arguments: dict[str, str] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)


class IosAppModel:
    """An app model with its iOS side validated: the thing ``simctl install`` takes for an ``.app``."""

    def __init__(self, model: AppModel, ios: IosApp, source: str) -> None:
        self.model = model
        self.ios = ios
        self.source = source

    @property
    def bundle_id(self) -> str:
        return self.ios.bundle_id

    @property
    def display_name(self) -> str:
        return self.ios.display_name or self.model.display_label

    @property
    def library(self) -> str:
        return self.model.library

    def handles_url(self, url: str) -> bool:
        return handles_url(self.ios.url_schemes, url)


def load_ios_app(path: str | Path) -> IosAppModel:
    """Load an app model and validate its ``ios:`` part; :class:`AppModelError` (``file:line``) otherwise."""
    from .loader import load_app_model  # YAML: not needed to unpickle an installed model

    model = load_app_model(path)
    if model.ios is None:
        raise AppModelError(str(path), 1, "no 'ios:' section: this app model has no iOS app")
    try:
        ios = IosApp.model_validate(model.ios)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in ("ios", *err["loc"]))
        raise AppModelError(str(path), 1, f"{loc}: {err['msg']}") from None
    return IosAppModel(model, ios, str(path))
