"""``getprop`` and ``setprop``."""

from __future__ import annotations

from ..os.props import PROP_VALUE_MAX
from ..registry import CommandContext, command


@command("getprop")
def getprop(ctx: CommandContext) -> int:
    props = ctx.device.props
    args = ctx.argv[1:]
    if args and args[0].startswith("-") and args[0] not in ("-T", "-Z"):
        ctx.err(f"getprop: invalid option -- '{args[0][1:2]}'")
        ctx.err("usage: getprop [-TZ] [NAME [DEFAULT]]")
        return 1
    if args and args[0] in ("-T", "-Z"):
        flag, args = args[0], args[1:]
        if not args:
            label = "string" if flag == "-T" else "u:object_r:default_prop:s0"
            for key, _ in props.items():
                ctx.out(f"[{key}]: [{label}]")
            return 0
        ctx.out("string" if flag == "-T" else "u:object_r:default_prop:s0")
        return 0
    if len(args) > 2:
        ctx.err("usage: getprop [-TZ] [NAME [DEFAULT]]")
        return 1
    if not args:
        ctx.stdout.write("".join(f"[{k}]: [{v}]\n" for k, v in props.items()))
        return 0
    ctx.out(props.get(args[0], args[1] if len(args) > 1 else ""))
    return 0


@command("setprop")
def setprop(ctx: CommandContext) -> int:
    """AOSP toolbox setprop: its own name/value checks, then init's verdict."""
    args = ctx.argv[1:]
    if len(args) != 2:
        ctx.out("usage: setprop NAME VALUE\n\nSets an Android system property.")
        return 1
    name, value = args
    if not name or name[0] == "." or name[-1] == ".":
        ctx.err("Property names must not start or end with a '.'")
        return 1
    if ".." in name:
        ctx.err("'..' is not allowed in a property name")
        return 1
    for ch in name:
        if not (ch.isascii() and ch.isalnum()) and ch not in ":@_.-":
            ctx.err(f"Invalid character '{ch}' in name '{name}'")
            return 1
    if len(value.encode()) >= PROP_VALUE_MAX and not value.startswith("ro."):
        ctx.err(f"Value '{value}' is too long, {len(value.encode())} bytes vs a max of {PROP_VALUE_MAX}")
        return 1
    props = ctx.device.props
    if (ctx.uid != 0 and not props.shell_may_set(name)) or (name.startswith("ro.") and props.get(name)):
        ctx.err(f"Failed to set property '{name}' to '{value}'.\nSee dmesg for error reason.")
        return 1
    props.set(name, value)
    return 0
