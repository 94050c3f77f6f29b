"""The virtual device through the REAL adb server (adbutils' bundled adb 36), on a private port."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest
from adb_testutil import TIMEOUT_S, disconnect_awaited, wait_boot_completed

from harness.devices.adb_server import AdbServer
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(count=2, adb_server=adb_server) as farm:
        yield farm


@pytest.fixture()
def fresh(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    """A device of its own, for tests that reboot it."""
    with VirtualAndroidFarm(count=1, adb_server=adb_server) as farm:
        yield farm


def dev(adb_server: AdbServer, serial: str) -> adbutils.AdbDevice:
    return adb_server.client().device(serial)


def payload(size: int) -> bytes:
    return hashlib.sha256(b"seed").digest() * (size // 32) + b"tail"


# ------------------------------------------------------------------ listing, shell
def test_adb_devices_lists_the_device_with_product_and_model(adb_server: AdbServer,
                                                              farm: VirtualAndroidFarm) -> None:
    out = adb_server.adb("devices", "-l").stdout
    for serial in farm.serials:
        line = next(line for line in out.splitlines() if line.startswith(serial + " "))
        assert re.search(r"\sdevice\s+product:\S+ model:Pixel_8 device:\S+ transport_id:\d+$", line), line


def test_adbutils_shell_and_shell2_exit_codes_over_v1_and_v2(adb_server: AdbServer,
                                                            farm: VirtualAndroidFarm) -> None:
    d = dev(adb_server, farm.serials[0])
    assert d.shell("echo hello") == "hello"
    assert d.shell(["echo", "a b", "c"]) == "a b c"
    for v2 in (False, True):
        assert d.shell2("true", v2=v2).returncode == 0
        assert d.shell2("false", v2=v2).returncode == 1
        # `exit` would also end adbutils' "; echo X4EXIT:$?" on a phone: run it in a child sh
        assert d.shell2("sh -c 'exit 42'", v2=v2).returncode == 42
        assert d.shell2("nosuchcmd", v2=v2).returncode == 127
    r = d.shell2("echo out; echo err >&2", v2=True)
    assert (r.stdout, r.stderr) == ("out\n", "err\n")


def test_adb_cli_shell_runs_a_command_line_and_returns_its_status(adb_server: AdbServer,
                                                                 farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    r = adb_server.adb("-s", serial, "shell", "echo a; false; echo $?")
    assert (r.returncode, r.stdout) == (0, "a\n1\n")
    r = adb_server.adb("-s", serial, "shell", "echo oops >&2; exit 7", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (7, "", "oops\n")


def test_adb_cli_shell_feeds_stdin_over_shell_v2(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    r = subprocess.run([adb_server.binary, "-P", str(adb_server.port), "-s", farm.serials[0], "shell",
                        "read x; echo got $x"], input="abc\n", capture_output=True, text=True,
                       env=adb_server.env, timeout=30)
    assert (r.returncode, r.stdout) == (0, "got abc\n")


def run_cli_shell(adb_server: AdbServer, serial: str, *args: str,
                  stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([adb_server.binary, "-P", str(adb_server.port), "-s", serial, "shell", *args],
                          input=stdin, capture_output=True, env=adb_server.env, timeout=30)


def test_shell_without_command_reads_a_script_from_piped_stdin(adb_server: AdbServer,
                                                               farm: VirtualAndroidFarm) -> None:
    # stdin is not a terminal: the CLI asks for `shell,v2,raw:` and sh runs without prompt or echo
    r = run_cli_shell(adb_server, farm.serials[0], stdin=b"echo hi there\nexit 3\n")
    assert (r.returncode, r.stdout) == (3, b"hi there\n")


def test_interactive_shell_on_a_pty(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    r = run_cli_shell(adb_server, farm.serials[0], "-tt", stdin=b"echo hi there\nexit 3\n")
    assert r.returncode == 3
    # The pty echoes the input as it arrives (typed-ahead `exit 3` may be echoed before the
    # output, as on a phone); output lines end in CRLF.
    assert b"echo hi there\r\n" in r.stdout and b"hi there\r\n" in r.stdout.split(b"echo hi there", 1)[1]
    assert re.match(rb"\S+:/ \$ ", r.stdout)


def test_root_and_unknown_services(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    assert adb_server.adb("-s", serial, "root").stdout == "adbd cannot run as root in production builds\n"
    assert adb_server.adb("-s", serial, "unroot").stdout == "adbd not running as root\n"
    assert dev(adb_server, serial).root() == "adbd cannot run as root in production builds\n"
    conn = dev(adb_server, serial).open_transport()
    try:
        conn.send_command("frobnicate:now")
        with pytest.raises(adbutils.AdbError, match="closed"):
            conn.check_okay()
    finally:
        conn.close()
    # the device goes on
    assert dev(adb_server, serial).shell("echo still") == "still"


def test_screencap_png_over_exec_out_and_adbutils(adb_server: AdbServer, farm: VirtualAndroidFarm) -> None:
    serial = farm.serials[0]
    raw = subprocess.run([adb_server.binary, "-P", str(adb_server.port), "-s", serial, "exec-out",
                          "screencap", "-p"], capture_output=True, env=adb_server.env, timeout=30).stdout
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    idat = raw[raw.index(b"IDAT") + 4:]
    assert len(zlib.decompress(idat[:int.from_bytes(raw[raw.index(b"IDAT") - 4:raw.index(b"IDAT")], "big")]))
    image = dev(adb_server, serial).screenshot()
    assert image.size == (1080, 2400)
    raw = subprocess.run([adb_server.binary, "-P", str(adb_server.port), "-s", serial, "exec-out",
                          "screencap"], capture_output=True, env=adb_server.env, timeout=30).stdout
    assert raw[:8] == (1080).to_bytes(4, "little") + (2400).to_bytes(4, "little")
    assert len(raw) == 16 + 1080 * 2400 * 4


# ------------------------------------------------------------------- push / pull
def test_push_pull_5mb_with_adbutils(adb_server: AdbServer, farm: VirtualAndroidFarm, tmp_path: Path) -> None:
    d = dev(adb_server, farm.serials[0])
    data = payload(5 * 1024 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    d.sync.push(src, "/data/local/tmp/big.bin")
    assert d.sync.exists("/data/local/tmp/big.bin")
    assert d.sync.stat("/data/local/tmp/big.bin").size == len(data)
    back = d.sync.read_bytes("/data/local/tmp/big.bin")
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest()
    dst = tmp_path / "back.bin"
    d.sync.pull("/data/local/tmp/big.bin", dst)
    assert dst.read_bytes() == data
    names = [e.path for e in d.sync.list("/data/local/tmp")]
    assert "big.bin" in names


def test_push_pull_5mb_with_the_adb_cli(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                        tmp_path: Path) -> None:
    serial = farm.serials[1]
    data = payload(5 * 1024 * 1024)
    src = tmp_path / "cli.bin"
    src.write_bytes(data)
    r = adb_server.adb("-s", serial, "push", str(src), "/sdcard/Download/new/cli.bin")
    assert "1 file pushed" in r.stdout + r.stderr  # the summary goes to stderr when not a tty
    dst = tmp_path / "cli_back.bin"
    r = adb_server.adb("-s", serial, "pull", "/sdcard/Download/new/cli.bin", str(dst))
    assert "1 file pulled" in r.stdout + r.stderr
    assert hashlib.sha256(dst.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    r = adb_server.adb("-s", serial, "pull", "/sdcard/nope.bin", str(tmp_path / "x"), check=False)
    assert r.returncode == 1
    # with stat_v2 the CLI gets the errno, as from a current phone
    assert "failed to stat remote object '/sdcard/nope.bin': No such file or directory" in r.stderr


def test_exec_in_feeds_a_whole_file_to_a_command(adb_server: AdbServer, farm: VirtualAndroidFarm,
                                                 tmp_path: Path) -> None:
    serial = farm.serials[1]
    src = tmp_path / "in.bin"
    data = payload(300_000)
    src.write_bytes(data)
    with src.open("rb") as f:
        r = subprocess.run([adb_server.binary, "-P", str(adb_server.port), "-s", serial, "exec-in",
                            "cat > /data/local/tmp/in.bin"], stdin=f, capture_output=True,
                           env=adb_server.env, timeout=30)
    assert r.returncode == 0
    assert dev(adb_server, serial).sync.read_bytes("/data/local/tmp/in.bin") == data


def test_garbage_on_one_connection_leaves_the_adb_server_link_alone(adb_server: AdbServer,
                                                                      farm: VirtualAndroidFarm) -> None:
    host, port = farm.serials[0].rsplit(":", 1)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"\x00" * 24)  # a zeroed header: bad magic
        assert s.recv(10) == b""  # dropped
    for serial in farm.serials:
        assert dev(adb_server, serial).shell("echo ok") == "ok"


# ------------------------------------------------------------------------ reboot
def test_adbutils_reboot_then_wait_for_and_boot_completed(adb_server: AdbServer,
                                                          fresh: VirtualAndroidFarm) -> None:
    serial = fresh.serials[0]
    device = fresh.devices[0]
    boots = fresh.call(lambda: device.boot_count)
    d = dev(adb_server, serial)
    client = adb_server.client()
    with disconnect_awaited(client, serial):
        d.reboot()
    client.wait_for(serial, state="device", timeout=TIMEOUT_S)
    wait_boot_completed(d)
    assert fresh.call(lambda: device.boot_count) == boots + 1


def test_adb_reboot_then_wait_for_device(adb_server: AdbServer, fresh: VirtualAndroidFarm) -> None:
    serial = fresh.serials[0]
    device = fresh.devices[0]
    boots = fresh.call(lambda: device.boot_count)
    with disconnect_awaited(adb_server.client(), serial):  # asked first: `adb wait-for-disconnect` races
        r = adb_server.adb("-s", serial, "reboot")
    assert (r.returncode, r.stdout) == (0, "")
    adb_server.adb("-s", serial, "wait-for-device", timeout=TIMEOUT_S)
    wait_boot_completed(dev(adb_server, serial))
    assert fresh.call(lambda: device.boot_count) == boots + 1
    assert adb_server.adb("-s", serial, "get-state").stdout.strip() == "device"


def test_tcpip_restarts_adbd_and_the_server_redials(adb_server: AdbServer, fresh: VirtualAndroidFarm) -> None:
    serial = fresh.serials[0]
    with disconnect_awaited(adb_server.client(), serial):  # offline for ~0.25 s only
        r = adb_server.adb("-s", serial, "tcpip", "5555")
    assert r.stdout == "restarting in TCP mode port: 5555\n"
    adb_server.adb("-s", serial, "wait-for-device", timeout=TIMEOUT_S)
    assert dev(adb_server, serial).shell("echo back") == "back"
    assert fresh.call(lambda: fresh.devices[0].boot_count) == 1  # adbd restarted, not the phone


# --------------------------------------------------------------------------- CLI
def test_bgtest_sim_android_runs_until_sigterm_and_disconnects(adb_server: AdbServer) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "sim", "android", "--count", "2",
         "--adb-port", str(adb_server.port), "--clock", "manual"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "ADB_EMU": "0"},
    )
    try:
        assert proc.stdout is not None
        serials = [proc.stdout.readline().split("\t")[0] for _ in range(2)]
        hint = proc.stdout.readline().strip()
        assert hint == f"adb -P {adb_server.port} devices -l"
        listing = adb_server.adb("devices").stdout
        for serial in serials:
            assert f"{serial}\tdevice" in listing
        assert dev(adb_server, serials[1]).shell("echo from cli") == "from cli"
        proc.terminate()
        assert proc.wait(30) == 0
        listing = adb_server.adb("devices").stdout
        assert not any(serial in listing for serial in serials)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
