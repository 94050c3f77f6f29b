"""``simctl launch``: start an app (its ``SIMCTL_CHILD_*`` environment, ``--stdout=``) and, with
``--console-pty``, copy its stdout until its process is gone — without holding the home's lock."""

from __future__ import annotations

import os
import time

from .device import open_world
from .facts import SimError, invalid_argument
from .follow import LOOK_S, Follower

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from .simctl import Io
    from .state import SimHome


class LaunchOpts:
    def __init__(self) -> None:
        self.console = False
        self.wait = False
        self.terminate = False
        self.stdout: str | None = None
        self.stderr: str | None = None
        self.udid = ""
        self.bundle = ""
        self.argv: list[str] = []


def parse_launch(args: list[str]) -> LaunchOpts:
    opts = LaunchOpts()
    rest = list(args)
    while rest and rest[0].startswith("-"):
        a = rest.pop(0)
        if a in ("--console", "--console-pty"):
            opts.console = True
        elif a in ("-w", "--wait-for-debugger"):
            opts.wait = True
        elif a == "--terminate-running-process":
            opts.terminate = True
        elif a.startswith("--stdout="):
            opts.stdout = a.split("=", 1)[1]
        elif a.startswith("--stderr="):
            opts.stderr = a.split("=", 1)[1]
        elif a.startswith("--arch="):
            continue
        else:
            raise invalid_argument()
    if len(rest) < 2:
        raise SimError(
            "Usage: simctl launch [-w | --wait-for-debugger] [--console|--console-pty] "
            "[--stdout=<path>] [--stderr=<path>] [--terminate-running-process] [--arch=<arch>] "
            "<device> <app bundle identifier> [<argv 1> <argv 2> ... <argv n>]",
            64,
        )
    opts.udid, opts.bundle, opts.argv = rest[0], rest[1], rest[2:]
    return opts


def child_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """``SIMCTL_CHILD_FOO=bar`` in simctl's environment becomes ``FOO=bar`` in the app's."""
    env = os.environ if environ is None else environ
    return {k[len("SIMCTL_CHILD_") :]: v for k, v in env.items() if k.startswith("SIMCTL_CHILD_")}


def launch(home: SimHome, args: list[str], io: Io) -> int:
    opts = parse_launch(args)
    with open_world(home) as world:
        dev = world.find(opts.udid)
        stdout_path = None
        if opts.stdout and not opts.console:
            stdout_path = os.path.abspath(opts.stdout)
            with open(stdout_path, "a"):
                pass  # the real simctl creates the file before the app writes to it
        pid = dev.springboard.launch(
            opts.bundle, opts.argv, child_env(), terminate_running=opts.terminate, stdout_path=stdout_path
        )
        udid = dev.udid
        io.out(f"{opts.bundle}: {pid}")
    if not opts.console:
        return 0
    follow_stdout(home, udid, opts.bundle, pid, io)
    return 0


def follow_stdout(home: SimHome, udid: str, bundle: str, pid: int, io: Io) -> None:
    """``--console-pty``: copy the app's stdout (from its first line: what it printed while
    launching comes first) until the app's process is gone."""
    path = str(home.stdout_file(pid))
    pos = 0
    follower = Follower(home, io.o)
    while not follower.reader_gone():
        state = follower.state()
        proc = state["devices"].get(udid, {}).get("procs", {}).get(bundle) if state is not None else None
        alive = proc is not None and proc.get("pid") == pid
        if not alive:
            follower.settled()  # the command that ended the app may still be writing its last lines
        pos = _copy_new(path, pos, io)
        if not alive:
            return
        follower.tick()  # let realtime device time move the app along
        time.sleep(LOOK_S)


def _copy_new(path: str, pos: int, io: Io) -> int:
    """Copy the whole lines written to ``path`` after byte ``pos``; the position after them."""
    try:
        if os.stat(path).st_size <= pos:
            return pos
        with open(path, "rb") as fh:
            fh.seek(pos)
            data = fh.read()
    except OSError:
        return pos
    cut = data.rfind(b"\n")
    if cut >= 0:
        io.o.write(data[: cut + 1].decode("utf-8", "replace"))
        io.o.flush()
        pos += cut + 1
    return pos
