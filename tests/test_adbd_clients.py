"""The virtual adbd as independent clients see it (issue 16, Android protocol points).

Two real clients: the adb 36 CLI bundled with adbutils (through a private adb server) and
adb-shell (PyPI, pinned in the dev extra), which speaks adbd's protocol directly over TCP
with no adb server in between — it is strict where the server is lenient (it waits for the
device's CLSE, it checks every packet it reads).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from adb_shell.adb_device import AdbDeviceTcp
from adb_shell.auth.keygen import keygen
from adb_shell.auth.sign_cryptography import CryptographySigner
from adb_shell.exceptions import DeviceAuthError

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"

#: Short client timeouts: a missing answer fails in seconds, not after adb-shell's 10 s default.
QUICK = {"transport_timeout_s": 5.0, "read_timeout_s": 5.0}


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


@pytest.fixture()
def fresh(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    """A device of its own, for tests that reboot it."""
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


@pytest.fixture(scope="module")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key pair of adb-shell's own (its keygen writes KEY and KEY.pub); no adb server uses it."""
    path = tmp_path_factory.mktemp("keys") / "adbkey"
    keygen(str(path))
    return path


@pytest.fixture()
def direct(other_key: Path) -> Iterator[AdbDeviceTcp]:
    """adb-shell connected straight to a secure virtual adbd that trusts adb-shell's key."""
    with VirtualAndroidFarm(count=1, host_keys=[Path(f"{other_key}.pub").read_text()]) as farm:
        client = AdbDeviceTcp("127.0.0.1", farm.ports[0], default_transport_timeout_s=5.0)
        client.connect(rsa_keys=[CryptographySigner(str(other_key))], transport_timeout_s=5.0,
                       auth_timeout_s=5.0)
        try:
            yield client
        finally:
            client.close()


# ----------------------------------------------------------------- adb-shell, directly
def test_a_direct_client_runs_shell_and_sync_without_waiting_for_timeouts(direct: AdbDeviceTcp,
                                                                         tmp_path: Path) -> None:
    """Each of these waits for the device's CLSE after its own: without it they hang 5 s and fail."""
    assert direct.shell("echo hi", **QUICK) == "hi\n"
    assert direct.shell("getprop ro.product.model", **QUICK).strip() == "Pixel 8"
    src = tmp_path / "a.txt"
    src.write_bytes(b"hello from adb-shell\n" * 1000)
    direct.push(str(src), "/data/local/tmp/a.txt", **QUICK)
    mode, size, _mtime = direct.stat("/data/local/tmp/a.txt", **QUICK)
    assert size == src.stat().st_size and mode & 0o170000 == 0o100000
    names = {entry.filename.decode() for entry in direct.list("/data/local/tmp", **QUICK)}
    assert "a.txt" in names
    back = tmp_path / "back.txt"
    direct.pull("/data/local/tmp/a.txt", str(back), **QUICK)
    assert back.read_bytes() == src.read_bytes()
    # and the link is still good for more
    assert direct.shell("echo again", **QUICK) == "again\n"


# ------------------------------------------------------------------ the adb 36 CLI
def test_push_into_system_is_refused_as_on_a_user_build(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                                        tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("x\n")
    r = adb_server.adb("-s", farm.serials[0], "push", str(src), "/system/x.txt", check=False)
    assert r.returncode == 1
    assert "remote couldn't create file: Read-only file system" in r.stderr
    ok = adb_server.adb("-s", farm.serials[0], "push", str(src), "/data/local/tmp/x.txt", check=False)
    assert ok.returncode == 0, ok.stderr


def test_shell_t_runs_on_a_pty_that_merges_stderr_into_stdout(adb_server: AdbServer,
                                                               farm: VirtualAndroidFarm) -> None:
    # -tt: force the pty although the test's stdin is not a terminal (one -t would warn and skip it)
    r = subprocess.run(
        [adb_server.binary, "-P", str(adb_server.port), "-s", farm.serials[0], "shell", "-tt",
         "echo out; echo err >&2; exit 3"],
        capture_output=True, env=adb_server.env, stdin=subprocess.DEVNULL, timeout=30,
    )
    assert (r.returncode, r.stdout, r.stderr) == (3, b"out\r\nerr\r\n", b"")
    plain = adb_server.adb("-s", farm.serials[0], "shell", "-T", "echo out; echo err >&2", check=False)
    assert (plain.stdout, plain.stderr) == ("out\n", "err\n")


def test_adb_reboot_returns_only_when_the_device_goes_down(adb_server: AdbServer,
                                                          fresh: VirtualAndroidFarm) -> None:
    """``adb reboot && adb wait-for-device && adb logcat -d`` shows the new boot, never the old one."""
    serial = fresh.serials[0]
    adb_server.adb("-s", serial, "shell", "log -t bgtest before-the-reboot")
    assert "before-the-reboot" in adb_server.adb("-s", serial, "logcat", "-d").stdout
    script = (f"'{adb_server.binary}' -P {adb_server.port} -s {serial} reboot && "
              f"'{adb_server.binary}' -P {adb_server.port} -s {serial} wait-for-device && "
              f"'{adb_server.binary}' -P {adb_server.port} -s {serial} logcat -d")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=adb_server.env,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "before-the-reboot" not in r.stdout
    assert fresh.daemons[0].reboots == 1


# -------------------------------------------------------------------- adb reverse
def _one_shot_server() -> tuple[socket.socket, list[bytes]]:
    """A host TCP server that answers one connection: it reads a line and replies upper-cased."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            line = b""
            while not line.endswith(b"\n"):
                chunk = conn.recv(1024)
                if not chunk:
                    break
                line += chunk
            got.append(line)
            conn.sendall(b"HOST SAYS " + line.upper())

    threading.Thread(target=serve, daemon=True).start()
    return server, got


def test_adb_reverse_leads_a_device_port_to_the_host_through_the_adb_server(
        adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    server, got = _one_shot_server()
    host_port = server.getsockname()[1]
    try:
        assert adb_server.adb("-s", serial, "reverse", "tcp:8123", f"tcp:{host_port}").returncode == 0
        listing = adb_server.adb("-s", serial, "reverse", "--list").stdout
        assert f"tcp:8123 tcp:{host_port}" in listing
        r = adb_server.adb("-s", serial, "shell", "echo hello | nc 127.0.0.1 8123")
        assert r.stdout == "HOST SAYS HELLO\n"
        assert got == [b"hello\n"]
        # a port nobody reversed is refused on the device, and the adb server is unharmed
        refused = adb_server.adb("-s", serial, "shell", "echo x | nc 127.0.0.1 8999", check=False)
        assert (refused.returncode, refused.stderr) == (1, "nc: connect: Connection refused\n")
        # tcp:0: the device picks the port and says which
        picked = adb_server.adb("-s", serial, "reverse", "tcp:0", f"tcp:{host_port}").stdout.strip()
        assert picked.isdigit()
        assert adb_server.adb("-s", serial, "reverse", "--remove", "tcp:8123").returncode == 0
        gone = adb_server.adb("-s", serial, "reverse", "--remove", "tcp:8123", check=False)
        assert gone.returncode == 1 and "listener 'tcp:8123' not found" in gone.stderr
        norebind = adb_server.adb("-s", serial, "reverse", "--no-rebind", f"tcp:{picked}", "tcp:1",
                                  check=False)
        assert norebind.returncode == 1 and "cannot rebind existing socket" in norebind.stderr
        assert adb_server.adb("-s", serial, "reverse", "--remove-all").returncode == 0
        assert adb_server.adb("-s", serial, "reverse", "--list").stdout.strip() == ""
    finally:
        server.close()


def test_adbutils_reverse_and_framebuffer(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    d = adb_server.client().device(farm.serials[0])
    d.reverse("tcp:8200", "tcp:8201")
    assert any(r.remote == "tcp:8200" and r.local == "tcp:8201" for r in d.reverse_list())
    image = d.framebuffer()
    assert image.size == (1080, 2400)
    assert image.getpixel((5, 5))[:3] == (0x20, 0x21, 0x24)  # the status bar


# ----------------------------------------------------------------------------- AUTH
def test_a_farm_device_is_secure_and_trusts_its_adb_server(adb_server: AdbServer,
                                                          farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    assert adb_server.adb("-s", serial, "shell", "getprop ro.adb.secure").stdout == "1\n"
    # the connection came up through AUTH: the server's signature verified against adb_keys
    again = adb_server.adb("connect", serial).stdout
    assert again.startswith(("connected to", "already connected to"))


def test_an_unknown_host_is_unauthorized_when_new_keys_are_refused(adb_server: AdbServer,
                                                                  other_key: Path) -> None:
    with VirtualAndroidFarm(count=1, host_keys=[Path(f"{other_key}.pub").read_text()],
                            allow_new_keys=False) as farm:
        serial = farm.serials[0]
        try:
            out = adb_server.adb("connect", serial, check=False).stdout
            assert out.startswith("failed to authenticate to")
            listed = adb_server.adb("devices").stdout
            assert f"{serial}\tunauthorized" in listed
            r = adb_server.adb("-s", serial, "shell", "echo hi", check=False)
            assert r.returncode != 0 and "unauthorized" in r.stderr
        finally:
            adb_server.adb("disconnect", serial, check=False)


def test_an_unknown_host_is_allowed_once_and_remembered(adb_server: AdbServer, other_key: Path) -> None:
    with VirtualAndroidFarm(count=1, host_keys=[Path(f"{other_key}.pub").read_text()]) as farm:
        serial, device = farm.serials[0], farm.devices[0]
        try:
            # the first time the phone asks "Allow USB debugging?", as a real one does
            assert adb_server.adb("connect", serial, check=False).stdout.startswith("failed to authenticate")
            adb_server.adb("-s", serial, "wait-for-device", timeout=60)
            assert adb_server.adb("-s", serial, "shell", "echo hi").stdout == "hi\n"
            keys = farm.call(lambda: device.fs.read("/data/misc/adb/adb_keys")).decode()
            assert len(keys.strip().splitlines()) == 2  # the farm's key and the server's, now allowed
            adb_server.adb("disconnect", serial)
            assert adb_server.adb("connect", serial).stdout.startswith("connected to")
        finally:
            adb_server.adb("disconnect", serial, check=False)


def test_adb_shell_signs_the_token_with_its_own_key(other_key: Path) -> None:
    signer = CryptographySigner(str(other_key))
    with VirtualAndroidFarm(count=1, host_keys=[Path(f"{other_key}.pub").read_text()],
                            allow_new_keys=False) as farm:
        client = AdbDeviceTcp("127.0.0.1", farm.ports[0], default_transport_timeout_s=5.0)
        client.connect(rsa_keys=[signer], transport_timeout_s=5.0, auth_timeout_s=5.0)
        try:
            assert client.shell("echo signed", **QUICK) == "signed\n"
        finally:
            client.close()
        keyless = AdbDeviceTcp("127.0.0.1", farm.ports[0], default_transport_timeout_s=5.0)
        with pytest.raises(DeviceAuthError):
            keyless.connect(transport_timeout_s=5.0, auth_timeout_s=2.0)
        keyless.close()


# ------------------------------------------------------------------------ features
def test_adb_features_lists_what_a_current_device_has_and_each_works(
        adb_server: AdbServer, farm: VirtualAndroidFarm, tmp_path: Path) -> None:
    serial = farm.serials[0]
    features = set(adb_server.adb("-s", serial, "features").stdout.split())
    assert {"shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir", "apex", "abb", "abb_exec",
            "fixed_push_symlink_timestamp", "remount_shell", "sendrecv_v2",
            "sendrecv_v2_dry_run_send"} <= features
    # abb_exec: the CLI streams the package into `cmd package install -S <size>`
    apk = tmp_path / "wm_plain.apk"
    shutil.copy(APPS / "wm_plain.yaml", apk)
    r = adb_server.adb("-s", serial, "install", "-r", str(apk))
    assert r.stdout == "Performing Streamed Install\nSuccess\n"
    # sendrecv_v2 (SND2/RCV2) for push and pull, stat_v2 and ls_v2 for the rest
    data = bytes(range(256)) * 4096
    src = tmp_path / "v2.bin"
    src.write_bytes(data)
    adb_server.adb("-s", serial, "push", str(src), "/data/local/tmp/v2/v2.bin")
    back = tmp_path / "back.bin"
    adb_server.adb("-s", serial, "pull", "/data/local/tmp/v2/v2.bin", str(back))
    assert back.read_bytes() == data
    dry = adb_server.adb("-s", serial, "push", "-n", str(src), "/data/local/tmp/v2/dry.bin", check=False)
    assert dry.returncode == 0
    assert adb_server.adb("-s", serial, "shell", "ls /data/local/tmp/v2").stdout == "v2.bin\n"
    assert "v2.bin" in adb_server.adb("-s", serial, "ls", "/data/local/tmp/v2").stdout
    # abb speaks the shell protocol: exit status and stderr survive
    r = adb_server.adb("-s", serial, "shell", "cmd package path com.example.wmplain")
    assert r.stdout.startswith("package:/data/app/")
    # remount_shell: `adb remount` runs `remount`, refused on a user build
    r = adb_server.adb("-s", serial, "remount", check=False)
    assert r.returncode != 0 and "userdebug" in r.stdout + r.stderr


def test_abb_and_abb_exec_with_adbutils(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    d = adb_server.client().device(farm.serials[0])
    with d.open_transport() as c:  # the raw service the adb CLI's `adb install` uses
        c.send_command("abb_exec:package\0path\0android")
        c.check_okay()
        assert c.read_until_close().startswith("package:/system/framework/framework-res.apk")


# ------------------------------------------------------------------ the log is alive
def test_a_served_device_keeps_logging_while_idle(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    before = adb_server.adb("-s", serial, "logcat", "-d", "-s", "WifiNl80211Manager:*", "netd:*",
                            "DropBoxManagerService:*", "ConnectivityService:*", "SurfaceFlinger:*").stdout
    adb_server.adb("-s", serial, "shell", "cmd bgtest clock advance 10m")
    after = adb_server.adb("-s", serial, "logcat", "-d").stdout
    chatter = [line for line in after.splitlines()
               if any(tag in line for tag in ("WifiNl80211Manager", "netd", "DropBoxManagerService",
                                              "ConnectivityService", "SurfaceFlinger", "KernelCpuUid",
                                              "NearbyDiscovery", "KeyguardUpdateMonitor", "BatteryStatsImpl",
                                              "WifiScoringParams"))]
    # 10 minutes of device time: one line every 20-60 s, never a burst
    assert 10 <= len(chatter) - len(before.splitlines()) + 1 <= 31
