"""``simctl bgtest …``: the vendor sub-command a real Mac does not have — virtual time and the
hardware a simulator lacks (battery, cable, network, the app switcher's force-quit)."""

from __future__ import annotations

import json

from ...durations import DurationError, format_duration_ms, parse_duration_ms
from ..clockcmd import ClockCommandError, clock_command
from .device import new_state
from .facts import SimError, sim_error

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from ..clock import ClockMode
    from .device import Device, World
    from .simctl import Io


_BGTEST_HELP = """Virtual iPhone (bgtest) commands:
  simctl bgtest clock
      Print the device time (epoch ms) and the clock mode.
  simctl bgtest clock advance DURATION
      Run every event due in DURATION (500ms, 30s, 15m, 6h, 1d) in order, then return.
  simctl bgtest clock <device> advance DURATION [--until-output SLICE] [--mark TEXT]
      The same in slices of SLICE, stopping after the first slice in which the device logged a
      line or an app printed one ("advanced <how far> to <ms>, <n> events"); then TEXT into the
      unified log as `spawn <device> logger -t bgtest TEXT` writes it.
  simctl bgtest clock mode manual|realtime|scaled N
  simctl bgtest battery <device> [--level 0-100] [--charging|--unplugged]
  simctl bgtest network <device> on|off
  simctl bgtest lowpower <device> on|off
  simctl bgtest forcequit <device> <bundle id>     (the user swipes the app away)
  simctl bgtest reinstall <device> <bundle id> <path>
                                                   (uninstall if there, then install: a fresh app
                                                   in one call)
  simctl bgtest state <device> [--mark TEXT]       (JSON: apps, pending requests, running tasks,
                                                   the clock, status bar overrides, list entry;
                                                   --mark: TEXT into the unified log first, as
                                                   `spawn <device> logger -t bgtest TEXT` writes it)
  simctl bgtest battery|network|lowpower|forcequit <device> … --state [--mark TEXT]
                                                   (then the state document, as state --mark
                                                   prints it, instead of the verb's own answer)
  simctl bgtest reset [--kind simulator|device] [--profile iphone-flagship|iphone-7]
                                                   (a fresh world)"""


def cmd_bgtest(world: World, args: list[str], io: Io) -> int:
    if not args or args[0] in ("help", "-h", "--help"):
        io.out(_BGTEST_HELP)
        return 0 if args else 64
    verb, rest = args[0], args[1:]
    if verb == "clock":
        rest, mark = _take_option(rest, "--mark")
        rest, until_output = _take_option(rest, "--until-output")
        if until_output is None:
            dev = _clock(world, rest, io)
        else:
            dev = _advance_until_output(world, rest, until_output, io)
        if mark is not None:
            if dev is None:
                raise SimError("clock: --mark needs the device (clock <device> advance D --mark TEXT)", 64)
            _mark(dev, mark, io)
        return 0
    if verb == "reset":
        kind = "device" if "device" in rest or "--kind=device" in rest else "simulator"
        profile = next((a.split("=", 1)[1] for a in rest if a.startswith("--profile=")), None)
        if "--profile" in rest and rest.index("--profile") + 1 < len(rest):
            profile = rest[rest.index("--profile") + 1]
        from harness.profiles import UnknownProfileError

        try:
            fresh = new_state(kind, world.home, profile)  # type: ignore[arg-type]
        except UnknownProfileError as exc:
            raise SimError(str(exc), 64) from None
        world.state.clear()
        world.state.update(fresh)
        world.clock = type(world.clock)(start_ms=int(world.state["clock"]["ms"]))
        return 0
    if not rest:
        raise SimError(_BGTEST_HELP, 64)
    dev = world.find(rest[0])
    if verb in _STATE_AFTER:
        # ``--state [--mark TEXT]``: the state document instead of the verb's own answer, and the
        # barrier line: a setting, the guard's look at what it left, and a barrier in one call
        rest, mark = _take_option(rest, "--mark")
        if "--state" in rest:
            from io import StringIO

            from .simctl import Io as Quiet

            _bgtest_verb(world, dev, verb, [a for a in rest if a != "--state"], Quiet(StringIO(), io.e))
            return _state(world, dev, mark, io)
        if mark is not None:
            raise SimError(f"{verb}: --mark goes with --state", 64)
    return _bgtest_verb(world, dev, verb, rest, io)


#: the verbs that may answer with the state document (``--state``)
_STATE_AFTER = ("battery", "network", "lowpower", "forcequit")


def _bgtest_verb(world: World, dev: Device, verb: str, rest: list[str], io: Io) -> int:
    """One verb that names a device (``rest[0]``)."""
    if verb == "battery":
        it = iter(rest[1:])
        for a in it:
            if a == "--level":
                try:
                    level = int(next(it, "x"))
                except ValueError:
                    raise SimError("battery: --level takes 0-100", 64) from None
                if not 0 <= level <= 100:
                    raise SimError("battery: --level takes 0-100", 64)
                dev.power.set_battery(level=level / 100.0)
            elif a == "--charging":
                dev.power.set_battery(charging=True)
            elif a == "--unplugged":
                dev.power.set_battery(charging=False)
            else:
                raise SimError(f"battery: unknown option {a}", 64)
        level = dev.d["battery"]
        power = "charging" if dev.d["charging"] else "unplugged"
        io.out(f"level {round(level * 100) if level >= 0 else -1} {power}")
        return 0
    if verb in ("network", "lowpower"):
        if len(rest) != 2 or rest[1] not in ("on", "off"):
            raise SimError(f"{verb}: on|off", 64)
        if verb == "network":
            dev.d["network"] = rest[1] == "on"
        else:
            dev.power.set_low_power(rest[1] == "on")
        return 0
    if verb == "reinstall":
        if len(rest) != 3:
            raise SimError("reinstall: <device> <bundle id> <path>", 64)
        from .simctl_apps import cmd_install, cmd_uninstall

        cmd_uninstall(world, rest[:2], io)
        return cmd_install(world, [rest[0], rest[2]], io)
    if verb == "forcequit":
        if len(rest) != 2:
            raise SimError("forcequit: <device> <bundle id>", 64)
        if not dev.springboard.force_quit(rest[1]):
            raise sim_error(
                "FBSOpenApplicationServiceErrorDomain", 4, f'The request to open "{rest[1]}" failed.', 4
            )
        return 0
    if verb == "state":
        rest, mark = _take_option(rest, "--mark")
        if len(rest) != 1:
            raise SimError("state: <device> [--mark TEXT]", 64)
        return _state(world, dev, mark, io)
    raise SimError(f"Unknown bgtest command: {verb}\n{_BGTEST_HELP}", 64)


def _state(world: World, dev: Device, mark: str | None, io: Io) -> int:
    """``state <device> [--mark TEXT]``: the barrier line first, then the state document."""
    from .simctl_ui import status_bar_list

    if mark is not None:
        _mark(dev, mark, io)
    d = dev.d
    doc = {
        "udid": dev.udid,
        "kind": dev.kind,
        "state": d["state"],
        "name": d["name"],
        "runtime": d["runtime"],
        "device_type": d["type"],
        "now_ms": world.now(),
        "clock": clock_command(_WorldClock(world), []),
        "status_bar": "\n".join(status_bar_list(d["status_bar"])),
        "low_power": d["lpm"],
        "notify": d["notify"],
        "battery": d["battery"],
        "charging": d["charging"],
        "network": d["network"],
        "front": d["front"],
        "force_quit": d["force_quit"],
        "apps": {bid: dev.springboard.app_state(bid) for bid in d["apps"]},
        "requests": [{**r, "blocked": dev.bgtasks.blocked_reason(r)} for r in d["requests"]],
        "running": d["running"],
        "privacy": d.get("privacy", {}),
        "media": d.get("media", []),
        "log_verbose": bool(d.get("log_verbose", False)),
        "location": d.get("location"),
        "keychain": d.get("keychain", []),
    }
    io.out(json.dumps(doc, indent=2))
    return 0


class _WorldClock:
    """The world's clock as the shared ``clock`` verb drives it (mode and scale live in the state)."""

    def __init__(self, world: World) -> None:
        self._world = world

    @property
    def mode(self) -> ClockMode:
        return self._world.state["clock"]["mode"]  # type: ignore[no-any-return]

    @property
    def scale(self) -> float:
        return float(self._world.state["clock"]["scale"])

    def now_ms(self) -> int:
        return self._world.now()

    def advance(self, delta_ms: int) -> int:
        return self._world.advance(delta_ms)

    def set_mode(self, mode: ClockMode, scale: float = 1.0) -> None:
        self._world.set_clock_mode(mode, scale)


def _clock(world: World, args: list[str], io: Io) -> Device | None:
    """``clock [<device>] …``; the device when one was named."""
    dev = None
    if (args and len(args[0]) == 36) or args[:1] == ["booted"]:
        dev = world.find(args[0])
        args = args[1:]
    try:
        io.out(clock_command(_WorldClock(world), args))
    except ClockCommandError as exc:
        raise SimError(f"Error: {exc}", 64) from None
    return dev


def _take_option(args: list[str], name: str) -> tuple[list[str], str | None]:
    """``… NAME VALUE``: the arguments without it, and VALUE."""
    if name not in args:
        return args, None
    at = args.index(name)
    if at + 1 >= len(args):
        raise SimError(f"{name} takes a value", 64)
    return args[:at] + args[at + 2 :], args[at + 1]


def _advance_until_output(world: World, args: list[str], slice_text: str, io: Io) -> Device:
    """``clock <device> advance D --until-output S``: a harness waiting for an expectation stops
    after each slice to look; here a slice in which nothing was logged or printed (nothing it
    could look at) runs on without a stop, so the wait costs one call per slice with output."""
    if len(args) != 3 or args[1] != "advance":
        raise SimError("clock: --until-output goes with <device> advance DURATION", 64)
    dev = world.find(args[0])
    try:
        total, slice_ms = parse_duration_ms(args[2]), parse_duration_ms(slice_text)
    except DurationError as exc:
        raise SimError(f"Error: {exc}", 64) from None
    if slice_ms <= 0:
        raise SimError("Error: --until-output takes a positive duration", 64)
    done = events = 0
    while done < total:
        step = min(slice_ms, total - done)
        before = len(world.logs) + sum(len(lines) for lines in world.stdout.values())
        events += world.advance(step)
        done += step
        if len(world.logs) + sum(len(lines) for lines in world.stdout.values()) > before:
            break
    io.out(f"advanced {format_duration_ms(done)} to {world.now()}, {events} events")
    return dev


def _mark(dev: Device, text: str, io: Io) -> None:
    """A harness's barrier line in the same call as the vendor verb (one process start, not two):
    the very record ``spawn <device> logger -t bgtest TEXT`` leaves, at the device time now."""
    from .simctl_spawn import logger

    dev.require_booted("lookup")
    logger(dev, ["-t", "bgtest", text], io)
