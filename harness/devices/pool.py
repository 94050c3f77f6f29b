"""Which devices a run may use: the ones named, the ones attached, or the embedded virtual device.

Discovery only reads the adb servers' device lists and never starts a server on the user's
port. An absent server means "no attached device" only when nobody named it: a farm job whose
``--adb-server`` or ``--device`` cannot be reached must fail (exit 3), never go green on a
virtual phone started in its place.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from harness.devices.adbwire import AdbWireError, _Conn
from harness.devices.filters import describe, failed, parse_filters
from harness.errors import DeviceError


@dataclass(frozen=True)
class AttachedDevice:
    serial: str
    state: str
    product: str = ""
    model: str = ""
    device: str = ""
    transport_id: str = ""


#: adb's own default server (Settings.default_adb_server carries $ANDROID_ADB_SERVER_*)
DEFAULT_SERVER = "127.0.0.1:5037"


def parse_server_address(text: str | None, default: str = DEFAULT_SERVER) -> tuple[str, int]:
    """``host:port``, ``port`` or empty (then ``default``: the settings' ``default_adb_server``)."""
    if not text:
        text = default
    if ":" in text:
        host, _, port_text = text.rpartition(":")
    else:
        host, port_text = "127.0.0.1", text
    try:
        return host or "127.0.0.1", int(port_text)
    except ValueError:
        raise DeviceError(
            f"adb-server {text}", "the adb server address is not host:port", hint="write it as 127.0.0.1:5037"
        ) from None


def parse_server_addresses(text: str | None, default: str = DEFAULT_SERVER) -> list[tuple[str, int]]:
    """Several servers (a farm of hosts) as ``host:port,host:port``; empty means ``default``."""
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    return [parse_server_address(part) for part in parts] or [parse_server_address(default)]


def list_devices(host: str = "127.0.0.1", port: int = 5037, required: bool = False) -> list[AttachedDevice]:
    """``adb devices -l`` through the server; [] when no server listens there, unless
    ``required`` (the user named this server): then that is a :class:`DeviceError`."""
    try:
        conn = _Conn(host, port, timeout=5)
    except AdbWireError as exc:
        if required:
            raise DeviceError(
                f"adb-server {host}:{port}",
                f"no adb server answers there ({exc})",
                hint="start it (`adb -a -P PORT nodaemon server` on the farm host), check the tunnel, "
                "or fix --adb-server",
            ) from None
        return []
    try:
        conn.request("host:devices-l")
        length = int(conn.read_exact(4), 16)
        text = conn.read_exact(length).decode("utf-8", "replace")
    except (TimeoutError, AdbWireError, ValueError) as exc:
        if required:
            raise DeviceError(
                f"adb-server {host}:{port}", f"the adb server did not list its devices ({exc})"
            ) from None
        return []
    finally:
        conn.close()
    devices = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        fields = dict(p.split(":", 1) for p in parts[2:] if ":" in p)
        devices.append(
            AttachedDevice(
                parts[0],
                parts[1],
                fields.get("product", ""),
                fields.get("model", ""),
                fields.get("device", ""),
                fields.get("transport_id", ""),
            )
        )
    return devices


def _not_usable(devices: list[AttachedDevice], wanted: str) -> DeviceError:
    """Why the serial the user named cannot be used: offline/unauthorized, or not there."""
    for d in devices:
        if d.serial == wanted:
            return DeviceError(wanted, f"is {d.state}", hint="reconnect it or authorize this computer")
    names = ", ".join(d.serial for d in devices) or "none"
    return DeviceError(
        wanted,
        "is not attached to the adb server",
        hint=f"attached: {names}; check `bgtest devices` or `adb connect HOST:PORT`",
    )


@dataclass(frozen=True)
class Candidate:
    """One device a run may lease: its serial and the adb server that reaches it."""

    serial: str
    host: str
    port: int

    @property
    def key(self) -> str:
        """Unique across servers (two hosts may both have an ``emulator-5554``)."""
        return f"{self.host}:{self.port}/{self.serial}"


def _is_pattern(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def android_candidates(
    adb_server: str | None,
    device: str | None,
    filters: Sequence[str] = (),
    default_server: str = DEFAULT_SERVER,
) -> list[Candidate]:
    """Every online device the run may use, across all its adb servers, chosen by ``device``
    and ``filters`` (harness/devices/filters.py).

    ``device`` is one serial, a comma list, or glob patterns (``emulator-*``). A serial named
    literally must be there and online; a pattern must match at least one online device; a
    named server must answer; filters must leave at least one device. [] only when nothing was
    named, nothing filtered and nothing is attached to ``default_server`` (the settings'
    ``default_adb_server``) — the one case for the embedded virtual device.
    """
    chosen = _by_serial(adb_server, device, default_server)
    if not filters:
        return chosen
    conditions = parse_filters(filters)
    wanted = " ".join(repr(f) for f in filters)
    if not chosen:
        raise DeviceError(
            f"device-filter {wanted}",
            "no Android device is attached to filter",
            hint="filters choose among the devices of the adb server(s); attach or `adb connect` one "
            "(a virtual device: `bgtest sim android`)",
        )
    facts = {c.key: device_facts(c) for c in chosen}
    kept = [c for c in chosen if not failed(conditions, facts[c.key])]
    if not kept:
        seen = "; ".join(f"{c.serial}: {describe(facts[c.key])}" for c in chosen)
        raise DeviceError(f"device-filter {wanted}", "matches no online device", hint=f"the devices: {seen}")
    return kept


def device_facts(candidate: Candidate) -> dict[str, str]:
    """What filters read of a device: one ``getprop`` (and, on a phone, its meminfo for the profile)."""
    from harness.devices.android import AndroidDevice

    try:
        described = AndroidDevice(candidate.serial, candidate.host, candidate.port).describe()
    except DeviceError as exc:
        why = f"cannot tell what it is (--device-filter): {exc.message}"
        raise DeviceError(candidate.serial, why) from None
    return {
        "serial": candidate.serial,
        "model": described.get("model", ""),
        "sdk": described.get("sdk", ""),
        "profile": described.get("profile", ""),
        "virtual": described.get("virtual", "no"),
    }


def _by_serial(adb_server: str | None, device: str | None, default_server: str) -> list[Candidate]:
    """The online devices of the run's servers that ``device`` (serials, globs) names."""
    named_server = bool(adb_server and adb_server.strip())
    found: list[tuple[AttachedDevice, str, int]] = []
    for host, port in parse_server_addresses(adb_server, default_server):
        found += [(d, host, port) for d in list_devices(host, port, required=named_server)]
    online = [Candidate(d.serial, host, port) for d, host, port in found if d.state == "device"]
    wanted = [w.strip() for w in (device or "").split(",") if w.strip()]
    if not wanted:
        if not online and named_server:
            servers = ", ".join(f"{h}:{p}" for h, p in parse_server_addresses(adb_server, default_server))
            raise DeviceError(
                f"adb-server {servers}",
                "has no device online",
                hint="attach or `adb connect` one on the farm host; bgtest never replaces a named "
                "server's devices with a virtual one",
            )
        return online
    chosen: list[Candidate] = []
    for want in wanted:
        if _is_pattern(want):
            matches = [c for c in online if fnmatch.fnmatchcase(c.serial, want)]
            if not matches:
                names = ", ".join(d.serial for d, _, _ in found) or "none"
                raise DeviceError(want, "matches no online device", hint=f"attached: {names}")
        else:
            matches = [c for c in online if c.serial == want]
            if not matches:
                raise _not_usable([d for d, _, _ in found], want)
        chosen += [c for c in matches if c not in chosen]
    return chosen
