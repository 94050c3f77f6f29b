"""Arbitrary am / pm argument lists answer like Android (an exit status, text), never a traceback."""

from __future__ import annotations

import shlex
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
DEVICE = VirtualAndroidDevice(app_models=[APPS / "nwm_demo.yaml"])

TOKENS = st.sampled_from(
    [
        "-n",
        "-a",
        "-d",
        "-p",
        "-c",
        "-f",
        "-W",
        "-S",
        "-e",
        "--es",
        "--ei",
        "--el",
        "--ez",
        "--ef",
        "--eu",
        "--esn",
        "--user",
        "--include-stopped-packages",
        "--bogus",
        "-3",
        "-s",
        "-f",
        "-U",
        "--show-versioncode",
        "--uid",
        "-r",
        "-t",
        "-S",
        "dev.brewkits.nwm_demo",
        "dev.brewkits.nwm_demo/.MainActivity",
        "a/b",
        "/",
        "x",
        "nwmdemo://enqueue/load?count=3",
        "nwmdemo://enqueue/nope",
        "nwmdemo://enqueue/load?count=-1",
        "1",
        "-1",
        "0x10",
        "true",
        "abc",
        "",
        "packages",
        "android.intent.action.VIEW",
        "rare",
        "99",
        "/data/local/tmp/x",
    ]
)
AM_VERBS = st.sampled_from(
    [
        "start",
        "force-stop",
        "kill",
        "broadcast",
        "set-standby-bucket",
        "get-standby-bucket",
        "set-inactive",
        "get-inactive",
        "kill-all",
        "nope",
    ]
)
PM_VERBS = st.sampled_from(
    ["list", "path", "install", "uninstall", "clear", "set-stopped-state", "dump", "resolve-activity", "nope"]
)


def check(argv: list[str]) -> None:
    rc, out, err = run_sync(DEVICE, shlex.join(argv))
    text = (out + err).decode()
    assert "Traceback" not in text, text
    assert rc in (0, 1, 255), (argv, rc, text)
    assert not err.decode().startswith(f"{argv[0]}: "), text  # the shell's last-resort exception handler


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(AM_VERBS, st.lists(TOKENS, max_size=6))
def test_am_never_raises(verb: str, rest: list[str]) -> None:
    check(["am", verb, *rest])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PM_VERBS, st.lists(TOKENS, max_size=6))
def test_pm_never_raises(verb: str, rest: list[str]) -> None:
    if verb == "uninstall" or verb == "clear":
        rest = [t for t in rest if t != "dev.brewkits.nwm_demo"]  # keep the app for the next example
    check(["pm", verb, *rest])
