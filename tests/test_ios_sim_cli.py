"""simctl stand-in in-process: lifecycle errors, listapps, containers, push, stdout capture, bad argv."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.sim.ios.simctl import Io, simctl
from harness.sim.ios.state import SimHome

ROOT = Path(__file__).resolve().parents[1]
NWM = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"
BID = "dev.brewkits.nwmDemo"


def run(home: SimHome, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = simctl(list(argv), Io(out, err), home)
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def home(tmp_path: Path) -> SimHome:
    h = SimHome(tmp_path / "home")
    assert run(h, "bgtest", "reset", "--kind", "simulator")[0] == 0
    return h


def _udids(home: SimHome) -> tuple[str, str]:
    devs = json.loads(run(home, "list", "-j", "devices")[1])["devices"][
        "com.apple.CoreSimulator.SimRuntime.iOS-17-2"
    ]
    return next(d["udid"] for d in devs if d["state"] == "Booted"), next(
        d["udid"] for d in devs if d["state"] == "Shutdown"
    )


def test_boot_shutdown_erase_state_errors(home: SimHome) -> None:
    booted, off = _udids(home)
    code, _, err = run(home, "boot", booted)
    assert (code, err) == (
        149,
        "An error was encountered processing the command (domain=com.apple.CoreSimulator."
        "SimError, code=405):\nUnable to boot device in current state: Booted\n",
    )
    code, _, err = run(home, "shutdown", off)
    assert code == 149 and err.endswith("Unable to shutdown device in current state: Shutdown\n")
    code, _, err = run(home, "erase", booted)
    assert code == 149 and err.endswith("Unable to erase contents and settings in current state: Booted\n")
    code, _, err = run(home, "install", off, str(NWM))
    assert code == 149 and err.endswith("in current state: Shutdown\n")
    code, _, err = run(home, "openurl", booted, "zzzz://nothing")
    assert (code, err.splitlines()[-1]) == (115, "Simulator device failed to open zzzz://nothing.")
    code, _, err = run(home, "install", booted, "/tmp/definitely-not-here.app")
    assert code == 2
    assert err.endswith("lstat of /tmp/definitely-not-here.app failed: No such file or directory\n")
    code, _, err = run(home, "boot", "NOT-A-DEVICE")
    assert (code, err) == (148, "Invalid device or device pair: NOT-A-DEVICE\n")
    assert run(home, "shutdown", "all")[0] == 0
    assert run(home, "launch", "booted", BID)[2] == "No devices are booted.\n"
    code, out, _ = run(home, "bootstatus", booted, "-b")
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"Monitoring boot status for iPhone 15 ({booted})."
    assert lines[-1] == "\tFinished" and "Status=4294967295, isTerminal=YES" in lines[-2]
    code, out, _ = run(home, "bootstatus", booted, "-b")
    assert out.splitlines()[1] == "Device already booted, nothing to do."


def test_listapps_container_and_uninstall(home: SimHome) -> None:
    assert run(home, "install", "booted", str(NWM))[0] == 0
    code, out, _ = run(home, "listapps", "booted")
    assert code == 0
    assert f'    "{BID}" =     {{\n        ApplicationType = User;' in out
    assert f'CFBundleIdentifier = "{BID}";' in out and "CFBundleExecutable = Runner;" in out
    code, out, _ = run(home, "get_app_container", "booted", BID, "data")
    assert code == 0 and Path(out.strip()).is_dir()
    code, out, _ = run(home, "get_app_container", "booted", BID)
    assert out.strip().endswith("/Runner.app")
    assert run(home, "uninstall", "booted", BID)[0] == 0
    code, _, err = run(home, "get_app_container", "booted", BID)
    assert code == 2 and "NSPOSIXErrorDomain, code=2" in err


def test_bad_app_model_is_an_install_failure(home: SimHome, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("package: dev.x.y\nios: {bundle_id: 'not a bundle id'}\n")
    code, _, err = run(home, "install", "booted", str(bad))
    assert code == 1
    assert "(domain=IXUserPresentableErrorDomain, code=1):\nThis app could not be installed" in err
    assert f"Failed to load Info.plist from bundle at path {bad}" in err and "bundle_id" in err
    android_only = ROOT / "fixtures" / "apps" / "wm_plain.yaml"
    code, _, err = run(home, "install", "booted", str(android_only))
    assert code == 1 and "no 'ios:' section" in err


def test_launch_arguments_env_and_stdout_file(
    home: SimHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(home, "install", "booted", str(NWM))
    monkeypatch.setenv("SIMCTL_CHILD_API_URL", "http://x")
    target = tmp_path / "app-stdout.txt"
    code, out, _ = run(home, "launch", f"--stdout={target}", "booted", BID, "-flag", "1")
    assert code == 0
    pid = int(out.split(": ")[1])
    state = json.loads(home.state_file.read_text())
    proc = next(d for d in state["devices"].values() if d["state"] == "Booted")["procs"][BID]
    assert proc["pid"] == pid and proc["args"] == ["-flag", "1"] and proc["env"] == {"API_URL": "http://x"}
    run(home, "openurl", "booted", "nwmdemo://enqueue/upload")
    run(home, "bgtest", "clock", "advance", "10s")
    text = target.read_text()
    assert "[NativeWorkManager] BGTaskSchedulerManager: Handlers registered" in text
    assert "[NativeWorkManager] Task 'upload' completed successfully" in text


def test_push_payload_rules_and_native_wm_command(home: SimHome, tmp_path: Path) -> None:
    run(home, "install", "booted", str(NWM))
    run(home, "launch", "booted", BID)
    code, out, _ = run(
        home,
        "push",
        "booted",
        BID,
        "-",
        stdin=json.dumps(
            {
                "aps": {"content-available": 1},
                "native_wm": {"action": "enqueue_task", "data": {"taskId": "upload"}},
            }
        ),
    )
    assert (code, out) == (0, f"Notification sent to '{BID}'\n")
    assert run(home, "push", "booted", "com.not.installed", "-", stdin='{"aps": {}}')[0] == 0
    code, _, err = run(home, "push", "booted", BID, "-", stdin='{"no": "aps"}')
    assert code == 1 and "aps" in err
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"aps": {}, "Simulator Target Bundle": BID}))
    assert run(home, "push", "booted", str(payload))[1] == f"Notification sent to '{BID}'\n"
    run(home, "bgtest", "clock", "advance", "10s")
    recs, _ = home.read_log(0)
    assert any("HttpRequestWorker: Success - Status 201" in r["msg"] for r in recs)


def test_status_bar_override_list_clear(home: SimHome) -> None:
    assert (
        run(
            home,
            "status_bar",
            "booted",
            "override",
            "--time",
            "9:41",
            "--batteryState",
            "charging",
            "--batteryLevel",
            "42",
        )[0]
        == 0
    )
    out = run(home, "status_bar", "booted", "list")[1].splitlines()
    assert out[:3] == ["Current Status Bar Overrides:", "=============================", "Time: 9:41"]
    assert out[3].startswith("Battery State: 1, Battery Level: 42")
    assert run(home, "status_bar", "booted", "override", "--batteryLevel", "101")[0] == 22
    run(home, "status_bar", "booted", "clear")
    assert len(run(home, "status_bar", "booted", "list")[1].splitlines()) == 2


def test_console_pty_streams_stdout_until_terminate(tmp_path: Path) -> None:
    env = {**os.environ, "BGTEST_SIM_HOME": str(tmp_path / "home")}
    xcrun = [sys.executable, "-m", "harness.sim.ios.xcrun", "simctl"]
    subprocess.run([*xcrun, "install", "booted", str(NWM)], env=env, check=True)
    proc = subprocess.Popen(
        [*xcrun, "launch", "--console-pty", "booted", BID], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith(f"{BID}: ")
    assert proc.stdout.readline().startswith("[NativeWorkManager] KMPBridge: Initialized")
    subprocess.run([*xcrun, "terminate", "booted", BID], env=env, check=True)
    assert proc.wait(timeout=60) == 0  # the console ends with the app
    assert "Handlers registered" in proc.stdout.read()


_WORDS = st.sampled_from(
    [
        "booted",
        "list",
        "-j",
        "devices",
        "install",
        "launch",
        "terminate",
        "openurl",
        "push",
        "io",
        "screenshot",
        "status_bar",
        "override",
        "ui",
        "appearance",
        "listapps",
        "get_app_container",
        "uninstall",
        "erase",
        "boot",
        "shutdown",
        "bgtest",
        "clock",
        "advance",
        "battery",
        "--level",
        "state",
        "forcequit",
        BID,
        "x://y",
        "-",
        "--time",
        "",
    ]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=6))
def test_any_argv_answers_with_an_exit_code(home: SimHome, argv: list[str]) -> None:
    if "reset" in argv:
        return
    code, _, _ = run(home, *argv)
    assert isinstance(code, int)
