"""``ifconfig`` (toybox) and ``ip`` (iproute2): the phone's interfaces, as a tool reads them.

Mobly and device-farm scripts read the Wi-Fi address with ``ip addr show wlan0`` or
``ifconfig wlan0``. The virtual phone has loopback and one Wi-Fi interface, up while Wi-Fi is
on (``svc wifi disable`` takes it down, as the driver does); no cellular data interface.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import CommandContext, command


@dataclass(frozen=True)
class _Iface:
    name: str
    index: int
    mac: str
    ipv4: str
    prefix: int
    ipv6: str
    mtu: int


_LO = _Iface("lo", 1, "00:00:00:00:00:00", "127.0.0.1", 8, "::1", 65536)
_WLAN = _Iface("wlan0", 3, "02:15:b2:00:00:00", "192.168.1.57", 24, "fe80::15:b2ff:fe00:0", 1500)


def _up(ctx: CommandContext, iface: _Iface) -> bool:
    return iface is _LO or bool(getattr(ctx.device.net, "wifi_enabled", True))


def _interfaces(ctx: CommandContext, name: str | None) -> list[_Iface] | None:
    known = [_LO, _WLAN]
    if name is None:
        return known
    found = [i for i in known if i.name == name]
    return found or None


def _broadcast(iface: _Iface) -> str:
    parts = iface.ipv4.split(".")
    keep = iface.prefix // 8
    return ".".join(parts[:keep] + ["255"] * (4 - keep))


def _mask(prefix: int) -> str:
    bits = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return ".".join(str((bits >> s) & 0xFF) for s in (24, 16, 8, 0))


@command("ip")
def ip(ctx: CommandContext) -> int:
    """``ip [-4|-6] addr|link [show [dev] IFACE]``; other objects refused as iproute2 does."""
    args = [a for a in ctx.argv[1:] if a not in ("-4", "-6")]
    family = "4" if "-4" in ctx.argv else "6" if "-6" in ctx.argv else ""
    if not args:
        ctx.err("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }")
        return 255
    obj, rest = args[0], args[1:]
    if rest and rest[0] in ("show", "list", "ls"):
        rest = rest[1:]
    if rest and rest[0] == "dev":
        rest = rest[1:]
    if obj not in ("addr", "a", "address", "link", "l"):
        ctx.err(f'Object "{obj}" is unknown, try "ip help".')
        return 255
    ifaces = _interfaces(ctx, rest[0] if rest else None)
    if ifaces is None:
        ctx.err(f'Device "{rest[0]}" does not exist.')
        return 1
    for iface in ifaces:
        up = _up(ctx, iface)
        flags = "LOOPBACK,UP,LOWER_UP" if iface is _LO else ("BROADCAST,MULTICAST,UP,LOWER_UP" if up
                                                             else "BROADCAST,MULTICAST")
        qdisc = "noqueue" if iface is _LO else "mq"
        state = "UNKNOWN" if iface is _LO else ("UP" if up else "DOWN")
        ctx.out(f"{iface.index}: {iface.name}: <{flags}> mtu {iface.mtu} qdisc {qdisc} state {state} "
                "group default qlen 1000")
        kind = "loopback" if iface is _LO else "ether"
        brd = "00:00:00:00:00:00" if iface is _LO else "ff:ff:ff:ff:ff:ff"
        ctx.out(f"    link/{kind} {iface.mac} brd {brd}")
        if obj in ("link", "l") or not up:
            continue
        scope = "host" if iface is _LO else "global"
        if family != "6":
            brd4 = "" if iface is _LO else f" brd {_broadcast(iface)}"
            ctx.out(f"    inet {iface.ipv4}/{iface.prefix}{brd4} scope {scope} {iface.name}")
            ctx.out("       valid_lft forever preferred_lft forever")
        if family != "4":
            scope6 = "host" if iface is _LO else "link"
            ctx.out(f"    inet6 {iface.ipv6}/{128 if iface is _LO else 64} scope {scope6}")
            ctx.out("       valid_lft forever preferred_lft forever")
    return 0


@command("ifconfig")
def ifconfig(ctx: CommandContext) -> int:
    """toybox ifconfig [-a] [IFACE]: up interfaces (all with -a), in toybox's layout."""
    args = ctx.argv[1:]
    show_all = "-a" in args
    names = [a for a in args if not a.startswith("-")]
    if len(names) > 1:
        ctx.err("ifconfig: Operation not permitted")  # configuring needs root (CAP_NET_ADMIN)
        return 1
    ifaces = _interfaces(ctx, names[0] if names else None)
    if ifaces is None:
        ctx.err(f"ifconfig: {names[0]}: No such device")
        return 1
    for iface in ifaces:
        up = _up(ctx, iface)
        if not up and not show_all and not names:
            continue
        encap = "Local Loopback" if iface is _LO else f"Ethernet  HWaddr {iface.mac}  Driver cnss_pci"
        ctx.out(f"{iface.name:<10}Link encap:{encap}")
        if up:
            bcast = "" if iface is _LO else f"  Bcast:{_broadcast(iface)}"
            ctx.out(f"          inet addr:{iface.ipv4}{bcast}  Mask:{_mask(iface.prefix)}")
            ctx.out(f"          inet6 addr: {iface.ipv6}/{128 if iface is _LO else 64} "
                    f"Scope: {'Host' if iface is _LO else 'Link'}")
        flags = "UP LOOPBACK RUNNING" if iface is _LO else ("UP BROADCAST RUNNING MULTICAST" if up
                                                             else "BROADCAST MULTICAST")
        ctx.out(f"          {flags}  MTU:{iface.mtu}  Metric:1")
        ctx.out("          RX packets:0 errors:0 dropped:0 overruns:0 frame:0 ")
        ctx.out("          TX packets:0 errors:0 dropped:0 overruns:0 carrier:0 ")
        ctx.out("          collisions:0 txqueuelen:1000 ")
        ctx.out("          RX bytes:0 TX bytes:0 ")
        ctx.out("")
    return 0
