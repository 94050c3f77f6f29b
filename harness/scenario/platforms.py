"""What each scenario action does on each platform — the one table validation and docs read.

An action a platform cannot do is a validation error that names the platform (never a silent
no-op), so the table says *why* next to every gap. ``docs/scenario-language.md`` embeds
:func:`render_markdown_table`'s output; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORMS: tuple[str, ...] = ("android", "ios")

LIBRARIES: tuple[str, ...] = (
    "androidx.work",
    "native_workmanager",
    "flutter_workmanager",
    "bgtaskscheduler",
    "kmpworkmanager",
)
"""Log vocabularies a scenario's app can speak (``app.library``)."""


@dataclass(frozen=True)
class ActionSpec:
    """One action: a one-line summary, the command per platform (``None`` = not possible, with why)."""

    kind: str
    summary: str
    example: str
    android: str | None
    ios: str | None
    android_why_not: str = ""
    ios_why_not: str = ""

    def available(self, platform: str) -> bool:
        return getattr(self, platform) is not None

    def why_not(self, platform: str) -> str:
        return getattr(self, f"{platform}_why_not")


ACTIONS: dict[str, ActionSpec] = {
    a.kind: a
    for a in (
        ActionSpec(
            "install",
            "install the app (the app model's build, or `path:`)",
            "install",
            "`adb install -r <apk>`",
            "`simctl install <udid> <app>`",
        ),
        ActionSpec(
            "uninstall",
            "remove the app",
            "uninstall",
            "`pm uninstall <package>`",
            "`simctl uninstall <udid> <bundle id>`",
        ),
        ActionSpec(
            "clear_data",
            "wipe the app's data (WorkManager's database included)",
            "clear_data",
            "`pm clear <package>`",
            None,
            ios_why_not="iOS has no 'clear data'; use uninstall then install",
        ),
        ActionSpec(
            "launch",
            "start the app: main activity, `activity:`, `deep_link:`, `extras:` / `arguments:`, `env:`",
            'launch: {deep_link: "myapp://enqueue/sync"}',
            "`am start -W -n <activity>` or `-a VIEW -d <link>`, extras as `--es/--ei/--ez`",
            "`simctl launch --terminate-running-process <udid> <bundle> <arguments>` "
            "(`SIMCTL_CHILD_*` env); device: WDA `apps/launch`",
        ),
        ActionSpec(
            "broadcast",
            "send a broadcast to the app (`include_stopped: true` reaches a stopped app)",
            "broadcast: {action: com.example.SYNC_NOW}",
            "`am broadcast -a <action> -p <package> [--include-stopped-packages]`",
            None,
            ios_why_not="iOS has no broadcasts; use open_url, push or launch arguments",
        ),
        ActionSpec(
            "open_url",
            "open a URL (the app's deep link)",
            'open_url: "myapp://enqueue/sync"',
            "`am start -a android.intent.action.VIEW -d <url>`",
            "`simctl openurl <udid> <url>`; device: WDA",
        ),
        ActionSpec(
            "push",
            "deliver a push notification payload to the app",
            "push: {payload: {aps: {}}}",
            None,
            "`simctl push <udid> <bundle> -` (payload must contain `aps`)",
            android_why_not="push payloads need FCM; use broadcast to reach the app",
        ),
        ActionSpec(
            "stop_app",
            "force-stop / terminate: on Android work stays cancelled until the next launch",
            "stop_app",
            "`am force-stop <package>`",
            "`simctl terminate <udid> <bundle>`; device: WDA",
        ),
        ActionSpec(
            "kill",
            "process death without the stopped state (what the low-memory killer does)",
            "kill",
            "`am kill <package>`",
            None,
            ios_why_not="no outside way to kill an iOS app without the force-quit meaning; use stop_app",
        ),
        ActionSpec(
            "background",
            "send the app to the background (home)",
            "background",
            "`input keyevent KEYCODE_HOME`",
            "WDA `homescreen`",
        ),
        ActionSpec(
            "reboot",
            "reboot and wait until the device has booted",
            "reboot",
            "`adb reboot`, wait for disconnect, device, `sys.boot_completed=1`",
            "`simctl shutdown`, `boot`, `bootstatus -b`",
        ),
        ActionSpec(
            "doze",
            "Doze: `deep`, `light`, `off` (unforce), `step`",
            "doze: deep",
            "`dumpsys deviceidle force-idle|step|unforce [deep|light]`, then verified with `get`",
            None,
            ios_why_not="iOS has no Doze; use low_power or screen: off and wait",
        ),
        ActionSpec(
            "battery",
            "battery state: `unplugged`, `charging`, `reset`, `{level: N}`",
            "battery: unplugged",
            "`dumpsys battery unplug|set ac 1|reset|set level N`",
            "virtual iPhone: `simctl bgtest battery …`; a real iPhone cannot be unplugged remotely",
        ),
        ActionSpec(
            "battery_saver",
            "battery saver on/off (same as low_power)",
            "battery_saver: on",
            "`dumpsys battery unplug` then `cmd power set-mode 1|0`",
            "Low Power Mode: `simctl spawn <udid> notifyutil -s com.apple.system.lowpowermode 1`; "
            "device: WDA",
        ),
        ActionSpec(
            "low_power",
            "Low Power Mode on/off (same as battery_saver)",
            "low_power: on",
            "`dumpsys battery unplug` then `cmd power set-mode 1|0`",
            "`simctl spawn <udid> notifyutil -s com.apple.system.lowpowermode 1`; device: WDA Settings",
        ),
        ActionSpec(
            "network",
            "network: `offline`, `online`, `airplane`, or `{wifi:, data:, airplane:}` on/off",
            "network: offline",
            "`svc wifi|data enable|disable`, `cmd connectivity airplane-mode enable|disable`",
            "device: WDA Control Center; the Simulator has no network switch (fails at run time)",
        ),
        ActionSpec(
            "standby_bucket",
            "app standby bucket: active, working_set, frequent, rare, restricted, never",
            "standby_bucket: rare",
            "`am set-standby-bucket <package> <bucket>`",
            None,
            ios_why_not="iOS has no standby buckets",
        ),
        ActionSpec(
            "screen",
            "screen on/off",
            "screen: off",
            "`input keyevent KEYCODE_WAKEUP|KEYCODE_SLEEP`",
            "WDA `lock` / `unlock`",
        ),
        ActionSpec(
            "run_task",
            "force a waiting task to run now",
            "run_task: periodic-sync",
            "job id from WorkManager logs / `dumpsys jobscheduler`, then "
            "`cmd jobscheduler run -f <package> <id>`",
            "device: `lldb … _simulateLaunchForTaskWithIdentifier:`; Simulator: the app's debug hook",
        ),
        ActionSpec(
            "expire_task",
            "expire a running background task (its expiration handler runs)",
            "expire_task: dev.example.refresh",
            None,
            "`lldb … _simulateExpirationForTaskWithIdentifier:`",
            android_why_not="Android jobs are stopped by the system, not expired; use stop_app or kill",
        ),
        ActionSpec(
            "diagnostics",
            "ask WorkManager to log its diagnostics",
            "diagnostics",
            "`am broadcast -a androidx.work.diagnostics.REQUEST_DIAGNOSTICS -p <package>`",
            None,
            ios_why_not="WorkManager diagnostics exist on Android only",
        ),
        ActionSpec(
            "wait",
            "let device time pass (`2h`) or wait `until:` an expectation holds",
            "wait: 2h",
            "virtual device: `cmd bgtest clock advance`; phone: real time",
            "virtual iPhone: `simctl bgtest clock advance`; real: real time",
        ),
        ActionSpec(
            "shell",
            "escape hatch: run an argv list in the device shell",
            "shell: [settings, list, global]",
            "`adb shell <argv>` (quoted)",
            None,
            ios_why_not="iOS has no shell; use a dedicated action",
        ),
        ActionSpec(
            "capture",
            "save a named artifact: screenshot, journal, dumpsys_*, diagnostics",
            "capture: screenshot",
            "`screencap -p`, the journal, `dumpsys …`",
            "`simctl io screenshot`, the unified-log journal",
        ),
        ActionSpec(
            "expect",
            "assert on task events or raw log records",
            "expect: {task: sync, state: succeeded}",
            "logcat (all buffers)",
            "unified log (+ app stdout)",
        ),
    )
}

INCLUDE_KIND = "include"
"""Not an action: replaced by the steps of the file it names when the scenario loads."""

OPTION_LIMITS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("launch", "activity"): (("android",), "activities are Android components"),
    ("launch", "extras"): (("android",), "intent extras are Android; on iOS use arguments: or env:"),
    ("launch", "arguments"): (("ios",), "launch arguments are iOS; on Android use extras:"),
    ("launch", "env"): (("ios",), "launch environment is iOS (SIMCTL_CHILD_*); on Android use extras:"),
    ("capture", "dumpsys_jobscheduler"): (("android",), "dumpsys is Android"),
    ("capture", "dumpsys_deviceidle"): (("android",), "dumpsys is Android"),
    ("capture", "dumpsys_battery"): (("android",), "dumpsys is Android"),
    ("capture", "diagnostics"): (("android",), "WorkManager diagnostics exist on Android only"),
    ("standby_bucket", "package"): (("android",), "standby buckets are Android"),
}
"""(action, option or value) → platforms that support it, and why the others do not."""


def render_markdown_table() -> str:
    """The per-platform action table as Markdown (embedded in docs/scenario-language.md)."""
    rows = ["| Action | What it does | Android | iOS |", "|---|---|---|---|"]
    for spec in ACTIONS.values():
        android = spec.android if spec.android is not None else f"— ({spec.android_why_not})"
        ios = spec.ios if spec.ios is not None else f"— ({spec.ios_why_not})"
        rows.append(f"| `{spec.kind}` | {spec.summary} | {android} | {ios} |".replace("\n", " "))
    return "\n".join(rows)
