"""``screencap``: what the virtual screen shows, as a real PNG (``-p``) or raw RGBA.

adbutils' ``screenshot()`` runs ``screencap -p`` over a raw v1 shell and decodes the bytes
with an image library, so the PNG must be a valid one. The picture is a plain "home screen":
a dark status bar over a flat background, dimmer when the screen is off.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from ..registry import CommandContext, command

WIDTH = 1080
HEIGHT = 2400
STATUS_BAR = 63
#: HAL_PIXEL_FORMAT_RGBA_8888 and the sRGB dataspace, as the raw header reports them.
PIXEL_FORMAT_RGBA_8888 = 1
DATASPACE_SRGB = 142671872

_BAR = (0x20, 0x21, 0x24, 0xFF)
_ON = (0xE8, 0xEA, 0xED, 0xFF)
_OFF = (0x00, 0x00, 0x00, 0xFF)


def _rows(interactive: bool) -> list[tuple[bytes, int]]:
    background = _ON if interactive else _OFF
    return [(bytes(_BAR) * WIDTH, STATUS_BAR), (bytes(background) * WIDTH, HEIGHT - STATUS_BAR)]


@lru_cache(maxsize=2)
def raw_pixels(interactive: bool = True) -> bytes:
    return b"".join(row * count for row, count in _rows(interactive))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=2)
def png_bytes(interactive: bool = True) -> bytes:
    """A valid 8-bit RGBA PNG of the screen (filter 0 rows, one zlib stream)."""
    scanlines = b"".join((b"\0" + row) * count for row, count in _rows(interactive))
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(scanlines, 6)) + _chunk(b"IEND", b""))


def _interactive(ctx: CommandContext) -> bool:
    power = getattr(ctx.device, "power", None)
    return bool(getattr(power, "interactive", True))


@command("screencap")
def screencap(ctx: CommandContext) -> int:
    """``screencap [-hp] [-d display-id] [FILENAME]``: PNG with -p or a .png name, else raw."""
    args = list(ctx.argv[1:])
    png = False
    filename = None
    while args:
        arg = args.pop(0)
        if arg == "-p":
            png = True
        elif arg == "-d":
            if not args:
                return _usage(ctx)
            args.pop(0)
        elif arg == "-h" or (arg.startswith("-") and arg != "-"):
            return _usage(ctx)
        else:
            filename = arg
    if filename is not None and filename.endswith(".png"):
        png = True
    interactive = _interactive(ctx)
    if png:
        data = png_bytes(interactive)
    else:
        header = struct.pack("<4I", WIDTH, HEIGHT, PIXEL_FORMAT_RGBA_8888, DATASPACE_SRGB)
        data = header + raw_pixels(interactive)
    if filename is None:
        ctx.stdout.write(data)
        return 0
    try:
        ctx.device.fs.write(filename, data)
    except Exception as exc:
        reason = getattr(exc, "reason", None) or (exc.args[-1] if exc.args else exc)
        ctx.err(f"Error opening file: {filename} ({reason})")
        return 1
    return 0


def _usage(ctx: CommandContext) -> int:
    ctx.err(
        "usage: screencap [-hp] [-d display-id] [FILENAME]\n"
        "   -h: this message\n"
        "   -p: save the file as a png.\n"
        "   -d: specify the physical display ID to capture (default: first)\n"
        "If FILENAME ends with .png it will be saved as a png.\n"
        "If FILENAME is not given, the results will be printed to stdout.",
    )
    return 1
