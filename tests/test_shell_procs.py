"""The process table behind ps and pidof, and its boot/shutdown lifecycle."""

from __future__ import annotations

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

HEADER = "USER           PID  PPID        VSZ    RSS WCHAN            ADDR S NAME                       "


@pytest.fixture
def dev() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(serial="procs")


def sh(dev: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(dev, line)
    return rc, out.decode(), err.decode()


def test_ps_A_columns(dev: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(dev, "ps -A")
    lines = out.splitlines()
    assert rc == 0 and lines[0] == HEADER
    init = lines[1].split()
    assert init[:3] == ["root", "1", "0"] and init[-1] == "init"
    names = [line.split()[-1] for line in lines[1:]]
    for name in ("init", "logd", "servicemanager", "zygote64", "system_server", "surfaceflinger", "adbd"):
        assert name in names
    ss = next(line for line in lines if line.endswith(" system_server"))
    assert ss.startswith("system ") and ss.split()[1] == str(dev.procs.system_server_pid)


def test_pidof(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "pidof system_server") == (0, f"{dev.procs.system_server_pid}\n", "")
    assert sh(dev, "pidof init") == (0, "1\n", "")
    assert sh(dev, "pidof com.example.none; echo $?") == (0, "1\n", "")


def test_spawned_app_is_listed_and_killed(dev: VirtualAndroidDevice) -> None:
    app = dev.procs.spawn("com.example.app", 10123)
    assert app.user == "u0_a123" and app.ppid == dev.procs.by_name("zygote64")[0].pid
    assert sh(dev, "pidof com.example.app")[1] == f"{app.pid}\n"
    assert f" {app.pid} " in sh(dev, "ps -A | grep com.example.app")[1]
    assert sh(dev, f"kill {app.pid}") == (1, "", f"kill: {app.pid}: Operation not permitted\n")
    assert dev.procs.kill(app.pid) is app
    assert sh(dev, "pidof com.example.app")[0] == 1


def test_pids_stable_within_a_boot_new_after_reboot(dev: VirtualAndroidDevice) -> None:
    before = {p.name: p.pid for p in dev.procs.all()}
    assert {p.name: p.pid for p in dev.procs.all()} == before
    app = dev.procs.spawn("com.example.app", 10001)
    dev.power_off()
    assert dev.procs.all() == []
    dev.power_on()
    dev.finish_boot()
    after = {p.name: p.pid for p in dev.procs.all()}
    assert "com.example.app" not in after and after["init"] == 1
    assert after["system_server"] != before["system_server"]
    assert dev.procs.get(app.pid) is None


def test_shell_pid(dev: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(dev, "echo $$; ps -A | grep -c ' sh$'")
    pid, count = out.split()
    assert rc == 0 and int(pid) > 1 and count == "1"
    assert dev.procs.get(int(pid)) is None  # the shell exited


def test_ps_options(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "ps -A -o PID,NAME | head -n 2") == (
        0,
        "  PID NAME                       \n    1 init\n",
        "",
    )
    assert sh(dev, "ps -p 1 -o NAME")[1] == "NAME                       \ninit\n"
    assert sh(dev, "ps -X")[0] == 1


def test_subshells_leave_no_processes_behind(dev: VirtualAndroidDevice) -> None:
    before = len(dev.procs.all())
    rc, out, _ = sh(dev, "echo $(echo $$) $$ | tr ' ' '\\n' | uniq | wc -l; (echo $$) >/dev/null")
    assert (rc, out) == (0, "1\n")
    sh(dev, "sleep 1 & echo $!")
    assert len(dev.procs.all()) == before


def test_dmesg_is_closed_to_the_shell_user(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "dmesg") == (1, "", "dmesg: klogctl: Permission denied\n")
