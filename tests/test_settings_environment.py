"""bgtest's configuration from the environment has one home, ``run/settings.py`` (issue 10):
every variable is read by ``Settings.build`` and handed down as a value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer, adb_binary, free_port
from harness.devices.lease import lease_dir
from harness.devices.pool import android_candidates, parse_server_address, parse_server_addresses
from harness.run.session import DeviceSession
from harness.run.settings import SettingError, Settings

ROOT = Path(__file__).resolve().parent.parent

#: Modules that may still touch the process environment, and why (none reads a bgtest setting).
ALLOWED = {
    "run/settings.py": "the one home",
    "plugin.py": "an edge: Settings.build(os.environ, …)",
    "run_cli.py": "an edge: Settings.build(os.environ, …)",
    "checklist/cli.py": "an edge: Settings.build(os.environ, …)",
    "devices/adb_server.py": "the environment the adb child process inherits",
    "devices/ios.py": "the environment the xcrun child process inherits",
    "scenario/loader.py": "${env:NAME} in a scenario is the user's value, not bgtest's setting",
    "report/redaction.py": "environment values named like secrets are masked",
    "report/console.py": "NO_COLOR, the convention of every terminal tool",
}


def test_only_the_allowed_modules_touch_the_environment() -> None:
    """harness/sim is left out: the virtual devices are programs of their own (the xcrun
    stand-in reads its environment as xcrun does)."""
    readers = set()
    for path in (ROOT / "harness").rglob("*.py"):
        rel = path.relative_to(ROOT / "harness").as_posix()
        if rel.startswith("sim/"):
            continue
        if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8")):
            readers.add(rel)
    assert readers <= set(ALLOWED), f"reads os.environ outside Settings: {sorted(readers - set(ALLOWED))}"


def test_build_reads_every_variable(tmp_path: Path) -> None:
    env = {
        "ANDROID_ADB_SERVER_HOST": "10.0.0.7",
        "ANDROID_ADB_SERVER_PORT": "5099",
        "BGTEST_ADB": "/opt/adb/adb",
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "BGTEST_PROXY_CONFDIR": str(tmp_path / "ca"),
        "BGTEST_STATE_DIR": str(tmp_path / "state"),
    }
    s = Settings.build(env)
    assert s.default_adb_server == "10.0.0.7:5099"
    assert s.adb == "/opt/adb/adb"
    assert s.runtime_dir == tmp_path / "run"
    assert s.proxy_confdir == tmp_path / "ca"
    assert s.state_dir == tmp_path / "state"
    # a port alone keeps adb's default host; the XDG folders stand in for bgtest's own
    s = Settings.build({"ANDROID_ADB_SERVER_PORT": "6001", "XDG_CACHE_HOME": str(tmp_path / "cache"),
                        "XDG_STATE_HOME": str(tmp_path / "xs")})
    assert s.default_adb_server == "127.0.0.1:6001"
    assert s.proxy_confdir == tmp_path / "cache" / "bgtest" / "mitmproxy"
    assert s.state_dir == tmp_path / "xs" / "bgtest"
    assert (s.adb, s.runtime_dir) == (None, None)


def test_nothing_set_means_the_tools_defaults(tmp_path: Path) -> None:
    s = Settings.build({"HOME": str(tmp_path)})
    assert s.default_adb_server == "127.0.0.1:5037"
    assert s.proxy_confdir == tmp_path / ".cache" / "bgtest" / "mitmproxy"
    assert s.state_dir == tmp_path / ".local" / "state" / "bgtest"
    # a home that is not there is never created: the state goes to the temp folder
    assert "bgtest-state-" in Settings.build({"HOME": str(tmp_path / "gone")}).state_dir.name


def test_the_values_are_handed_down(tmp_path: Path) -> None:
    settings = Settings.build({"ANDROID_ADB_SERVER_PORT": "6002", "XDG_RUNTIME_DIR": str(tmp_path),
                               "BGTEST_ADB": "/opt/adb/adb", "HOME": str(tmp_path)})
    assert parse_server_address(None, settings.default_adb_server) == ("127.0.0.1", 6002)
    assert parse_server_addresses("", settings.default_adb_server) == [("127.0.0.1", 6002)]
    assert parse_server_address("h:7", settings.default_adb_server) == ("h", 7)  # named wins
    assert adb_binary(settings.adb) == "/opt/adb/adb"
    assert AdbServer(port=6003, binary=adb_binary(settings.adb)).binary == "/opt/adb/adb"
    assert lease_dir(settings.runtime_dir).parent == tmp_path
    session = DeviceSession(settings, note=lambda _: None)
    assert session._leases is not None and session._leases.root == lease_dir(tmp_path)


def test_discovery_looks_at_the_default_server_it_is_given() -> None:
    """Nothing listens at the settings' default server: nothing attached (the embedded case),
    never a look at 5037."""
    assert android_candidates(None, None, (), f"127.0.0.1:{free_port()}") == []


def test_an_unusable_value_is_a_usage_error_naming_the_variable(tmp_path: Path) -> None:
    assert Settings.build({"BGTEST_RECONNECT_TIMEOUT": "2.5"}).reconnect_timeout_s == 2.5
    for bad in ("soon", "0", "-3", "nan"):
        with pytest.raises(SettingError, match=r"\$BGTEST_RECONNECT_TIMEOUT=.*give seconds"):
            Settings.build({"BGTEST_RECONNECT_TIMEOUT": bad})
    # the command line says so in one line, exit 2, no traceback
    env = dict(os.environ, BGTEST_RECONNECT_TIMEOUT="soon", ANDROID_ADB_SERVER_PORT=str(free_port()))
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "devices"], capture_output=True, text=True,
                          env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "$BGTEST_RECONNECT_TIMEOUT='soon': give seconds" in proc.stderr and "Traceback" not in proc.stderr
