"""The Android driver: every platform command bgtest sends to a phone (or a virtual one).

This is the only module that knows Android shell commands. Commands are built from argv
lists and quoted with ``shlex.join`` — never formatted from user values. The exact commands
and the outputs they are checked against come from AOSP (see research/android_shell.md):
Doze is forced with ``dumpsys deviceidle force-idle`` and then *verified* with
``dumpsys deviceidle get``, the battery is unplugged before Doze or saver (plugged devices
refuse both), airplane mode uses ``cmd connectivity airplane-mode`` on API 28+.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from harness.devices.adbwire import AdbWire, AdbWireError, ShellResult
from harness.durations import format_duration_ms
from harness.errors import DeviceCommandError, DeviceError, UnsupportedAction

WM_SYSTEM_JOB_SERVICE = "androidx.work.impl.background.systemjob.SystemJobService"
DIAGNOSTICS_ACTION = "androidx.work.diagnostics.REQUEST_DIAGNOSTICS"
BUCKETS = {
    "exempted": 5,
    "active": 10,
    "working_set": 20,
    "frequent": 30,
    "rare": 40,
    "restricted": 45,
    "never": 50,
}


@dataclass
class DeviceState:
    """What the state guard saves and restores, and what failure reports show."""

    doze_deep: str = ""
    doze_light: str = ""
    doze_forced: bool = False
    battery_frozen: bool = False
    battery_level: int | None = None
    plugged: bool | None = None
    low_power: str = ""
    wifi_on: str = ""
    mobile_data: str = ""
    airplane: str = ""
    screen_on: bool | None = None
    buckets: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [
            f"doze deep={self.doze_deep or '?'} light={self.doze_light or '?'}"
            + (" (forced)" if self.doze_forced else "")
        ]
        if self.battery_level is not None:
            parts.append(f"battery {self.battery_level}% " + ("plugged" if self.plugged else "unplugged"))
        parts.append(f"saver={'on' if self.low_power == '1' else 'off'}")
        parts.append(
            f"wifi={'on' if self.wifi_on == '1' else 'off'} data={'on' if self.mobile_data == '1' else 'off'}"
            f" airplane={'on' if self.airplane == '1' else 'off'}"
        )
        for pkg, bucket in self.buckets.items():
            parts.append(f"{pkg} bucket={bucket}")
        return ", ".join(parts)


class AndroidDevice:
    """One Android device reached through an adb server (local, private or a farm's)."""

    platform = "android"

    def __init__(
        self,
        serial: str,
        host: str = "127.0.0.1",
        port: int = 5037,
        on_command: Callable[[str, ShellResult], None] | None = None,
    ) -> None:
        self.serial = serial
        self.host = host
        self.port = port
        self.wire = AdbWire(serial, host, port)
        self.on_command = on_command
        self._props: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<AndroidDevice|{self.serial}>"

    # ------------------------------------------------------------------ shell
    def sh(self, argv: Sequence[str] | str, check: bool = True, timeout: float = 60.0) -> ShellResult:
        """Run one command on the device. ``argv`` is quoted here, once, for the device shell."""
        command = argv if isinstance(argv, str) else shlex.join(list(argv))
        try:
            result = self.wire.shell(command, timeout=timeout)
        except AdbWireError as exc:
            raise DeviceError(
                self.serial,
                f"cannot run `{command}`: {exc}",
                hint="check `bgtest devices`; the device may be offline or rebooting",
            ) from exc
        if self.on_command is not None:
            self.on_command(command, result)
        if check and result.exit_code != 0:
            raise DeviceCommandError(self.serial, command, result.exit_code, result.out, result.err)
        return result

    def out(self, argv: Sequence[str] | str, check: bool = True) -> str:
        """stdout of a command, trailing whitespace and CRs stripped."""
        return self.sh(argv, check=check).out.replace("\r", "").strip()

    def getprop(self, key: str, cached: bool = False) -> str:
        if cached and key in self._props:
            return self._props[key]
        value = self.out(["getprop", key], check=False)
        self._props[key] = value
        return value

    @property
    def sdk(self) -> int:
        try:
            return int(self.getprop("ro.build.version.sdk", cached=True) or 0)
        except ValueError:
            return 0

    @property
    def is_virtual(self) -> bool:
        """A bgtest virtual device: waits become clock advances instead of sleeps."""
        return self.getprop("ro.bgtest.virtual", cached=True) == "1"

    def describe(self) -> dict[str, str]:
        return {
            "serial": self.serial,
            "model": self.getprop("ro.product.model", cached=True),
            "sdk": self.getprop("ro.build.version.sdk", cached=True),
            "release": self.getprop("ro.build.version.release", cached=True),
            "virtual": "yes" if self.is_virtual else "no",
        }

    # ------------------------------------------------------------- app actions
    def install(self, path: str) -> None:
        import adbutils

        client = adbutils.AdbClient(host=self.host, port=self.port)
        try:
            client.device(self.serial).install(path, nolaunch=True, silent=True)
        except adbutils.AdbError as exc:
            raise DeviceError(self.serial, f"install {path} failed: {exc}") from exc

    def uninstall(self, package: str) -> None:
        out = self.out(["pm", "uninstall", package], check=False)
        if "Success" not in out:
            raise DeviceError(self.serial, f"pm uninstall {package}: {out or 'no output'}")

    def clear_data(self, package: str) -> None:
        out = self.out(["pm", "clear", package], check=False)
        if "Success" not in out:
            raise DeviceError(self.serial, f"pm clear {package}: {out or 'no output'}")

    def launch(
        self,
        package: str,
        activity: str | None = None,
        deep_link: str | None = None,
        extras: dict[str, object] | None = None,
    ) -> str:
        argv = ["am", "start", "-W"]
        if deep_link:
            argv += ["-a", "android.intent.action.VIEW", "-d", deep_link]
            if activity:
                argv += ["-n", _component(package, activity)]
        else:
            argv += ["-n", _component(package, activity or ".MainActivity")]
        argv += _extras(extras)
        result = self.sh(argv, check=False)
        text = result.out + result.err
        if result.exit_code != 0 or "Error" in text:
            raise DeviceCommandError(
                self.serial,
                shlex.join(argv),
                result.exit_code,
                result.out,
                result.err,
                hint="is the app installed? (`pm list packages`)",
            )
        return text

    def stop_app(self, package: str) -> None:
        self.sh(["am", "force-stop", package])

    def kill(self, package: str) -> None:
        """Process death without the stopped state (as the low-memory killer does)."""
        self.sh(["input", "keyevent", "KEYCODE_HOME"])
        self.sh(["am", "kill", package])

    def background(self) -> None:
        self.sh(["input", "keyevent", "KEYCODE_HOME"])

    def broadcast(
        self,
        action: str,
        package: str | None = None,
        extras: dict[str, object] | None = None,
        include_stopped: bool = False,
        component: str | None = None,
    ) -> str:
        """``am broadcast``; ``component`` (``pkg/.Receiver``, or ``.Receiver`` in ``package``)
        sends it to that one receiver (``-n``), as an explicit intent does."""
        argv = ["am", "broadcast", "-a", action]
        if component:
            if "/" not in component and package:
                component = f"{package}/{component}"
            argv += ["-n", component]
        if package:
            argv += ["-p", package]
        if include_stopped:
            argv.append("--include-stopped-packages")
        argv += _extras(extras)
        return self.out(argv)

    def open_url(self, url: str) -> str:
        return self.out(["am", "start", "-W", "-a", "android.intent.action.VIEW", "-d", url])

    def diagnostics(self, package: str) -> str:
        return self.broadcast(DIAGNOSTICS_ACTION, package)

    # ----------------------------------------------------------- device state
    def doze(self, mode: str) -> str:
        """``deep``/``light``: force Doze and verify it; ``off``: unforce; ``step``: one step."""
        if mode in ("deep", "light"):
            self.sh(["dumpsys", "battery", "unplug"])
            self.sh(["dumpsys", "deviceidle", "force-idle", mode], check=False)
            state = self.out(["dumpsys", "deviceidle", "get", mode])
            if state != "IDLE":
                raise DeviceError(
                    self.serial,
                    f"asked for {mode} Doze but `dumpsys deviceidle get {mode}` says {state}",
                    hint="an alarm clock due within 30 minutes keeps Android out of deep idle",
                )
            return state
        if mode == "off":
            self.sh(["dumpsys", "deviceidle", "unforce"])
            return self.out(["dumpsys", "deviceidle", "get", "deep"])
        if mode == "step":
            return self.out(["dumpsys", "deviceidle", "step", "deep"])
        raise UnsupportedAction(f"unknown doze mode {mode!r}; use deep, light, off or step")

    def battery(self, plugged: bool | None = None, level: int | None = None, reset: bool = False) -> None:
        if reset:
            self.sh(["dumpsys", "battery", "reset"])
            return
        if plugged is False:
            self.sh(["dumpsys", "battery", "unplug"])
        elif plugged is True:
            self.sh(["dumpsys", "battery", "set", "ac", "1"])
            self.sh(["dumpsys", "battery", "set", "status", "2"])
        if level is not None:
            self.sh(["dumpsys", "battery", "set", "level", str(level)])

    def battery_saver(self, on: bool) -> None:
        if on:
            self.sh(["dumpsys", "battery", "unplug"])
        self.sh(["settings", "put", "global", "low_power", "1" if on else "0"])
        self.sh(["cmd", "power", "set-mode", "1" if on else "0"], check=False)
        now = self.out(["settings", "get", "global", "low_power"])
        if (now == "1") != on:
            raise DeviceError(
                self.serial,
                f"battery saver did not turn {'on' if on else 'off'} (low_power={now})",
                hint="Android refuses battery saver while the device is charging",
            )

    def network(
        self, wifi: bool | None = None, data: bool | None = None, airplane: bool | None = None
    ) -> None:
        if airplane is not None:
            if self.sdk >= 28 or self.sdk == 0:
                self.sh(["cmd", "connectivity", "airplane-mode", "enable" if airplane else "disable"])
            else:
                self.sh(["settings", "put", "global", "airplane_mode_on", "1" if airplane else "0"])
                self.sh(
                    [
                        "am",
                        "broadcast",
                        "-a",
                        "android.intent.action.AIRPLANE_MODE",
                        "--ez",
                        "state",
                        "true" if airplane else "false",
                    ],
                    check=False,
                )
        if wifi is not None:
            self.sh(["svc", "wifi", "enable" if wifi else "disable"])
        if data is not None:
            self.sh(["svc", "data", "enable" if data else "disable"])

    def standby_bucket(self, package: str, bucket: str | int) -> None:
        value = str(BUCKETS.get(str(bucket).lower(), bucket))
        self.sh(["am", "set-standby-bucket", package, value])

    def get_standby_bucket(self, package: str) -> int | None:
        text = self.out(["am", "get-standby-bucket", package], check=False)
        return int(text) if text.isdigit() else None

    def screen(self, on: bool) -> None:
        self.sh(["input", "keyevent", "KEYCODE_WAKEUP" if on else "KEYCODE_SLEEP"])

    def screenshot(self) -> bytes:
        return self.sh(["screencap", "-p"]).stdout

    # --------------------------------------------------------------- reboot
    def reboot(self, timeout: float = 180.0) -> None:
        """Reboot and return when ``sys.boot_completed`` is 1.

        Mobly's race: ``reboot`` returns before the link drops, so first wait for the device
        to go away (the server reports it offline or gone), then for it to come back, then
        for boot completion — never trust a ``boot_completed=1`` read before the drop.
        """
        try:
            self.wire.shell("reboot", timeout=10)
        except AdbWireError:
            pass
        deadline = time.monotonic() + timeout
        self._props.pop("sys.boot_completed", None)
        went_away = False
        delay = 0.01
        while time.monotonic() < deadline:
            try:
                state = self.wire.state()
            except AdbWireError:
                state = "missing"
            if state != "device":
                went_away = True
            elif went_away:
                try:
                    if self.wire.shell("getprop sys.boot_completed", timeout=10).out.strip() == "1":
                        return
                except AdbWireError:
                    pass
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5 if went_away else 0.05)
        raise DeviceError(
            self.serial,
            f"did not finish rebooting within {timeout:.0f} s"
            + ("" if went_away else " (it never went offline)"),
            hint="check the device; `adb wait-for-device` and `getprop sys.boot_completed`",
        )

    # --------------------------------------------------------------- time
    def advance(self, ms: int) -> None:
        """On a virtual device, move its clock; the caller decides what to do on a phone."""
        self.sh(["cmd", "bgtest", "clock", "advance", f"{ms}ms"])

    def device_time_ms(self) -> int:
        if self.is_virtual:
            text = self.out(["cmd", "bgtest", "clock"])
            match = re.search(r"\d{12,}", text)
            if match:
                return int(match.group())
        return int(self.out(["date", "+%s"])) * 1000

    # --------------------------------------------------------------- jobs
    def job_ids(self, package: str) -> list[int]:
        """WorkManager's JobScheduler job ids for ``package``, from ``dumpsys jobscheduler``."""
        text = self.out(["dumpsys", "jobscheduler", package], check=False)
        ids = []
        for match in re.finditer(r"JOB #u\d+a?\d*/(\d+): \S+ (\S+)", text):
            if match.group(2).startswith(package + "/") and int(match.group(1)) not in ids:
                ids.append(int(match.group(1)))
        return ids

    def run_job(self, package: str, job_id: int, force: bool = True) -> str:
        argv = ["cmd", "jobscheduler", "run"] + (["-f"] if force else []) + [package, str(job_id)]
        return self.out(argv)

    # --------------------------------------------------------------- state
    def snapshot(self, packages: Sequence[str] = ()) -> DeviceState:
        state = DeviceState()
        state.doze_deep = self.out(["dumpsys", "deviceidle", "get", "deep"], check=False)
        state.doze_light = self.out(["dumpsys", "deviceidle", "get", "light"], check=False)
        state.doze_forced = self.out(["dumpsys", "deviceidle", "get", "force"], check=False) == "true"
        screen = self.out(["dumpsys", "deviceidle", "get", "screen"], check=False)
        state.screen_on = {"true": True, "false": False}.get(screen)
        battery = self.out(["dumpsys", "battery"], check=False)
        state.battery_frozen = "UPDATES STOPPED" in battery
        level = re.search(r"^\s*level: (\d+)", battery, re.M)
        state.battery_level = int(level.group(1)) if level else None
        state.plugged = any(
            re.search(rf"^\s*{kind} powered: true", battery, re.M)
            for kind in ("AC", "USB", "Wireless", "Dock")
        )
        state.low_power = self.out(["settings", "get", "global", "low_power"], check=False)
        state.wifi_on = self.out(["settings", "get", "global", "wifi_on"], check=False)
        state.mobile_data = self.out(["settings", "get", "global", "mobile_data"], check=False)
        state.airplane = self.out(["settings", "get", "global", "airplane_mode_on"], check=False)
        for package in packages:
            bucket = self.get_standby_bucket(package)
            if bucket is not None:
                state.buckets[package] = bucket
        return state

    def restore(
        self, saved: DeviceState, packages: Sequence[str] = (), only: Collection[str] | None = None
    ) -> list[str]:
        """Put the device back as ``saved`` found it; return what was changed, for the report.

        ``only`` names the kinds of state the scenario touched (``doze``, ``battery``,
        ``battery_saver``, ``network``, ``standby_bucket``, ``screen``): the rest is left as the
        device itself moved it. Never raises: a half-failed restore still tries every setting.
        """
        kinds = (
            set(only)
            if only is not None
            else {"doze", "battery", "battery_saver", "network", "standby_bucket", "screen"}
        )
        if "low_power" in kinds:
            kinds.add("battery_saver")
        if "battery_saver" in kinds or "doze" in kinds:
            kinds.add("battery")  # both unplug the battery first
        now = self.snapshot(packages)
        done: list[str] = []

        def attempt(what: str, argv: list[str]) -> None:
            try:
                self.sh(argv, check=False)
                done.append(what)
            except DeviceError:
                done.append(f"{what} (FAILED)")

        if "doze" in kinds and now.doze_forced and not saved.doze_forced:
            attempt("doze unforced", ["dumpsys", "deviceidle", "unforce"])
        if "network" in kinds and now.airplane != saved.airplane and saved.airplane in ("0", "1"):
            attempt(
                f"airplane mode {'on' if saved.airplane == '1' else 'off'}",
                ["cmd", "connectivity", "airplane-mode", "enable" if saved.airplane == "1" else "disable"],
            )
        if "network" in kinds and now.wifi_on != saved.wifi_on and saved.wifi_on in ("0", "1"):
            attempt(
                f"wifi {'on' if saved.wifi_on == '1' else 'off'}",
                ["svc", "wifi", "enable" if saved.wifi_on == "1" else "disable"],
            )
        if "network" in kinds and now.mobile_data != saved.mobile_data and saved.mobile_data in ("0", "1"):
            attempt(
                f"mobile data {'on' if saved.mobile_data == '1' else 'off'}",
                ["svc", "data", "enable" if saved.mobile_data == "1" else "disable"],
            )
        if (
            "battery_saver" in kinds
            and now.low_power != saved.low_power
            and saved.low_power in ("0", "1", "null", "")
        ):
            value = saved.low_power if saved.low_power in ("0", "1") else "0"
            attempt(
                f"battery saver {'on' if value == '1' else 'off'}",
                ["settings", "put", "global", "low_power", value],
            )
        if "battery" in kinds and now.battery_frozen and not saved.battery_frozen:
            attempt("battery reset", ["dumpsys", "battery", "reset"])
        if (
            "screen" in kinds
            and saved.screen_on is not None
            and now.screen_on is not None
            and saved.screen_on != now.screen_on
        ):
            attempt(
                f"screen {'on' if saved.screen_on else 'off'}",
                ["input", "keyevent", "KEYCODE_WAKEUP" if saved.screen_on else "KEYCODE_SLEEP"],
            )
        for package, bucket in saved.buckets.items():
            if "standby_bucket" in kinds and now.buckets.get(package) != bucket:
                attempt(
                    f"{package} standby bucket {bucket}", ["am", "set-standby-bucket", package, str(bucket)]
                )
        return done


def _component(package: str, activity: str) -> str:
    if "/" in activity:
        return activity
    return f"{package}/{activity}"


def _extras(extras: dict[str, object] | None) -> list[str]:
    argv: list[str] = []
    for key, value in (extras or {}).items():
        if isinstance(value, bool):
            argv += ["--ez", key, "true" if value else "false"]
        elif isinstance(value, int):
            argv += ["--ei", key, str(value)]
        else:
            argv += ["--es", key, str(value)]
    return argv


def describe_wait(ms: int) -> str:
    return format_duration_ms(ms)
