"""``bgtest sim …``: start virtual devices by hand and leave them running for adb and people.

It lives beside the embedded launcher, outside ``harness/sim``: it joins a virtual device to
a host-side adb server (``harness.devices``), and the virtual devices never import the harness.
"""

from __future__ import annotations

import signal
import sys
import threading
from enum import Enum

import typer

from harness.profiles import profile_names

app = typer.Typer(help="Start virtual devices that real adb / xcrun / WebDriverAgent clients reach.",
                  no_args_is_help=True)


#: The device profiles (harness/profiles.py) a virtual device of each platform can be started as.
AndroidProfile = Enum("AndroidProfile", {n: n for n in profile_names("android")}, type=str)  # type: ignore[misc]
IosProfile = Enum("IosProfile", {n: n for n in profile_names("ios")}, type=str)  # type: ignore[misc]


class ClockChoice(str, Enum):
    manual = "manual"
    realtime = "realtime"
    scaled = "scaled"


@app.command("android")
def android(
    count: int = typer.Option(1, "--count", "-n", min=1, max=64, help="How many devices to start."),
    adb_port: int = typer.Option(5037, "--adb-port", "-P",
                                 help="Port of the adb server to connect them to (started if not running)."),
    clock: ClockChoice = typer.Option(
        ClockChoice.manual, "--clock",
        help="Device time: manual (moves when asked: `cmd bgtest clock advance 6h`, and bgtest run "
        "advances it, so a 6-hour scenario takes a second), realtime (follows the wall clock: "
        "bgtest run really waits, with a progress bar), scaled (--scale times faster).",
    ),
    scale: float = typer.Option(60.0, "--scale", min=0.001,
                                help="With --clock scaled: device seconds per wall second."),
    apps: bool = typer.Option(
        True, "--apps/--no-apps",
        help="Install bgtest's demo app models (fixtures/apps/) so the bundled scenarios run.",
    ),
    profile: AndroidProfile = typer.Option(
        "android-flagship", "--profile",
        help="The class of phone: android-flagship (Pixel 8, Android 14), android-go (1 GB, "
        "low-RAM, Android 10), android-legacy (Nexus 5X, Android 8.1).",
    ),
) -> None:
    """Start virtual Android devices, connect them to the adb server and run until Ctrl-C."""
    from harness.apps.demo import demo_models
    from harness.devices.adb_server import AdbServer, AdbServerError, adb_binary
    from harness.run.settings import Settings
    from harness.sim.android.launcher import VirtualAndroidFarm

    server = AdbServer(port=adb_port, binary=adb_binary(Settings.from_environment().adb))
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.adb("start-server", timeout=30)
            models = demo_models() if apps else []
            farm = VirtualAndroidFarm(count=count, adb_server=server, clock_mode=clock.value, scale=scale,
                                      profile=profile.value, app_models=models)
            # This process only hosts devices, a thread each: a busy device hands the
            # interpreter lock on after 1 ms instead of CPython's 5 ms, so another's `adb shell`
            # gets its turns sooner while the others advance their clocks (bench/bench_farm.py).
            sys.setswitchinterval(0.001)
            farm.start()
        except (AdbServerError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        try:
            for serial, device in zip(farm.serials, farm.devices, strict=True):
                typer.echo(f"{serial}\t{device.model} ({device.serial})\tprofile {device.profile.name}")
            if models:
                names = ", ".join(p.stem for p in models)
                typer.echo(f"installed the demo apps ({names}); --no-apps for none", err=True)
            typer.echo(f"adb -P {adb_port} devices -l", err=False)
            typer.echo("Ctrl-C stops the devices and disconnects them.", err=True)
            while not stop.wait(0.5):
                pass
        finally:
            farm.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class IosKind(str, Enum):
    simulator = "simulator"
    device = "device"


@app.command("ios")
def ios(
    kind: IosKind = typer.Option(
        IosKind.simulator, "--kind",
        help="simulator: BGTaskScheduler.submit fails with Code=1 as in Xcode's Simulator; "
        "device: dasd runs the requests.",
    ),
    wda_port: int = typer.Option(
        8100, "--wda-port", min=0, max=65535,
        help="Port of the WebDriverAgent-compatible server (0: any free port).",
    ),
    clock: ClockChoice = typer.Option(
        ClockChoice.realtime, "--clock",
        help="Device time: realtime, manual (moved by 'simctl bgtest clock'), scaled.",
    ),
    scale: float = typer.Option(
        60.0, "--scale", min=0.001, help="With --clock scaled: device seconds per wall second."
    ),
    reset: bool = typer.Option(
        False, "--reset", help="Start from a fresh virtual iPhone (apps and log erased)."
    ),
    profile: IosProfile = typer.Option(
        "iphone-flagship", "--profile",
        help="The class of phone: iphone-flagship (iPhone 15, iOS 17.2) or iphone-7 (iOS 15.5, 2 GB).",
    ),
) -> None:
    """Start the virtual iPhone: prints BGTEST_XCRUN=… for the xcrun stand-in and serves WDA until Ctrl-C."""
    from harness.sim.ios.launcher import start_ios

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            running = start_ios(
                kind=kind.value, wda_port=wda_port, clock=clock.value, scale=scale, reset=reset,
                profile=profile.value,
            )
        except OSError as exc:
            reason = exc.strerror or exc
            typer.echo(f"error: cannot serve WebDriverAgent on port {wda_port}: {reason}", err=True)
            raise typer.Exit(1) from None
        try:
            for line in running.env_lines():
                typer.echo(line)
            where = f"{running.device_name} ({running.udid}) {kind.value}"
            typer.echo(f"{where}, WebDriverAgent at {running.url}", err=True)
            typer.echo("Ctrl-C stops the WebDriverAgent server (the device state stays in BGTEST_SIM_HOME).",
                       err=True)
            while not stop.wait(0.5):
                running.tick()
        finally:
            running.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
