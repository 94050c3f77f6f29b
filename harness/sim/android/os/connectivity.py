"""Connectivity: wifi, mobile data, airplane mode, metered networks, per-app network blocking.

The radios follow the settings as the platform keeps them: ``wifi_on`` (0 off, 1 on, 2 on in
airplane mode, 3 off because of airplane mode), ``mobile_data`` and ``airplane_mode_on``.
``svc`` and ``cmd connectivity airplane-mode`` write those settings; a bare ``settings put
global airplane_mode_on 1`` flips only the setting (the broadcast that would move the radios is
protected on modern Android), as on a phone.

:meth:`Connectivity.app_has_network` is what job constraints and apps' HTTP calls ask: a
suitable network is up *and* the app is not blocked by Doze, battery saver or data saver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..registry import CommandContext, cmd_service, dumpsys_section

if TYPE_CHECKING:
    from ..device import VirtualAndroidDevice

WIFI_SSID = "AndroidWifi"
CARRIER = "T-Mobile"
REQUIREMENTS = ("connected", "unmetered", "not_roaming", "metered")


@dataclass(frozen=True)
class Network:
    net_id: int
    kind: str  # "WIFI" or "CELLULAR"
    metered: bool
    roaming: bool = False
    name: str = ""


class Connectivity:
    """Radio state, the default network, and the app-level blocking rules."""

    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self._next_net_id = 100
        self._wifi_net: Network | None = None
        self._cell_net: Network | None = None
        #: SSID -> metered override ("true", "false" or "none"), from ``cmd netpolicy``.
        self.wifi_metered_override: dict[str, str] = {WIFI_SSID: "none"}
        self.restrict_background = False
        self.rb_whitelist: set[int] = set()
        self.rb_blacklist: set[int] = set()
        self.app_idle_whitelist: set[int] = set()
        s = device.settings
        for key in ("wifi_on", "mobile_data", "airplane_mode_on"):
            s.observe("global", key, lambda _v: self._refresh())
        self._refresh(publish=False)

    # ---------------------------------------------------------------- state
    @property
    def airplane(self) -> bool:
        return self.device.settings.get_int("global", "airplane_mode_on", 0) == 1

    @property
    def wifi_enabled(self) -> bool:
        return self.device.settings.get_int("global", "wifi_on", 1) in (1, 2)

    @property
    def data_enabled(self) -> bool:
        return self.device.settings.get_int("global", "mobile_data", 1) == 1

    def _wifi_metered(self) -> bool:
        return self.wifi_metered_override.get(WIFI_SSID, "none") == "true"

    def _refresh(self, publish: bool = True) -> None:
        before = (self._wifi_net, self._cell_net)
        wifi_up = self.wifi_enabled
        cell_up = self.data_enabled and not self.airplane
        if wifi_up and (self._wifi_net is None or self._wifi_net.metered != self._wifi_metered()):
            self._wifi_net = Network(self._new_id(), "WIFI", self._wifi_metered(), name=WIFI_SSID)
        elif not wifi_up:
            self._wifi_net = None
        if cell_up and self._cell_net is None:
            self._cell_net = Network(self._new_id(), "CELLULAR", True, name=CARRIER)
        elif not cell_up:
            self._cell_net = None
        if publish and before != (self._wifi_net, self._cell_net):
            self.device.bus.publish("network", connected=self.active_network() is not None)
            self.device.bus.publish("constraints")

    def _new_id(self) -> int:
        self._next_net_id += 1
        return self._next_net_id

    def active_network(self) -> Network | None:
        """The default network: wifi when it is up, else cellular."""
        return self._wifi_net or self._cell_net

    def networks(self) -> list[Network]:
        return [n for n in (self._wifi_net, self._cell_net) if n is not None]

    # --------------------------------------------------------------- control
    def set_wifi(self, enabled: bool) -> None:
        """``svc wifi enable|disable``: in airplane mode an enable is an override (wifi_on=2)."""
        value = ("2" if self.airplane else "1") if enabled else "0"
        self.device.settings.put("global", "wifi_on", value)

    def set_data(self, enabled: bool) -> None:
        self.device.settings.put("global", "mobile_data", "1" if enabled else "0")

    def set_airplane(self, enabled: bool) -> None:
        """``cmd connectivity airplane-mode``: the setting *and* the radios, as ConnectivityService does."""
        s = self.device.settings
        if enabled == self.airplane:
            return
        wifi = s.get_int("global", "wifi_on", 1)
        if enabled:
            s.set_quiet("global", "wifi_on", "3" if wifi in (1, 2) else "0")
        else:
            s.set_quiet("global", "wifi_on", "1" if wifi in (2, 3) else "0")
        s.put("global", "airplane_mode_on", "1" if enabled else "0")

    def set_metered_override(self, ssid: str, value: str) -> None:
        self.wifi_metered_override[ssid] = value
        self._refresh()

    def set_restrict_background(self, enabled: bool) -> None:
        if enabled != self.restrict_background:
            self.restrict_background = enabled
            self.device.bus.publish("constraints")

    # ------------------------------------------------------------- app view
    def network_for(self, requirement: str) -> Network | None:
        """The network that satisfies a JobScheduler-style requirement, ignoring app blocking."""
        wifi, cell = self._wifi_net, self._cell_net
        if requirement == "connected":
            return wifi or cell
        if requirement not in REQUIREMENTS:
            raise ValueError(f"unknown network requirement {requirement!r}; one of {', '.join(REQUIREMENTS)}")
        for net in (wifi, cell):
            if net is None:
                continue
            if requirement == "unmetered" and net.metered:
                continue
            if requirement == "not_roaming" and net.roaming:
                continue
            if requirement == "metered" and not net.metered:
                continue
            return net
        return None

    def app_blocked(self, package: str, uid: int, net: Network | None = None) -> bool:
        """Doze, battery saver or data saver keeps this app off the network right now."""
        dev = self.device
        if _foreground(dev, package):
            return False
        if dev.idle.restricts(package):
            return True
        if dev.power.saver_restricts(package):
            return True
        net = net or self.active_network()
        if net is not None and net.metered:
            if uid in self.rb_blacklist:
                return True
            if self.restrict_background and uid not in self.rb_whitelist:
                return True
        return False

    def app_has_network(self, package: str, uid: int, requirement: str = "connected") -> bool:
        net = self.network_for(requirement)
        return net is not None and not self.app_blocked(package, uid, net)

    # ------------------------------------------------------------------ dump
    def dump(self) -> str:
        active = self.active_network()
        lines = ["NetworkProviders for:", "  WifiNetworkFactory", "  TelephonyNetworkFactory", ""]
        lines.append(f"Active default network: {active.net_id if active else 'none'}")
        lines.append("")
        lines.append("Current Networks:")
        for net in self.networks():
            caps = [
                "INTERNET",
                "NOT_RESTRICTED",
                "TRUSTED",
                "NOT_VPN",
                "VALIDATED",
                "NOT_ROAMING",
                "FOREGROUND",
                "NOT_CONGESTED",
                "NOT_SUSPENDED",
            ]
            if not net.metered:
                caps.insert(0, "NOT_METERED")
            extra = f' SSID: "{net.name}"' if net.kind == "WIFI" else ""
            lines.append(
                f"  NetworkAgentInfo{{network{{{net.net_id}}}  ni{{{net.kind} CONNECTED extra: }}"
                f"  nc{{[ Transports: {net.kind} Capabilities: {'&'.join(caps)}{extra}]}}"
                f"  {'default' if net is active else 'not default'}}}"
            )
        lines.append("")
        lines.append(f"Airplane mode: {'on' if self.airplane else 'off'}")
        lines.append(f"Restrict background: {'enabled' if self.restrict_background else 'disabled'}")
        return "\n".join(lines)


def _foreground(device: VirtualAndroidDevice, package: str) -> bool:
    """Top apps keep their network under Doze and saver; ask the activity manager when it can say."""
    probe = getattr(getattr(device, "activity", None), "is_foreground", None)
    return bool(probe(package)) if callable(probe) else False


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
