"""App actions: install, uninstall, clear data, launch, broadcast, open a URL, push, stop, kill,
send to the background."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from harness.actions.base import Action, RunContext
from harness.errors import UnsupportedAction
from harness.scenario import models as m


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


class Install(Action[m.Install]):
    model: ClassVar = m.Install
    summary = "install the app (the app model's build, or `path:`)"
    example = "install"
    android = "`adb install -r <apk>`"
    ios = "`simctl install <udid> <app>`"

    def run(self, step: m.Install, ctx: RunContext, device: Installs) -> None:
        path = step.path or ctx.app.install_path
        if not path:
            raise UnsupportedAction(
                "install needs a path (the APK or .app), or an app model whose build bgtest can install"
            )
        device.install(path)


class Uninstall(Action[m.Uninstall]):
    model: ClassVar = m.Uninstall
    summary = "remove the app"
    example = "uninstall"
    android = "`pm uninstall <package>`"
    ios = "`simctl uninstall <udid> <bundle id>`"

    def run(self, step: m.Uninstall, ctx: RunContext, device: Uninstalls) -> None:
        device.uninstall(step.package or ctx.app.need())


class ClearData(Action[m.ClearData]):
    model: ClassVar = m.ClearData
    summary = "wipe the app's data (WorkManager's database included)"
    example = "clear_data"
    android = "`pm clear <package>`"
    ios_why_not = "iOS has no 'clear data'; use uninstall then install"

    def run(self, step: m.ClearData, ctx: RunContext, device: ClearsData) -> None:
        device.clear_data(step.package or ctx.app.need())


class Launch(Action[m.Launch]):
    model: ClassVar = m.Launch
    summary = "start the app: main activity, `activity:`, `deep_link:`, `extras:` / `arguments:`, `env:`"
    example = 'launch: {deep_link: "myapp://enqueue/sync"}'
    android = "`am start -W -n <activity>` or `-a VIEW -d <link>`, extras as `--es/--ei/--ez`"
    ios = (
        "`simctl launch --terminate-running-process <udid> <bundle> <arguments>` "
        "(`SIMCTL_CHILD_*` env); device: WDA `apps/launch`"
    )

    def run(self, step: m.Launch, ctx: RunContext, device: Launches) -> None:
        # validation keeps each platform's options to that platform (OPTION_LIMITS)
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


class Broadcast(Action[m.Broadcast]):
    model: ClassVar = m.Broadcast
    summary = "send a broadcast to the app (`include_stopped: true` reaches a stopped app)"
    example = "broadcast: {action: com.example.SYNC_NOW}"
    android = "`am broadcast -a <action> -p <package> [--include-stopped-packages]`"
    ios_why_not = "iOS has no broadcasts; use open_url, push or launch arguments"

    def run(self, step: m.Broadcast, ctx: RunContext, device: Broadcasts) -> None:
        device.broadcast(
            step.action,
            ctx.app.ident,
            step.extras,
            include_stopped=step.include_stopped,
            component=step.component,
        )


class OpenUrl(Action[m.OpenUrl]):
    model: ClassVar = m.OpenUrl
    summary = "open a URL (the app's deep link)"
    example = 'open_url: "myapp://enqueue/sync"'
    android = "`am start -a android.intent.action.VIEW -d <url>`"
    ios = "`simctl openurl <udid> <url>`; device: WDA"

    def run(self, step: m.OpenUrl, ctx: RunContext, device: OpensUrls) -> None:
        device.open_url(step.url)


class Push(Action[m.Push]):
    model: ClassVar = m.Push
    summary = "deliver a push notification payload to the app"
    example = "push: {payload: {aps: {}}}"
    ios = "`simctl push <udid> <bundle> -` (payload must contain `aps`)"
    android_why_not = "push payloads need FCM; use broadcast to reach the app"

    def run(self, step: m.Push, ctx: RunContext, device: Pushes) -> None:
        device.push(ctx.app.need(), step.payload)


class StopApp(Action[m.StopApp]):
    model: ClassVar = m.StopApp
    summary = "force-stop / terminate: on Android work stays cancelled until the next launch"
    example = "stop_app"
    android = "`am force-stop <package>`"
    ios = "`simctl terminate <udid> <bundle>`; device: WDA"

    def run(self, step: m.StopApp, ctx: RunContext, device: StopsApps) -> None:
        device.stop_app(step.package or ctx.app.need())


class Kill(Action[m.Kill]):
    model: ClassVar = m.Kill
    summary = "process death without the stopped state (what the low-memory killer does)"
    example = "kill"
    android = "`am kill <package>`"
    ios_why_not = "no outside way to kill an iOS app without the force-quit meaning; use stop_app"

    def run(self, step: m.Kill, ctx: RunContext, device: Kills) -> None:
        device.kill(step.package or ctx.app.need())


class Background(Action[m.Background]):
    model: ClassVar = m.Background
    summary = "send the app to the background (home)"
    example = "background"
    android = "`input keyevent KEYCODE_HOME`"
    ios = "WDA `homescreen`"

    def run(self, step: m.Background, ctx: RunContext, device: Backgrounds) -> None:
        device.background()
