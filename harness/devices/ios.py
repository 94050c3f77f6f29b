"""The iOS driver: every command bgtest sends to an iOS simulator (or an iPhone) goes through here.

The tool is ``xcrun`` run as a subprocess — the real one on a Mac, the virtual iPhone's
stand-in elsewhere — from a configurable path (``Settings.xcrun``: ``--xcrun``, else
``$BGTEST_XCRUN``; default ``xcrun``). Arguments are always argv lists; nothing goes through
a shell. The commands, their outputs and exit codes are the ones in research/ios.md §1–§4:

- ``simctl launch --terminate-running-process`` always (relaunch without it is ill-defined);
  environment as ``SIMCTL_CHILD_*``; ``--console-pty`` keeps the app's stdout flowing into the
  journal (native_workmanager's debug lines are ``print()``, not the unified log).
- ``simctl terminate`` exiting 3 ("found nothing to terminate") means the app was not running:
  what bgtest wanted anyway.
- ``bootstatus -b`` sometimes fails with CoreSimulator 405 "current state: Booted" on a booted
  device: re-check ``list`` and carry on.
- Low Power Mode has no simctl switch: on a simulator the Darwin notification route
  (``notifyutil -s com.apple.system.lowpowermode 1`` then ``-p``), on an iPhone WDA's Settings.
- ``run_task``/``expire_task``: on an iPhone the debugger (``xcrun lldb --batch -p PID``); on a
  simulator ``BGTaskScheduler.submit`` fails with Code=1, so only the app's own hook can run a
  task — and bgtest says so when there is none.

Virtual time is discovered, never assumed: the virtual iPhone's stand-in answers the vendor
command ``simctl bgtest state`` (its clock mode among the rest); a real ``xcrun`` does not know
it, so waits really wait. On the virtual iPhone only, the vendor verbs also carry what a real
Mac needs separate calls for (issue 17: each ``xcrun`` is a process start): the state document
holds the status bar overrides and the ``list`` entry, and ``--mark TEXT`` writes the barrier
line a ``spawn … logger`` would, in the same call as a state read or a clock advance.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import subprocess
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from harness.devices.base import Facet, LogInterest, LogReader, RoundTrips, vendor_clock_rate
from harness.durations import DurationError, parse_duration_ms
from harness.errors import BgtestError, DeviceCommandError, DeviceError, UnsupportedAction

if TYPE_CHECKING:
    from harness.apps.target import AppUnderTest
    from harness.devices.ios_journal import IosDeviceJournal
    from harness.devices.ios_metrics import IosMetrics
    from harness.logs.expect import ExpectationEngine

LOW_POWER_NOTIFICATION = "com.apple.system.lowpowermode"
#: A BGTask identifier goes into an Objective-C string literal of an lldb expression.
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_ERROR_HEAD = re.compile(r"An error was encountered processing the command \(domain=([^,]+), code=(-?\d+)\)")
_LAUNCH_PID = re.compile(r"^\s*(\S+): (\d+)\s*$", re.M)
_MARK_TIME = re.compile(r'"now_ms": (\d+)|^advanced \S+ to (\d+),', re.M)


def xcrun_argv(path: str | None = None) -> list[str]:
    """The ``xcrun`` to run: the configured one (``Settings.xcrun``: ``--xcrun``, else
    ``$BGTEST_XCRUN``), else ``xcrun`` on PATH; a command line is split."""
    return shlex.split(path or "xcrun")


@dataclass
class XcrunResult:
    """One finished ``xcrun`` run: what it printed and how it exited."""

    argv: list[str]
    exit_code: int
    out: str
    err: str

    @property
    def command(self) -> str:
        return shlex.join(["xcrun", *self.argv])

    @property
    def error_domain(self) -> tuple[str, int] | None:
        """``(domain, code)`` of simctl's "An error was encountered …" report, if it printed one."""
        match = _ERROR_HEAD.search(self.err)
        return (match.group(1), int(match.group(2))) if match else None


class Xcrun:
    """``xcrun`` as a subprocess: ``run`` for commands that finish, ``popen`` for streams."""

    def __init__(
        self,
        path: str | None = None,
        env: Mapping[str, str] | None = None,
        on_call: Callable[[], None] | None = None,
    ) -> None:
        self.argv0 = xcrun_argv(path)
        self.env = dict(env or {})  # e.g. the embedded virtual iPhone's BGTEST_SIM_HOME
        self.on_call = on_call  # counts round trips (the device's RoundTrips)

    @property
    def path(self) -> str:
        return shlex.join(self.argv0)

    def counted(self, on_call: Callable[[], None]) -> Xcrun:
        """The same ``xcrun`` whose every call is also counted by ``on_call`` (one device's)."""
        twin = Xcrun(env=self.env, on_call=on_call)
        twin.argv0 = list(self.argv0)
        return twin

    def _missing(self, exc: OSError) -> BgtestError:
        return BgtestError(
            f"cannot run xcrun ({self.path}): {exc.strerror or exc}",
            hint="on a Mac install Xcode's command line tools; elsewhere run without --xcrun (bgtest starts "
            "a virtual iPhone) or use the BGTEST_XCRUN=… line `bgtest sim ios` prints",
        )

    def run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float = 120.0,
    ) -> XcrunResult:
        if self.on_call is not None:
            self.on_call()
        full_env = dict(os.environ)
        full_env.update(self.env)
        full_env.update(env or {})
        try:
            proc = subprocess.run(
                [*self.argv0, *args],
                input=stdin,
                capture_output=True,
                env=full_env,
                timeout=timeout,
                check=False,
            )
        except OSError as exc:
            raise self._missing(exc) from exc
        except subprocess.TimeoutExpired as exc:
            raise BgtestError(
                f"`{shlex.join(['xcrun', *args])}` did not finish within {timeout:.0f} s",
                hint="is CoreSimulator stuck? `xcrun simctl list devices` shows the simulators' states",
            ) from exc
        return XcrunResult(
            list(args),
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )

    def popen(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        if self.on_call is not None:
            self.on_call()
        full_env = dict(os.environ)
        full_env.update(self.env)
        full_env.update(env or {})
        try:
            return subprocess.Popen(
                [*self.argv0, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=full_env,
                start_new_session=True,
            )
        except OSError as exc:
            raise self._missing(exc) from exc


@dataclass
class SimDevice:
    """One entry of ``simctl list -j devices``."""

    udid: str
    name: str
    state: str
    runtime: str
    device_type: str = ""
    available: bool = True

    @property
    def os_version(self) -> str:
        """``com.apple.CoreSimulator.SimRuntime.iOS-17-2`` → ``iOS 17.2``."""
        tail = self.runtime.rsplit(".", 1)[-1]
        platform, _, version = tail.partition("-")
        return f"{platform} {version.replace('-', '.')}".strip()


def parse_device_list(text: str) -> list[SimDevice]:
    """``simctl list -j devices`` → devices (tolerant of old ``availability`` strings and extra keys)."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    found: list[SimDevice] = []
    for runtime, items in (data.get("devices") or {}).items() if isinstance(data, dict) else ():
        for item in items or ():
            if not isinstance(item, dict) or "udid" not in item:
                continue
            available = item.get("isAvailable")
            if available is None:
                available = "unavailable" not in str(item.get("availability", ""))
            found.append(
                SimDevice(
                    udid=str(item["udid"]),
                    name=str(item.get("name", "")),
                    state=str(item.get("state", "")),
                    runtime=str(runtime),
                    device_type=str(item.get("deviceTypeIdentifier", "")),
                    available=bool(available),
                )
            )
    return found


def list_simulators(xcrun: Xcrun) -> list[SimDevice]:
    result = xcrun.run(["simctl", "list", "-j", "devices"])
    if result.exit_code != 0:
        raise BgtestError(
            f"`xcrun simctl list -j devices` exited {result.exit_code}: {result.err.strip()[-300:]}",
            hint="check Xcode (`xcode-select -p`) or the BGTEST_XCRUN path",
        )
    return parse_device_list(result.out)


def parse_openstep_value(text: str, key: str) -> str | None:
    """One scalar of an OpenStep plist as ``simctl appinfo``/``listapps`` print it (``Key = value;``)."""
    match = re.search(rf'(?:^|[\s{{;]){re.escape(key)}\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]+)\s*;', text)
    if match is None:
        return None
    value = match.group(1)
    return value[1:-1].replace('\\"', '"') if value.startswith('"') else value


def parse_listapps(text: str) -> list[str]:
    """Bundle ids of ``simctl listapps``: the top-level keys of its OpenStep plist."""
    ids = re.findall(r'^\s{4}"?([A-Za-z0-9.\-_]+)"?\s*=\s*\{', text, re.M)
    return list(dict.fromkeys(ids))


@dataclass
class IosState:
    """What the iOS state guard saves and restores, and what failure reports show."""

    low_power: bool | None = None
    network: bool | None = None
    status_bar: str = ""
    battery: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)  # bundle id → running | not running | not installed

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        parts = [f"Low Power Mode={'on' if self.low_power else 'off' if self.low_power is not None else '?'}"]
        if self.network is not None:
            parts.append("network " + ("on" if self.network else "off"))
        if self.battery:
            level = self.battery.get("level")
            parts.append(f"battery {level}% {self.battery.get('state', '?')}")
        overrides = [line for line in self.status_bar.splitlines()[2:] if line.strip()]
        if overrides:
            parts.append("status bar overrides: " + "; ".join(overrides))
        for bundle, state in self.apps.items():
            parts.append(f"{bundle} {state}")
        return ", ".join(parts)


class Mark(NamedTuple):
    """A barrier line bgtest writes into the unified log."""

    text: str
    requests: int | None  # the device's request count right after writing it; None: being written
    at_ms: int | None = None  # its device time, when the call said (the virtual iPhone's do)


@dataclass
class Console:
    """A running ``simctl launch --console-pty``: the app's stdout, until it exits."""

    bundle: str
    pid: int
    process_name: str
    proc: subprocess.Popen[bytes]


class IosDevice:
    """One iOS simulator (or the virtual iPhone) reached through ``xcrun``, plus WDA when there is one.

    ``kind`` is ``simulator`` or ``device``: the BGTaskScheduler facts differ (research §3) and
    bgtest never guesses — the virtual iPhone says which it is (``simctl bgtest state``), a real
    ``xcrun`` target is a simulator unless told otherwise.
    """

    platform = "ios"

    def __init__(
        self,
        udid: str,
        xcrun: Xcrun | None = None,
        wda_url: str | None = None,
        kind: str | None = None,
        virtual: bool | None = None,
    ) -> None:
        self.udid = udid
        self.round_trips = RoundTrips()
        self.xcrun = (xcrun or Xcrun()).counted(lambda: self.round_trips.add("xcrun"))
        self.wda_url = wda_url
        self._kind = kind
        self._virtual = virtual  # None: asked once (``simctl bgtest state``)
        #: Cached answers (issue 17: each xcrun call is a process start, 100-500 ms on a Mac).
        #: The list entry's name, runtime and type never change; no iOS step changes the clock
        #: mode (there is no shell step); the status bar overrides are read once per scenario
        #: (while its journal is open) and again by the restore, which puts them back.
        self._entry: SimDevice | None = None
        self._clock_answer: str | None = None
        self._status_bar: str | None = None
        self._in_scenario = False  # a journal is open: the per-scenario caches hold
        self._last_state: tuple[dict[str, Any], int] | None = None  # vendor state, request count then
        self._mark: Mark | None = None  # the last barrier line written
        self._wda: Any = None
        self._pids: dict[str, int] = {}
        self._exec_names: dict[str, str] = {}
        self.consoles: list[Console] = []
        self.on_console: Any = None  # the journal's stdout reader: called with each Console

    def __repr__(self) -> str:
        return f"<IosDevice|{self.udid}>"

    @property
    def serial(self) -> str:
        """The id in every message (the runner and errors call it serial on every platform)."""
        return self.udid

    # ------------------------------------------------------------------ xcrun
    def simctl(
        self,
        args: Sequence[str],
        check: bool = True,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float = 120.0,
        hint: str = "",
    ) -> XcrunResult:
        result = self.xcrun.run(["simctl", *args], env=env, stdin=stdin, timeout=timeout)
        if check and result.exit_code != 0:
            raise self._error(result, hint)
        return result

    def _error(self, result: XcrunResult, hint: str = "") -> DeviceError:
        text = result.err + result.out
        if "Invalid device" in text or "No devices are booted" in text:
            return DeviceError(
                self.udid,
                f"no such simulator: `{result.command}` says {text.strip().splitlines()[0]!r}",
                hint="`bgtest devices` lists the booted simulators; pass --device UDID",
            )
        return DeviceCommandError(self.udid, result.command, result.exit_code, result.out, result.err, hint)

    def _device_entry(self, fresh: bool = True) -> SimDevice | None:
        """This simulator's ``simctl list`` entry; ``fresh=False`` may answer from the last one
        (for its name, runtime and type, which never change — its state does)."""
        if fresh or self._entry is None:
            self._entry = next((d for d in list_simulators(self.xcrun) if d.udid == self.udid), None)
        return self._entry

    def check(self) -> SimDevice:
        """The simulator exists (else a bgtest message naming it) and is booted."""
        entry = self._device_entry()
        if entry is None:
            raise DeviceError(
                self.udid,
                f"no such simulator: `{self.xcrun.path} simctl list devices` does not show it",
                hint="`bgtest devices` lists the booted simulators; pass --device UDID",
            )
        if entry.state != "Booted":
            raise DeviceError(
                self.udid,
                f"{entry.name} is {entry.state}, not Booted",
                hint=f"`xcrun simctl boot {self.udid}` (or `bootstatus {self.udid} -b`) first",
            )
        return entry

    # --------------------------------------------------------------- identity
    def vendor_info(self) -> dict[str, Any]:
        """``simctl bgtest state UDID`` (JSON) on the virtual iPhone; {} from a real xcrun.

        Within a scenario the read also writes a barrier line (``--mark``): the next step's
        barrier is then this read, when nothing was asked of the device in between."""
        if not self.is_virtual:
            return {}
        last = self._last_state
        if last is not None and self.holds_still and last[1] == self.requests_made():
            return dict(last[0])  # nothing was asked of it since, and its clock stands still
        return dict(self._ask_state(self._state_mark()))

    def _state_mark(self) -> str | None:
        """Within a scenario a state read also writes a barrier line (see :meth:`vendor_info`)."""
        return f"bgtest-state-{uuid.uuid4().hex[:12]}" if self._in_scenario else None

    def _set_and_read(self, verb: str, *args: str) -> None:
        """A vendor setting (``battery``, ``network``, ``forcequit``) that answers with the state
        document and, in a scenario, a barrier line (``--state --mark``): the guard's look at the
        state it left and the next barrier cost no call of their own."""
        self._ask_state(self._state_mark(), check=True, verb=[verb, *args, "--state"])

    def _ask_state(
        self, mark: str | None = None, check: bool = False, verb: Sequence[str] = ("state",)
    ) -> dict[str, Any]:
        """One ``simctl bgtest state UDID [--mark TEXT]`` (or a setting ``verb`` that prints the
        same): remembered with what it tells once and for all (the clock mode, the ``list``
        entry), {} when it does not answer."""
        args = ["simctl", "bgtest", verb[0], self.udid, *verb[1:], *(["--mark", mark] if mark else [])]
        with self._marking(mark) as said:
            result = self.xcrun.run(args)
            if result.exit_code == 0:
                said.append(result.out)
        if check and result.exit_code != 0:
            raise self._error(result)
        try:
            data = json.loads(result.out) if result.exit_code == 0 else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        if data:
            self._last_state = (data, self.requests_made())
        if isinstance(data.get("clock"), str):
            self._clock_answer = data["clock"]
        if self._entry is None and isinstance(data.get("name"), str):
            self._entry = SimDevice(
                udid=self.udid,
                name=data["name"],
                state=str(data.get("state", "")),
                runtime=str(data.get("runtime", "")),
                device_type=str(data.get("device_type", "")),
            )
        return data

    def requests_made(self) -> int:
        """Requests made of this device so far, on every channel (xcrun, WDA)."""
        return sum(self.round_trips.copy().values())

    @property
    def is_virtual(self) -> bool:
        """The virtual iPhone: ``simctl bgtest state`` answers (with its clock mode), so waits
        advance its clock; a real ``xcrun`` refuses the verb."""
        if self._virtual is None:
            self._virtual = bool(self._ask_state())
        return self._virtual

    @property
    def kind(self) -> str:
        if self._kind is None:
            self._kind = str(self.vendor_info().get("kind") or "simulator")
        return self._kind

    def describe(self) -> dict[str, str]:
        virtual = self.is_virtual  # first: the virtual iPhone's answer carries its list entry
        entry = self._device_entry(fresh=False)
        return {
            "serial": self.udid,
            "model": entry.name if entry else "?",
            "udid": self.udid,
            "name": entry.name if entry else "?",
            "os": entry.os_version if entry else "?",
            "state": entry.state if entry else "missing",
            "kind": self.kind,
            "virtual": "yes" if virtual else "no",
            "xcrun": self.xcrun.path,
            "profile": self.profile(),
        }

    # ------------------------------------------------------------- profile, metrics
    def profile(self) -> str:
        """Which device profile this iPhone is: from its device type (an iPhone 7 or older is iphone-7)."""
        from harness.profiles import ios_profile

        entry = self._device_entry(fresh=False)
        return ios_profile(entry.name if entry else "")

    def metrics(self, app: AppUnderTest, journal: LogReader) -> IosMetrics:
        """iOS readings: the queue asked of BGTaskScheduler through lldb; memory and battery are
        not measurable (harness/devices/ios_metrics.py says why)."""
        from harness.devices.ios_metrics import IosMetrics

        def ask_pending(expression: str) -> list[str]:
            pid = self.pid_of(app.need())
            if pid is None:
                return []
            since = journal.barrier(f"bgtest-metric-{os.getpid()}").time_ns
            self.xcrun.run(["lldb", "--batch", "-p", str(pid), "-o", expression, "-o", "process detach"])
            journal.barrier(f"bgtest-metric-read-{os.getpid()}")
            return [r.message for r in journal.records_since(since)]

        return IosMetrics(self.kind, ask_pending)

    # ------------------------------------------------------------------ WDA
    @property
    def wda(self) -> Any:
        """The WebDriverAgent client, or a bgtest error saying how to get one."""
        if self._wda is None:
            url = self.wda_url
            if not url:
                raise UnsupportedAction(
                    f"<{self.udid}> this needs WebDriverAgent and none is configured",
                    hint="start WDA on the device and pass --wda http://HOST:8100 (or set BGTEST_WDA_URL)",
                )
            from harness.devices.wda import Wda

            self._wda = Wda(url, device=self.udid, on_request=lambda: self.round_trips.add("wda"))
        return self._wda

    # ------------------------------------------------------------ app actions
    def install(self, path: str) -> None:
        self.simctl(["install", self.udid, path], hint="is the path a built .app for this simulator?")

    def uninstall(self, bundle: str) -> None:
        self.simctl(["uninstall", self.udid, bundle])

    def installed_apps(self) -> list[str]:
        return parse_listapps(self.simctl(["listapps", self.udid]).out)

    def is_installed(self, bundle: str) -> bool:
        return self.simctl(["get_app_container", self.udid, bundle], check=False).exit_code == 0

    def _not_installed(self, bundle: str) -> DeviceError:
        return DeviceError(
            self.udid,
            f"{bundle} is not installed",
            hint="add an install step (or app: {model: …} so bgtest installs it); "
            f"`xcrun simctl listapps {self.udid}` lists what is",
        )

    def executable(self, bundle: str) -> str:
        """The app's process name (``CFBundleExecutable``): how the unified log names it."""
        if bundle not in self._exec_names:
            result = self.simctl(["appinfo", self.udid, bundle], check=False)
            name = parse_openstep_value(result.out, "CFBundleExecutable") if result.exit_code == 0 else None
            self._exec_names[bundle] = name or bundle.rsplit(".", 1)[-1]
        return self._exec_names[bundle]

    def launch(
        self,
        bundle: str,
        arguments: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        console: bool = True,
        *,
        deep_link: str | None = None,
    ) -> int:
        """Start (or restart) the app; return its pid. With ``console`` its stdout feeds the journal.

        A ``deep_link`` is opened once the app runs (``simctl launch`` takes no URL).
        """
        pid = self._launch(bundle, arguments, env, console)
        if deep_link:
            self.open_url(deep_link)
        return pid

    def _launch(
        self, bundle: str, arguments: Sequence[str], env: Mapping[str, str] | None, console: bool
    ) -> int:
        child_env = {f"SIMCTL_CHILD_{key}": str(value) for key, value in (env or {}).items()}
        args = ["launch", "--terminate-running-process"]
        if console and self.on_console is not None:
            args.append("--console-pty")
            args += [self.udid, bundle, *arguments]
            return self._launch_console(bundle, args, child_env)
        args += [self.udid, bundle, *arguments]
        result = self.simctl(args, check=False, env=child_env)
        if result.exit_code != 0:
            raise self._launch_error(bundle, result)
        return self._remember_pid(bundle, result.out)

    def _launch_error(self, bundle: str, result: XcrunResult) -> DeviceError:
        domain = result.error_domain
        if domain and domain[0] == "FBSOpenApplicationServiceErrorDomain" and not self.is_installed(bundle):
            return self._not_installed(bundle)
        return self._error(result)

    def _remember_pid(self, bundle: str, out: str) -> int:
        match = _LAUNCH_PID.search(out)
        if match is None:
            raise DeviceError(self.udid, f"simctl launch {bundle} printed no pid: {out.strip()[:200]!r}")
        pid = int(match.group(2))
        self._pids[bundle] = pid
        return pid

    def _launch_console(self, bundle: str, args: list[str], env: Mapping[str, str]) -> int:
        name = self.executable(bundle)
        proc = self.xcrun.popen(["simctl", *args], env=env)
        assert proc.stdout is not None
        first = proc.stdout.readline().decode("utf-8", "replace")
        if not _LAUNCH_PID.search(first):
            rest = first.encode()
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            result = XcrunResult(
                ["simctl", *args],
                proc.returncode if proc.returncode is not None else -1,
                (rest + out).decode("utf-8", "replace"),
                err.decode("utf-8", "replace"),
            )
            raise self._launch_error(bundle, result)
        pid = self._remember_pid(bundle, first)
        console = Console(bundle, pid, name, proc)
        self.consoles.append(console)
        if self.on_console is not None:
            self.on_console(console)
        return pid

    def stop_app(self, bundle: str) -> None:
        """The user's force-quit: ``simctl terminate`` (not running, exit 3, is fine).

        ``terminate`` is a kill, not the app-switcher swipe iOS treats as "no background work
        until the user opens the app again"; the virtual iPhone models the swipe itself
        (``simctl bgtest forcequit``, which ends the app as the swipe does), so there bgtest asks
        for that instead. A real simulator has no BGTask launches to block, so the kill is all
        that matters there.
        """
        self._pids.pop(bundle, None)
        if self.is_virtual:
            try:
                self._set_and_read("forcequit", bundle)
            except DeviceCommandError:
                if not self.is_installed(bundle):
                    raise self._not_installed(bundle) from None
                raise
            return
        result = self.simctl(["terminate", self.udid, bundle], check=False)
        if result.exit_code != 0 and result.error_domain != ("NSPOSIXErrorDomain", 3):
            raise self._error(result)

    def background(self) -> None:
        """The home screen, through WebDriverAgent (simctl has no home button)."""
        self.wda.home()

    def open_url(self, url: str) -> None:
        result = self.simctl(["openurl", self.udid, url], check=False)
        if result.exit_code != 0:
            if result.error_domain == ("LSApplicationWorkspaceErrorDomain", 115):
                raise DeviceError(
                    self.udid,
                    f"no app handles {url}",
                    hint="is the app installed and does its Info.plist declare the URL scheme?",
                )
            raise self._error(result)

    def push(self, bundle: str, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        if len(data) > 4096:
            raise UnsupportedAction(f"push payload is {len(data)} bytes; simctl push takes at most 4096")
        self.simctl(["push", self.udid, bundle, "-"], stdin=data)

    def screenshot(self) -> bytes:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="bgtest-shot-") as tmp:
            path = os.path.join(tmp, "screen.png")
            self.simctl(["io", self.udid, "screenshot", "--type=png", path])
            with open(path, "rb") as fh:
                return fh.read()

    def pid_of(self, bundle: str) -> int | None:
        """The app's pid: from bgtest's own launch, else ``launchctl list`` inside the simulator."""
        if bundle in self._pids:
            return self._pids[bundle]
        result = self.simctl(["spawn", self.udid, "launchctl", "list"], check=False)
        for line in result.out.splitlines():
            cols = line.split("\t")
            if len(cols) == 3 and cols[2].startswith(f"UIKitApplication:{bundle}[") and cols[0].isdigit():
                return int(cols[0])
        return None

    # ------------------------------------------------------------ device state
    def power_saver(self, on: bool) -> None:
        """Low Power Mode: WDA Settings on an iPhone; the Darwin notification on a simulator."""
        if self.kind == "device" and self.wda_url:
            self.wda.set_low_power(on)
            return
        self.simctl(["spawn", self.udid, "notifyutil", "-s", LOW_POWER_NOTIFICATION, "1" if on else "0"])
        self.simctl(["spawn", self.udid, "notifyutil", "-p", LOW_POWER_NOTIFICATION])

    def low_power_state(self) -> bool | None:
        result = self.simctl(["spawn", self.udid, "notifyutil", "-g", LOW_POWER_NOTIFICATION], check=False)
        match = re.search(r"(\d+)\s*$", result.out.strip())
        return (match.group(1) != "0") if result.exit_code == 0 and match else None

    def battery(self, state: str | None = None, level: int | None = None) -> None:
        """Charging / unplugged / level: the virtual iPhone only (a real one cannot be unplugged remotely)."""
        if not self.is_virtual:
            raise UnsupportedAction(
                f"<{self.udid}> battery: a real iPhone or simulator cannot be plugged or unplugged remotely "
                "(`simctl status_bar` only paints the icon)",
                hint="run this scenario on the virtual iPhone, or plug the device in by hand",
            )
        args: list[str] = []
        if state == "reset":
            state, level = "unplugged", 80 if level is None else level
        if state in ("charging", "unplugged"):
            args.append(f"--{state}")
        if level is not None:
            args += ["--level", str(level)]
        self._set_and_read("battery", *args)

    def battery_info(self) -> dict[str, Any]:
        """``{level, state}`` from the virtual iPhone's ``bgtest battery`` (``level 80 charging``)."""
        if not self.is_virtual:
            return {}
        result = self.simctl(["bgtest", "battery", self.udid], check=False)
        match = re.match(r"level (-?\d+) (\w+)", result.out.strip())
        return {"level": int(match.group(1)), "state": match.group(2)} if match else {}

    def screen(self, on: bool) -> None:
        if on:
            self.wda.unlock()
        else:
            self.wda.lock()

    def network(
        self, wifi: bool | None = None, data: bool | None = None, airplane: bool | None = None
    ) -> None:
        """Connectivity: the virtual iPhone's vendor switch; a real simulator shares the Mac's network."""
        if self.is_virtual:
            if airplane:
                online = False
            elif wifi is None and data is None:
                online = True  # airplane: off, and nothing else said
            else:
                online = bool(wifi) or bool(data)
            self._set_and_read("network", "on" if online else "off")
            return
        raise UnsupportedAction(
            f"<{self.udid}> network: the iOS Simulator shares the Mac's network and has no switch for it",
            hint="on an iPhone use Control Center by hand; on a simulator disconnect the Mac "
            "(or skip the step)",
        )

    def status_bar(self) -> str:
        return self.simctl(["status_bar", self.udid, "list"], check=False).out

    def _clear_status_bar(self) -> None:
        self._status_bar = None
        self.simctl(["status_bar", self.udid, "clear"])

    # --------------------------------------------------------------- reboot
    def reboot(self, timeout: float = 180.0) -> None:
        """Shut down and boot; :meth:`rebooting` waits until it has booted."""
        result = self.simctl(["shutdown", self.udid], check=False)
        if result.exit_code != 0 and "current state: Shutdown" not in result.err:
            raise self._error(result)
        self._pids.clear()
        result = self.simctl(["boot", self.udid], check=False, timeout=timeout)
        if result.exit_code != 0 and "current state: Booted" not in result.err:
            raise self._error(result)

    @contextlib.contextmanager
    def rebooting(self, journal: LogReader | None = None, timeout: float = 180.0) -> Iterator[None]:
        """``with device.rebooting(journal): device.reboot()``: the journal paused across the reboot,
        resumed once ``bootstatus -b`` says it has booted (its spurious 405 "Booted" tolerated)."""
        if journal is not None:
            journal.pause()
        yield
        self._wait_booted(timeout)
        if journal is not None:
            journal.resume()

    def _wait_booted(self, timeout: float) -> None:
        result = self.simctl(["bootstatus", self.udid, "-b"], check=False, timeout=timeout)
        if result.exit_code != 0:
            entry = self._device_entry()
            if not ("current state: Booted" in result.err and entry is not None and entry.state == "Booted"):
                raise self._error(result, hint="`xcrun simctl list devices` shows its state")

    # --------------------------------------------------------------- time
    def advance(self, ms: int, slice_ms: int | None = None) -> int:
        """On the virtual iPhone, move its clock (the runner sleeps on a real one), and write a
        barrier line at the time it reached: the barrier after a wait slice is this call. Sliced,
        it runs on through slices in which nothing was logged or printed (``--until-output``):
        one call per slice that can decide something, not per slice."""
        mark = f"bgtest-clock-{uuid.uuid4().hex[:12]}"
        args = ["bgtest", "clock", self.udid, "advance", f"{ms}ms"]
        if slice_ms is not None and slice_ms < ms:
            args += ["--until-output", f"{slice_ms}ms"]
        with self._marking(mark) as said:
            result = self.simctl([*args, "--mark", mark])
            said.append(result.out)
        moved = re.search(r"^advanced (\S+) to ", result.out, re.M)  # "advanced 2m15s to <ms>, 3 events"
        try:
            return parse_duration_ms(moved.group(1)) if moved else ms
        except DurationError:
            return ms

    @property
    def holds_still(self) -> bool:
        """A virtual iPhone whose clock moves only when asked (known without asking): nothing
        happens on it between two of bgtest's requests — every stand-in call runs what is due
        and returns, and no clock runs on its own."""
        answer = self._clock_answer
        return bool(self._virtual) and answer is not None and vendor_clock_rate(answer) is None

    def clock_rate(self) -> float | None:
        """1 on a simulator or an iPhone; on the virtual one as its clock mode says."""
        if not self.is_virtual:
            return 1.0
        if self._clock_answer is None:
            self._ask_state(check=True)
        return vendor_clock_rate(self._clock_answer or "")

    # ------------------------------------------------------------- BGTasks
    def simulate_launch(self, bundle: str, identifier: str) -> str:
        """``_simulateLaunchForTaskWithIdentifier:`` through the debugger (an iPhone only)."""
        return self._lldb_bgtask(bundle, identifier, "_simulateLaunchForTaskWithIdentifier:", "run_task")

    def simulate_expiration(self, bundle: str, identifier: str) -> str:
        """``_simulateExpirationForTaskWithIdentifier:`` through the debugger (an iPhone only)."""
        selector = "_simulateExpirationForTaskWithIdentifier:"
        return self._lldb_bgtask(bundle, identifier, selector, "expire_task")

    def _lldb_bgtask(self, bundle: str, identifier: str, selector: str, action: str) -> str:
        if not _IDENTIFIER.match(identifier):
            raise UnsupportedAction(f"{identifier!r} is not a BGTask identifier (letters, digits, . _ -)")
        if self.kind != "device":
            raise UnsupportedAction(simulator_bgtask_message(action, identifier, self.udid))
        pid = self.pid_of(bundle)
        if pid is None:
            raise DeviceError(
                self.udid,
                f"{action} needs {bundle} running (lldb attaches to it), and it is not",
                hint="add a launch step before it",
            )
        call = f'[[BGTaskScheduler sharedScheduler] {selector}@"{identifier}"]'
        expression = f"expression -l objc -- (void){call}"
        result = self.xcrun.run(["lldb", "--batch", "-p", str(pid), "-o", expression, "-o", "process detach"])
        text = result.out + result.err
        if result.exit_code != 0 or re.search(r"^error:", text, re.M):
            raise DeviceCommandError(
                self.udid,
                shlex.join(["xcrun", *result.argv]),
                result.exit_code,
                result.out,
                result.err,
                hint="the app must be debuggable (a development build) and running",
            )
        return text

    # --------------------------------------------------------------- marker
    def log_marker(self, text: str) -> None:
        """Write one line into the unified log (the runner's barrier): ``logger`` inside the
        simulator; on the virtual iPhone the same line through ``bgtest state --mark``, whose
        state document then answers the guard's snapshot in the same step."""
        if self.is_virtual:
            self._ask_state(text, check=True)
            return
        with self._marking(text) as said:
            result = self.simctl(
                ["spawn", self.udid, "logger", "-t", "bgtest", text],
                timeout=30,
                hint="bgtest marks each step in the unified log with /usr/bin/logger inside the simulator",
            )
            said.append(result.out)

    @contextlib.contextmanager
    def _marking(self, text: str | None) -> Iterator[list[str]]:
        """Around the one call that writes barrier line ``text`` (None: a call that writes none);
        the caller adds what the call printed once it succeeded (nothing added: no line was
        written), where the virtual iPhone says its device time (``"now_ms": …`` of the state
        document, ``advanced 1m to <ms>, …`` of the clock)."""
        self._mark = Mark(text, None) if text else None
        said: list[str] = []
        try:
            yield said
        except BaseException:
            self._mark = None
            raise
        if not said:
            self._mark = None
        elif text:
            found = _MARK_TIME.search("".join(said))
            at = int(found.group(1) or found.group(2)) if found else None
            self._mark = Mark(text, self.requests_made(), at)

    def standing_mark(self) -> str | None:
        """The last barrier line written, while it still tells the time: nothing was asked of
        the device since and its clock moves only when asked (:attr:`holds_still`). A barrier
        waits for that line instead of writing a new one: it would show the same time after the
        same records."""
        mark = self.mark_in_force()
        return mark.text if mark is not None and mark.requests is not None else None

    def mark_in_force(self) -> Mark | None:
        """The barrier line being written, or standing (see :meth:`standing_mark`): on a device
        that holds still, app output that arrives now was printed before it."""
        mark = self._mark
        if mark is None or not self.holds_still:
            return None
        if mark.requests is not None and mark.requests != self.requests_made():
            return None
        return mark

    def log_stream_args(self, predicate: str | None = None) -> list[str]:
        args = ["simctl", "spawn", self.udid, "log", "stream", "--style", "ndjson", "--level", "debug"]
        if predicate:
            args += ["--predicate", predicate]
        return args

    # --------------------------------------------------------------- state guard
    def snapshot(self, bundles: Sequence[str] = ()) -> IosState:
        """What the guard saves: on the virtual iPhone one ``simctl bgtest state`` (JSON, the
        status bar overrides in it; often the answer of the step's barrier or setting, asked
        again); elsewhere a read per setting (notifyutil, status_bar, each app)."""
        state = IosState()
        info = self.vendor_info()  # first: it may be the answer to the last read, asked again
        if isinstance(info.get("status_bar"), str):
            self._status_bar = info["status_bar"] + "\n"  # as `status_bar list` prints it
        elif self._status_bar is None or not self._in_scenario:
            self._status_bar = self.status_bar()
        state.status_bar = self._status_bar
        if info:
            return self._from_vendor_state(state, info, bundles)
        try:
            state.low_power = self.low_power_state()
        except BgtestError:
            pass
        for bundle in bundles:
            if not self.is_installed(bundle):
                state.apps[bundle] = "not installed"
            else:
                state.apps[bundle] = "running" if self.pid_of(bundle) is not None else "not running"
        return state

    def snapshot_at_next_barrier(self, apps: Sequence[str]) -> None:
        """Nothing to ask: on the virtual iPhone every marker (``bgtest state --mark``) already
        brings the state the next snapshot answers from; elsewhere the snapshot reads it."""

    @staticmethod
    def _from_vendor_state(state: IosState, info: dict[str, Any], bundles: Sequence[str]) -> IosState:
        """The virtual iPhone's own state document (``simctl bgtest state``) as an :class:`IosState`."""
        if isinstance(info.get("low_power"), bool):
            # As `notifyutil -g` reads it on a real simulator: a value set (-s) but not yet posted
            # (-p: bgtest interrupted between the two) is what an app reading the state sees.
            notify = info.get("notify") if isinstance(info.get("notify"), dict) else {}
            state.low_power = info["low_power"] or bool(notify.get(LOW_POWER_NOTIFICATION))
        if isinstance(info.get("network"), bool):
            state.network = info["network"]
        level = info.get("battery")
        if isinstance(level, (int, float)):
            state.battery = {
                "level": round(level * 100) if level >= 0 else -1,
                "state": "charging" if info.get("charging") else "unplugged",
            }
        apps = info.get("apps") if isinstance(info.get("apps"), dict) else {}
        for bundle in bundles:
            code = apps.get(bundle, 0)  # XCUIApplicationState: 0 unknown, 1 not running, 2+ running
            state.apps[bundle] = "not installed" if not code else "running" if code >= 2 else "not running"
        return state

    def restore(
        self, saved: IosState, bundles: Sequence[str] = (), facets: Collection[Facet] | None = None
    ) -> list[str]:
        """Put back Low Power Mode, the battery, the network and the lock with the setters the
        actions use, and clear status bar overrides bgtest may have left; never raises."""
        touched = {Facet.SAVER, Facet.BATTERY, Facet.SCREEN} if facets is None else set(facets)
        done: list[str] = []

        def attempt(what: str, setter: Callable[[], object]) -> None:
            try:
                setter()
                done.append(what)
            except BgtestError as exc:
                done.append(f"{what} (FAILED: {exc.message})")  # the why, for the report

        self._status_bar = None  # overrides are what the restore is about: read them again
        now = self.snapshot(bundles)
        low_power = saved.low_power
        if Facet.SAVER in touched and low_power is not None and now.low_power != low_power:
            attempt(f"Low Power Mode {'on' if low_power else 'off'}", lambda: self.power_saver(low_power))
        if Facet.BATTERY in touched and self.is_virtual and saved.battery and now.battery != saved.battery:
            level, state = saved.battery.get("level"), saved.battery.get("state")
            attempt(
                f"battery {level}% {state}",
                lambda: self.battery(
                    state if state in ("charging", "unplugged") else None,
                    level if isinstance(level, int) and 0 <= level <= 100 else None,
                ),
            )
        online = saved.network
        if Facet.NETWORK in touched and online is not None and now.network != online:
            attempt(f"network {'on' if online else 'off'}", lambda: self.network(airplane=not online))
        if now.status_bar != saved.status_bar and len(saved.status_bar.splitlines()) <= 2:
            attempt("status bar overrides cleared", self._clear_status_bar)
        if Facet.SCREEN in touched and self.wda_url:
            attempt("screen unlocked", lambda: self.screen(True))
        return done

    # --------------------------------------------------------------- the journal
    def open_journal(
        self, engine: ExpectationEngine, interest: LogInterest, app: AppUnderTest
    ) -> IosDeviceJournal:
        """``log stream`` filtered on the device to what the scenario can ask about, plus the
        app's stdout through ``launch --console-pty``."""
        from harness.devices.ios_journal import IosDeviceJournal

        self._status_bar = None
        self._in_scenario = True
        if app.ident and app.executable:
            self._exec_names[app.ident] = app.executable  # the model says it: no appinfo at launch
        journal = IosDeviceJournal(self, engine, predicate=self.log_predicate(interest, app))
        journal.start()
        return journal

    def journal_closed(self) -> None:
        """The scenario's journal stopped: from now on every state read asks the device."""
        self._in_scenario = False

    def log_predicate(self, interest: LogInterest, app: AppUnderTest) -> str:
        """What ``log stream`` must deliver: the app, the BackgroundTasks/dasd lines, bgtest's
        markers, and every process or subsystem the scenario names.

        A real simulator's unfiltered debug-level stream is thousands of lines a second; the
        filter is applied inside ``log`` (research ios.md §2 predicate fields).
        """
        processes = {"logger", "dasd", "SpringBoard", *interest.processes}
        subsystems = {
            "com.apple.BackgroundTasks",
            "com.apple.duetactivityscheduler",
            "dev.fluttercommunity.workmanager",
            *interest.subsystems,
        }
        if app.executable:
            processes.add(app.executable)
        elif app.ident:
            processes.add(self.executable(app.ident))
        clauses = [f"process == {_predicate_string(p)}" for p in sorted(processes)]
        clauses += [f"subsystem == {_predicate_string(s)}" for s in sorted(subsystems)]
        return " OR ".join(clauses)

    def fresh_app(self, app: AppUnderTest) -> None:
        """As on Android: every scenario on the shared virtual iPhone starts from a fresh install."""
        if not (app.ident and app.install_path):
            return
        # ``uninstall`` ends a running app and is content when there is nothing to remove, so
        # no is-installed check and no terminate first (two calls, not up to five); the virtual
        # iPhone does both in one (``bgtest reinstall``)
        self._pids.pop(app.ident, None)
        if self.is_virtual:
            self.simctl(["bgtest", "reinstall", self.udid, app.ident, app.install_path])
            return
        result = self.simctl(["uninstall", self.udid, app.ident], check=False)
        if result.exit_code != 0 and result.error_domain is None:
            raise self._error(result)  # not a "no such app" answer: the device itself (gone, shut down)
        self.install(app.install_path)

    # --------------------------------------------------------------- artifacts
    def failure_captures(self) -> Sequence[tuple[str, str]]:
        return (("screenshot", "screenshot.png"),)

    def capture(self, what: str, app: AppUnderTest, journal: LogReader) -> bytes:
        if what == "screenshot":
            return self.screenshot()
        if what == "journal":
            return journal.text().encode()
        raise UnsupportedAction(
            f"<{self.udid}> capture {what} is Android-only; on iOS capture screenshot or journal"
        )

    # --------------------------------------------------------------- BGTasks
    def run_task(self, app: AppUnderTest, task: str, hook: str | None, journal: LogReader) -> None:
        """Run a BGTask now: the app's debug hook on a simulator, lldb on an iPhone."""
        self._bgtask("run_task", app, task, hook, journal)

    def expire_task(self, app: AppUnderTest, task: str, journal: LogReader) -> None:
        """Expire a running BGTask: its expiration handler runs (hook or lldb, as for run_task)."""
        self._bgtask("expire_task", app, task, None, journal)

    def _bgtask(
        self, action: str, app: AppUnderTest, task: str, hook: str | None, journal: LogReader
    ) -> None:
        from harness.devices.ios_journal import bgtask_identifier

        bundle = app.need()
        identifier = bgtask_identifier(task, app.task_identifiers, journal.records())
        if hook is None and self.kind != "device":
            hook = app.hooks.get(action)
        if hook is not None:
            self.open_url(_fill(hook, identifier=identifier, task=task))
            return
        if self.kind != "device":
            raise UnsupportedAction(simulator_bgtask_message(action, identifier, self.udid))
        if action == "run_task":
            self.simulate_launch(bundle, identifier)
        else:
            self.simulate_expiration(bundle, identifier)


def _predicate_string(text: str) -> str:
    """An NSPredicate string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fill(template: str, **values: str) -> str:
    """A hook URL template with ``{identifier}``/``{task}`` filled in (URL-quoted)."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", quote(value, safe=".-_~"))
    return out


def simulator_bgtask_message(action: str, identifier: str, udid: str) -> str:
    """What bgtest says when a scenario asks a simulator to run or expire a BGTask without a hook."""
    verb = "run" if action == "run_task" else "expire"
    return (
        f"<{udid}> {action} {identifier}: cannot {verb} a BGTask on the iOS Simulator. There "
        "BGTaskScheduler.submit fails with BGTaskSchedulerErrorDomain Code=1 (unavailable), so no request is "
        "ever pending, and _simulateLaunchForTaskWithIdentifier / _simulateExpirationForTaskWithIdentifier "
        "only act on a pending (or running) request. Give the step the app's own debug hook (run_task: "
        '{task: …, hook: "myapp://run/…"}, or a run_task hook in the app model\'s ios: section), or run '
        "the scenario on "
        "an iPhone (or the virtual iPhone with --kind device)."
    )
