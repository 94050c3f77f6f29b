"""Which device a run uses: the one named, the one attached, or the embedded virtual device.

Discovery only reads the adb server's device list and never starts a server on the user's
port: an absent server simply means no attached device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from harness.devices.adbwire import AdbWireError, _Conn
from harness.errors import DeviceError


@dataclass(frozen=True)
class AttachedDevice:
    serial: str
    state: str
    product: str = ""
    model: str = ""
    device: str = ""
    transport_id: str = ""


def parse_server_address(text: str | None) -> tuple[str, int]:
    """``host:port``, ``port`` or empty (``$ANDROID_ADB_SERVER_*`` then 127.0.0.1:5037)."""
    if not text:
        host = os.environ.get("ANDROID_ADB_SERVER_HOST", "127.0.0.1")
        port = int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))
        return host, port
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


def list_devices(host: str = "127.0.0.1", port: int = 5037) -> list[AttachedDevice]:
    """``adb devices -l`` through the server; [] when no server listens there."""
    try:
        conn = _Conn(host, port, timeout=5)
    except AdbWireError:
        return []
    try:
        conn.request("host:devices-l")
        length = int(conn.read_exact(4), 16)
        text = conn.read_exact(length).decode("utf-8", "replace")
    except (TimeoutError, AdbWireError, ValueError):
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


def choose_serial(devices: list[AttachedDevice], wanted: str | None) -> str | None:
    """The serial to use, ``None`` for "start the embedded device", or a DeviceError saying why not."""
    online = [d for d in devices if d.state == "device"]
    if wanted:
        for d in devices:
            if d.serial == wanted:
                if d.state != "device":
                    raise DeviceError(wanted, f"is {d.state}", hint="reconnect it or authorize this computer")
                return wanted
        names = ", ".join(d.serial for d in devices) or "none"
        raise DeviceError(
            wanted,
            "is not attached to the adb server",
            hint=f"attached: {names}; check `bgtest devices` or `adb connect HOST:PORT`",
        )
    if not online:
        return None
    if len(online) > 1:
        names = ", ".join(d.serial for d in online)
        raise DeviceError(
            "adb", f"{len(online)} devices are attached ({names})", hint="pick one with --device SERIAL"
        )
    return online[0].serial
