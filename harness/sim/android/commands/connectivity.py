"""``cmd connectivity``, ``cmd wifi``, ``cmd phone``, ``cmd netpolicy`` and ``dumpsys connectivity``."""

from __future__ import annotations

from ..registry import CommandContext, cmd_service, dumpsys_section

# ------------------------------------------------------------------ commands
_CONNECTIVITY_HELP = """Connectivity service commands:
  help
    Print this help text.
  airplane-mode [enable|disable]
    Turn airplane mode on or off.
  airplane-mode
    Get airplane mode."""


@cmd_service("connectivity")
def cmd_connectivity(ctx: CommandContext) -> int:
    """ConnectivityService.ShellCmd: a bad airplane-mode argument prints the help, rc -1.

    Before Android P (API 28) ConnectivityService had no shell command: Binder's default
    ``onShellCommand`` answers ``No shell command implementation.`` and nothing changes.
    """
    if (ctx.device.profile.sdk or 34) < 28:
        ctx.err("No shell command implementation.")
        return 0
    args = ctx.argv[1:]
    if not args or args[0] in ("help", "-h"):
        ctx.out(_CONNECTIVITY_HELP)
        return 255
    if args[0] == "airplane-mode":
        net = ctx.device.net
        arg = args[1] if len(args) > 1 else None
        if arg == "enable":
            net.set_airplane(True)
        elif arg == "disable":
            net.set_airplane(False)
        elif arg is None:
            ctx.out("enabled" if net.airplane else "disabled")
        else:
            ctx.out(_CONNECTIVITY_HELP)
            return 255
        return 0
    ctx.out(f"Unknown command: {args[0]}")
    return 255


@dumpsys_section("connectivity")
def dumpsys_connectivity(ctx: CommandContext) -> int:
    ctx.out(ctx.device.net.dump())
    return 0


@cmd_service("wifi")
def cmd_wifi(ctx: CommandContext) -> int:
    """WifiShellCommand, the two verbs a harness uses: ``set-wifi-enabled`` and ``status``."""
    args = ctx.argv[1:]
    net = ctx.device.net
    if not args or args[0] in ("help", "-h"):
        ctx.out(
            "Wi-Fi (wifi) commands:\n  help or -h\n    Print this help text.\n"
            "  set-wifi-enabled enabled|disabled\n    Enables/disables Wifi on this device.\n"
            "  status\n    Current wifi status"
        )
        return 255
    verb = args[0]
    if verb == "set-wifi-enabled":
        arg = args[1] if len(args) > 1 else None
        if arg not in ("enabled", "disabled"):
            got = "null" if arg is None else arg
            ctx.err(
                f"Invalid args for {verb}: java.lang.IllegalArgumentException: "
                f"Expected enabled/disabled but got '{got}'"
            )
            return 255
        net.set_wifi(arg == "enabled")
        return 0
    if verb == "status":
        wifi = next((n for n in net.networks() if n.kind == "WIFI"), None)
        ctx.out(f"Wifi is {'enabled' if net.wifi_enabled else 'disabled'}")
        ctx.out("Wifi scanning is always available")
        ctx.out("==== Primary ClientModeManager instance ====")
        ctx.out(f'Wifi is connected to "{wifi.name}"' if wifi else "Wifi is not connected")
        return 0
    ctx.err(f"Uid 2000 does not have access to {verb} wifi command (or such command doesn't exist)")
    return 255


@cmd_service("phone")
def cmd_phone(ctx: CommandContext) -> int:
    """TelephonyShellCommand's ``data enable|disable`` (what ``svc data`` runs)."""
    args = ctx.argv[1:]
    if len(args) >= 2 and args[0] == "data" and args[1] in ("enable", "disable"):
        ctx.device.net.set_data(args[1] == "enable")
        return 0
    if args[:1] == ["data"]:
        ctx.out(
            "Data Test Mode Commands:\n  data enable: enable mobile data connectivity\n"
            "  data disable: disable mobile data connectivity"
        )
        return 255
    ctx.out("Telephony Commands:\n  help\n    Print this help text.\n  data\n    Data Test Mode Commands.")
    return 255 if args and args[0] not in ("help", "-h") else 0


_NETPOLICY_HELP = """Network policy manager (netpolicy) commands:
  help
    Print this help text.

  add restrict-background-whitelist UID
    Adds a UID to the whitelist for restrict background usage.
  add restrict-background-blacklist UID
    Adds a UID to the blacklist for restrict background usage.
  get restrict-background
    Gets the global restrict background usage status.
  list wifi-networks [true|false]
    Lists all saved wifi networks and whether they are metered or not.
    If a boolean argument is passed, filters just the metered (or unmetered)
    networks.
  list restrict-background-whitelist
    Lists UIDs that are whitelisted for restrict background usage.
  list restrict-background-blacklist
    Lists UIDs that are blacklisted for restrict background usage.
  remove restrict-background-whitelist UID
    Removes a UID from the whitelist for restrict background usage.
  remove restrict-background-blacklist UID
    Removes a UID from the blacklist for restrict background usage.
  set metered-network ID [undefined|true|false]
    Toggles whether the given wi-fi network is metered.
  set restrict-background BOOLEAN
    Sets the global restrict background usage status."""


def _uid_arg(ctx: CommandContext, rest: list[str]) -> int | None:
    if not rest:
        ctx.out("Error: didn't specify UID")
        return None
    try:
        return int(rest[0])
    except ValueError:
        ctx.out(f"Error: UID ({rest[0]}) should be a number")
        return None


@cmd_service("netpolicy")
def cmd_netpolicy(ctx: CommandContext) -> int:
    """NetworkPolicyManagerShellCommand; its messages go to stdout."""
    net = ctx.device.net
    args = ctx.argv[1:]
    if not args or args[0] in ("help", "-h"):
        ctx.out(_NETPOLICY_HELP)
        return 255
    verb, rest = args[0], args[1:]
    if verb == "get":
        if not rest:
            ctx.out("Error: didn't specify type of data to get")
            return 255
        if rest[0] == "restrict-background":
            ctx.out(f"Restrict background status: {'enabled' if net.restrict_background else 'disabled'}")
            return 0
        ctx.out(f"Error: unknown get type '{rest[0]}'")
        return 255
    if verb == "set":
        if not rest:
            ctx.out("Error: didn't specify type of data to set")
            return 255
        if rest[0] == "restrict-background":
            if len(rest) < 2:
                ctx.out("Error: didn't specify BOOLEAN")
                return 255
            net.set_restrict_background(rest[1].lower() == "true")
            return 0
        if rest[0] == "metered-network":
            if len(rest) < 2:
                ctx.out("Error: didn't specify networkId")
                return 255
            if len(rest) < 3:
                ctx.out("Error: didn't specify meteredOverride")
                return 255
            value = {"true": "true", "false": "false"}.get(rest[2].lower(), "none")
            net.set_metered_override(rest[1].strip('"'), value)
            return 255  # NetworkPolicyManagerShellCommand returns -1 here even on success
        ctx.out(f"Error: unknown set type '{rest[0]}'")
        return 255
    if verb == "list":
        if not rest:
            ctx.out("Error: didn't specify type of data to list")
            return 255
        kind = rest[0]
        if kind == "wifi-networks":
            want = rest[1].lower() if len(rest) > 1 else None
            for ssid, value in sorted(net.wifi_metered_override.items()):
                metered = value if value != "none" else "none"
                if want is not None and metered != want:
                    continue
                ctx.out(f"{ssid};{metered}")
            return 0
        if kind in ("restrict-background-whitelist", "restrict-background-blacklist"):
            uids = net.rb_whitelist if kind.endswith("whitelist") else net.rb_blacklist
            label = "whitelisted" if kind.endswith("whitelist") else "blacklisted"
            ctx.out(f"Restrict background {label} UIDs: " + (" ".join(map(str, sorted(uids))) or "none"))
            return 0
        if kind == "app-idle-whitelist":
            ctx.out(
                "App Idle whitelisted UIDs: " + (" ".join(map(str, sorted(net.app_idle_whitelist))) or "none")
            )
            return 0
        ctx.out(f"Error: unknown list type '{kind}'")
        return 255
    if verb in ("add", "remove"):
        if not rest:
            ctx.out(f"Error: didn't specify type of data to {verb}")
            return 255
        kind = rest[0]
        targets = {
            "restrict-background-whitelist": net.rb_whitelist,
            "restrict-background-blacklist": net.rb_blacklist,
            "app-idle-whitelist": net.app_idle_whitelist,
        }
        if kind not in targets:
            ctx.out(f"Error: unknown {verb} type '{kind}'")
            return 255
        uid = _uid_arg(ctx, rest[1:])
        if uid is None:
            return 255
        (targets[kind].add if verb == "add" else targets[kind].discard)(uid)
        ctx.device.bus.publish("constraints")
        return 0
    ctx.out(f"Unknown command: {verb}")
    return 255
