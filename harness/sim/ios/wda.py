"""A WebDriverAgent-compatible HTTP server in front of one virtual iPhone.

Routes, value shapes and error envelopes follow appium/WebDriverAgent as facebook-wda 1.5.0
calls them (research ios.md §5): ``{"value": …, "sessionId": …}`` with no ``status``; errors as
``{"value": {"error", "message", "traceback"}}`` with WDA's HTTP status; the session id at the top
level of ``POST /session``; session routes also reachable with a trailing slash (the client's
``close()`` sends ``DELETE /session/<sid>/``).

The server shares the device through the sim home like every ``bgtest-xcrun`` process does:
each request opens the world under the home's lock, so what WDA does (Settings → Battery →
Low Power Mode) is what ``log stream`` and ``simctl`` see next.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .device import Device, World, open_world
from .facts import PREFERENCES, RUNTIME_VERSION, SPRINGBOARD, SYSTEM_APPS, SimError
from .predicate import PredicateError, compile_predicate
from .screen import HEIGHT, SCALE, WIDTH, Element, png_for, source_xml, tree
from .state import SimHome

_STATUS = {
    "invalid session id": 404,
    "no such element": 404,
    "stale element reference": 404,
    "no such alert": 404,
    "unknown command": 404,
    "invalid argument": 400,
    "invalid selector": 400,
    "invalid element state": 400,
    "unknown error": 500,
    "session not created": 500,
    "unable to capture screen": 500,
    "unknown method": 405,
}


class WdaError(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


class _Reply(Exception):
    """Internal: carry a value out of a handler."""


def _attr(el: Element, key: str) -> Any:
    if key in ("type", "elementType"):
        return el.type
    if key in ("name", "identifier", "wdName"):
        return el.name or None
    if key in ("label", "wdLabel"):
        return el.label or None
    if key in ("value", "wdValue"):
        return el.value
    if key in ("enabled", "isEnabled", "wdEnabled"):
        return el.enabled
    if key in ("visible", "isVisible", "wdVisible", "displayed", "hittable", "accessible", "wdAccessible"):
        return True
    if key == "rect":
        return {"x": el.x, "y": el.y, "width": el.width, "height": el.height}
    return None


_CHAIN_SEG = re.compile(r"(?P<type>XCUIElementType\w+|\*)(?P<filters>(?:\[[^\]]*\])*)")


def _find(root: Element, using: str, value: str) -> list[Element]:
    elements = root.walk()
    try:
        if using in ("id", "accessibility id", "name"):
            return [e for e in elements if e.name == value]
        if using == "class name":
            return [e for e in elements if e.type == value]
        if using == "predicate string":
            pred = compile_predicate(value, _attr)
            return [e for e in elements if pred(e)]
        if using == "class chain":
            return _class_chain(root, value)
        if using == "xpath":
            return _xpath(elements, value)
    except PredicateError as exc:
        raise WdaError("invalid selector", f"Cannot parse the search value '{value}': {exc}") from None
    raise WdaError("invalid selector", f"Unsupported locator strategy '{using}'")


def _class_chain(root: Element, chain: str) -> list[Element]:
    """``**/XCUIElementTypeCell[`name == 'Battery'`][1]/XCUIElementTypeSwitch`` (descendant segments)."""
    parts: list[str] = []
    buf, quoted = "", False
    for ch in chain:
        if ch == "`":
            quoted = not quoted
        if ch == "/" and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts = [p for p in [*parts, buf] if p]
    current = [root]
    deep = False
    for part in parts:
        if part == "**":
            deep = True
            continue
        m = _CHAIN_SEG.fullmatch(part)
        if m is None:
            raise WdaError("invalid selector", f"Cannot parse class chain query '{chain}'")
        kind = m.group("type")
        candidates: list[Element] = []
        for node in current:
            pool = [e for c in node.children for e in c.walk()] if deep else list(node.children)
            candidates += [e for e in pool if kind in ("*", "XCUIElementTypeAny") or e.type == kind]
        for flt in re.findall(r"\[([^\]]*)\]", m.group("filters")):
            if flt.startswith("`") and flt.endswith("`"):
                pred = compile_predicate(flt[1:-1], _attr)
                candidates = [e for e in candidates if pred(e)]
            elif flt.lstrip("-").isdigit():
                n = int(flt)
                idx = n - 1 if n > 0 else len(candidates) + n
                candidates = [candidates[idx]] if 0 <= idx < len(candidates) else []
            else:
                raise WdaError("invalid selector", f"Cannot parse class chain query '{chain}'")
        current = candidates
        deep = False
    return current if current != [root] else []


def _xpath(elements: list[Element], expr: str) -> list[Element]:
    m = re.fullmatch(r"//(\w+|\*)(?:\[@(\w+)=(?:\"([^\"]*)\"|'([^']*)')\])?", expr.strip())
    if m is None:
        raise WdaError("invalid selector", f"Cannot evaluate '{expr}' XPath expression")
    kind, attr, v1, v2 = m.groups()
    out = [e for e in elements if kind in ("*", e.type)]
    if attr:
        want = v1 if v1 is not None else v2
        out = [e for e in out if str(_attr(e, attr)) == want]
    return out


#: The settings WebDriverAgent's GET /appium/settings answers by default (FBSessionCommands).
_DEFAULT_SETTINGS: dict[str, Any] = {
    "mjpegServerScreenshotQuality": 25, "mjpegServerFramerate": 10, "mjpegScalingFactor": 100,
    "screenshotQuality": 3, "elementResponseAttributes": "type,label", "shouldUseCompactResponses": True,
    "keyboardAutocorrection": False, "keyboardPrediction": False, "customSnapshotTimeout": 15.0,
    "snapshotMaxDepth": 50, "useFirstMatch": False, "boundElementsByIndex": False, "reduceMotion": False,
    "defaultActiveApplication": "auto", "activeAppDetectionPoint": "64.00,64.00",
    "includeNonModalElements": False, "acceptAlertButtonSelector": "", "dismissAlertButtonSelector": "",
    "animationCoolOffTimeout": 2.0, "waitForIdleTimeout": 10.0, "maxTypingFrequency": 60,
    "respectSystemAlerts": False, "useClearTextShortcut": True,
}
#: What POST /orientation accepts (FBElementCommands' orientation names) -> what GET answers.
_ORIENTATIONS = {
    "PORTRAIT": "PORTRAIT", "LANDSCAPE": "LANDSCAPE", "UIA_DEVICE_ORIENTATION_PORTRAIT": "PORTRAIT",
    "UIA_DEVICE_ORIENTATION_LANDSCAPELEFT": "LANDSCAPE", "UIA_DEVICE_ORIENTATION_LANDSCAPERIGHT":
    "UIA_DEVICE_ORIENTATION_LANDSCAPERIGHT", "UIA_DEVICE_ORIENTATION_PORTRAIT_UPSIDEDOWN":
    "UIA_DEVICE_ORIENTATION_PORTRAIT_UPSIDEDOWN",
}


#: HID usage page and usages (USB HID Usage Tables, Consumer page) WDA's performIoHidEvent takes.
_HID_CONSUMER_PAGE = 0x0C
_HID_MENU = 0x40
_HID_POWER = 0x30


class WdaServer:
    """``WdaServer(home, udid).start()``; ``url`` is what ``wda.Client(url)`` takes."""

    def __init__(
        self, home: SimHome | None = None, udid: str = "booted", host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.home = home or SimHome()
        self.udid = udid
        self.session_id: str | None = None
        self.session_bundle: str | None = None
        #: UIDeviceOrientation the session rotated to (POST /orientation).
        self.orientation = "PORTRAIT"
        #: FBSessionCommands' /appium/settings (FBConfiguration), per server as WDA keeps them.
        self.settings: dict[str, Any] = dict(_DEFAULT_SETTINGS)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _do(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = server.handle(method, self.path, body)
                data = json.dumps(payload, indent=2, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._do("GET")

            def do_POST(self) -> None:
                self._do("POST")

            def do_DELETE(self) -> None:
                self._do("DELETE")

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def start(self) -> WdaServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="bgtest-wda", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> WdaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------- dispatch
    def handle(self, method: str, raw_path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(raw_path)
        path = "/" + parts.path.strip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            data = None
        with self._lock:
            try:
                if data is None or not isinstance(data, dict):
                    raise WdaError("invalid argument", "The request body is not a JSON object")
                m = re.match(r"^/session/([^/]+)(/.*)?$", path)
                if m:
                    sid, rest = m.group(1), m.group(2) or "/"
                    if sid != self.session_id:
                        raise WdaError("invalid session id", "Session does not exist")
                    if rest == "/":
                        if method == "DELETE":
                            self.session_id = None
                            self.session_bundle = None
                            return 200, {"value": None, "sessionId": None}
                        return 200, self._envelope(self._session_value())
                    path = rest
                value = self._route(method, path, query, data, session=bool(m))
                return 200, self._envelope(value)
            except WdaError as exc:
                payload = {"error": exc.error, "message": exc.message, "traceback": ""}
                return _STATUS.get(exc.error, 500), self._envelope(payload)
            except SimError as exc:
                payload = {"error": "unknown error", "message": exc.message, "traceback": ""}
                return 500, self._envelope(payload)

    def _envelope(self, value: Any) -> dict[str, Any]:
        return {"value": value, "sessionId": self.session_id}

    def _session_value(self) -> dict[str, Any]:
        caps = {
            "device": "iphone",
            "sdkVersion": RUNTIME_VERSION,
            "browserName": self.session_bundle or "",
            "CFBundleIdentifier": self.session_bundle or "",
        }
        return {"sessionId": self.session_id, "capabilities": caps}

    def _with_device(self, fn: Callable[[World, Device], Any]) -> Any:
        with open_world(self.home) as world:
            dev = world.find(self.udid)
            dev.require_booted("lookup")
            out = fn(world, dev)
            world.reschedule()
            return out

    # --------------------------------------------------------------- routes
    def _route(
        self, method: str, path: str, query: dict[str, str], data: dict[str, Any], session: bool
    ) -> Any:
        key = f"{method} {path}"
        if key == "GET /status":
            return self._status()
        if key == "POST /session":
            return self._new_session(data)
        if key == "GET /wda/healthcheck":
            return None
        simple: dict[str, Callable[[World, Device], Any]] = {
            "POST /wda/homescreen": lambda w, d: d.springboard.home_screen(),
            "POST /wda/lock": lambda w, d: d.d.__setitem__("locked", True),
            "POST /wda/unlock": lambda w, d: d.d.__setitem__("locked", False),
            "GET /wda/locked": lambda w, d: bool(d.d["locked"]),
            "GET /wda/device/info": self._device_info,
            "GET /wda/activeAppInfo": self._active_app,
            "GET /screenshot": lambda w, d: base64.b64encode(png_for(d)).decode(),
            "GET /wda/screen": lambda w, d: {
                "screenSize": {"width": WIDTH, "height": HEIGHT},
                "statusBarSize": {"width": WIDTH, "height": 54},
                "scale": SCALE,
            },
            "GET /wda/accessibleSource": lambda w, d: self._json_tree(tree(d)),
        }
        if key in simple:
            return self._with_device(simple[key])
        if key == "GET /source":
            fmt = query.get("format", "xml")
            return self._with_device(lambda w, d: source_xml(d) if fmt == "xml" else self._json_tree(tree(d)))
        if session:
            return self._session_route(method, path, data)
        raise WdaError(
            "unknown command", f"Unhandled endpoint: {path} -- http://127.0.0.1/ with parameters {data}"
        )

    def _session_route(self, method: str, path: str, data: dict[str, Any]) -> Any:
        key = f"{method} {path}"
        if key in ("POST /wda/apps/launch", "POST /wda/apps/activate"):
            bid = self._bundle(data)
            args = [str(a) for a in data.get("arguments") or []]
            env = {str(k): str(v) for k, v in (data.get("environment") or {}).items()}
            return self._with_device(lambda w, d: self._launch(d, bid, args, env))
        if key == "POST /wda/apps/terminate":
            bid = self._bundle(data)

            def term(w: World, d: Device) -> bool:
                if not d.springboard.is_running(bid):
                    return False
                d.springboard.terminate(bid)
                return True

            return self._with_device(term)
        if key == "POST /wda/apps/state":
            bid = self._bundle(data)
            return self._with_device(lambda w, d: d.springboard.app_state(bid))
        if key == "GET /wda/apps/list":
            return self._with_device(
                lambda w, d: [{"pid": p["pid"], "bundleId": b} for b, p in d.d["procs"].items()]
            )
        if key == "GET /wda/batteryInfo":
            return self._with_device(self._battery)
        if key == "GET /window/size":
            portrait = self.orientation in ("PORTRAIT", "UIA_DEVICE_ORIENTATION_PORTRAIT_UPSIDEDOWN")
            return {"width": WIDTH, "height": HEIGHT} if portrait else {"width": HEIGHT, "height": WIDTH}
        if key == "GET /orientation":
            return self.orientation
        if key == "POST /orientation":
            wanted = _ORIENTATIONS.get(str(data.get("orientation", "")).upper())
            if wanted is None:
                raise WdaError("unknown error", f"Unable To Rotate Device ({data.get('orientation')!r})")
            self.orientation = wanted
            return None
        if key == "GET /appium/settings":
            return dict(self.settings)
        if key == "POST /appium/settings":
            new = data.get("settings")
            if not isinstance(new, dict):
                raise WdaError("invalid argument", "'settings' argument must be provided")
            self.settings.update(new)
            return dict(self.settings)
        if key == "POST /url":
            url = data.get("url")
            if not isinstance(url, str) or not url:
                raise WdaError("invalid argument", "URL is required")
            return self._with_device(lambda w, d: d.springboard.open_url(url))
        if key == "POST /wda/setPasteboard":
            try:
                content = base64.b64decode(str(data["content"]), validate=True).decode()
            except (KeyError, ValueError):
                raise WdaError("invalid argument", "'content' must be base64-encoded text") from None
            return self._with_device(lambda w, d: d.d.__setitem__("pasteboard", content))
        if key == "POST /wda/getPasteboard":
            return self._with_device(
                lambda w, d: base64.b64encode(d.d.get("pasteboard", "").encode()).decode())
        if key == "POST /wda/keys":
            # XCUIApplication.typeText with no text field on these screens: XCTest's own failure
            raise WdaError("unknown error", "Neither element nor any descendant has keyboard focus.")
        if key in ("POST /wda/doubleTap", "POST /wda/touchAndHold"):
            try:
                x, y = float(data["x"]), float(data["y"])
                float(data.get("duration", 0))
            except (KeyError, TypeError, ValueError):
                raise WdaError("invalid argument", "x and y coordinates are required") from None
            if key == "POST /wda/touchAndHold":
                return None  # a long press: none of these screens has a context menu
            return self._with_device(lambda w, d: (self._tap_at(d, x, y), self._tap_at(d, x, y))[0])
        if key == "POST /wda/siri/activate":
            text = data.get("text")
            if not isinstance(text, str) or not text:
                raise WdaError("invalid argument", "'text' argument must be provided")
            return self._with_device(lambda w, d: self._siri(d, text))
        if key == "POST /wda/performIoHidEvent":
            try:
                page, usage = int(data["page"]), int(data["usage"])
                float(data.get("duration", 0))
            except (KeyError, TypeError, ValueError):
                raise WdaError("invalid argument", "'page', 'usage' and 'duration' must be numbers") from None
            return self._with_device(lambda w, d: self._hid_event(d, page, usage))
        if key == "POST /wda/deactivateApp":
            return self._with_device(self._deactivate)
        if key == "POST /wda/pressButton":
            name = str(data.get("name", ""))
            if name != "home" and name not in ("volumeUp", "volumeDown"):
                raise WdaError("invalid argument", f"The button '{name}' is unknown")
            return self._with_device(lambda w, d: d.springboard.home_screen() if name == "home" else None)
        if key == "POST /wda/dragfromtoforduration":
            try:
                pts = [float(data[k]) for k in ("fromX", "fromY", "toX", "toY")]
                duration = float(data.get("duration", 0))
            except (KeyError, TypeError, ValueError):
                raise WdaError("invalid argument", "fromX, fromY, toX, toY and duration are required") \
                    from None
            return self._with_device(lambda w, d: self._drag(d, *pts, duration))
        if key in ("POST /wda/tap", "POST /wda/tap/0"):
            try:
                x, y = float(data["x"]), float(data["y"])
            except (KeyError, TypeError, ValueError):
                raise WdaError("invalid argument", "x and y coordinates are required") from None
            return self._with_device(lambda w, d: self._tap_at(d, x, y))
        if key in ("POST /elements", "POST /element"):
            using, value = str(data.get("using", "")), str(data.get("value", ""))
            found = self._with_device(lambda w, d: _find(tree(d), using, value))
            refs = [{"ELEMENT": e.uid, "element-6066-11e4-a52e-4f735466cecf": e.uid} for e in found]
            if path == "/element":
                if not refs:
                    raise WdaError(
                        "no such element", f"unable to find an element using '{using}', value '{value}'"
                    )
                return refs[0]
            return refs
        if key.startswith("GET /alert") or key.startswith("POST /alert") or key == "GET /wda/alert/buttons":
            raise WdaError(
                "no such alert", "An attempt was made to operate on a modal dialog when one was not open"
            )
        m = re.match(r"^/(wda/)?element/([^/]+)/(.+)$", path)
        if m:
            return self._with_device(lambda w, d: self._element(d, method, m.group(2), m.group(3), data))
        raise WdaError(
            "unknown command", f"Unhandled endpoint: {path} -- http://127.0.0.1/ with parameters {data}"
        )

    @staticmethod
    def _bundle(data: dict[str, Any]) -> str:
        bid = data.get("bundleId")
        if not isinstance(bid, str) or not bid:
            raise WdaError("invalid argument", "'bundleId' argument must be provided")
        return bid

    # -------------------------------------------------------------- handlers
    def _status(self) -> dict[str, Any]:
        with open_world(self.home) as world:
            dev = world.find(self.udid)
            kind = dev.kind
            version = dev.os_version
        out: dict[str, Any] = {
            "ready": True,
            "message": "WebDriverAgent is ready to accept commands",
            "state": "success",
            "os": {
                "name": "iOS",
                "version": version,
                "sdkVersion": version,
                "testmanagerdVersion": 65535,
            },
            "ios": {"ip": None if kind == "simulator" else "192.168.1.23"},
            "build": {
                "time": "Jan  5 2026 09:00:00",
                "productBundleIdentifier": "com.facebook.WebDriverAgentRunner",
                "version": "7.1.1",
            },
            "device": "iphone",
        }
        if kind == "simulator":
            out["ios"]["simulatorVersion"] = version
        return out

    def _new_session(self, data: dict[str, Any]) -> dict[str, Any]:
        caps = data.get("capabilities") or {}
        always = caps.get("alwaysMatch") if isinstance(caps, dict) else None
        always = always if isinstance(always, dict) else data.get("desiredCapabilities") or {}
        bid = always.get("bundleId") if isinstance(always, dict) else None
        self.session_id = None
        if bid:
            args = [str(a) for a in always.get("arguments") or []]
            env = {str(k): str(v) for k, v in (always.get("environment") or {}).items()}
            try:
                self._with_device(lambda w, d: self._launch(d, str(bid), args, env))
            except WdaError as exc:
                raise WdaError(
                    "session not created", f"Cannot launch {bid} application. {exc.message}"
                ) from None
        self.session_id = str(uuid.uuid4()).upper()
        self.session_bundle = str(bid) if bid else None
        return self._session_value()

    @staticmethod
    def _launch(dev: Device, bid: str, args: list[str], env: dict[str, str]) -> None:
        if not dev.springboard.known_app(bid):
            raise WdaError(
                "unknown error", f"The application under test with bundle id '{bid}' is not installed"
            )
        if dev.d["locked"]:
            dev.d["locked"] = False
        if dev.springboard.is_running(bid):
            dev.springboard.activate(bid)  # already running: activated, arguments ignored (as WDA does)
        else:
            dev.springboard.launch(bid, args, env)

    @staticmethod
    def _device_info(world: World, dev: Device) -> dict[str, Any]:
        return {
            "currentLocale": "en_US",
            "timeZone": "Etc/UTC",
            "name": dev.d["name"],
            "model": "iPhone" if "iPhone" in dev.d["name"] else "iPad",
            "uuid": dev.udid,
            "userInterfaceIdiom": 0,
            "userInterfaceStyle": dev.d["appearance"],
            "isSimulator": dev.kind == "simulator",
            "thermalState": 0,
        }

    @staticmethod
    def _active_app(world: World, dev: Device) -> dict[str, Any]:
        bid = dev.d["front"]
        if bid is None:
            return {
                "pid": dev.d.get("sys_pids", {}).get(
                    "/System/Library/CoreServices/SpringBoard.app/SpringBoard", 0
                ),
                "bundleId": SPRINGBOARD,
                "name": "",
                "processArguments": {"args": [], "env": {}},
            }
        proc = dev.d["procs"][bid]
        return {
            "pid": proc["pid"],
            "bundleId": bid,
            # FBCustomCommands handleActiveAppInfo: name is XCUIApplication.identifier, the app
            # element's accessibility identifier, which apps leave empty (facebook-wda's example too)
            "name": "",
            "processArguments": {"args": proc["args"], "env": proc["env"]},
        }

    @staticmethod
    def _battery(world: World, dev: Device) -> dict[str, Any]:
        if dev.kind == "simulator":
            return {"level": -1, "state": 0}
        level = float(dev.d["battery"])
        state = (3 if level >= 1.0 else 2) if dev.d["charging"] else 1
        return {"level": level, "state": state}

    @staticmethod
    def _siri(dev: Device, text: str) -> None:
        """XCUISiriService activateWithVoiceRecognitionText (FBCustomCommands handleActivateSiri):
        "open <app name>" opens that app as Siri would; Siri answers anything else (an app it does
        not know, such as the WDA runner facebook-wda's get_clipboard names) by talking, not acting."""
        verb, _, target = text.strip().partition(" ")
        if verb.lower() != "open":
            return
        names = {app["name"].lower(): bid for bid, app in dev.d["apps"].items()}
        names.update({name.lower(): bid for bid, (name, _bundle, _exe) in SYSTEM_APPS.items()})
        bid = names.get(target.strip().lower())
        if bid is not None:
            WdaServer._launch(dev, bid, [], {})

    @staticmethod
    def _hid_event(dev: Device, page: int, usage: int) -> None:
        """XCUIDevice performIOHIDEvent (FBCustomCommands handlePeformIOHIDEvent): on the consumer
        page (0x0C) Menu (0x40) is the home button and Power (0x30) locks; volume (0xE9/0xEA), the
        snapshot chord (0x65) and every other usage reach no screen modelled here."""
        if page != _HID_CONSUMER_PAGE:
            return
        if usage == _HID_MENU:
            dev.springboard.home_screen()
        elif usage == _HID_POWER:
            dev.d["locked"] = True  # a press on a locked phone only lights the screen: still locked

    @staticmethod
    def _deactivate(world: World, dev: Device) -> None:
        bid = dev.d["front"]
        dev.springboard.home_screen()
        if bid:
            world.advance(3000)
            dev.springboard.activate(bid)

    def _json_tree(self, el: Element) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": el.type.replace("XCUIElementType", ""),
            "name": el.name or None,
            "label": el.label or None,
            "value": el.value,
            "isEnabled": "1" if el.enabled else "0",
            "rect": _attr(el, "rect"),
            "frame": f"{{{{{el.x}, {el.y}}}, {{{el.width}, {el.height}}}}}",
        }
        if el.children:
            out["children"] = [self._json_tree(c) for c in el.children]
        return out

    def _tap_at(self, dev: Device, x: float, y: float) -> None:
        hit = None
        for el in tree(dev).walk():
            if el.action and el.x <= x < el.x + el.width and el.y <= y < el.y + el.height:
                hit = el
        if hit is not None:
            self._perform(dev, hit)

    @staticmethod
    def _drag(dev: Device, x1: float, y1: float, x2: float, y2: float, duration: float) -> None:
        """Home-indicator gestures and the app switcher's swipe-away (a user force-quit)."""
        if y1 >= HEIGHT - 34 and y2 < y1 - 100:
            if duration >= 0.3 and y2 >= HEIGHT * 0.3:
                dev.springboard.open_switcher()  # swipe up and pause
            else:
                dev.springboard.home_screen()
            return
        if dev.d["front"] is None and dev.d["screen"] == "switcher" and y2 < y1 - 150:
            for el in tree(dev).walk():
                if (el.action or "").startswith("switch:") and el.x <= x1 < el.x + el.width and \
                        el.y <= y1 < el.y + el.height:
                    dev.springboard.force_quit(el.action.split(":", 1)[1])  # type: ignore[union-attr]
                    if not dev.d["procs"]:
                        dev.springboard.home_screen()
                    return

    @staticmethod
    def _perform(dev: Device, el: Element) -> None:
        action = el.action or ""
        verb, _, arg = action.partition(":")
        if verb == "launch":
            if dev.springboard.is_running(arg):
                dev.springboard.activate(arg)
            else:
                dev.springboard.launch(arg)
        elif verb == "switch":
            dev.springboard.activate(arg)
        elif verb == "open":
            dev.d["screen"] = arg
        elif verb == "toggle" and arg == "lpm":
            dev.power.set_low_power(not dev.d["lpm"])

    @staticmethod
    def _scroll(el: Element, data: dict[str, Any]) -> None:
        """FBElementCommands handleScroll: ``name``, ``direction``, ``predicateString`` or
        ``toVisible``, checked in that order. Every screen here fits the display, so a scroll moves
        nothing and every element is already visible; a child that is not there is still an error."""
        kids = el.walk()[1:]
        name = data.get("name")
        if name is not None:
            if not any(k.name == name for k in kids):
                raise WdaError("no such element", f"'{name}' identifier didn't match any elements")
            return None
        if data.get("direction") is not None:
            return None
        predicate = data.get("predicateString")
        if predicate is not None:
            try:
                match = compile_predicate(str(predicate), _attr)
            except PredicateError as exc:
                raise WdaError("invalid selector", f"Cannot parse '{predicate}': {exc}") from None
            if not any(match(k) for k in kids):
                raise WdaError("no such element", f"'{predicate}' predicate didn't match any elements")
            return None
        if data.get("toVisible") is not None:
            return None
        raise WdaError("invalid argument", "Unsupported scroll type")

    def _element(self, dev: Device, method: str, uid: str, what: str, data: dict[str, Any]) -> Any:
        el = next((e for e in tree(dev).walk() if e.uid == uid), None)
        if el is None:
            raise WdaError(
                "stale element reference",
                f'The previously found element "{uid}" is not present '
                "in the current view anymore. Make sure the application UI has the expected state.",
            )
        if method == "POST" and what in ("click", "tap"):
            self._perform(dev, el)
            return None
        if method == "POST" and what == "touchAndHold":
            return None  # XCUIElement pressForDuration: none of these screens has a context menu
        if method == "POST" and what == "scroll":
            return self._scroll(el, data)
        if method == "GET":
            if what == "rect":
                return _attr(el, "rect")
            if what.startswith("attribute/"):
                return _attr(el, what.split("/", 1)[1])
            if what == "text":
                return el.label or el.value or el.name or ""
            if what == "name":
                return el.type
            if what in ("enabled", "displayed", "accessible"):
                return el.enabled if what == "enabled" else True
            if what == "selected":
                return False
            if what == "accessibilityContainer":
                return False
        raise WdaError("unknown command", f"Unhandled endpoint: /element/{uid}/{what}")


__all__ = ["PREFERENCES", "WdaError", "WdaServer"]
