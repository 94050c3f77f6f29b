"""``settings`` and ``cmd settings`` (SettingsService's shell command)."""

from __future__ import annotations

from ..os.settings import NAMESPACES
from ..registry import CommandContext, cmd_service, command

_HELP = """Settings provider (settings) commands:
  help
      Print this help text.
  get [--user <USER_ID> | current] NAMESPACE KEY
      Retrieve the current value of KEY.
  put [--user <USER_ID> | current] NAMESPACE KEY VALUE [TAG] [default]
      Change the contents of KEY to VALUE.
      TAG to associate with the setting.
      {default} to set as the default, case-insensitive only for global/secure namespace
  delete [--user <USER_ID> | current] NAMESPACE KEY
      Delete the entry for KEY.
  reset [--user <USER_ID> | current] NAMESPACE {PACKAGE_NAME | RESET_MODE}
      Reset the global/secure table for a package with mode.
      RESET_MODE is one of {untrusted_defaults, untrusted_clear, trusted_defaults}, case-insensitive
  list [--user <USER_ID> | current] NAMESPACE
      Print all defined keys.
      NAMESPACE is one of {system, secure, global}, case-insensitive"""


@command("settings")
@cmd_service("settings")
def settings_cmd(ctx: CommandContext) -> int:
    """``settings`` / ``cmd settings``: SettingsService's shell, parsed the way MyShellCommand does."""
    args = ctx.argv[1:]
    if not args or args[0] in ("help", "-h"):
        ctx.out(_HELP)
        return 255  # handleDefaultCommands answers -1 even for help
    verb: str | None = None
    table: str | None = None
    key: str | None = None
    value: str | None = None
    user_seen = False
    valid = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        more = i < len(args)
        if arg == "--user":
            if user_seen:
                ctx.err("Invalid user: --user specified more than once")
                break
            if not more:
                ctx.err(f"\nException occurred while executing '{args[0]}':")
                ctx.err('java.lang.IllegalArgumentException: Argument expected after "--user"')
                return 255
            user_seen = True
            if args[i] == "all":
                ctx.err("Invalid user: all")
                return 255
            i += 1
        elif verb is None:
            if arg.lower() not in ("get", "put", "delete", "list", "reset"):
                ctx.err(f"Invalid command: {arg}")
                return 255
            verb = arg.lower()
        elif table is None:
            if arg.lower() not in NAMESPACES:
                ctx.err(f"Invalid namespace '{arg}'")
                return 255
            table = arg.lower()
            if verb == "list":
                valid = True
                break
        elif verb == "reset":
            # A reset mode takes nothing after it; a package may carry one tag. Our tables keep
            # no per-package defaults, so a valid reset changes nothing.
            allowed_after = 0 if arg.lower() in _RESET_MODES else 1
            if len(args) - i > allowed_after:
                ctx.err("Too many arguments")
                return 255
            valid = True
            break
        elif verb in ("get", "delete"):
            key = arg
            if more:
                ctx.err("Too many arguments")
                return 255
            valid = True
            break
        elif key is None:
            key = arg
        elif value is None:
            value = arg
            valid = True
        else:  # TAG, then an optional trailing "default": accepted, no effect here
            rest = args[i - 1 :]
            if len(rest) > 2 or (len(rest) == 2 and rest[1].lower() != "default"):
                if len(rest) == 2:
                    ctx.err("Argument expected to be 'default'")
                else:
                    ctx.err("Too many arguments")
                return 255
            break
    if not valid:
        ctx.err("Bad arguments")
        return 255
    store = ctx.device.settings
    assert table is not None
    if verb == "list":
        for k, v in store.items(table):
            ctx.out(f"{k}={v}")
    elif verb == "get":
        assert key is not None
        got = store.get(table, key)
        ctx.out("null" if got is None else got)
    elif verb == "put":
        assert key is not None and value is not None
        store.put(table, key, value)
    elif verb == "delete":
        assert key is not None
        ctx.out(f"Deleted {store.delete(table, key)} rows")
    elif table == "system":
        ctx.err("Invalid table; no reset performed")
    return 0


_RESET_MODES = ("untrusted_defaults", "untrusted_clear", "trusted_defaults")
