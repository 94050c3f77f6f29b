"""``xcrun lldb --batch``: the subset bgtest and the BGTaskScheduler docs use against a virtual app
process — attach, ``expression`` with ``_simulateLaunchForTaskWithIdentifier:`` /
``_simulateExpirationForTaskWithIdentifier:`` / ``getPendingTaskRequestsWithCompletionHandler:``,
``continue``, ``process detach``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .device import open_world

if TYPE_CHECKING:
    from .simctl import Io
    from .state import SimHome

_EXPR = re.compile(
    r"\[\s*\[\s*BGTaskScheduler\s+sharedScheduler\s*\]\s+"
    r"_simulate(?P<what>Launch|Expiration)ForTaskWithIdentifier:\s*@\"(?P<ident>[^\"]*)\"\s*\]"
)

#: ``getPendingTaskRequestsWithCompletionHandler:`` with a block that NSLogs the count — how bgtest
#: reads an app's queue of BGTaskScheduler requests (``harness/devices/ios_metrics.py``).
_PENDING = re.compile(
    r"\[\s*\[\s*BGTaskScheduler\s+sharedScheduler\s*\]\s+getPendingTaskRequestsWithCompletionHandler:\s*"
    r"\^\s*\(\s*NSArray\s*\*\s*(?P<var>\w+)\s*\)\s*\{\s*NSLog\(\s*@\"(?P<fmt>[^\"%]*%lu[^\"%]*)\"\s*,\s*"
    r"\(\s*unsigned\s+long\s*\)\s*(?P=var)\.count\s*\)\s*;\s*\}\s*\]"
)


def lldb(argv: list[str], io: Io, home: SimHome) -> int:
    """``lldb --batch -p PID -o 'expression …' -o 'process detach'`` against a virtual app process."""
    pid: int | None = None
    name: str | None = None
    commands: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("--batch", "-b", "--no-lldbinit", "-x", "--wait-for", "-w"):
            continue
        if a in ("-p", "--attach-pid"):
            text = next(it, "")
            if not text.isdigit():
                io.err(f"error: invalid process ID '{text}'")
                return 1
            pid = int(text)
        elif a in ("-n", "--attach-name"):
            name = next(it, "")
        elif a in ("-o", "--one-line"):
            commands.append(next(it, ""))
        else:
            io.err(f"error: unknown or ambiguous option '{a}'")
            return 1
    if pid is None and name is None:
        io.err("error: no process to attach to (pass -p PID or -n NAME)")
        return 1
    with open_world(home) as world:
        found = None
        if pid is not None:
            found = world.find_pid(pid)
        else:
            for dev in world.devices():
                for bid, proc in dev.d["procs"].items():
                    if bid in dev.d["apps"] and dev.d["apps"][bid]["exe"] == name:
                        found, pid = (dev, bid), int(proc["pid"])
        if found is None:
            io.out(
                f"(lldb) process attach --pid {pid}"
                if pid is not None
                else f"(lldb) process attach --name {name}"
            )
            if pid is not None:
                io.err(
                    f"error: attach failed: tried to attach to process as user 'mobile' and process does not "
                    f"exist (pid = {pid})"
                )
            else:
                io.err(f"error: attach failed: Could not find process named '{name}'")
            return 1
        dev, bid = found
        exe = dev.app_exe_path(bid)
        io.out(f"(lldb) process attach --pid {pid}")
        io.out(f"Process {pid} stopped")
        io.out("* thread #1, queue = 'com.apple.main-thread', stop reason = signal SIGSTOP")
        io.out("    frame #0: 0x00000001b5a3a1f4 libsystem_kernel.dylib`mach_msg2_trap + 8")
        io.out(f'Executable module set to "{exe}".')
        io.out("Architecture set to: arm64-apple-ios" + ("-simulator." if dev.kind == "simulator" else "."))
        deferred: list[tuple[str, str]] = []
        for cmd in commands:
            io.out(f"(lldb) {cmd}")
            stripped = cmd.strip()
            if stripped in ("process detach", "detach"):
                io.out(f"Process {pid} detached")
                continue
            if stripped in ("continue", "c", "process continue"):
                io.out(f"Process {pid} resuming")
                continue
            if stripped.startswith(("expression", "expr", "e ", "po ", "p ")):
                pending = _PENDING.search(stripped)
                if pending is not None:
                    deferred.append(("Pending", pending.group("fmt")))
                    continue
                m = _EXPR.search(stripped)
                if m is None:
                    io.err("error: <user expression 0>:1:1: use of undeclared identifier")
                    continue
                deferred.append((m.group("what"), m.group("ident")))
                continue
            io.err(f"error: '{stripped.split()[0] if stripped else ''}' is not a valid command.")
        # the handler runs on the app's queues once the debugger lets the process go
        for what, ident in deferred:
            if bid not in dev.d["procs"]:
                break
            if what == "Pending":  # the completion block runs: NSLog from the app's process
                count = sum(1 for r in dev.d["requests"] if r["bid"] == bid)
                dev.nslog(bid, ident.replace("%lu", str(count)))
            elif what == "Launch":
                dev.bgtasks.simulate_launch(bid, ident)
            else:
                dev.bgtasks.simulate_expiration(bid, ident)
        world.reschedule()
    return 0
