"""``simctl spawn``: the device's own tools — ``notifyutil``, ``logger``, ``launchctl list`` and
``log stream|show`` (``simctl_log.py``, which follows the log after the lock is let go)."""

from __future__ import annotations

from .device import open_world
from .facts import SimError, sim_error

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from .device import Device
    from .simctl import Io
    from .state import SimHome


def spawn(home: SimHome, args: list[str], io: Io) -> int:
    rest = list(args)
    while (rest and rest[0] in ("-s", "--standalone", "-w", "--wait-for-debugger")) or (
        rest[:1] and rest[0].startswith("--arch=")
    ):
        rest.pop(0)
    if len(rest) < 2:
        raise SimError(
            "Usage: simctl spawn [-w | --wait-for-debugger] [-s | --standalone] [-a <arch> | "
            "--arch=<arch>] <device> <path to executable> [<argv 1> <argv 2> ... <argv n>]",
            64,
        )
    ref, exe, argv = rest[0], rest[1], rest[2:]
    name = exe.rsplit("/", 1)[-1]
    with open_world(home) as world:
        dev = world.find(ref)
        dev.require_booted("lookup")
        udid = dev.udid
        if name == "notifyutil":
            return notifyutil(dev, argv, io)
        if name == "launchctl":
            return launchctl(dev, argv, io)
        if name == "logger":
            return logger(dev, argv, io)
        if name != "log":
            raise sim_error("NSPOSIXErrorDomain", 2, f"No such file or directory: {exe}", 2)
    from .simctl_log import log_tool  # the predicate and styles only for log(1)

    return log_tool(home, udid, argv, io)


def notifyutil(dev: Device, argv: list[str], io: Io) -> int:
    usage = (
        "usage: notifyutil [-q] [-v] [-z msec] [-M] [-R] [command ...]\n"
        "    -s key val    set state value for key\n    -p key        post a notification for key\n"
        "    -g key        get state value for key"
    )
    i = 0
    if not argv:
        io.err(usage)
        return 1
    while i < len(argv):
        a = argv[i]
        if a == "-s" and i + 2 < len(argv):
            key, val = argv[i + 1], argv[i + 2]
            try:
                dev.d["notify"][key] = int(val)
            except ValueError:
                io.err(usage)
                return 1
            i += 3
        elif a == "-p" and i + 1 < len(argv):
            key = argv[i + 1]
            if key == "com.apple.system.lowpowermode":
                dev.power.set_low_power(bool(dev.d["notify"].get(key, 0)))
            i += 2
        elif a == "-g" and i + 1 < len(argv):
            key = argv[i + 1]
            io.out(f"{key} {dev.d['notify'].get(key, 0)}")
            i += 2
        elif a in ("-q", "-v"):
            i += 1
        else:
            io.err(usage)
            return 1
    return 0


def logger(dev: Device, argv: list[str], io: Io) -> int:
    """``logger [-t tag] [-p pri] message…``: one line into the unified log (process ``logger``)."""
    words: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("-t", "-p", "-f"):
            if next(it, None) is None:
                io.err(f"logger: option requires an argument -- {a[1]}")
                io.err("usage: logger [-is] [-f file] [-h host] [-P port] [-p pri] [-t tag] [message ...]")
                return 1
        elif a in ("-i", "-s"):
            continue
        else:
            words.append(a)
    text = " ".join(words)
    if text:
        dev.w.log(dev, dev.sys_path("/usr/bin/logger"), dev.w.new_pid(), text,
                  sender=dev.sys_path("/usr/lib/system/libsystem_c.dylib"))
    return 0


def launchctl(dev: Device, argv: list[str], io: Io) -> int:
    if argv[:1] != ["list"]:
        io.err("Usage: launchctl list [-x] [label]")
        return 64
    io.out("PID\tStatus\tLabel")
    for path, pid in sorted(dev.d.get("sys_pids", {}).items(), key=lambda kv: kv[1]):
        io.out(f"{pid}\t0\tcom.apple.{path.rsplit('/', 1)[-1]}")
    for bid, proc in dev.d["procs"].items():
        io.out(f"{proc['pid']}\t0\tUIKitApplication:{bid}[{proc['pid'] % 0xFFFF:04x}][rb-legacy]")
    return 0
