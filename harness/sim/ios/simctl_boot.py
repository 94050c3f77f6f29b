"""A device's lifecycle: ``boot``, ``shutdown``, ``erase`` and ``bootstatus`` (which may wait)."""

from __future__ import annotations

import time

from .device import open_world
from .facts import SimError

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from .device import Device, World
    from .simctl import Io
    from .state import SimHome

#: How often ``bootstatus`` without ``-b`` looks whether somebody else booted the device.
_ASK_S = 0.2


def cmd_boot(world: World, args: list[str], io: Io) -> int:
    if not args:
        raise SimError("Usage: simctl boot <device> [--arch=<arch>]", 64)
    dev = _find_boot(world, args[0])
    dev.boot()
    return 0


def _find_boot(world: World, ref: str) -> Device:
    try:
        return world.find(ref)
    except SimError as exc:
        if exc.message.startswith("Invalid device"):
            raise SimError(f"Invalid device or device pair: {ref}", 148) from None
        raise


def cmd_shutdown(world: World, args: list[str], io: Io) -> int:
    if not args:
        raise SimError("Usage: simctl shutdown <device> | all", 64)
    if args[0] == "all":
        for dev in world.devices():
            if dev.booted:
                dev.shutdown()
        return 0
    world.find(args[0]).shutdown()
    return 0


def cmd_erase(world: World, args: list[str], io: Io) -> int:
    if not args:
        raise SimError("Usage: simctl erase <device> [... <device>] | all", 64)
    targets = world.devices() if args[0] == "all" else [world.find(a) for a in args]
    for dev in targets:
        dev.erase()
    return 0


def _bootstatus_lines(world: World, dev: Device, waited: bool) -> list[str]:
    if not waited:
        return ["Device already booted, nothing to do."]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(world.now() / 1000.0))
    return [
        f"[{stamp}] Status=4, isTerminal=NO, Elapsed=00:01.",
        "\tWaiting on System App",
        "",
        f"[{stamp}] Status=4294967295, isTerminal=YES, Elapsed=00:02.",
        "\tFinished",
    ]


def bootstatus(home: SimHome, args: list[str], io: Io) -> int:
    """``bootstatus <device> [-b] [-d]``: waits (without the lock) until the device is booted."""
    boot = "-b" in args
    refs = [a for a in args if not a.startswith("-")]
    if not refs:
        raise SimError("Usage: simctl bootstatus <device> [-bcd]", 64)
    with open_world(home) as world:
        dev = world.find(refs[0])
        io.out(f"Monitoring boot status for {dev.d['name']} ({dev.udid}).")
        if dev.booted:
            io.out(_bootstatus_lines(world, dev, False)[0])
            return 0
        udid = dev.udid
        if boot:
            dev.boot()
            for line in _bootstatus_lines(world, dev, True):
                io.out(line)
            return 0
    while True:  # without -b it waits for somebody else to boot it, as the real one does
        time.sleep(_ASK_S)
        with open_world(home) as world:
            dev = world.find(udid)
            if dev.booted:
                for line in _bootstatus_lines(world, dev, True):
                    io.out(line)
                return 0
