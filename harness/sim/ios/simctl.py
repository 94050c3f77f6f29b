"""``xcrun simctl`` on the virtual iPhones: the real sub-commands, output formats and exit codes.

Formats and error texts follow research ios.md §1 (stdout for data, stderr for every error and
for ``io screenshot``'s success line). Commands that keep running (``log stream``,
``launch --console-pty``, ``bootstatus`` on a device that is not booted) do their state work
under the home's lock and then follow the append-only files without holding it.

Every call is a process of its own, so this module only parses the command line and imports
the one module that does the verb (``_VERBS``): a ``spawn … logger`` never compiles the log
predicate parser, a ``bgtest state`` never the screen. ``simctl bgtest …`` is the vendor
sub-command a real Mac does not have (``simctl_bgtest.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module

from .device import open_world
from .facts import SimError
from .state import SimHome

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import TextIO

    from .device import World


class Io:
    """Where a command writes (real streams in the CLI, buffers in tests)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.o = out or sys.stdout
        self.e = err or sys.stderr

    def out(self, text: str = "") -> None:
        self.o.write(text + "\n")
        self.o.flush()

    def err(self, text: str) -> None:
        self.e.write(text + "\n")
        self.e.flush()


#: sub-command -> (module of this package, function). A function of a verb that works on the
#: world takes ``(world, args, io)`` under the home's lock; one in ``_OUTSIDE`` takes
#: ``(home, args, io)`` and locks (and lets go) itself, as it may keep running.
_VERBS: dict[str, tuple[str, str]] = {
    "list": ("simctl_list", "cmd_list"),
    "boot": ("simctl_boot", "cmd_boot"),
    "shutdown": ("simctl_boot", "cmd_shutdown"),
    "erase": ("simctl_boot", "cmd_erase"),
    "bootstatus": ("simctl_boot", "bootstatus"),
    "install": ("simctl_apps", "cmd_install"),
    "uninstall": ("simctl_apps", "cmd_uninstall"),
    "terminate": ("simctl_apps", "cmd_terminate"),
    "listapps": ("simctl_apps", "cmd_listapps"),
    "appinfo": ("simctl_apps", "cmd_appinfo"),
    "get_app_container": ("simctl_apps", "cmd_get_app_container"),
    "openurl": ("simctl_apps", "cmd_openurl"),
    "push": ("simctl_apps", "cmd_push"),
    "launch": ("simctl_launch", "launch"),
    "io": ("simctl_ui", "cmd_io"),
    "status_bar": ("simctl_ui", "cmd_status_bar"),
    "ui": ("simctl_ui", "cmd_ui"),
    "spawn": ("simctl_spawn", "spawn"),
    "bgtest": ("simctl_bgtest", "cmd_bgtest"),
    "addmedia": ("simctl_devices", "cmd_addmedia"),
    "clone": ("simctl_devices", "cmd_clone"),
    "create": ("simctl_devices", "cmd_create"),
    "delete": ("simctl_devices", "cmd_delete"),
    "getenv": ("simctl_devices", "cmd_getenv"),
    "keychain": ("simctl_devices", "cmd_keychain"),
    "location": ("simctl_devices", "cmd_location"),
    "logverbose": ("simctl_devices", "cmd_logverbose"),
    "pbcopy": ("simctl_devices", "cmd_pbcopy"),
    "pbpaste": ("simctl_devices", "cmd_pbpaste"),
    "privacy": ("simctl_devices", "cmd_privacy"),
    "rename": ("simctl_devices", "cmd_rename"),
    "runtime": ("simctl_devices", "cmd_runtime"),
}
_OUTSIDE = frozenset({"launch", "bootstatus", "spawn"})

_HELP = """usage: simctl [--set <path>] [--profiles <path>] <subcommand> ...
       simctl help [subcommand]
Command line utility to control the Simulator

Subcommands:
\taddmedia            Add photos, live photos, videos, or contacts to the library of a device.
\tappinfo             Show information about an installed application.
\tboot                Boot a device or device pair.
\tbootstatus          Checks device boot status.
\tclone               Clone an existing device.
\tcreate              Create a new device.
\tdelete              Delete specified devices, unavailable devices, or all devices.
\terase               Erase a device's contents and settings.
\tget_app_container   Print the path of the installed app's container
\tgetenv              Print an environment variable from a running device.
\tinstall             Install an app on a device.
\tkeychain            Manipulate a device's keychain
\tio                  Set up a device IO operation.
\tlaunch              Launch an application by identifier on a device.
\tlist                List available devices, device types, runtimes, or device pairs.
\tlistapps            Show the installed applications.
\tlocation            Control a device's simulated location
\tlogverbose          enable or disable verbose logging for a device
\topenurl             Open a URL in a device.
\tpbcopy              Copy standard input onto the device pasteboard.
\tpbpaste             Print the contents of the device's pasteboard to standard output.
\tprivacy             Grant, revoke, or reset privacy and permissions
\tpush                Send a simulated push notification
\trename              Rename a device.
\truntime             Perform operations on runtimes
\tshutdown            Shutdown a device.
\tspawn               Spawn a process by executing a given executable on a device.
\tstatus_bar          Set or clear status bar overrides
\tterminate           Terminate an application by identifier on a device.
\tui                  Get or Set UI options
\tuninstall           Uninstall an app from a device.
\tbgtest              (bgtest virtual devices only) virtual time and hardware."""


def _verb(sub: str) -> Callable[..., int]:
    module, name = _VERBS[sub]
    fn: Callable[..., int] = getattr(import_module(f"{__package__}.{module}"), name)
    return fn


def simctl(argv: list[str], io: Io | None = None, home: SimHome | None = None) -> int:
    """Run one ``simctl`` command line; returns the exit code (errors already printed)."""
    io = io or Io()
    home = home or SimHome()
    args = list(argv)
    while args[:1] in (["--set"], ["--profiles"]) and len(args) >= 2:
        args = args[2:]
    if not args or args[0] in ("help", "-h", "--help"):
        io.out(_HELP)
        return 0
    sub, rest = args[0], args[1:]
    try:
        if sub not in _VERBS:
            io.err(f"Unrecognized subcommand: {sub}")
            return 1
        fn = _verb(sub)
        if sub in _OUTSIDE:
            return fn(home, rest, io)
        world: World
        with open_world(home) as world:
            return fn(world, rest, io)
    except SimError as exc:
        io.err(exc.message)
        return exc.code
    except BrokenPipeError:
        return 141
