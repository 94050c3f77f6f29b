"""bgtest's private adb server serves its virtual devices only: it never scans USB or mDNS.

Scanning, it would claim a phone plugged into the user's own server (5037), and it accepts no
client before its first USB scan ends — never, where USB is out of reach, so each embedded run
waited out adb's 3 s fallback before ``adb connect`` (issue 17). Read from the running
server's own environment, as adb reads it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/environ")
def test_the_private_server_runs_without_usb_and_mdns_discovery() -> None:
    server = AdbServer.start_private()
    try:
        assert server.process is not None
        raw = Path(f"/proc/{server.process.pid}/environ").read_bytes()
        env = dict(item.split("=", 1) for item in raw.decode("utf-8", "replace").split("\0") if "=" in item)
        assert (env.get("ADB_USB"), env.get("ADB_MDNS"), env.get("ADB_EMU")) == ("0", "0", "0")
    finally:
        server.stop()


def test_someone_elses_server_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a server bgtest owns is told so: commands aimed at a user's server keep its discovery."""
    monkeypatch.delenv("ADB_USB", raising=False)
    monkeypatch.delenv("ADB_MDNS", raising=False)
    env = AdbServer(port=5037).env
    assert "ADB_USB" not in env and "ADB_MDNS" not in env
