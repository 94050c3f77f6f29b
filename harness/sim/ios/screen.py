"""What is on the virtual iPhone's screen: the element tree WDA serves and the PNG it shows.

Four screens are modelled: SpringBoard's home screen (one icon per app), Settings, Settings →
Battery (with the "Low Power Mode" switch) and a running app's window. Element ids are stable
(derived from the screen and the element's name), so an id found by ``POST /elements`` still
works for ``/click`` while the screen has not changed, and answers ``stale element reference``
after it has.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from .facts import PREFERENCES, SPRINGBOARD, SYSTEM_APPS

if TYPE_CHECKING:
    from .device import Device

WIDTH, HEIGHT, SCALE = 393, 852, 3


@dataclass
class Element:
    type: str
    name: str = ""
    label: str = ""
    value: str | None = None
    x: int = 0
    y: int = 0
    width: int = WIDTH
    height: int = HEIGHT
    enabled: bool = True
    action: str | None = None  # what a tap does, see wda.py
    children: list[Element] = field(default_factory=list)
    uid: str = ""

    def walk(self) -> list[Element]:
        out = [self]
        for c in self.children:
            out += c.walk()
        return out


def _uid(screen: str, el: Element, n: int) -> str:
    digest = hashlib.md5(f"{screen}:{el.type}:{el.name}:{n}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}".upper()


def screen_name(dev: Device) -> str:
    front = dev.d["front"]
    if front is None:
        return "switcher" if dev.d["screen"] == "switcher" else "home"
    if front == PREFERENCES:
        return "battery" if dev.d["screen"] == "battery" else "settings"
    return f"app:{front}"


def tree(dev: Device) -> Element:
    """The accessibility tree of what the screen shows now."""
    name = screen_name(dev)
    if name == "home":
        root = Element("XCUIElementTypeApplication", "SpringBoard", "SpringBoard")
        icons = Element("XCUIElementTypeOther", "Home screen icons", "", y=60, height=700)
        apps = [(bid, SYSTEM_APPS[bid][0]) for bid in SYSTEM_APPS] + [
            (bid, app["name"]) for bid, app in dev.d["apps"].items()
        ]
        for i, (bid, label) in enumerate(apps):
            icons.children.append(
                Element(
                    "XCUIElementTypeIcon",
                    label,
                    label,
                    x=27 + (i % 4) * 90,
                    y=70 + (i // 4) * 105,
                    width=68,
                    height=84,
                    action=f"launch:{bid}",
                )
            )
        root.children.append(icons)
    elif name == "switcher":
        root = Element("XCUIElementTypeApplication", "SpringBoard", "SpringBoard")
        for i, bid in enumerate(dev.springboard.switcher_apps()):
            label = dev.d["apps"][bid]["name"] if bid in dev.d["apps"] else SYSTEM_APPS.get(bid, (bid,))[0]
            root.children.append(
                Element("XCUIElementTypeOther", label, label, x=15 + (i % 3) * 125, y=150 + (i // 3) * 260,
                        width=110, height=240, action=f"switch:{bid}")
            )
    elif name in ("settings", "battery"):
        root = Element("XCUIElementTypeApplication", "Settings", "Settings")
        nav = Element(
            "XCUIElementTypeNavigationBar",
            "Battery" if name == "battery" else "Settings",
            "",
            y=47,
            height=96,
        )
        root.children.append(nav)
        table = Element("XCUIElementTypeTable", "", "", y=143, height=709)
        if name == "settings":
            nav.children.append(
                Element("XCUIElementTypeStaticText", "Settings", "Settings", x=16, y=95, width=200, height=41)
            )
            # the Simulator's Settings has no Battery pane (no Low Power Mode switch) [3P rdar://21945440]
            labels = [
                "Airplane Mode",
                "Wi-Fi",
                "Bluetooth",
                "Notifications",
                "Battery",
                "Privacy & Security",
                "General",
            ]
            if dev.kind == "simulator":
                labels = [x for x in labels if x not in ("Battery", "Airplane Mode", "Bluetooth")]
            for i, label in enumerate(labels):
                table.children.append(
                    Element(
                        "XCUIElementTypeCell",
                        label,
                        label,
                        y=160 + i * 52,
                        height=52,
                        action="open:battery" if label == "Battery" else None,
                    )
                )
        else:
            nav.children.append(
                Element(
                    "XCUIElementTypeButton",
                    "Settings",
                    "Settings",
                    x=8,
                    y=47,
                    width=96,
                    height=44,
                    action="open:settings",
                )
            )
            level = dev.d["battery"]
            pct = f"{round(level * 100)}%" if level >= 0 else "—"
            table.children.append(
                Element("XCUIElementTypeStaticText", "Battery Percentage", pct, y=160, height=52)
            )
            table.children.append(
                Element(
                    "XCUIElementTypeSwitch",
                    "Low Power Mode",
                    "Low Power Mode",
                    value="1" if dev.d["lpm"] else "0",
                    y=212,
                    height=52,
                    action="toggle:lpm",
                )
            )
        root.children.append(table)
    else:
        bid = name.split(":", 1)[1]
        label = dev.d["apps"][bid]["name"] if bid in dev.d["apps"] else SYSTEM_APPS.get(bid, (bid,))[0]
        root = Element("XCUIElementTypeApplication", label, label)
        window = Element("XCUIElementTypeWindow", "", "")
        window.children.append(
            Element("XCUIElementTypeStaticText", label, label, x=16, y=100, width=361, height=40)
        )
        root.children.append(window)
    for n, el in enumerate(root.walk()):
        el.uid = _uid(name, el, n)
    return root


def front_bundle(dev: Device) -> str:
    return dev.d["front"] or SPRINGBOARD


def source_xml(dev: Device) -> str:
    """``GET /source?format=xml``: WDA's page source of the current screen."""
    root = tree(dev)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']

    def emit(el: Element, depth: int, index: int) -> None:
        attrs = {
            "type": el.type,
            "name": el.name or None,
            "label": el.label or None,
            "value": el.value,
            "enabled": "true" if el.enabled else "false",
            "visible": "true",
            "accessible": "true"
            if el.action or el.type in ("XCUIElementTypeStaticText", "XCUIElementTypeSwitch")
            else "false",
            "x": str(el.x),
            "y": str(el.y),
            "width": str(el.width),
            "height": str(el.height),
            "index": str(index),
        }
        text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items() if v is not None)
        pad = "  " * depth
        if el.children:
            lines.append(f"{pad}<{el.type} {text}>")
            for i, c in enumerate(el.children):
                emit(c, depth + 1, i)
            lines.append(f"{pad}</{el.type}>")
        else:
            lines.append(f"{pad}<{el.type} {text}/>")

    emit(root, 0, 0)
    return "\n".join(lines)


# --------------------------------------------------------------------------- PNG
def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_for(dev: Device) -> bytes:
    """A screenshot in pixels, as XCUIScreen takes it (points x scale: 1179 x 2556 on an iPhone 15;
    WDA and ``simctl io screenshot`` both hand over the native resolution): a flat colour per
    screen, enough to tell screens apart and to be a valid PNG."""
    seed = hashlib.md5(screen_name(dev).encode()).digest()
    colour = bytes(seed[:3]) if dev.d["front"] else b"\x1c\x4f\x9c"
    w, h = WIDTH * SCALE, HEIGHT * SCALE
    return _flat_png(colour, w, h)


@lru_cache(maxsize=8)
def _flat_png(colour: bytes, w: int, h: int) -> bytes:
    raw = (b"\x00" + colour * w) * h
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )
