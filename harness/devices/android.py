"""The Android driver: every platform command bgtest sends to a phone (or a virtual one).

This is the only module that knows Android shell commands. Commands are built from argv
lists and quoted with ``shlex.join`` — never formatted from user values. The exact commands
and the outputs they are checked against come from AOSP (see research/android_shell.md):
Doze is forced with ``dumpsys deviceidle force-idle`` and then *verified* with
``dumpsys deviceidle get``, the battery is unplugged before Doze or saver (plugged devices
refuse both), airplane mode uses ``cmd connectivity airplane-mode`` on API 28+.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import re
import shlex
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.devices.adbwire import AdbWire, AdbWireError, ShellResult
from harness.devices.base import (
    Facet,
    LogInterest,
    LogReader,
    RoundTrips,
    joined,
    split_joined,
    vendor_clock_ms,
    vendor_clock_rate,
)
from harness.errors import BgtestError, DeviceCommandError, DeviceError, UnsupportedAction

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.android_journal import DeviceJournal
    from harness.devices.android_metrics import AndroidMetrics
    from harness.logs.expect import ExpectationEngine

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


_SEP = "--bgtest-snapshot--"
NOTES_DIR = "/data/local/tmp"
#: The kernel's id of the running boot (a new random UUID every boot): what proves a reboot.
_BOOT_ID = "/proc/sys/kernel/random/boot_id"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_BOOT_CHECK = f"getprop sys.boot_completed; cat {_BOOT_ID} 2>/dev/null"
#: How long to wait for the server to report the old boot's link gone before asking the device.
_DROP_WAIT_S = 5.0


@dataclass
class AndroidState:
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
    http_proxy: str = ""
    buckets: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

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
        if proxy_port(self.http_proxy) is not None:
            parts.append(f"http_proxy={self.http_proxy}")
        for pkg, bucket in self.buckets.items():
            parts.append(f"{pkg} bucket={bucket}")
        return ", ".join(parts)


#: What ``settings get global http_proxy`` says when no global proxy is set; ``:0`` is how a
#: proxy is cleared (an empty or deleted setting leaves the proxy ConnectivityService already
#: applied in place: AOSP ConnectivityService.handleDeprecatedGlobalHttpProxy acts only on a
#: non-empty HTTP_PROXY).
NO_PROXY = ("", "null", ":0")


def proxy_port(value: str) -> int | None:
    """The port of a loopback ``http_proxy`` (``127.0.0.1:8080``): the one ``adb reverse`` leads to."""
    host, sep, port = value.strip().rpartition(":")
    if sep and host in ("127.0.0.1", "localhost") and port.isdigit() and int(port) > 0:
        return int(port)
    return None


#: The reads of one snapshot, in order: one shell command for all of them (Mobly's getprops idea).
_SNAPSHOT_READS: tuple[tuple[str, ...], ...] = (
    ("dumpsys", "deviceidle", "get", "deep"),
    ("dumpsys", "deviceidle", "get", "light"),
    ("dumpsys", "deviceidle", "get", "force"),
    ("dumpsys", "deviceidle", "get", "screen"),
    ("dumpsys", "battery"),
    ("settings", "get", "global", "low_power"),
    ("settings", "get", "global", "wifi_on"),
    ("settings", "get", "global", "mobile_data"),
    ("settings", "get", "global", "airplane_mode_on"),
    ("settings", "get", "global", "http_proxy"),
)


class AndroidDevice:
    """One Android device reached through an adb server (local, private or a farm's)."""

    platform = "android"

    def __init__(self, serial: str, host: str = "127.0.0.1", port: int = 5037) -> None:
        self._serial = serial
        self.host = host
        self.port = port
        self.round_trips = RoundTrips()
        self.wire = AdbWire(serial, host, port, on_request=lambda: self.round_trips.add("adb"))
        self._props: dict[str, str] | None = None
        self._profile: str | None = None
        #: ports this driver opened with ``adb reverse`` (removed by the restore)
        self._reversed: set[int] = set()
        self._boot_id: str | None = None  # read by reboot(), compared by rebooting()
        #: packages whose state the next barrier's marker command reads (snapshot_at_next_barrier)
        self._reads_at_mark: tuple[str, ...] | None = None
        #: that read: (state, packages, requests made once it was done)
        self._state_at_mark: tuple[AndroidState, tuple[str, ...], int] | None = None

    def __repr__(self) -> str:
        return f"<AndroidDevice|{self.serial}>"

    @property
    def serial(self) -> str:
        return self._serial

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
        if check and result.exit_code != 0:
            raise DeviceCommandError(self.serial, command, result.exit_code, result.out, result.err)
        return result

    def out(self, argv: Sequence[str] | str, check: bool = True) -> str:
        """stdout of a command, trailing whitespace and CRs stripped."""
        return self.sh(argv, check=check).out.replace("\r", "").strip()

    def props(self) -> dict[str, str]:
        """Every system property, read once with one ``getprop`` (they do not change while bgtest runs)."""
        if self._props is None:
            text = self.out(["getprop"], check=False)
            self._props = dict(re.findall(r"^\[([^\]]+)\]: \[(.*)\]\s*$", text, re.M))
        return self._props

    def getprop(self, key: str) -> str:
        return self.props().get(key, "")

    @property
    def sdk(self) -> int:
        try:
            return int(self.getprop("ro.build.version.sdk") or 0)
        except ValueError:
            return 0

    @property
    def is_virtual(self) -> bool:
        """A bgtest virtual device: waits become clock advances instead of sleeps."""
        return self.getprop("ro.bgtest.virtual") == "1"

    def describe(self) -> dict[str, str]:
        return {
            "serial": self.serial,
            "model": self.getprop("ro.product.model"),
            "sdk": self.getprop("ro.build.version.sdk"),
            "release": self.getprop("ro.build.version.release"),
            "virtual": "yes" if self.is_virtual else "no",
            "profile": self.profile(),
            "low_ram": self.getprop("ro.config.low_ram") or "false",
        }

    # ------------------------------------------------------------- bgtest's notes (KeepsNotes)
    def note_path(self, name: str) -> str:
        """Where a note lives: the shell user's folder, writable without root on every Android
        and kept across reboots (``/data/local/tmp``, owned by ``shell``)."""
        return f"{NOTES_DIR}/bgtest-{name}"

    def write_note(self, name: str, text: str) -> None:
        """One round trip: ``printf`` into a temporary file, then ``mv`` over the note (a rename
        on the same file system: the note is the old text or the new one, never half)."""
        path = self.note_path(name)
        tmp = path + ".tmp"
        # printf, not echo: the text is one quoted argument, never interpreted
        write = f"{shlex.join(['printf', '%s', text])} > {shlex.quote(tmp)}"
        self.sh(f"{write} && {shlex.join(['mv', tmp, path])}")

    def read_note(self, name: str) -> str | None:
        result = self.sh(["cat", self.note_path(name)], check=False)
        text = result.out.strip()
        return text if result.exit_code == 0 and text else None

    def remove_note(self, name: str) -> None:
        self.sh(["rm", "-f", self.note_path(name)], check=False)

    # ------------------------------------------------------------- profile, metrics
    def profile(self) -> str:
        """Which device profile this is, read from it (ro.bgtest.profile on a virtual one; SDK,
        ro.config.low_ram and MemTotal on a phone): harness/profiles.py."""
        if self._profile is None:
            from harness.profiles import android_profile

            declared = self.getprop("ro.bgtest.profile")
            meminfo = "" if declared else self.out(["cat", "/proc/meminfo"], check=False)
            self._profile = android_profile(self.props(), meminfo)
        return self._profile

    def metrics(self, app: AppUnderTest, journal: LogReader) -> AndroidMetrics:
        """dumpsys procstats / meminfo / batterystats / jobscheduler for the app (docs/metrics.md)."""
        from harness.devices.android_metrics import AndroidMetrics

        return AndroidMetrics(lambda argv: self.out(argv, check=False), app.need())

    # ------------------------------------------------------------- the journal
    def open_journal(
        self, engine: ExpectationEngine, interest: LogInterest, app: AppUnderTest
    ) -> DeviceJournal:
        """logcat, read continuously (all of it: the filter is the journal's, on this side)."""
        from harness.devices.android_journal import DeviceJournal

        journal = DeviceJournal(self, engine)
        journal.start()
        return journal

    def fresh_app(self, app: AppUnderTest) -> None:
        """``pm clear``: a freshly installed app, as a phone in a farm would be prepared."""
        if app.ident:
            self.sh(["pm", "clear", app.ident], check=False)

    # ------------------------------------------------------------- app actions
    def install(self, path: str) -> None:
        import adbutils

        client = adbutils.AdbClient(host=self.host, port=self.port)
        self.round_trips.add("adb")
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
        self.sh(
            f"{shlex.join(['input', 'keyevent', 'KEYCODE_HOME'])} && {shlex.join(['am', 'kill', package])}"
        )

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

    def shell(self, argv: Sequence[str]) -> ShellResult:
        """The scenario's escape hatch: one argv in the device shell, whatever it exits with."""
        return self.sh(argv, check=False)

    # ----------------------------------------------------------- device state
    def doze(self, mode: str) -> str:
        """``deep``/``light``: force Doze and verify it; ``off``: unforce; ``step``: one step.

        Forcing and verifying is one shell command: unplug (a plugged device refuses idle),
        ``force-idle``, then ``get`` — whose answer is the command's output.
        """
        if mode in ("deep", "light"):
            command = (
                f"{shlex.join(['dumpsys', 'battery', 'unplug'])} && "
                f"{shlex.join(['dumpsys', 'deviceidle', 'force-idle', mode])} >/dev/null; "
                f"{shlex.join(['dumpsys', 'deviceidle', 'get', mode])}"
            )
            state = self.out(command)
            if state != "IDLE":
                raise DeviceError(
                    self.serial,
                    f"asked for {mode} Doze but `dumpsys deviceidle get {mode}` says {state}",
                    hint="an alarm clock due within 30 minutes keeps Android out of deep idle",
                )
            return state
        if mode == "off":
            return self.out(
                f"{shlex.join(['dumpsys', 'deviceidle', 'unforce'])} >/dev/null && "
                f"{shlex.join(['dumpsys', 'deviceidle', 'get', 'deep'])}"
            )
        if mode == "step":
            return self.out(["dumpsys", "deviceidle", "step", "deep"])
        raise UnsupportedAction(f"<{self.serial}> unknown doze mode {mode!r}; use deep, light, off or step")

    def battery(self, state: str | None = None, level: int | None = None) -> None:
        """``unplugged`` / ``charging`` / ``reset`` (back to the real battery) and a level."""
        argvs: list[list[str]] = []
        if state == "reset":
            argvs.append(["dumpsys", "battery", "reset"])
        elif state == "unplugged":
            argvs.append(["dumpsys", "battery", "unplug"])
        elif state == "charging":
            argvs += [["dumpsys", "battery", "set", "ac", "1"], ["dumpsys", "battery", "set", "status", "2"]]
        if level is not None:
            argvs.append(["dumpsys", "battery", "set", "level", str(level)])
        if argvs:
            self.sh(" && ".join(shlex.join(a) for a in argvs))

    def power_saver(self, on: bool) -> None:
        """Battery saver: the setting and ``cmd power set-mode`` (API 29+), then verified.

        Unplugs first when turning it on: Android refuses saver while charging.
        """
        parts = [shlex.join(["dumpsys", "battery", "unplug"])] if on else []
        parts.append(shlex.join(["settings", "put", "global", "low_power", "1" if on else "0"]))
        parts.append(shlex.join(["cmd", "power", "set-mode", "1" if on else "0"]) + " >/dev/null 2>&1")
        command = (
            " && ".join(parts[:-1])
            + f"; {parts[-1]}; "
            + shlex.join(["settings", "get", "global", "low_power"])
        )
        now = self.out(command)
        if (now == "1") != on:
            raise DeviceError(
                self.serial,
                f"battery saver did not turn {'on' if on else 'off'} (low_power={now})",
                hint="Android refuses battery saver while the device is charging",
            )

    def network(
        self, wifi: bool | None = None, data: bool | None = None, airplane: bool | None = None
    ) -> None:
        argvs: list[list[str]] = []
        if airplane is not None:
            if self.sdk >= 28 or self.sdk == 0:
                argvs.append(["cmd", "connectivity", "airplane-mode", "enable" if airplane else "disable"])
            else:
                argvs.append(["settings", "put", "global", "airplane_mode_on", "1" if airplane else "0"])
        if wifi is not None:
            argvs.append(["svc", "wifi", "enable" if wifi else "disable"])
        if data is not None:
            argvs.append(["svc", "data", "enable" if data else "disable"])
        if argvs:
            self.sh(" && ".join(shlex.join(a) for a in argvs))
        if airplane is not None and 0 < self.sdk < 28:
            # below API 28 the setting alone changes nothing until the broadcast says so
            state = "true" if airplane else "false"
            self.sh(
                ["am", "broadcast", "-a", "android.intent.action.AIRPLANE_MODE", "--ez", "state", state],
                check=False,
            )

    # ------------------------------------------------------------ proxy
    def route_to_proxy(self, port: int) -> None:
        """Send the apps' HTTP to the proxy on the adb server's machine, port ``port``.

        ``adb reverse tcp:P tcp:P`` opens the device's loopback port P onto the host's, over
        adb (USB or TCP), and ``settings put global http_proxy 127.0.0.1:P`` makes it every
        app's default proxy (ConnectivityService applies Settings.Global.HTTP_PROXY). A device
        refusing either is an error naming the command (exit 3): never a silent pass.
        """
        try:
            self.wire.reverse(f"forward:tcp:{port};tcp:{port}")
        except AdbWireError as exc:
            raise DeviceError(
                self.serial, f"`adb reverse tcp:{port} tcp:{port}` was refused: {exc}",
                hint="the device must allow adb reverse (Android 5+, adb over USB or TCP)",
            ) from exc
        self._reversed.add(port)
        try:
            self.set_http_proxy(f"127.0.0.1:{port}")
        except DeviceCommandError as exc:  # the device's refusal, not the scenario's failure
            raise DeviceError(self.serial, f"the global HTTP proxy was refused: {exc.message}",
                              hint="a device policy (work profile, MDM) may forbid a global proxy") from exc

    def set_http_proxy(self, value: str) -> None:
        """The global HTTP proxy, ``host:port``; a value of :data:`NO_PROXY` clears it."""
        if value in NO_PROXY:
            # ``:0`` is what clears the proxy apps see; then the setting goes, as it was
            self.sh(shlex.join(["settings", "put", "global", "http_proxy", ":0"]) + " && "
                    + shlex.join(["settings", "delete", "global", "http_proxy"]))
            return
        self.sh(["settings", "put", "global", "http_proxy", value])

    def unroute(self, port: int) -> None:
        """``adb reverse --remove tcp:P``; a rule already gone (a reconnect drops them) is fine."""
        self._reversed.discard(port)
        try:
            self.wire.reverse(f"killforward:tcp:{port}")
        except AdbWireError as exc:
            if "not found" not in str(exc):
                raise DeviceError(self.serial, f"`adb reverse --remove tcp:{port}` failed: {exc}") from exc

    def _restore_proxy(
        self, saved: str, now: str, attempt: Callable[[str, Callable[[], object]], None]
    ) -> None:
        # The reverse rules this driver made, and the one the current setting points at (a run
        # that died left it: the ledger's repair has only the setting to go by).
        ports = set(self._reversed)
        if now != saved and proxy_port(now) is not None:
            ports.add(proxy_port(now))  # type: ignore[arg-type]
        if now != saved and not (now in NO_PROXY and saved in NO_PROXY):
            shown = saved if saved not in NO_PROXY else "none"
            attempt(f"http proxy {shown}", lambda: self.set_http_proxy(saved))
        for port in sorted(ports):
            if port != proxy_port(saved):
                attempt(f"adb reverse tcp:{port} removed", lambda port=port: self.unroute(port))

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
    def reboot(self) -> None:
        """Ask for a reboot; :meth:`rebooting` waits for it to finish.

        The same command first prints the kernel's boot id, which :meth:`rebooting` compares
        afterwards: no extra round trip for the proof that a new boot really happened.
        """
        out = b""
        try:
            stream = self.wire.open_stream(f"cat {_BOOT_ID} 2>/dev/null; reboot", timeout=10)
            try:
                for chunk in stream.chunks():
                    out += chunk
            finally:
                stream.close()
        except (AdbWireError, OSError):
            pass  # `reboot` never returns: its link drops (or the device is still going down at 10 s)
        boot_id = out.decode("ascii", "replace").strip()
        self._boot_id = boot_id if _UUID.fullmatch(boot_id) else None

    @contextlib.contextmanager
    def rebooting(self, journal: LogReader | None = None, timeout: float = 180.0) -> Iterator[None]:
        """``with device.rebooting(journal): device.reboot()`` returns when ``sys.boot_completed`` is 1.

        The journal is paused (its next break is the reboot, not a hiccup) and resumed after;
        a journal that follows the reboot from its own stream's break is simply waited on.
        Without one: Mobly's race, ``reboot`` returns before the link drops, so a
        ``boot_completed=1`` read then is the old boot's. Seeing the link go away is no sure
        proof either: the server's
        wait-for-disconnect samples the device's state (every 100 ms in adb's ``wait_for_state``),
        and a virtual device is offline for well under a second — on a loaded host the whole
        reboot can be over before the wait is asked, which used to cost the full timeout and
        fail. The proof is the kernel's boot id (read by :meth:`reboot` in the same command)
        changing; the wait-for-disconnect only spares polling while the old boot goes down.
        """
        self._boot_id = None
        if journal is not None:
            journal.pause()
        yield
        before, self._boot_id = self._boot_id, None
        deadline = time.monotonic() + timeout
        if journal is not None:
            # The log reader sees the link drop, waits for adbd and for boot completion, and
            # reopens logcat (DeviceJournal.open): waiting on it costs no request of its own.
            followed = journal.wait_rebooted(timeout)
            if followed:
                journal.resume()
                return
            if followed is False:
                raise DeviceError(
                    self.serial,
                    f"did not finish rebooting within {timeout:.0f} s"
                    + (f": {journal.error}" if journal.error else ""),
                    hint="check the device; `adb wait-for-device` and `getprop sys.boot_completed`",
                )
        went_away = False  # the server saw the link drop, or a new boot id was read
        delay = 0.01
        while (left := deadline - time.monotonic()) > 0:
            if not went_away:
                try:
                    # the server's own waits: one request each instead of a polling loop
                    self.wire.wait_for("disconnect", min(left, _DROP_WAIT_S))
                    went_away = True
                except AdbWireError:
                    pass  # missed (the reboot was already over) or an older server: the boot id decides
            try:
                self.wire.wait_for("device", max(0.01, deadline - time.monotonic()))
                completed, _, boot = self.wire.shell(_BOOT_CHECK, timeout=10).out.partition("\n")
            except AdbWireError:
                completed = boot = ""
            new_boot = boot.strip() not in ("", before) if before is not None else went_away
            went_away = went_away or new_boot
            if new_boot and completed.strip() == "1":
                if journal is not None:
                    journal.resume()
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise DeviceError(
            self.serial,
            f"did not finish rebooting within {timeout:.0f} s"
            + ("" if went_away else " (it never went offline)"),
            hint="check the device; `adb wait-for-device` and `getprop sys.boot_completed`",
        )

    # --------------------------------------------------------------- time
    def advance(self, ms: int, slice_ms: int | None = None) -> int:
        """On a virtual device, move its clock (one slice of it, when sliced); the caller decides
        what to do on a phone."""
        step = ms if slice_ms is None else min(ms, slice_ms)
        self.sh(["cmd", "bgtest", "clock", "advance", f"{step}ms"])
        return step

    def clock_rate(self) -> float | None:
        """1 on a phone; on a virtual device as its clock mode says (``cmd bgtest clock``)."""
        if not self.is_virtual:
            return 1.0
        return vendor_clock_rate(self.out(["cmd", "bgtest", "clock"]))

    def device_time_ms(self) -> int:
        """The device's clock: the virtual clock's epoch ms (``cmd bgtest clock``), else ``date``."""
        if self.is_virtual:
            ms = vendor_clock_ms(self.out(["cmd", "bgtest", "clock"]))
            if ms is not None:
                return ms
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

    def run_task(self, app: AppUnderTest, task: str, hook: str | None, journal: LogReader) -> None:
        """Run a waiting WorkManager task now: its JobScheduler job, forced.

        The job id comes from WorkManager's own lines (the vocabulary links them); failing
        that, from its diagnostics dump; failing that, the app's only job.
        """
        package = app.need()
        job_id = journal.job_id_for(task)
        if job_id is None:
            self.diagnostics(package)
            journal.barrier(_marker())
            job_id = journal.job_id_for(task)
        if job_id is None:
            ids = self.job_ids(package)
            job_id = ids[0] if len(ids) == 1 else None
        if job_id is None:
            raise DeviceError(
                self.serial,
                f"no JobScheduler job found for task {task!r} of {package}: "
                f"is it enqueued? (`adb shell dumpsys jobscheduler {package}`)",
            )
        self.run_job(package, job_id, force=True)

    # --------------------------------------------------------------- artifacts
    def failure_captures(self) -> Sequence[tuple[str, str]]:
        return (
            ("dumpsys_jobscheduler", "dumpsys-jobscheduler.txt"),
            ("dumpsys_deviceidle", "dumpsys-deviceidle.txt"),
            ("dumpsys_battery", "dumpsys-battery.txt"),
            ("diagnostics", "workmanager-diagnostics.txt"),
            ("screenshot", "screenshot.png"),
        )

    def capture(self, what: str, app: AppUnderTest, journal: LogReader) -> bytes:
        if what == "screenshot":
            return self.screenshot()
        if what == "journal":
            return journal.text().encode()
        if what == "diagnostics":
            self.diagnostics(app.need())
            journal.barrier(_marker())
            return journal.diagnostics_text().encode()
        section = what.removeprefix("dumpsys_")
        # the app's own part: its jobs, its process's memory, its uid's power use
        per_app = section in ("jobscheduler", "meminfo", "batterystats") and app.ident
        argv = ["dumpsys", section, *(["--charged"] if section == "batterystats" else [])]
        argv += [app.ident] if per_app and app.ident else []
        return self.sh(argv, check=False).stdout

    # --------------------------------------------------------------- state
    def snapshot(self, packages: Sequence[str] = ()) -> AndroidState:
        """Every setting the guard restores, in one shell command — or none, when the last
        barrier's marker command read them and nothing was asked of the device since."""
        at_mark, self._state_at_mark = self._state_at_mark, None
        if at_mark is not None and at_mark[1] == tuple(packages) and at_mark[2] == self._requests():
            return copy.deepcopy(at_mark[0])
        return self._parse_snapshot(self.sh(self._snapshot_command(packages), check=False).out, packages)

    def snapshot_at_next_barrier(self, apps: Sequence[str]) -> None:
        self._reads_at_mark = tuple(apps)

    def marker_shell(self, command: str) -> None:
        """A barrier's marker command; with the snapshot asked for (:meth:`snapshot_at_next_barrier`)
        its reads run first in the same shell command: one round trip for both."""
        packages, self._reads_at_mark = self._reads_at_mark, None
        if packages is None:
            self.sh(command)
            return
        out = self.sh(f"{self._snapshot_command(packages)}; {command}").out
        self._state_at_mark = (self._parse_snapshot(out, packages), packages, self._requests())

    def _requests(self) -> int:
        return sum(self.round_trips.copy().values())

    @staticmethod
    def _snapshot_command(packages: Sequence[str]) -> str:
        return joined([*_SNAPSHOT_READS, *(("am", "get-standby-bucket", p) for p in packages)], _SEP)

    @staticmethod
    def _parse_snapshot(text: str, packages: Sequence[str]) -> AndroidState:
        out = split_joined(text, _SEP, len(_SNAPSHOT_READS) + len(packages))
        state = AndroidState()
        state.doze_deep, state.doze_light, forced, screen, battery = out[:5]
        state.doze_forced = forced == "true"
        state.screen_on = {"true": True, "false": False}.get(screen)
        state.battery_frozen = "UPDATES STOPPED" in battery
        level = re.search(r"^\s*level: (\d+)", battery, re.M)
        state.battery_level = int(level.group(1)) if level else None
        state.plugged = any(
            re.search(rf"^\s*{kind} powered: true", battery, re.M)
            for kind in ("AC", "USB", "Wireless", "Dock")
        )
        state.low_power, state.wifi_on, state.mobile_data, state.airplane, state.http_proxy = out[5:10]
        for package, text in zip(packages, out[10:], strict=True):
            if text.isdigit():
                state.buckets[package] = int(text)
        return state

    def restore(
        self, saved: AndroidState, packages: Sequence[str] = (), facets: Collection[Facet] | None = None
    ) -> list[str]:
        """Put the device back as ``saved`` found it, with the setters the actions use.

        ``facets`` are the kinds of state the scenario touched; the rest is left as the device
        itself moved it. Never raises: a half-failed restore still tries every setting.
        """
        touched = set(Facet) if facets is None else set(facets)
        now = self.snapshot(packages)
        done: list[str] = []

        def attempt(what: str, setter: Callable[[], object]) -> None:
            try:
                setter()
                done.append(what)
            except BgtestError as exc:
                done.append(f"{what} (FAILED: {exc.message})")  # the why, for the report

        on_off = {"1": True, "0": False}
        if Facet.DOZE in touched and now.doze_forced and not saved.doze_forced:
            attempt("doze unforced", lambda: self.doze("off"))
        if Facet.NETWORK in touched:
            if now.airplane != saved.airplane and saved.airplane in on_off:
                on = on_off[saved.airplane]
                attempt(f"airplane mode {'on' if on else 'off'}", lambda: self.network(airplane=on))
            if now.wifi_on != saved.wifi_on and saved.wifi_on in on_off:
                wifi = on_off[saved.wifi_on]
                attempt(f"wifi {'on' if wifi else 'off'}", lambda: self.network(wifi=wifi))
            if now.mobile_data != saved.mobile_data and saved.mobile_data in on_off:
                data = on_off[saved.mobile_data]
                attempt(f"mobile data {'on' if data else 'off'}", lambda: self.network(data=data))
        if (
            Facet.SAVER in touched
            and now.low_power != saved.low_power
            and saved.low_power in ("0", "1", "null", "")
        ):
            saver = saved.low_power == "1"
            attempt(f"battery saver {'on' if saver else 'off'}", lambda: self.power_saver(saver))
        if Facet.BATTERY in touched and now.battery_frozen and not saved.battery_frozen:
            attempt("battery reset", lambda: self.battery("reset"))
        if (
            Facet.SCREEN in touched
            and saved.screen_on is not None
            and now.screen_on is not None
            and saved.screen_on != now.screen_on
        ):
            screen_on = saved.screen_on
            attempt(f"screen {'on' if screen_on else 'off'}", lambda: self.screen(screen_on))
        if Facet.PROXY in touched:
            self._restore_proxy(saved.http_proxy, now.http_proxy, attempt)
        if Facet.BUCKET in touched:
            for package, bucket in saved.buckets.items():
                if now.buckets.get(package) != bucket:
                    attempt(
                        f"{package} standby bucket {bucket}",
                        lambda package=package, bucket=bucket: self.standby_bucket(package, bucket),
                    )
        return done


def _marker() -> str:
    """A fresh barrier marker: only an id, so no step's own ``message:`` can match it."""
    return f"bgtest-step-{uuid.uuid4().hex[:12]}"


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
