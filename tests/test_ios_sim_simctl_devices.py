"""simctl's device and user-data verbs on the stand-in: create, clone, delete, rename, runtime,
getenv, logverbose, privacy, addmedia — output, exit codes, state (in-process, fast)."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from harness.sim.ios.simctl import Io, simctl
from harness.sim.ios.state import SimHome

ROOT = Path(__file__).resolve().parents[1]
NWM = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"
BID = "dev.brewkits.nwmDemo"
UDID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\n$")


def run(home: SimHome, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = simctl(list(argv), Io(out, err), home)
    return code, out.getvalue(), err.getvalue()


def ok(home: SimHome, *argv: str) -> str:
    code, out, err = run(home, *argv)
    assert code == 0, err
    return out


@pytest.fixture()
def home(tmp_path: Path) -> SimHome:
    h = SimHome(tmp_path / "home")
    ok(h, "bgtest", "reset", "--kind", "simulator")
    return h


def devices(home: SimHome) -> dict[str, dict[str, object]]:
    doc = json.loads(ok(home, "list", "-j", "devices"))
    return {d["udid"]: {**d, "runtime": rt} for rt, ds in doc["devices"].items() for d in ds}


def booted(home: SimHome) -> str:
    return next(u for u, d in devices(home).items() if d["state"] == "Booted")


def test_create_prints_the_new_udid_and_picks_the_newest_runtime_that_fits(home: SimHome) -> None:
    out = ok(home, "create", "CI phone", "com.apple.CoreSimulator.SimDeviceType.iPhone-15")
    assert UDID.match(out)
    made = devices(home)[out.strip()]
    assert (made["name"], made["state"], made["runtime"]) == (
        "CI phone", "Shutdown", "com.apple.CoreSimulator.SimRuntime.iOS-17-2")
    old = ok(home, "create", "Old phone", "iPhone 7").strip()  # a type by name; iOS 15 is its newest
    assert devices(home)[old]["runtime"] == "com.apple.CoreSimulator.SimRuntime.iOS-15-5"
    assert f"    Old phone ({old}) (Shutdown) " in ok(home, "list", "devices")


def test_create_errors(home: SimHome) -> None:
    assert run(home, "create", "x", "iPhone 99") == (161, "", "Invalid device type: iPhone 99\n")
    assert run(home, "create", "x", "iPhone 15", "iOS 99.0") == (161, "", "Invalid runtime: iOS 99.0\n")
    code, _, err = run(home, "create", "x", "iPhone 7", "com.apple.CoreSimulator.SimRuntime.iOS-17-2")
    assert code == 147 and err.startswith("Unable to create a device for device type: iPhone 7 (")
    assert "(domain=com.apple.CoreSimulator.SimError, code=403):" in err
    assert run(home, "create", "x")[0] == 64


def test_rename_clone_and_delete(home: SimHome) -> None:
    ipad = next(u for u, d in devices(home).items() if d["state"] == "Shutdown")
    ok(home, "rename", ipad, "Test iPad")
    assert devices(home)[ipad]["name"] == "Test iPad"
    phone = booted(home)
    ok(home, "install", phone, str(NWM))
    ok(home, "privacy", phone, "grant", "photos", BID)
    code, _, err = run(home, "clone", phone, "copy")
    assert code == 149 and err.endswith("Unable to clone device in current state: Booted\n")
    ok(home, "shutdown", phone)
    copy = ok(home, "clone", phone, "copy").strip()
    assert UDID.match(copy + "\n") and devices(home)[copy]["state"] == "Shutdown"
    ok(home, "boot", copy)
    assert BID in ok(home, "listapps", copy)  # the clone has the source's apps and settings
    assert json.loads(ok(home, "bgtest", "state", copy))["privacy"] == {BID: {"photos": "granted"}}
    data = Path(str(devices(home)[copy]["dataPath"]))
    ok(home, "delete", copy)  # a booted device is shut down first
    assert copy not in devices(home) and not data.exists()
    assert run(home, "delete", copy) == (148, "", f"Invalid device: {copy}\n")
    ok(home, "delete", "unavailable")  # every virtual device is available
    ok(home, "delete", "all")
    assert devices(home) == {}
    assert ok(home, "create", "again", "iPhone 15").strip() not in (phone, copy, ipad)  # UDIDs stay unique


def test_runtime_list_text_and_json(home: SimHome) -> None:
    lines = ok(home, "runtime", "list").splitlines()
    assert lines[:2] == ["== Disk Images ==", "-- iOS --"]
    assert re.fullmatch(r"iOS 17\.2 \(21C62\) - [0-9A-F-]{36} \(Ready\)", lines[3])
    assert lines[-2:] == ["", "Total Disk Images: 2 (13.2G)"]
    images = json.loads(ok(home, "runtime", "list", "-j"))
    image = next(i for i in images.values() if i["version"] == "17.2")
    assert image["runtimeIdentifier"] == "com.apple.CoreSimulator.SimRuntime.iOS-17-2"
    keys = {"build", "deletable", "kind", "mountPath", "path", "signatureState", "sizeBytes", "state"}
    assert keys <= set(image)
    assert run(home, "runtime", "add")[0] == 64


def test_getenv(home: SimHome) -> None:
    phone = booted(home)
    assert ok(home, "getenv", phone, "SIMULATOR_UDID") == f"{phone}\n"
    assert ok(home, "getenv", "booted", "HOME") == f"{devices(home)[phone]['dataPath']}\n"
    assert ok(home, "getenv", "booted", "SIMULATOR_RUNTIME_VERSION") == "17.2\n"
    code, out, err = run(home, "getenv", "booted", "NO_SUCH_VARIABLE")
    assert (code, out) == (2, "") and "NO_SUCH_VARIABLE" in err
    ok(home, "shutdown", phone)
    assert run(home, "getenv", phone, "HOME")[0] == 149


def test_logverbose(home: SimHome) -> None:
    assert ok(home, "logverbose", "booted", "enable") == ""
    assert json.loads(ok(home, "bgtest", "state", "booted"))["log_verbose"] is True
    ok(home, "logverbose", "disable")  # the device is optional: the booted one
    assert json.loads(ok(home, "bgtest", "state", "booted"))["log_verbose"] is False
    assert run(home, "logverbose", "booted", "maybe")[0] == 64


def test_privacy_grant_revoke_reset(home: SimHome) -> None:
    ok(home, "install", "booted", str(NWM))
    assert ok(home, "privacy", "booted", "grant", "location", BID) == ""
    ok(home, "privacy", "booted", "grant", "photos", BID)
    ok(home, "launch", "booted", BID)
    ok(home, "privacy", "booted", "grant", "camera", BID)  # a grant leaves the app running
    assert json.loads(ok(home, "bgtest", "state", "booted"))["apps"][BID] == 4
    ok(home, "privacy", "booted", "revoke", "location", BID)  # a revoke ends it
    state = json.loads(ok(home, "bgtest", "state", "booted"))
    assert state["apps"][BID] == 1
    assert state["privacy"][BID] == {"location": "denied", "photos": "granted", "camera": "granted"}
    ok(home, "privacy", "booted", "reset", "photos", BID)
    assert "photos" not in json.loads(ok(home, "bgtest", "state", "booted"))["privacy"][BID]
    ok(home, "privacy", "booted", "reset", "all")  # every app, every service
    assert json.loads(ok(home, "bgtest", "state", "booted"))["privacy"] == {}
    code, _, err = run(home, "privacy", "booted", "grant", "telepathy", BID)
    assert code == 64 and err.startswith("Unknown service: telepathy\nUsage: simctl privacy")
    assert run(home, "privacy", "booted", "grant", "photos")[0] == 64  # grant needs the bundle id
    assert run(home, "privacy", "booted", "allow", "photos", BID)[0] == 64


def test_addmedia(home: SimHome, tmp_path: Path) -> None:
    photo, clip, card, other = (tmp_path / n for n in ("a.JPG", "b.mov", "c.vcf", "d.txt"))
    for f in (photo, clip, card, other):
        f.write_bytes(b"x")
    assert ok(home, "addmedia", "booted", str(photo), str(clip), str(card)) == ""
    media = json.loads(ok(home, "bgtest", "state", "booted"))["media"]
    assert [(m["name"], m["kind"]) for m in media] == [("a.JPG", "photo"), ("b.mov", "video"),
                                                       ("c.vcf", "contact")]
    code, _, err = run(home, "addmedia", "booted", str(tmp_path / "gone.png"))
    assert code == 2 and "No such file or directory" in err
    assert run(home, "addmedia", "booted", str(other))[0] == 149
    assert run(home, "addmedia", "booted")[0] == 64


def test_help_lists_the_verbs(home: SimHome) -> None:
    text = ok(home, "help")
    for verb in ("addmedia", "clone", "create", "delete", "getenv", "keychain", "location", "logverbose",
                 "pbcopy", "pbpaste", "privacy", "rename", "runtime"):
        assert f"\t{verb} " in text


def test_pasteboard_location_and_keychain(home: SimHome, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO("copied from the Mac\n")
    try:
        assert simctl(["pbcopy", "booted"], Io(out, err), home) == 0
    finally:
        sys.stdin = old
    assert ok(home, "pbpaste", "booted") == "copied from the Mac\n"  # as it is, no newline added
    assert run(home, "pbpaste")[0] == 64
    ok(home, "location", "booted", "set", "52.52,13.405")
    assert json.loads(ok(home, "bgtest", "state", "booted"))["location"] == [52.52, 13.405]
    ok(home, "location", "booted", "clear")
    assert json.loads(ok(home, "bgtest", "state", "booted"))["location"] is None
    for bad in ("91,0", "north", ""):
        assert run(home, "location", "booted", "set", bad)[0] == 64
    cert = tmp_path / "proxy-ca.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    ok(home, "keychain", "booted", "add-root-cert", str(cert))
    assert json.loads(ok(home, "bgtest", "state", "booted"))["keychain"] == [
        {"name": "proxy-ca.pem", "trust": "root"}]
    assert run(home, "keychain", "booted", "add-cert", str(tmp_path / "none.pem"))[0] == 2
    ok(home, "keychain", "booted", "reset")
    assert json.loads(ok(home, "bgtest", "state", "booted"))["keychain"] == []
