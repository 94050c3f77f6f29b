"""The app under test as a run sees it: one id per platform plus what the drivers need from
its model (the launch activity, the installable model, the iOS hooks and task identifiers).

Built from the scenario's ``app:`` and, when it names one, the app-model file — read with the
one app-model loader (:mod:`harness.apps.loader`), never parsed a second time here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UnsupportedAction


@dataclass(frozen=True)
class AppUnderTest:
    """``ident`` is the Android package or the iOS bundle id (None: the scenario names no app)."""

    platform: str
    ident: str | None = None
    library: str | None = None
    activity: str | None = None  # Android: the launch activity (the model's first)
    install_path: str | None = None  # what `install` installs: the app model file
    executable: str | None = None  # iOS: CFBundleExecutable, how the unified log names the process
    task_identifiers: tuple[str, ...] = ()  # iOS: BGTaskSchedulerPermittedIdentifiers
    hooks: dict[str, str] = field(default_factory=dict)  # iOS: run_task / expire_task URL templates

    @property
    def ids(self) -> list[str]:
        """The apps whose state the guard reads (none or this one)."""
        return [self.ident] if self.ident else []

    def need(self) -> str:
        """The app's id, or a message saying how to name it."""
        if self.ident:
            return self.ident
        if self.platform == "ios":
            raise UnsupportedAction(
                "this step needs the app's bundle id: add app: {bundle_id: …} "
                "or app: {model: …} whose model has an ios: section"
            )
        raise UnsupportedAction(
            "this step needs the scenario's app: add app: {package: …} or app: {model: …}"
        )

    @classmethod
    def build(
        cls,
        platform: str,
        *,
        package: str | None = None,
        bundle_id: str | None = None,
        library: str | None = None,
        model_path: str | Path | None = None,
    ) -> AppUnderTest:
        """From a scenario's ``app:`` (explicit values win over the model's)."""
        if model_path is None:
            return cls(platform, package if platform != "ios" else bundle_id, library)
        from harness.apps.loader import load_app_model

        model = load_app_model(Path(model_path))
        library = library or model.library
        if platform != "ios":
            activity = model.activities[0] if model.activities else None
            return cls(platform, package or model.package, library, activity, str(model_path))
        from harness.apps.ios import IosApp

        ios = IosApp.model_validate(model.ios) if model.ios else None
        if ios is None:
            return cls(platform, bundle_id, library)
        hooks = {k: v for k, v in ios.debug_hooks.model_dump().items() if v}
        return cls(
            platform,
            bundle_id or ios.bundle_id,
            library,
            install_path=str(model_path),
            executable=ios.executable if "executable" in model.ios else None,  # type: ignore[operator]
            task_identifiers=tuple(ios.bg_task_identifiers),
            hooks=hooks,
        )
