"""``bgtest-xcrun``: the ``xcrun`` stand-in (``simctl`` and the ``lldb --batch`` subset).

Installed under a bgtest-specific name so it never shadows the real ``xcrun`` on a Mac; the
harness is pointed at it with ``BGTEST_XCRUN`` / ``--xcrun``. The sim home comes from
``$BGTEST_SIM_HOME`` (see ``state.py``).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    # Each call is a process of its own: import only what the tool asks for (simctl.py imports
    # only the verb's own module in turn).
    from .facts import SimError
    from .simctl import Io
    from .state import SimHome

    args = list(sys.argv[1:] if argv is None else argv)
    io = Io()
    home = SimHome()
    while args and args[0].startswith("-") and args[0] not in ("-h", "--help"):
        opt = args.pop(0)  # --sdk iphonesimulator, -sdk, --toolchain … take a value
        if opt in ("--sdk", "-sdk", "--toolchain", "-toolchain") and args:
            args.pop(0)
    if not args or args[0] in ("-h", "--help"):
        io.out("Usage: xcrun [options] <tool name> ... arguments ...")
        return 0 if args else 1
    tool, rest = args[0], args[1:]
    try:
        if tool == "simctl":
            from .simctl import simctl

            return simctl(rest, io, home)
        if tool == "lldb":
            from .lldb import lldb

            return lldb(rest, io, home)
    except SimError as exc:
        io.err(exc.message)
        return exc.code
    except KeyboardInterrupt:
        return 130
    io.err(f'xcrun: error: unable to find utility "{tool}", not a developer tool or in PATH')
    return 72


if __name__ == "__main__":
    sys.exit(main())
