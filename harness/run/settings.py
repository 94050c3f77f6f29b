"""One settings object for a run, built once from the command line, pytest options and the
environment, and passed down — no module reads ``os.environ`` for these on its own.

The environment variables bgtest reads, all here (:meth:`Settings.build`):

==========================  ==============================================================
``BGTEST_XCRUN``            the xcrun to run (a command line; ``--xcrun`` wins)
``BGTEST_IOS_DEVICE``       an iOS UDID to use
``BGTEST_WDA_URL``          WebDriverAgent of the iOS target(s); ``DEVICE_URL`` one more
``BGTEST_RECONNECT_TIMEOUT`` seconds a farm device may be gone before its command fails
``ANDROID_ADB_SERVER_HOST`` / ``_PORT``  adb's own: the server looked at when none is named
``BGTEST_ADB``              the adb binary of bgtest's private servers
``XDG_RUNTIME_DIR``         where the user's device leases live on this host
``BGTEST_PROXY_CONFDIR``    the fault proxy's CA folder (else ``$XDG_CACHE_HOME/bgtest/mitmproxy``)
``BGTEST_STATE_DIR``        bgtest's state folder, the host ledger's (else ``$XDG_STATE_HOME/bgtest``)
==========================  ==============================================================

What stays read elsewhere is not bgtest's configuration: the environment a child process
inherits (adb, the xcrun stand-in), ``${env:NAME}`` in a scenario (the loader), secret values
to mask (redaction), ``NO_COLOR`` (a convention of every terminal tool), and the virtual
devices' own programs, which read theirs as the real tools do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BgtestError
from harness.own_folder import own_folder


class SettingError(BgtestError):
    """An environment variable bgtest reads holds a value it cannot use (a usage error, exit 2)."""


def _seconds(environ: Mapping[str, str], name: str) -> float | None:
    text = environ.get(name)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingError(f"${name}={text!r}: give seconds, a number above 0 (e.g. 5)")
    return value


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or "/nonexistent")


def state_dir(environ: Mapping[str, str]) -> Path:
    """Where the host keeps bgtest's state: ``$BGTEST_STATE_DIR``, ``$XDG_STATE_HOME/bgtest``,
    ``~/.local/state/bgtest`` — or a folder in the temp dir when there is no usable home (a
    missing home is never created): the user's own under a fixed name, so the next run finds
    what a killed one left; a fresh one when someone else holds that name (:func:`own_folder`)."""
    if environ.get("BGTEST_STATE_DIR"):
        return Path(environ["BGTEST_STATE_DIR"])
    if environ.get("XDG_STATE_HOME"):
        return Path(environ["XDG_STATE_HOME"]) / "bgtest"
    home = _home(environ)
    if home.is_dir() and os.access(home, os.W_OK):
        return home / ".local" / "state" / "bgtest"
    shared = Path(tempfile.gettempdir()) / f"bgtest-state-{os.getuid()}"
    return own_folder(shared) or Path(tempfile.mkdtemp(prefix="bgtest-state-"))


def proxy_confdir(environ: Mapping[str, str]) -> Path:
    """The proxy's CA folder: kept across runs, so a phone that trusts it keeps trusting it."""
    if environ.get("BGTEST_PROXY_CONFDIR"):
        return Path(environ["BGTEST_PROXY_CONFDIR"])
    cache = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else _home(environ) / ".cache"
    return cache / "bgtest" / "mitmproxy"


def _adb_server(environ: Mapping[str, str]) -> str:
    host = environ.get("ANDROID_ADB_SERVER_HOST") or "127.0.0.1"
    return f"{host}:{environ.get('ANDROID_ADB_SERVER_PORT') or '5037'}"


@dataclass(frozen=True)
class Settings:
    """Where the devices are and where reports go."""

    device: str | None = None  # --device: an adb serial, or a simulator UDID
    adb_server: str | None = None  # HOST:PORT of the adb server (farms)
    xcrun: str | None = None  # the xcrun to run (a command line)
    ios_device: str | None = None  # an iOS UDID to use
    wda_url: str | None = None  # WebDriverAgent of the iOS target (comma-separated: several)
    device_url: str | None = None  # $DEVICE_URL, facebook-wda's own: one more WDA `bgtest devices` asks
    report_dir: Path | None = None
    allow_embedded: bool = True  # start a virtual device when no real one is there
    profiles: tuple[str, ...] = ()  # --profile: the virtual devices' profiles (one per platform)
    reruns: int = 0  # --reruns: run a failed scenario again up to this many times (flaky if it passes)
    device_filters: tuple[str, ...] = ()  # --device-filter: sdk>=31, model=Pixel*, virtual=no …
    #: $BGTEST_RECONNECT_TIMEOUT: seconds a farm device may be gone before its command fails
    #: (None: the driver's default, long enough for a USB hiccup or a reboot's drop)
    reconnect_timeout_s: float | None = None
    #: $ANDROID_ADB_SERVER_HOST:$ANDROID_ADB_SERVER_PORT (adb's own variables): the server looked
    #: at when none is named — never "named": nothing there means nothing attached (the embedded device)
    default_adb_server: str = "127.0.0.1:5037"
    #: $BGTEST_ADB: the adb binary of bgtest's private servers (None: adbutils' bundled one, then PATH)
    adb: str | None = None
    #: $XDG_RUNTIME_DIR: the per-user folder the leases of every bgtest process on this host share
    #: (None: the temp folder)
    runtime_dir: Path | None = None
    #: $BGTEST_PROXY_CONFDIR: the fault proxy's CA (see :func:`proxy_confdir`)
    proxy_confdir: Path = field(default_factory=lambda: proxy_confdir({"HOME": str(Path.home())}))
    #: $BGTEST_STATE_DIR: the host ledger's folder (see :func:`state_dir`)
    state_dir: Path = field(default_factory=lambda: state_dir({"HOME": str(Path.home())}))

    def profile_for(self, platform: str) -> str | None:
        """The ``--profile`` given for ``platform``'s virtual device (None: its default)."""
        from harness.profiles import PROFILES

        return next((p for p in self.profiles if p in PROFILES and PROFILES[p].platform == platform), None)

    @classmethod
    def build(cls, environ: Mapping[str, str], **given: object) -> Settings:
        """``given`` (options; None = not given) over the environment variables of the module
        docstring, read from ``environ``; :class:`SettingError` names one that is unusable."""
        values = {k: v for k, v in given.items() if v is not None}
        env = {
            "xcrun": environ.get("BGTEST_XCRUN") or None,
            "ios_device": environ.get("BGTEST_IOS_DEVICE") or None,
            "wda_url": environ.get("BGTEST_WDA_URL") or None,
            "device_url": environ.get("DEVICE_URL") or None,
            "default_adb_server": _adb_server(environ),
            "adb": environ.get("BGTEST_ADB") or None,
            "runtime_dir": Path(environ["XDG_RUNTIME_DIR"]) if environ.get("XDG_RUNTIME_DIR") else None,
            "proxy_confdir": proxy_confdir(environ),
            "state_dir": state_dir(environ),
            "reconnect_timeout_s": _seconds(environ, "BGTEST_RECONNECT_TIMEOUT"),
        }
        for key, value in env.items():
            if value is not None:
                values.setdefault(key, value)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def from_environment(cls) -> Settings:
        """This process's environment alone: for a runner or session built without settings
        (Python use of the library); the command line and the pytest plugin build their own."""
        return cls.build(os.environ)
