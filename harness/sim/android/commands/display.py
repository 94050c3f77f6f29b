"""``wm size`` / ``wm density`` and ``dumpsys display``: the virtual phone's one screen.

The panel is the one ``screencap`` draws (1080 x 2400 at ``ro.sf.lcd_density``). Overrides
live where WindowManagerService keeps them, in ``global display_size_forced`` ("W,H") and
``secure display_density_forced``, so they survive a reboot as on a phone; ``reset`` deletes them.
"""

from __future__ import annotations

import re

from ..registry import CommandContext, command, dumpsys_section
from .screencap import HEIGHT, WIDTH

_SIZE_KEY = ("global", "display_size_forced")
_DENSITY_KEY = ("secure", "display_density_forced")
_WM_USAGE = "Window manager (window) commands:"


def _physical_density(ctx: CommandContext) -> int:
    return int(ctx.device.props.get("ro.sf.lcd_density", "420") or 420)


def _forced_size(ctx: CommandContext) -> tuple[int, int] | None:
    value = ctx.device.settings.get(*_SIZE_KEY)
    m = re.fullmatch(r"(\d+),(\d+)", value or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _forced_density(ctx: CommandContext) -> int | None:
    value = ctx.device.settings.get(*_DENSITY_KEY)
    return int(value) if value and value.isdigit() else None


@command("wm")
def wm(ctx: CommandContext) -> int:
    """WindowManagerShellCommand: ``size [reset|WxH]``, ``density [reset|DPI]``."""
    args = ctx.argv[1:]
    if not args or args[0] in ("-h", "help"):
        ctx.out(_WM_USAGE)
        ctx.out("  size [reset|WxH|WdpxHdp] [-d DISPLAY_ID]")
        ctx.out("    Return or override display size.")
        ctx.out("  density [reset|DENSITY] [-d DISPLAY_ID]")
        ctx.out("    Return or override display density.")
        return 0
    verb, rest = args[0], [a for a in args[1:] if a not in ("-d", "0")]
    if verb == "size":
        return _size(ctx, rest)
    if verb == "density":
        return _density(ctx, rest)
    ctx.err(f"Unknown command: {verb}")
    return 255


def _size(ctx: CommandContext, rest: list[str]) -> int:
    settings = ctx.device.settings
    if not rest:
        ctx.out(f"Physical size: {WIDTH}x{HEIGHT}")
        forced = _forced_size(ctx)
        if forced is not None:
            ctx.out(f"Override size: {forced[0]}x{forced[1]}")
        return 0
    if rest[0] == "reset":
        settings.delete(*_SIZE_KEY)
        return 0
    m = re.fullmatch(r"(\d+)x(\d+)", rest[0])
    if not m:
        ctx.err(f"Error: bad size {rest[0]}")
        return 255
    settings.put(*_SIZE_KEY, f"{m.group(1)},{m.group(2)}")
    return 0


def _density(ctx: CommandContext, rest: list[str]) -> int:
    settings = ctx.device.settings
    if not rest:
        ctx.out(f"Physical density: {_physical_density(ctx)}")
        forced = _forced_density(ctx)
        if forced is not None:
            ctx.out(f"Override density: {forced}")
        return 0
    if rest[0] == "reset":
        settings.delete(*_DENSITY_KEY)
        return 0
    if not rest[0].isdigit():
        ctx.err(f"Error: bad number {rest[0]}")
        return 255
    if int(rest[0]) < 72:
        ctx.err("Error: Density must be at least 72")
        return 255
    settings.put(*_DENSITY_KEY, rest[0])
    return 0


def _logical_size(ctx: CommandContext) -> tuple[int, int]:
    return _forced_size(ctx) or (WIDTH, HEIGHT)


@dumpsys_section("display")
def dumpsys_display(ctx: CommandContext) -> int:
    """DisplayManagerService.dumpInternal, the parts tools read: the panel, the logical display
    (size after ``wm size``), and ``mScreenState`` (ON / OFF with the power state)."""
    interactive = bool(getattr(ctx.device.power, "interactive", True))
    state = "ON" if interactive else "OFF"
    dpi = _physical_density(ctx)
    density = _forced_density(ctx) or dpi
    width, height = _logical_size(ctx)
    ctx.out("DISPLAY MANAGER (dumpsys display)")
    ctx.out("  mOnlyCode=false")
    ctx.out("  mSafeMode=false")
    ctx.out("  mPendingTraversal=false")
    ctx.out(f"  mViewports=[DisplayViewport{{type=INTERNAL, valid=true, isActive=true, displayId=0, "
            f"uniqueId='local:4619827259835644672', physicalPort=0, orientation=0, "
            f"logicalFrame=Rect(0, 0 - {WIDTH}, {HEIGHT}), physicalFrame=Rect(0, 0 - {WIDTH}, {HEIGHT}), "
            f"deviceWidth={WIDTH}, deviceHeight={HEIGHT}}}]")
    ctx.out("")
    ctx.out("Display Devices: size=1")
    ctx.out(f'  DisplayDeviceInfo{{"Built-in Screen": uniqueId="local:4619827259835644672", '
            f"{WIDTH} x {HEIGHT}, modeId 1, renderFrameRate 60.0, defaultModeId 1, "
            f"supportedModes [{{id=1, width={WIDTH}, height={HEIGHT}, fps=60.0}}], density {dpi}, "
            f"{dpi}.0 x {dpi}.0 dpi, appVsyncOff 0, presDeadline 16666666, "
            f"touch INTERNAL, rotation 0, type INTERNAL, address {{port=0, model=0x401cec6a7a2b7b}}, "
            f"deviceProductInfo null, state {state}, committedState {state}, "
            "FLAG_ALLOWED_TO_BE_DEFAULT_DISPLAY, FLAG_ROTATES_WITH_CONTENT, FLAG_SECURE, "
            "FLAG_SUPPORTS_PROTECTED_BUFFERS, FLAG_TRUSTED}")
    ctx.out("    mCurrentLayerStack=0")
    ctx.out("")
    ctx.out("Logical Displays: size=1")
    ctx.out("  Display 0:")
    ctx.out("    mDisplayId=0")
    ctx.out("    mIsEnabled=true")
    ctx.out(f'    mBaseDisplayInfo=DisplayInfo{{"Built-in Screen", displayId 0, type INTERNAL, '
            f"real {WIDTH} x {HEIGHT}, largest app {WIDTH} x {HEIGHT}, smallest app {WIDTH} x {HEIGHT}, "
            f"density {dpi} ({dpi}.0 x {dpi}.0) dpi, rotation 0, state {state}}}")
    ctx.out(f'    mOverrideDisplayInfo=DisplayInfo{{"Built-in Screen", displayId 0, type INTERNAL, '
            f"real {width} x {height}, largest app {width} x {height}, smallest app {width} x {height}, "
            f"density {density} ({dpi}.0 x {dpi}.0) dpi, rotation 0, state {state}}}")
    ctx.out("")
    ctx.out("DisplayPowerController:")
    ctx.out(f"  mScreenState={state}")
    ctx.out("")
    ctx.out(f"mScreenState={state}")
    return 0
