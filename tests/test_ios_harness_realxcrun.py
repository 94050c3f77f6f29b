"""The iOS driver against quirks of the *real* xcrun that the virtual iPhone does not produce.

A tiny scripted ``xcrun`` (written to tmp_path, answering with the texts and exit codes of
research ios.md §1.5) stands in for a Mac: no ``simctl bgtest`` (so no virtual time), the
spurious CoreSimulator 405 "current state: Booted" from ``bootstatus -b``, and the calls the
driver makes, recorded in order.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from harness.devices.ios import IosDevice, Xcrun
from harness.errors import DeviceCommandError

UDID = "573D4A53-D1EC-48CA-A554-8DF7A94EFFBD"

SCRIPT = r'''
import json, sys, os
log = os.environ["FAKE_XCRUN_LOG"]
args = sys.argv[1:]
child = sorted(f"ENV {k}={v}" for k, v in os.environ.items() if k.startswith("SIMCTL_CHILD_"))
with open(log, "a") as fh:
    fh.write(json.dumps(args + child) + "\n")
mode = os.environ.get("FAKE_XCRUN_MODE", "")
ERR = "An error was encountered processing the command (domain={d}, code={c}):\n{m}\n"
if args[:1] != ["simctl"]:
    sys.stderr.write("xcrun: error: unable to find utility \"%s\", not a developer tool or in PATH\n"
                     % args[0])
    sys.exit(72)
sub = args[1] if len(args) > 1 else ""
if sub == "list":
    print(json.dumps({"devices": {"com.apple.CoreSimulator.SimRuntime.iOS-17-2": [
        {"udid": "UDID", "name": "iPhone 15", "state": "Booted", "isAvailable": True,
         "deviceTypeIdentifier": "com.apple.CoreSimulator.SimDeviceType.iPhone-15"}]}}, indent=2))
elif sub in ("shutdown", "boot"):
    pass
elif sub == "bootstatus":
    if mode == "spurious405":
        sys.stderr.write(ERR.format(d="com.apple.CoreSimulator.SimError", c=405,
                                    m="Unable to boot device in current state: Booted"))
        sys.exit(149)
    print("Monitoring boot status for iPhone 15 (UDID).")
    print("Device already booted, nothing to do.")
elif sub == "terminate":
    msg = "Simulator device failed to terminate %s.\nfound nothing to terminate" % args[3]
    sys.stderr.write(ERR.format(d="NSPOSIXErrorDomain", c=3, m=msg))
    sys.exit(3)
elif sub == "launch":
    print("%s: 34881" % args[-1] if not args[-1].startswith("-") else "x: 1")
elif sub == "spawn" and args[3:4] == ["notifyutil"]:
    if "-g" in args:
        print("com.apple.system.lowpowermode 0")
elif sub == "spawn" and args[3:4] == ["logger"]:
    pass
elif sub == "status_bar":
    print("Current Status Bar Overrides:\n=============================")
else:
    sys.stderr.write("Unrecognized subcommand: %s\n" % sub)
    sys.exit(1)
'''.replace("UDID", UDID)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[IosDevice, Path]:
    script = tmp_path / "xcrun"
    script.write_text(f"#!{sys.executable}\n{SCRIPT}")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_XCRUN_LOG", str(log))
    return IosDevice(UDID, Xcrun(str(script))), log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_real_xcrun_has_no_virtual_time(fake: tuple[IosDevice, Path]) -> None:
    device, log = fake
    assert device.is_virtual is False
    assert device.kind == "simulator"
    assert calls(log) == [["simctl", "bgtest", "state", UDID]]  # asked once, refused: nothing vendor after


def test_a_real_xcrun_marks_with_logger_and_reads_the_status_bar_itself(fake: tuple[IosDevice, Path]) -> None:
    """The virtual iPhone's one-call answers (``bgtest state --mark``, the status bar in its state
    document) never reach a real Mac: a marker is ``spawn … logger``, the overrides ``status_bar
    list``, and a barrier never stands in for another, the clock being the Mac's."""
    device, log = fake
    device.log_marker("bgtest-step-1")
    assert device.standing_mark() is None and device.mark_in_force() is None
    device.snapshot()
    made = [c[1:] for c in calls(log)]
    assert ["spawn", UDID, "logger", "-t", "bgtest", "bgtest-step-1"] in made
    assert ["status_bar", UDID, "list"] in made
    assert not [c for c in made if c[0] == "bgtest" and c[1] != "state"]  # only the one probe


def test_reboot_tolerates_the_spurious_405(
    fake: tuple[IosDevice, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    device, log = fake
    monkeypatch.setenv("FAKE_XCRUN_MODE", "spurious405")
    with device.rebooting(None, timeout=30):
        device.reboot()
    made = [c[:2] for c in calls(log)]
    assert made == [["simctl", "shutdown"], ["simctl", "boot"], ["simctl", "bootstatus"], ["simctl", "list"]]
    assert ["simctl", "bootstatus", UDID, "-b"] in calls(log)


def test_stop_app_exit_3_is_fine_and_no_forcequit_on_a_real_simulator(
    fake: tuple[IosDevice, Path]
) -> None:
    device, log = fake
    device.stop_app("com.example.app")
    assert not any(c[1:3] == ["bgtest", "forcequit"] for c in calls(log))


def test_launch_flags_and_child_environment(fake: tuple[IosDevice, Path]) -> None:
    device, log = fake
    assert device.launch("com.example.app", ["-a", "1"], {"API": "x"}, console=False) == 34881
    launch = ["simctl", "launch", "--terminate-running-process", UDID, "com.example.app", "-a", "1"]
    assert calls(log) == [[*launch, "ENV SIMCTL_CHILD_API=x"]]


def test_low_power_on_a_simulator_is_notifyutil_set_then_post(fake: tuple[IosDevice, Path]) -> None:
    device, log = fake
    device.power_saver(True)
    spawned = [c[3:] for c in calls(log) if c[1] == "spawn"]
    assert spawned == [
        ["notifyutil", "-s", "com.apple.system.lowpowermode", "1"],
        ["notifyutil", "-p", "com.apple.system.lowpowermode"],
    ]
    assert device.low_power_state() is False


def test_lldb_errors_name_the_device(fake: tuple[IosDevice, Path]) -> None:
    device, _ = fake
    phone = IosDevice(device.udid, device.xcrun, kind="device")
    phone._pids["com.example.app"] = 34881
    with pytest.raises(DeviceCommandError) as info:
        phone.simulate_launch("com.example.app", "com.example.refresh")
    assert info.value.render().startswith(f"<{UDID}>")
    assert "unable to find utility" in info.value.render()
