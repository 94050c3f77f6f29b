"""App actions: install, uninstall, clear data, launch, broadcast, open a URL, push, stop, kill,
send to the background."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from pydantic import Field, model_validator

from harness.actions.base import Action, RunContext
from harness.errors import UnsupportedAction
from harness.scenario.fields import Scalar
from harness.scenario.step import StepBase

# --------------------------------------------------------------------------- step models


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


# --------------------------------------------------------------------------- driver capabilities


class Installs(Protocol):
    def install(self, path: str) -> None: ...


class Uninstalls(Protocol):
    def uninstall(self, package: str) -> None: ...


class ClearsData(Protocol):
    def clear_data(self, package: str) -> None: ...


class Launches(Protocol):
    def launch(self, package: str, *, deep_link: str | None = None, **options: Any) -> object: ...


class Broadcasts(Protocol):
    def broadcast(
        self,
        action: str,
        package: str | None = None,
        extras: dict[str, object] | None = None,
        include_stopped: bool = False,
        component: str | None = None,
    ) -> str: ...


class OpensUrls(Protocol):
    def open_url(self, url: str) -> object: ...


class Pushes(Protocol):
    def push(self, bundle: str, payload: Mapping[str, Any]) -> None: ...


class StopsApps(Protocol):
    def stop_app(self, package: str) -> None: ...


class Kills(Protocol):
    def kill(self, package: str) -> None: ...


class Backgrounds(Protocol):
    def background(self) -> None: ...



# --------------------------------------------------------------------------- actions


class InstallAction(Action[Install]):
    model: ClassVar = Install
    summary = "install the app (the app model's build, or `path:`)"
    example = "install"
    android = "`adb install -r <apk>`"
    ios = "`simctl install <udid> <app>`"

    def run(self, step: Install, ctx: RunContext, device: Installs) -> None:
        path = step.path or ctx.app.install_path
        if not path:
            raise UnsupportedAction(
                "install needs a path (the APK or .app), or an app model whose build bgtest can install"
            )
        device.install(path)


class UninstallAction(Action[Uninstall]):
    model: ClassVar = Uninstall
    summary = "remove the app"
    example = "uninstall"
    android = "`pm uninstall <package>`"
    ios = "`simctl uninstall <udid> <bundle id>`"

    def run(self, step: Uninstall, ctx: RunContext, device: Uninstalls) -> None:
        device.uninstall(step.package or ctx.app.need())


class ClearDataAction(Action[ClearData]):
    model: ClassVar = ClearData
    summary = "wipe the app's data (WorkManager's database included)"
    example = "clear_data"
    android = "`pm clear <package>`"
    ios_why_not = "iOS has no 'clear data'; use uninstall then install"

    def run(self, step: ClearData, ctx: RunContext, device: ClearsData) -> None:
        device.clear_data(step.package or ctx.app.need())


class LaunchAction(Action[Launch]):
    model: ClassVar = Launch
    summary = "start the app: main activity, `activity:`, `deep_link:`, `extras:` / `arguments:`, `env:`"
    example = 'launch: {deep_link: "myapp://enqueue/sync"}'
    android = "`am start -W -n <activity>` or `-a VIEW -d <link>`, extras as `--es/--ei/--ez`"
    ios = (
        "`simctl launch --terminate-running-process <udid> <bundle> <arguments>` "
        "(`SIMCTL_CHILD_*` env); device: WDA `apps/launch`"
    )
    option_limits: ClassVar = {
        "activity": (("android",), "activities are Android components"),
        "extras": (("android",), "intent extras are Android; on iOS use arguments: or env:"),
        "arguments": (("ios",), "launch arguments are iOS; on Android use extras:"),
        "env": (("ios",), "launch environment is iOS (SIMCTL_CHILD_*); on Android use extras:"),
    }

    def run(self, step: Launch, ctx: RunContext, device: Launches) -> None:
        # validation keeps each platform's options to that platform (option_limits)
        options: dict[str, Any] = {}
        activity = step.activity or ctx.app.activity
        if activity:
            options["activity"] = activity
        if step.extras:
            options["extras"] = step.extras
        if step.arguments:
            options["arguments"] = list(step.arguments)
        if step.env:
            options["env"] = step.env
        device.launch(ctx.app.need(), deep_link=step.deep_link, **options)


class BroadcastAction(Action[Broadcast]):
    model: ClassVar = Broadcast
    summary = "send a broadcast to the app (`include_stopped: true` reaches a stopped app)"
    example = "broadcast: {action: com.example.SYNC_NOW}"
    android = "`am broadcast -a <action> -p <package> [--include-stopped-packages]`"
    ios_why_not = "iOS has no broadcasts; use open_url, push or launch arguments"

    def run(self, step: Broadcast, ctx: RunContext, device: Broadcasts) -> None:
        device.broadcast(
            step.action,
            ctx.app.ident,
            step.extras,
            include_stopped=step.include_stopped,
            component=step.component,
        )


class OpenUrlAction(Action[OpenUrl]):
    model: ClassVar = OpenUrl
    summary = "open a URL (the app's deep link)"
    example = 'open_url: "myapp://enqueue/sync"'
    android = "`am start -a android.intent.action.VIEW -d <url>`"
    ios = "`simctl openurl <udid> <url>`; device: WDA"

    def run(self, step: OpenUrl, ctx: RunContext, device: OpensUrls) -> None:
        device.open_url(step.url)


class PushAction(Action[Push]):
    model: ClassVar = Push
    summary = "deliver a push notification payload to the app"
    example = "push: {payload: {aps: {}}}"
    ios = "`simctl push <udid> <bundle> -` (payload must contain `aps`)"
    android_why_not = "push payloads need FCM; use broadcast to reach the app"

    def run(self, step: Push, ctx: RunContext, device: Pushes) -> None:
        device.push(ctx.app.need(), step.payload)


class StopAppAction(Action[StopApp]):
    model: ClassVar = StopApp
    summary = "force-stop / terminate: on Android work stays cancelled until the next launch"
    example = "stop_app"
    android = "`am force-stop <package>`"
    ios = "`simctl terminate <udid> <bundle>`; device: WDA"

    def run(self, step: StopApp, ctx: RunContext, device: StopsApps) -> None:
        device.stop_app(step.package or ctx.app.need())


class KillAction(Action[Kill]):
    model: ClassVar = Kill
    summary = "process death without the stopped state (what the low-memory killer does)"
    example = "kill"
    android = "`am kill <package>`"
    ios_why_not = "no outside way to kill an iOS app without the force-quit meaning; use stop_app"

    def run(self, step: Kill, ctx: RunContext, device: Kills) -> None:
        device.kill(step.package or ctx.app.need())


class BackgroundAction(Action[Background]):
    model: ClassVar = Background
    summary = "send the app to the background (home)"
    example = "background"
    android = "`input keyevent KEYCODE_HOME`"
    ios = "WDA `homescreen`"

    def run(self, step: Background, ctx: RunContext, device: Backgrounds) -> None:
        device.background()
