"""PackageManager: installed app models, their uids and stopped state, and the ``pm`` command.

An app model (``fixtures/apps/*.yaml``) plays the APK: ``adb install nwm_demo.yaml`` pushes it to
``/data/local/tmp`` and runs ``pm install``, exactly the path a real APK takes, so the harness
installs apps the same way on a phone and on the virtual device. A real APK (a zip) cannot run
here and is refused the way Android refuses a broken one. (The ``adb`` command line itself
insists on a ``.apk`` file name before it talks to any device, so ``adb install`` needs the
model copied to ``something.apk``; adbutils' ``install()`` and ``adb push`` + ``pm install``
take any name.)

Like Android, a freshly installed app is *stopped* (FLAG_STOPPED, ``notLaunched``) until its first
activity launch, so it gets no broadcasts (not even BOOT_COMPLETED); ``am force-stop`` puts it
back there. The flag lives on the :class:`InstalledApp`, which outlives reboots, as
package-restrictions.xml does on a phone.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.apps.errors import AppModelError

from ..registry import CommandContext, cmd_service, command, dumpsys_section
from .fs import FsError

if TYPE_CHECKING:
    from harness.apps.model import AppModel

    from ..device import VirtualAndroidDevice

FIRST_APPLICATION_UID = 10_000
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class SystemPackage:
    """A package of the system image: listed by ``pm list packages``, never an app model."""

    name: str
    uid: int
    path: str
    version_code: int = 34
    version_name: str = "14"


#: A plausible Android 14 system image (enough for ``pm list packages -s`` to look right).
SYSTEM_PACKAGES: tuple[SystemPackage, ...] = (
    SystemPackage("android", 1000, "/system/framework/framework-res.apk"),
    SystemPackage("com.android.shell", 2000, "/system/priv-app/Shell/Shell.apk"),
    SystemPackage("com.android.settings", 1000, "/system_ext/priv-app/Settings/Settings.apk"),
    SystemPackage(
        "com.android.providers.settings", 1000, "/system/priv-app/SettingsProvider/SettingsProvider.apk"
    ),
    SystemPackage("com.android.systemui", 1000, "/system_ext/priv-app/SystemUIGoogle/SystemUIGoogle.apk"),
    SystemPackage("com.android.phone", 1001, "/system/priv-app/TeleService/TeleService.apk"),
    SystemPackage("com.android.bluetooth", 1002, "/system/app/Bluetooth/Bluetooth.apk"),
    SystemPackage("com.android.networkstack", 1073, "/system/priv-app/NetworkStack/NetworkStack.apk"),
    SystemPackage("com.android.location.fused", 1000, "/system/priv-app/FusedLocation/FusedLocation.apk"),
    SystemPackage(
        "com.android.providers.media.module",
        1019,
        "/apex/com.android.mediaprovider/priv-app/MediaProvider/MediaProvider.apk",
    ),
    SystemPackage("com.android.launcher3", 1000, "/system_ext/priv-app/Launcher3/Launcher3.apk"),
    SystemPackage(
        "com.google.android.gms",
        1000,
        "/product/priv-app/PrebuiltGmsCore/PrebuiltGmsCore.apk",
        version_code=243_933_035,
        version_name="24.39.33",
    ),
)


@dataclass
class InstalledApp:
    """One installed app model and the per-user state PackageManager keeps for it."""

    model: AppModel
    uid: int
    code_path: str
    first_install_ms: int
    last_update_ms: int
    stopped: bool = True
    not_launched: bool = True
    enabled: bool = True
    source_name: str = ""

    @property
    def package(self) -> str:
        return self.model.package

    @property
    def app_id(self) -> int:
        return self.uid % 100_000

    @property
    def user_name(self) -> str:
        """``u0_a123``: what ps and the process table show for this app."""
        return f"u0_a{self.app_id - FIRST_APPLICATION_UID}"

    @property
    def apk_path(self) -> str:
        return self.code_path + "/base.apk"


class InstallError(Exception):
    """An install refused with an Android status name (``INSTALL_FAILED_INVALID_APK`` …)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def line(self) -> str:
        return f"Failure [{self.status}: {self.message}]"


def _looks_like_app_model(data: bytes) -> bool:
    """True when ``data`` is meant as an app model (then a parse error is a malformed manifest)."""
    if not data or data.startswith(ZIP_MAGIC):
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(line.split("#", 1)[0].rstrip().startswith("package:") for line in text.splitlines())


def _random_dir(seed: str) -> str:
    """The ``~~<base64>==`` directory names Android gives an install (deterministic here)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=") + "=="


class PackageManager:
    """Installed packages (system image + app models) and the ``pm`` / ``dumpsys package`` commands."""

    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self._apps: dict[str, InstalledApp] = {}
        self._installs = 0

    # ------------------------------------------------------------------ queries
    def get(self, package: str) -> InstalledApp | None:
        return self._apps.get(package)

    def installed(self) -> list[InstalledApp]:
        return sorted(self._apps.values(), key=lambda a: a.package)

    def by_uid(self, uid: int) -> InstalledApp | None:
        for app in self._apps.values():
            if app.uid == uid:
                return app
        return None

    def system_package(self, package: str) -> SystemPackage | None:
        for pkg in SYSTEM_PACKAGES:
            if pkg.name == package:
                return pkg
        return None

    def is_installed(self, package: str) -> bool:
        return package in self._apps or self.system_package(package) is not None

    def apps_for_scheme(self, scheme: str) -> Iterator[InstalledApp]:
        """Apps whose launcher activity handles VIEW of ``scheme://`` links (deep links)."""
        return (app for app in self.installed() if app.enabled and app.model.handles_scheme(scheme))

    # ---------------------------------------------------------------- installing
    def install_model_file(self, path: str | Path) -> InstalledApp:
        """Preinstall an app model from the host (device constructor); raises AppModelError."""
        from harness.apps.loader import load_app_model  # pydantic only when there is an app to load

        model = load_app_model(Path(path))
        return self._install_model(model, source_name=Path(path).name)

    def install_bytes(self, data: bytes, name: str) -> str:
        """Install the bytes of a file the way ``pm install`` does: ``Success`` or ``Failure [...]``."""
        try:
            self.install_data(data, name)
        except InstallError as exc:
            return exc.line
        return "Success"

    def install_data(self, data: bytes, name: str) -> InstalledApp:
        """Parse and install; raises :class:`InstallError` with Android's status name."""
        session = self._session_dir(name)
        if not _looks_like_app_model(data):
            what = (
                "a zip APK (real APKs cannot run on a virtual device)"
                if data.startswith(ZIP_MAGIC)
                else "not an APK"
            )
            raise InstallError(
                "INSTALL_FAILED_INVALID_APK",
                f"Failed to parse {session}/base.apk: {name} is {what}; install a bgtest app model "
                "(fixtures/apps/*.yaml)",
            )
        from harness.apps.loader import load_app_model  # pydantic only when installing an app

        try:
            model = load_app_model(data, name)
        except AppModelError as exc:
            raise InstallError("INSTALL_PARSE_FAILED_MANIFEST_MALFORMED", str(exc)) from None
        current = self._apps.get(model.package)
        if current is not None and model.version_code < current.model.version_code:
            raise InstallError(
                "INSTALL_FAILED_VERSION_DOWNGRADE",
                f"Downgrade detected: Update version code {model.version_code} is older than current "
                f"{current.model.version_code}",
            )
        if self.system_package(model.package) is not None:
            raise InstallError(
                "INSTALL_FAILED_DUPLICATE_PACKAGE", f"Package {model.package} is a system package"
            )
        return self._install_model(model, source_name=name)

    def _session_dir(self, name: str) -> str:
        """The staging directory a PackageInstaller session would use (named in parse errors)."""
        return f"/data/app/vmdl{10_000_000 + (self._installs + 1) * 12_347}.tmp"

    def _next_uid(self) -> int:
        used = {a.uid for a in self._apps.values()}
        uid = FIRST_APPLICATION_UID
        while uid in used:
            uid += 1
        return uid

    def _install_model(self, model: AppModel, source_name: str) -> InstalledApp:
        now = self.device.clock.now_ms()
        self._installs += 1
        current = self._apps.get(model.package)
        if current is not None:
            # An update keeps uid, data and stopped state; the running process is killed.
            activity = getattr(self.device, "activity", None)
            if activity is not None and hasattr(activity, "kill_for_update"):
                activity.kill_for_update(model.package)
            current.model = model
            current.last_update_ms = now
            current.source_name = source_name
            current.code_path = self._code_path(model.package)
            return current
        app = InstalledApp(
            model=model,
            uid=self._next_uid(),
            code_path=self._code_path(model.package),
            first_install_ms=now,
            last_update_ms=now,
            source_name=source_name,
        )
        self._apps[model.package] = app
        return app

    def _code_path(self, package: str) -> str:
        seed = f"{self.device.serial}/{package}/{self._installs}"
        return f"/data/app/~~{_random_dir(seed + '/a')}/{package}-{_random_dir(seed + '/b')}"

    # ------------------------------------------------------------------ changing
    def uninstall(self, package: str) -> bool:
        """Remove an app model; its process dies and ``package_removed`` goes out. False if unknown."""
        app = self._apps.get(package)
        if app is None:
            return False
        activity = getattr(self.device, "activity", None)
        if activity is not None and hasattr(activity, "kill_for_update"):
            activity.kill_for_update(package, reason="pkg removed")
        del self._apps[package]
        self.device.bus.publish("package_removed", package=package)
        return True

    def clear(self, package: str) -> bool:
        """``pm clear``: kill the app, wipe its data (WorkManager store listens), back to stopped."""
        app = self._apps.get(package)
        if app is None:
            return False
        activity = getattr(self.device, "activity", None)
        if activity is not None and hasattr(activity, "force_stop"):
            activity.force_stop(package, reason="clear data", user=0)
        self.device.bus.publish("package_cleared", package=package)
        app.stopped = True
        return True

    def set_stopped(self, package: str, stopped: bool) -> None:
        app = self._apps.get(package)
        if app is None:
            return
        app.stopped = stopped
        if not stopped:
            app.not_launched = False


# ------------------------------------------------------------------------- commands
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
