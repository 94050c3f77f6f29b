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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.apps.errors import AppModelError

if TYPE_CHECKING:
    from harness.apps.model import AppModel

    from .context import SystemContext

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

    def __init__(self, device: SystemContext) -> None:
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
