"""A thin wrapper over facebook-wda: the few WebDriverAgent things bgtest needs, with bgtest errors.

WDA is how an iPhone is driven without a cable to Xcode: the home screen, the lock, app state,
and Settings → Battery → Low Power Mode (the only Low Power Mode switch a test can reach on a
device; research ios.md §4–§5). The client is used as it is; this module only turns its
exceptions (and a refused connection) into one message that names the device and the URL, and
reads ``/wda/apps/state`` the way WDA numbers it (4 foreground, 3 background, 2 suspended,
1 not running, 0 unknown) — facebook-wda's own docstring is out of date there.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from harness.errors import DeviceError

T = TypeVar("T")
SETTINGS = "com.apple.Preferences"
APP_STATES = {
    0: "unknown",
    1: "not running",
    2: "suspended",
    3: "background",
    4: "foreground",
}


def reachable(url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """``GET /status`` with a short timeout: the value when a WDA answers, None otherwise.

    Not through facebook-wda: its ``status()`` retries and waits, and ``bgtest devices`` must
    answer quickly for endpoints that are simply not there.
    """
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/status", timeout=timeout) as response:
            data = json.loads(response.read().decode("utf-8", "replace"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    value = data.get("value") if isinstance(data, dict) else None
    return value if isinstance(value, dict) else None


class Wda:
    """One WebDriverAgent endpoint (``http://HOST:8100``) of the device ``device``."""

    def __init__(self, url: str, device: str = "", on_request: Callable[[], None] | None = None) -> None:
        self.url = url.rstrip("/")
        self.device = device or self.url
        self.on_request = on_request  # counts round trips (the device's RoundTrips)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import wda

            self._client = wda.Client(self.url)
        return self._client

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        import wda

        if self.on_request is not None:
            self.on_request()
        try:
            return fn()
        except (wda.WDAError, OSError) as exc:
            raise DeviceError(
                self.device,
                f"WebDriverAgent at {self.url}: {what} failed: {exc}",
                hint=f"is WDA running and reachable? (`curl {self.url}/status`)",
            ) from exc

    # ------------------------------------------------------------------ device
    def status(self) -> dict[str, Any]:
        return self._call("status", lambda: dict(self.client.status()))

    def home(self) -> None:
        self._call("home", self.client.home)

    def lock(self) -> None:
        self._call("lock", self.client.lock)

    def unlock(self) -> None:
        self._call("unlock", self.client.unlock)

    def locked(self) -> bool:
        return bool(self._call("locked", self.client.locked))

    def screenshot(self) -> bytes:
        value = self._call("screenshot", lambda: self.client.http.get("screenshot").value)
        return base64.b64decode(value)

    # ------------------------------------------------------------------ apps
    def app_state(self, bundle: str) -> int:
        """XCUIApplicationState: 4 foreground, 3 background, 2 suspended, 1 not running, 0 unknown."""
        envelope = self._call("app state", lambda: self.client.app_state(bundle))
        return int(envelope.value)

    def app_state_name(self, bundle: str) -> str:
        return APP_STATES.get(self.app_state(bundle), "unknown")

    def launch(
        self, bundle: str, arguments: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> None:
        self._call("launch", lambda: self.client.app_launch(bundle, list(arguments), dict(env or {})))

    def terminate(self, bundle: str) -> bool:
        """True when the app was running (WDA answers false when there was nothing to terminate)."""
        envelope = self._call("terminate", lambda: self.client.app_terminate(bundle))
        return bool(envelope.value)

    # ------------------------------------------------------------------ Low Power Mode
    def low_power(self) -> bool:
        """Read the Low Power Mode switch in Settings → Battery (then go home)."""
        return self._with_battery_switch(lambda element: _switch_on(element.value))

    def set_low_power(self, on: bool) -> bool:
        """Flip Settings → Battery → Low Power Mode to ``on``; True if it had to change."""

        def flip(element: Any) -> bool:
            if _switch_on(element.value) == on:
                return False
            element.click()
            if _switch_on(element.value) != on:
                raise DeviceError(
                    self.device,
                    f"tapped Low Power Mode in Settings but it is still {'off' if on else 'on'}",
                    hint="is a charger connected above 80%? iOS turns Low Power Mode off by itself then",
                )
            return True

        return self._with_battery_switch(flip)

    def _with_battery_switch(self, action: Callable[[Any], T]) -> T:
        def run() -> T:
            session = self.client.session(SETTINGS)
            try:
                battery = session(name="Battery").get(timeout=10, raise_error=False)
                if battery is None:
                    raise DeviceError(self.device, "Settings has no 'Battery' row on this screen")
                battery.click()
                switch = session(name="Low Power Mode").get(timeout=10, raise_error=False)
                if switch is None:
                    raise DeviceError(self.device, "Settings → Battery shows no 'Low Power Mode' switch")
                return action(switch)
            finally:
                try:
                    session.app_terminate(SETTINGS)
                    self.client.home()
                except Exception:  # best effort: leaving Settings open must not hide the real result
                    pass

        return self._call("Settings → Battery → Low Power Mode", run)


def _switch_on(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "on")
