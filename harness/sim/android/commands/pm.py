"""``pm``, ``cmd package`` and ``dumpsys package`` (PackageManagerShellCommand)."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from ..os.fs import FsError
from ..os.packages import SYSTEM_PACKAGES, PackageManager, SystemPackage
from ..registry import CommandContext, cmd_service, command, dumpsys_section

if TYPE_CHECKING:

    pass


_PM_USAGE = """\
Package manager (package) commands:
  help
    Print this help text.

  path [--user USER_ID] PACKAGE
    Print the path to the .apk of the given PACKAGE.

  list packages [-f] [-d] [-e] [-s] [-3] [-i] [-l] [-u] [-U] [--show-versioncode]
      [--uid UID] [--user USER_ID] [FILTER]
    Prints all packages; optionally only those whose name contains
    the text in FILTER.  Options are:
      -f: see their associated file
      -d: filter to only show disabled packages
      -e: filter to only show enabled packages
      -s: filter to only show system packages
      -3: filter to only show third party packages
      -i: see the installer for the packages
      -l: ignored (used for compatibility with older releases)
      -U: also show the package UID
      -u: also include uninstalled packages
      --show-versioncode: also show the version code
      --uid UID: filter to only show packages with the given UID
      --user USER_ID: only list packages belonging to the given user

  install [-r] [-t] [-g] [-S BYTES] [PATH|-]
    Install an application.  Must provide the apk data to install, either as
    file path(s) or '-' to read from stdin.  Options are:
      -r: allow replacement of existing application (default)
      -t: allow test packages
      -g: grant all runtime permissions
      -S: size in bytes of package, required for stdin

  uninstall [-k] [--user USER_ID] PACKAGE
    Remove the given package name from the system.

  clear [--user USER_ID] PACKAGE
    Deletes all data associated with a package.

  set-stopped-state [--user USER_ID] PACKAGE true|false
    Sets or clears the stopped state of the package.

  dump PACKAGE
    Print various system state associated with the given PACKAGE.
"""


def _exception(ctx: CommandContext, verb: str, exc_line: str) -> int:
    """How ``cmd`` reports an exception thrown by a shell command (stderr, exit 255)."""
    ctx.err(f"Exception occurred while executing '{verb}':")
    ctx.err(exc_line)
    ctx.err(
        "\tat com.android.modules.utils.BasicShellCommandHandler.getNextArgRequired("
        "BasicShellCommandHandler.java:297)"
    )
    return 255


class _Args:
    """``ShellCommand``'s getNextOption / getNextArg over argv."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.pos = 0

    def next_option(self) -> str | None:
        if self.pos < len(self.argv) and self.argv[self.pos].startswith("-") and self.argv[self.pos] != "-":
            opt = self.argv[self.pos]
            self.pos += 1
            return None if opt == "--" else opt
        return None

    def next_arg(self) -> str | None:
        if self.pos < len(self.argv):
            self.pos += 1
            return self.argv[self.pos - 1]
        return None

    def rest(self) -> list[str]:
        out = self.argv[self.pos :]
        self.pos = len(self.argv)
        return out


@command("pm")
async def pm_command(ctx: CommandContext) -> int:
    """``/system/bin/pm`` is a script that runs ``cmd package "$@"``."""
    return await package_service(ctx.sub(["package", *ctx.argv[1:]]))


@cmd_service("package")
async def package_service(ctx: CommandContext) -> int:
    pm: PackageManager = ctx.device.packages
    args = _Args(ctx.argv[1:])
    verb = args.next_arg()
    if verb is None or verb in ("help", "-h"):
        ctx.out(_PM_USAGE, end="")
        return 0
    if verb == "list":
        return _pm_list(ctx, pm, args)
    if verb == "path":
        return _pm_path(ctx, pm, args)
    if verb == "install":
        return await _pm_install(ctx, pm, args)
    if verb == "uninstall":
        return _pm_uninstall(ctx, pm, args)
    if verb == "clear":
        return _pm_clear(ctx, pm, args)
    if verb == "set-stopped-state":
        return _pm_set_stopped(ctx, pm, args)
    if verb == "dump":
        pkg = args.next_arg()
        if pkg is None:
            ctx.err("Error: no package specified")
            return 1
        dump_package(ctx, pm, pkg)
        return 0
    if verb == "resolve-activity":
        return _pm_resolve_activity(ctx, pm, args)
    ctx.err(f"Unknown command: {verb}")
    return 255


def _pm_resolve_activity(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    """``cmd package resolve-activity [--brief|--components] [-a A] [-c C] PKG``: the launcher activity."""
    brief = components = False
    while (opt := args.next_option()) is not None:
        if opt == "--brief":
            brief = True
        elif opt == "--components":
            components = True
        elif opt in ("-a", "-c", "-d", "-t", "--user", "-f", "--query-flags", "-n"):
            args.next_arg()
        else:
            ctx.err(f"Error: Unknown option: {opt}")
            return 255
    target = args.next_arg()
    app = pm.get(target.split("/", 1)[0]) if target else None
    if app is None:
        ctx.out("No activity found")
        return 0
    model = app.model
    short = f"{app.package}/{model.short_activity(model.activities[0])}"
    if brief or components:
        if not components:
            ctx.out("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false")
        ctx.out(short)
        return 0
    ctx.out("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false")
    ctx.out("ActivityInfo:")
    ctx.out(f"  name={model.launcher}")
    ctx.out(f"  packageName={app.package}")
    ctx.out("  enabled=true exported=true directBootAware=false")
    ctx.out(f"  taskAffinity={app.package} targetActivity=null persistableMode=PERSIST_ROOT_ONLY")
    ctx.out("  launchMode=0 flags=0x3 privateFlags=0x0 theme=0x0")
    return 0


def _pm_list(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    what = args.next_arg()
    if what is None:
        ctx.out("Error: didn't specify type of data to list")
        return 255
    if what == "users":
        # UserManagerService.runList: the system user on Android 14 is ADMIN|PRIMARY|INITIALIZED|
        # FULL|SYSTEM|MAIN (0x4c13), and it is running.
        ctx.out("Users:")
        ctx.out("\tUserInfo{0:Owner:4c13} running")
        return 0
    if what not in ("packages", "package"):
        ctx.out(f"Error: unknown list type '{what}'")
        return 255
    show_path = show_uid = show_version = system_only = third_party = disabled_only = enabled_only = False
    show_installer = False
    uid_filter = -1
    while (opt := args.next_option()) is not None:
        if opt == "-f":
            show_path = True
        elif opt == "-s":
            system_only = True
        elif opt == "-3":
            third_party = True
        elif opt == "-d":
            disabled_only = True
        elif opt == "-e":
            enabled_only = True
        elif opt == "-i":
            show_installer = True
        elif opt == "-U":
            show_uid = True
        elif opt in ("-l", "-u", "-a"):
            pass
        elif opt == "--show-versioncode":
            show_version = True
        elif opt in ("--user", "--uid"):
            value = args.next_arg()
            if value is None:
                ctx.out(f'Error: java.lang.IllegalArgumentException: Argument expected after "{opt}"')
                return 255
            if opt == "--uid":
                try:
                    uid_filter = int(value)
                except ValueError:
                    ctx.out(f'Error: java.lang.NumberFormatException: For input string: "{value}"')
                    return 255
                show_uid = True
        else:
            ctx.out(f"Error: Unknown option: {opt}")
            return 255
    name_filter = args.next_arg()
    rows: list[tuple[str, str, int, int, bool, bool, str]] = []
    for sp in SYSTEM_PACKAGES:
        rows.append((sp.name, sp.path, sp.version_code, sp.uid, True, True, "null"))
    for app in pm.installed():
        rows.append(
            (
                app.package,
                app.apk_path,
                app.model.version_code,
                app.uid,
                False,
                app.enabled,
                "com.android.shell",
            )
        )
    for name, path, version, uid, system, enabled, installer in sorted(rows):
        if name_filter is not None and name_filter not in name:
            continue
        if uid_filter != -1 and uid != uid_filter:
            continue
        if (disabled_only and enabled) or (enabled_only and not enabled):
            continue
        if (system_only and not system) or (third_party and system):
            continue
        line = "package:" + (path + "=" if show_path else "") + name
        if show_version:
            line += f" versionCode:{version}"
        if show_installer:
            line += f"  installer={installer}"
        if show_uid:
            line += f" uid:{uid}"
        ctx.out(line)
    return 0


def _pm_path(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    opt = args.next_option()
    if opt == "--user":
        args.next_arg()
    pkg = args.next_arg()
    if pkg is None:
        return _exception(ctx, "path", 'java.lang.IllegalArgumentException: Argument expected after "path"')
    app = pm.get(pkg)
    if app is not None:
        ctx.out(f"package:{app.apk_path}")
        return 0
    sp = pm.system_package(pkg)
    if sp is not None:
        ctx.out(f"package:{sp.path}")
        return 0
    return 1


async def _pm_install(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    size: int | None = None
    while (opt := args.next_option()) is not None:
        if opt in (
            "-r",
            "-t",
            "-g",
            "-d",
            "-f",
            "-l",
            "--dont-kill",
            "--user",
            "-i",
            "--install-reason",
            "--originating-uri",
            "--referrer",
            "-p",
            "--pkg",
            "--abi",
            "--instant",
            "--full",
            "--force-queryable",
            "--restrict-permissions",
            "--staged",
            "-R",
            "--bypass-low-target-sdk-block",
        ):
            if opt in (
                "--user",
                "-i",
                "--install-reason",
                "--originating-uri",
                "--referrer",
                "-p",
                "--pkg",
                "--abi",
            ):
                args.next_arg()
            continue
        if opt == "-S":
            value = args.next_arg()
            try:
                size = int(value or "")
            except ValueError:
                ctx.err(f'Error: java.lang.NumberFormatException: For input string: "{value}"')
                return 1
            continue
        ctx.err(f"Unknown option {opt}")
        return 1
    paths = args.rest()
    if not paths or paths == ["-"]:
        if size is None:
            ctx.err("Error: must either specify a package size or an APK file")
            return 1
        data = await _read_exactly(ctx, size)
        if len(data) < size:
            ctx.out(
                "Failure [INSTALL_FAILED_INVALID_APK: Failed to read streamed APK: wrote "
                f"{len(data)} of {size} bytes]"
            )
            return 1
        line = pm.install_bytes(data[:size], "base.apk")
    else:
        path = paths[0]
        try:
            data = ctx.device.fs.read(path)
        except FsError:  # a missing file or a directory: what the installer answers
            ctx.err(f"Error: Unable to open file: {path}")
            if not path.startswith("/data/local/tmp/"):
                ctx.err("Consider using a file under /data/local/tmp/")
            ctx.err(f"Error: Can't open file: {path}")
            ctx.err("Exception occurred while executing 'install':")
            ctx.err(f"java.lang.IllegalArgumentException: Error: Can't open file: {path}")
            ctx.err(
                "\tat com.android.server.pm.PackageManagerShellCommand.setParamsSize("
                "PackageManagerShellCommand.java:651)"
            )
            return 255
        line = pm.install_bytes(data, path)
    ctx.out(line)
    return 0 if line == "Success" else 1


async def _read_exactly(ctx: CommandContext, size: int) -> bytes:
    """``-S SIZE``: the streamed install reads exactly SIZE bytes (adb keeps the stream open after them)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        chunk = await ctx.stdin.read(size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _pm_uninstall(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    while (opt := args.next_option()) is not None:
        if opt == "-k":
            continue
        if opt in ("--user", "--versionCode"):
            args.next_arg()
            continue
        ctx.out(f"Error: Unknown option: {opt}")
        return 1
    pkg = args.next_arg()
    if pkg is None:
        ctx.out("Error: package name not specified")
        return 1
    if pm.uninstall(pkg):
        ctx.out("Success")
        return 0
    ctx.out("Failure [DELETE_FAILED_INTERNAL_ERROR]")
    return 1


def _pm_clear(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    if args.next_option() == "--user":
        args.next_arg()
    pkg = args.next_arg()
    if pkg is None:
        ctx.err("Error: no package specified")
        return 1
    if pm.clear(pkg):
        ctx.out("Success")
        return 0
    ctx.err("Failed")
    return 1


def _pm_set_stopped(ctx: CommandContext, pm: PackageManager, args: _Args) -> int:
    if args.next_option() == "--user":
        args.next_arg()
    pkg, value = args.next_arg(), args.next_arg()
    if pkg is None or value not in ("true", "false"):
        ctx.err("Error: no package or state specified")
        return 1
    if pm.get(pkg) is None:
        ctx.err(f"Error: package {pkg} not found")
        return 1
    stopped = value == "true"
    if stopped:
        ctx.device.activity.force_stop(pkg, reason="set-stopped-state")
    else:
        pm.set_stopped(pkg, False)
    return 0


# --------------------------------------------------------------------------- dumpsys
def _fmt_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def _hash_hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:7]


def dump_package(ctx: CommandContext, pm: PackageManager, package: str) -> None:
    """The parts of ``dumpsys package PKG`` that tools parse (adbutils' app_info reads these lines)."""
    app = pm.get(package)
    if app is None:
        system = pm.system_package(package)
        if system is not None:
            _dump_system_package(ctx, system)
        return
    m = app.model
    h = _hash_hex(package)
    flags = "[ " + ("DEBUGGABLE " if m.debuggable else "") + "HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]"
    if m.activities:
        ctx.out("Activity Resolver Table:")
        ctx.out("  Non-Data Actions:")
        ctx.out("      android.intent.action.MAIN:")
        ctx.out(
            f"        {_hash_hex(package + 'main')} {package}/{m.short_activity(m.activities[0])} filter "
            f"{_hash_hex(package + 'f')}"
        )
        ctx.out('          Action: "android.intent.action.MAIN"')
        ctx.out('          Category: "android.intent.category.LAUNCHER"')
        ctx.out("")
    ctx.out("Packages:")
    ctx.out(f"  Package [{package}] ({h}):")
    ctx.out(f"    appId={app.uid}")
    ctx.out(f"    pkg=Package{{{_hash_hex(package + 'pkg')} {package}}}")
    ctx.out(f"    codePath={app.code_path}")
    ctx.out(f"    resourcePath={app.code_path}")
    ctx.out(f"    legacyNativeLibraryDir={app.code_path}/lib")
    ctx.out("    primaryCpuAbi=null")
    ctx.out("    secondaryCpuAbi=null")
    ctx.out(f"    versionCode={m.version_code} minSdk=21 targetSdk=34")
    ctx.out(f"    versionName={m.version_name}")
    ctx.out(f"    flags={flags}")
    ctx.out("    privateFlags=[ PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION ]")
    ctx.out(f"    dataDir=/data/user/0/{package}")
    ctx.out("    supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]")
    ctx.out(f"    timeStamp={_fmt_time(app.last_update_ms)}")
    ctx.out(f"    lastUpdateTime={_fmt_time(app.last_update_ms)}")
    ctx.out("    installerPackageName=com.android.shell")
    ctx.out(
        f"    signatures=PackageSignatures{{{_hash_hex(package + 'sig')} version:2, signatures:"
        f"[{_hash_hex(package + 'cert')}], past signatures:[]}}"
    )
    ctx.out(f"    pkgFlags={flags}")
    ctx.out("    requested permissions:")
    ctx.out("      android.permission.INTERNET")
    ctx.out("      android.permission.ACCESS_NETWORK_STATE")
    ctx.out("      android.permission.WAKE_LOCK")
    ctx.out("      android.permission.RECEIVE_BOOT_COMPLETED")
    ctx.out("      android.permission.FOREGROUND_SERVICE")
    ctx.out(
        f"    User 0: ceDataInode={100_000 + app.app_id} installed=true hidden=false suspended=false "
        f"distractionFlags=0 stopped={str(app.stopped).lower()} notLaunched={str(app.not_launched).lower()} "
        f"enabled={0 if app.enabled else 2} instant=false virtual=false"
    )
    ctx.out(f"      firstInstallTime={_fmt_time(app.first_install_ms)}")
    ctx.out("      installReason=0")
    ctx.out("      dataDir=/data/user/0/" + package)


def _dump_system_package(ctx: CommandContext, sp: SystemPackage) -> None:
    flags = "[ SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA ]"
    code_path = sp.path.rsplit("/", 1)[0]
    ctx.out("Packages:")
    ctx.out(f"  Package [{sp.name}] ({_hash_hex(sp.name)}):")
    ctx.out(f"    appId={sp.uid}")
    ctx.out(f"    pkg=Package{{{_hash_hex(sp.name + 'pkg')} {sp.name}}}")
    ctx.out(f"    codePath={code_path}")
    ctx.out(f"    versionCode={sp.version_code} minSdk=34 targetSdk=34")
    ctx.out(f"    versionName={sp.version_name}")
    ctx.out(f"    flags={flags}")
    ctx.out("    timeStamp=2008-12-31 16:00:00")
    ctx.out("    lastUpdateTime=2008-12-31 16:00:00")
    ctx.out(
        f"    signatures=PackageSignatures{{{_hash_hex(sp.name + 'sig')} version:3, signatures:[c8a2e9bc], "
        "past signatures:[]}"
    )
    ctx.out(f"    pkgFlags={flags}")
    ctx.out(
        "    User 0: ceDataInode=0 installed=true hidden=false suspended=false distractionFlags=0 "
        "stopped=false notLaunched=false enabled=0 instant=false virtual=false"
    )
    ctx.out("      firstInstallTime=2008-12-31 16:00:00")


@dumpsys_section("package")
def dumpsys_package(ctx: CommandContext) -> int:
    pm: PackageManager = ctx.device.packages
    args = [a for a in ctx.argv[1:] if not a.startswith("-")]
    if not args:
        for app in pm.installed():
            dump_package(ctx, pm, app.package)
        return 0
    target = args[-1]
    dump_package(ctx, pm, target)
    return 0
