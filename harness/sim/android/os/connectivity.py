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

if TYPE_CHECKING:
    from .context import SystemContext

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

    def __init__(self, device: SystemContext) -> None:
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


def _foreground(device: SystemContext, package: str) -> bool:
    """Top apps keep their network under Doze and saver; ask the activity manager when it can say."""
    probe = getattr(getattr(device, "activity", None), "is_foreground", None)
    return bool(probe(package)) if callable(probe) else False
