"""SpringBoard: which apps run, which is in front, launches, URLs, pushes, the app switcher."""

from __future__ import annotations

from pathlib import Path

from .facts import PREFERENCES, REFRESH_BUDGET_MS, SUSPEND_AFTER_MS, SYSTEM_APPS, seeded_uuid, sim_error
from .phone import Phone

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from typing import Any


class SpringBoard:
    """App lifecycle of one phone: install, launch, suspend, terminate, force-quit."""

    def __init__(self, dev: Phone) -> None:
        self.dev = dev

    def install(self, source: str) -> str:
        self.dev.require_booted("install")
        src = Path(source)
        if not src.exists():
            raise sim_error(
                "NSPOSIXErrorDomain",
                2,
                "Simulator device failed to install the application.\n"
                f"Underlying error (domain=NSPOSIXErrorDomain, code=2):\n\tlstat of {source} failed: "
                "No such file or directory",
                2,
            )
        import shutil

        from .installed import keep, to_install

        try:
            app, model = to_install(src, self.dev.w.home.installed_sources())
        except Exception as exc:
            raise sim_error(
                "IXUserPresentableErrorDomain",
                1,
                # what a bundle without a readable Info.plist gets; the model's own problem follows
                "This app could not be installed at this time.\n"
                f"Failed to load Info.plist from bundle at path {source}\n"
                f"Underlying error (domain=MIInstallerErrorDomain, code=35):\n\t{exc}",
                1,
            ) from None
        bid = app.bundle_id
        target = self.dev.w.home.apps_dir(self.dev.udid)
        target.mkdir(parents=True, exist_ok=True)
        copy = target / f"{bid}.yaml"
        shutil.copyfile(src, copy)
        self.dev.w.forget_model(str(copy))
        keep(str(copy), (app, model))
        if bid in self.dev.d["procs"]:
            self.kill(bid)  # installing over a running app terminates it
        old = self.dev.d["apps"].get(bid)
        self.dev.d["apps"][bid] = {
            "path": str(copy),
            "exe": app.ios.executable,
            "name": app.display_name,
            "version": app.ios.version or app.model.version_name,
            "bundle_uuid": seeded_uuid(f"{self.dev.udid}:{bid}:bundle:{self.dev.w.now()}"),
            "data_uuid": old["data_uuid"] if old else seeded_uuid(f"{self.dev.udid}:{bid}:data"),
        }
        # real directories on a simulator: get_app_container's answer can be read and written
        if self.dev.kind == "simulator":
            Path(self.dev.app_data_dir(bid), "Documents").mkdir(parents=True, exist_ok=True)
            Path(self.dev.app_bundle_dir(bid)).mkdir(parents=True, exist_ok=True)
        return bid

    def remove_app(self, bid: str) -> None:
        if bid in self.dev.d["procs"]:
            self.kill(bid)
        self.dev.d["apps"].pop(bid, None)
        self.dev.d["requests"] = [r for r in self.dev.d["requests"] if r["bid"] != bid]
        self.dev.d["nwm_pending"].pop(bid, None)
        if bid in self.dev.d["force_quit"]:
            self.dev.d["force_quit"].remove(bid)

    def uninstall(self, bid: str) -> None:
        self.dev.require_booted("uninstall")
        if bid not in self.dev.d["apps"]:
            raise sim_error(
                "IXErrorDomain",
                5,
                f"Failed to uninstall {bid}.\nUnderlying error (domain=IXErrorDomain, code=5):\n"
                f"\tNo app with bundle ID {bid} is installed",
                1,
            )
        self.remove_app(bid)

    def known_app(self, bid: str) -> bool:
        return bid in self.dev.d["apps"] or bid in SYSTEM_APPS

    def is_running(self, bid: str) -> bool:
        return bid in self.dev.d["procs"]

    def app_state(self, bid: str) -> int:
        """XCUIApplicationState: 0 unknown, 1 not running, 2 suspended, 3 background, 4 foreground."""
        if not self.known_app(bid):
            return 0
        proc = self.dev.d["procs"].get(bid)
        if proc is None:
            return 1
        return {"suspended": 2, "background": 3, "foreground": 4}[proc["state"]]

    def launch(
        self,
        bid: str,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        terminate_running: bool = False,
        stdout_path: str | None = None,
        user: bool = True,
    ) -> int:
        """What ``simctl launch`` / a tap on the icon does; returns the pid."""
        self.dev.require_booted("lookup")
        if not self.known_app(bid):
            raise sim_error(
                "FBSOpenApplicationServiceErrorDomain",
                4,
                f"Simulator device failed to launch {bid}.\n"
                "Underlying error (domain=FBSOpenApplicationServiceErrorDomain, code=4):\n"
                f'\tThe request to open "{bid}" failed.',
                4,
            )
        if terminate_running and bid in self.dev.d["procs"]:
            self.kill(bid)
        if user and bid in self.dev.d["force_quit"]:
            self.dev.d["force_quit"].remove(bid)  # the next user launch lifts a force-quit
        proc = self.dev.d["procs"].get(bid)
        fresh = proc is None
        if fresh:
            proc = self.spawn(bid, args or [], env or {}, "foreground")
        if stdout_path:
            proc.setdefault("stdout_paths", []).append(stdout_path)
        self.to_front(bid)
        if fresh and bid in self.dev.d["apps"]:
            from .apps import runtime

            runtime(self.dev, bid).on_launch(proc["args"], user=True)
        return int(proc["pid"])

    def spawn(self, bid: str, args: list[str], env: dict[str, str], state: str) -> dict[str, Any]:
        pid = self.dev.w.new_pid()
        proc = {
            "pid": pid,
            "state": state,
            "since": self.dev.w.now(),
            "args": list(args),
            "env": dict(env),
            "stdout_paths": [],
            "suspend_at": None,
        }
        self.dev.d["procs"][bid] = proc
        return proc

    def to_front(self, bid: str | None) -> None:
        old = self.dev.d["front"]
        if old and old != bid and old in self.dev.d["procs"]:
            self.to_background(old)
        self.dev.d["front"] = bid
        if bid is None:
            self.dev.d["screen"] = "home"
            return
        proc = self.dev.d["procs"][bid]
        self.dev.d["recent"] = int(self.dev.d.get("recent", 0)) + 1
        proc["recent"] = self.dev.d["recent"]
        was_suspended = proc["state"] == "suspended"
        proc["state"] = "foreground"
        proc["suspend_at"] = None
        if was_suspended:
            self.resume_inproc(bid)
        if bid == PREFERENCES and self.dev.d["screen"] not in ("settings", "battery"):
            self.dev.d["screen"] = "settings"
        elif bid != PREFERENCES:
            self.dev.d["screen"] = "app"

    def to_background(self, bid: str) -> None:
        proc = self.dev.d["procs"][bid]
        proc["state"] = "background"
        proc["suspend_at"] = self.dev.w.now() + SUSPEND_AFTER_MS

    def home_screen(self) -> None:
        self.dev.require_booted("lookup")
        self.to_front(None)

    def open_switcher(self) -> None:
        """The app switcher (swipe up from the bottom edge and hold): the front app leaves the screen."""
        self.dev.require_booted("lookup")
        self.to_front(None)
        self.dev.d["screen"] = "switcher"

    def switcher_apps(self) -> list[str]:
        """Running apps as the switcher shows them, most recent first."""
        procs = self.dev.d["procs"]
        return sorted(procs, key=lambda b: -int(procs[b].get("recent", 0)))

    def activate(self, bid: str) -> int:
        if bid in self.dev.d["procs"]:
            self.to_front(bid)
            return int(self.dev.d["procs"][bid]["pid"])
        return self.launch(bid)

    def terminate(self, bid: str) -> None:
        """``simctl terminate``: exit 3 "found nothing to terminate" when not running."""
        self.dev.require_booted("lookup")
        if bid not in self.dev.d["procs"]:
            raise sim_error(
                "NSPOSIXErrorDomain",
                3,
                f"Simulator device failed to terminate {bid}.\nfound nothing to terminate",
                3,
            )
        self.kill(bid)

    def force_quit(self, bid: str) -> bool:
        """The user swipes the app away in the app switcher: no background launches until the next launch."""
        self.dev.require_booted("lookup")
        if not self.known_app(bid):
            return False
        if bid in self.dev.d["procs"]:
            self.kill(bid)
        if bid not in self.dev.d["force_quit"]:
            self.dev.d["force_quit"].append(bid)
        return True

    def kill(self, bid: str) -> None:
        proc = self.dev.d["procs"].pop(bid, None)
        if proc is None:
            return
        if proc.get("stdout_paths"):
            dead = self.dev.w.state.setdefault("dead_stdout", {})
            dead[str(proc["pid"])] = proc["stdout_paths"]
            for old in list(dead)[:-32]:  # lines printed while dying still reach the file; keep a few
                del dead[old]
        self.dev.d["running"] = [t for t in self.dev.d["running"] if t["bid"] != bid]
        self.dev.d["inproc"] = [t for t in self.dev.d["inproc"] if t["bid"] != bid]
        if self.dev.d["front"] == bid:
            self.dev.d["front"] = None
            self.dev.d["screen"] = "home"

    def open_url(self, url: str) -> None:
        self.dev.require_booted("lookup")
        scheme = url.partition(":")[0].lower()
        if scheme in ("http", "https"):
            self.activate("com.apple.mobilesafari")
            return
        if scheme in ("prefs", "app-settings"):
            self.launch(PREFERENCES) if PREFERENCES not in self.dev.d["procs"] else self.to_front(PREFERENCES)
            return
        for bid in self.dev.d["apps"]:
            if self.dev.installed_app(bid).handles_url(url):
                self.activate(bid)
                from .apps import runtime

                runtime(self.dev, bid).on_url(url)
                return
        raise sim_error(
            "LSApplicationWorkspaceErrorDomain", 115, f"Simulator device failed to open {url}.", 115
        )

    def push(self, bid: str, payload: dict[str, Any]) -> None:
        """A remote notification reaches a running (or background-launchable) app."""
        if bid not in self.dev.d["apps"]:
            return  # simctl answers "Notification sent" regardless
        from .apps import runtime

        if bid not in self.dev.d["procs"]:
            if (
                bid in self.dev.d["force_quit"]
                or "remote-notification" not in self.dev.installed_app(bid).ios.background_modes
            ):
                return
            proc = self.spawn(bid, [], {}, "background")
            proc["suspend_at"] = self.dev.w.now() + REFRESH_BUDGET_MS
            runtime(self.dev, bid).on_launch([], user=False)
        runtime(self.dev, bid).on_push(payload)

    def resume_inproc(self, bid: str) -> None:
        now = self.dev.w.now()
        for item in self.dev.d["inproc"]:
            if item["bid"] == bid and item.get("frozen") is not None:
                if item["phase"] == "running":
                    item["end"] = now + item["frozen"]
                else:
                    item["due"] = max(now, now + item["frozen"])
                item["frozen"] = None

    def suspend(self, bid: str) -> None:
        proc = self.dev.d["procs"][bid]
        proc["state"] = "suspended"
        proc["suspend_at"] = None
        now = self.dev.w.now()
        for item in self.dev.d["inproc"]:
            if item["bid"] == bid and item.get("frozen") is None:
                ref = item["end"] if item["phase"] == "running" else item["due"]
                item["frozen"] = max(0, ref - now)
