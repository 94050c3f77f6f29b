"""ActivityManager and the am command, in process: golden outputs, processes, force-stop, broadcasts."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"
DIAG = "androidx.work.diagnostics.REQUEST_DIAGNOSTICS"


def sh(device: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(device, line)
    return rc, out.decode(), err.decode()


def am_log(device: VirtualAndroidDevice) -> list[str]:
    return [e.message for e in device.logd.entries(["main", "system"])
            if e.tag in ("ActivityManager", "ActivityTaskManager")]


@pytest.fixture()
def device() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(app_models=[APPS / "nwm_demo.yaml", APPS / "wm_plain.yaml"])


def test_start_w_cold_then_top_most(device: VirtualAndroidDevice) -> None:
    assert sh(device, f"am start -W -n {NWM}/.MainActivity") == (0, (
        f"Starting: Intent {{ cmp={NWM}/.MainActivity }}\n"
        "Status: ok\n"
        "LaunchState: COLD\n"
        f"Activity: {NWM}/.MainActivity\n"
        "TotalTime: 412\n"
        "WaitTime: 421\n"
        "Complete\n"), "")
    proc = device.activity.process(NWM)
    assert proc is not None and proc.uid == 10000 and proc.user == "u0_a0"
    assert f"Start proc {proc.pid}:{NWM}/u0a0 for next-top-activity {{{NWM}/.MainActivity}}" in am_log(device)
    assert sh(device, f"am start -n {NWM}/.MainActivity") == (0, (
        f"Starting: Intent {{ cmp={NWM}/.MainActivity }}\n"), (
        "Warning: Activity not started, intent has been delivered to currently running top-most instance.\n"))
    assert device.activity.process(NWM) is proc


def test_start_without_w_and_with_extras(device: VirtualAndroidDevice) -> None:
    rc, out, err = sh(device, f"am start -n {NWM}/.MainActivity --es k v --ei n 3 --ez b true --el l 9")
    assert (rc, out, err) == (0, f"Starting: Intent {{ cmp={NWM}/.MainActivity (has extras) }}\n", "")


def test_start_warm_and_hot(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    sh(device, "am start -n com.example.wmplain/.MainActivity")
    assert sh(device, f"am start -W -n {NWM}/.MainActivity")[1] == (
        f"Starting: Intent {{ cmp={NWM}/.MainActivity }}\n"
        "Warning: Activity not started, its current task has been brought to the front\n"
        "Status: ok\n"
        "LaunchState: HOT\n"
        f"Activity: {NWM}/.MainActivity\n"
        "TotalTime: 46\n"
        "WaitTime: 55\n"
        "Complete\n"
    )
    sh(device, "input keyevent KEYCODE_BACK")  # finishes the activity: the next start is WARM
    assert "LaunchState: WARM\n" in sh(device, f"am start -W -n {NWM}/.MainActivity")[1]


def test_start_errors(device: VirtualAndroidDevice) -> None:
    assert sh(device, f"am start -n {NWM}/.Nope") == (
        1, f"Starting: Intent {{ cmp={NWM}/.Nope }}\n",
        f"Error type 3\nError: Activity class {{{NWM}/{NWM}.Nope}} does not exist.\n")
    # with -W the error goes to stdout, as ActivityManagerShellCommand does
    rc, out, err = sh(device, "am start -W -n no.such/.Main")
    assert (rc, err) == (1, "") and out.endswith("Error type 3\nError: Activity class {no.such/no.such.Main} "
                                                 "does not exist.\n")
    assert sh(device, "am start -a android.intent.action.VIEW -d zzz://x") == (
        1, "Starting: Intent { act=android.intent.action.VIEW dat=zzz://x }\n",
        "Error: Activity not started, unable to resolve Intent { act=android.intent.action.VIEW dat=zzz://x "
        "flg=0x10000000 }\n")
    rc, out, err = sh(device, "am start --ei x abc -n a/b")
    assert (rc, out) == (255, "")
    assert err.splitlines()[:2] == ["Exception occurred while executing 'start':",
                                    'java.lang.NumberFormatException: For input string: "abc"']
    rc, _, err = sh(device, "am start --bogus")
    assert rc == 255 and "java.lang.IllegalArgumentException: Unknown option: --bogus" in err
    rc, _, err = sh(device, "am start")
    assert rc == 255 and "No intent supplied" in err
    assert sh(device, "am frobnicate") == (255, "", "Unknown command: frobnicate\n")


def test_deep_link_resolves_by_scheme_and_starts_the_app(device: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(device, "am start -W -a android.intent.action.VIEW -d 'nwmdemo://enqueue/periodic-sync'")
    assert rc == 0
    assert out.startswith("Starting: Intent { act=android.intent.action.VIEW "
                          "dat=nwmdemo://enqueue/periodic-sync }\nStatus: ok\nLaunchState: COLD\n"
                          f"Activity: {NWM}/.MainActivity\n")
    assert device.activity.process(NWM) is not None
    assert not device.packages.get(NWM).stopped  # type: ignore[union-attr]


def test_start_s_stops_first(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    first = device.activity.process(NWM)
    _rc, out, _ = sh(device, f"am start -S -W -n {NWM}/.MainActivity")
    assert out.startswith(f"Stopping: {NWM}\nStarting: Intent {{ cmp={NWM}/.MainActivity }}\nStatus: ok\n"
                          "LaunchState: COLD\n")
    assert device.activity.process(NWM).pid != first.pid


def test_force_stop_kills_logs_publishes_and_stops(device: VirtualAndroidDevice) -> None:
    seen: list[str] = []
    device.bus.subscribe("package_stopped", lambda package: seen.append(package))
    sh(device, f"am start -n {NWM}/.MainActivity")
    pid = device.activity.process(NWM).pid
    assert sh(device, f"am force-stop {NWM}") == (0, "", "")
    assert device.activity.process(NWM) is None
    assert device.procs.get(pid) is None
    assert seen == [NWM]
    assert device.packages.get(NWM).stopped  # type: ignore[union-attr]
    log = am_log(device)
    stop = next(m for m in log if m.startswith("Force stopping"))
    assert stop.startswith(f"Force stopping {NWM} appid=10000 user=-1: from pid ")
    assert any(m.startswith(f"Killing {pid}:{NWM}/u0a0 (adj 0): stop {NWM} due to from pid") for m in log)
    assert sh(device, "am force-stop no.such.pkg") == (0, "", "")


def test_kill_only_background_and_has_died(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    assert sh(device, f"am kill {NWM}") == (0, "", "")
    assert device.activity.process(NWM) is not None  # on top: not killed
    sh(device, "am start -n com.example.wmplain/.MainActivity")
    pid = device.activity.process(NWM).pid
    sh(device, f"am kill {NWM}")
    assert device.activity.process(NWM) is None
    assert f"Process {NWM} (pid {pid}) has died: cch+5 CEM" in am_log(device)
    assert not device.packages.get(NWM).stopped  # type: ignore[union-attr]


def test_broadcast_output_and_stopped_apps_are_skipped(device: VirtualAndroidDevice) -> None:
    # freshly installed = stopped: the broadcast does not reach it
    assert sh(device, f"am broadcast -a {DIAG} -p {NWM}") == (0, (
        f"Broadcasting: Intent {{ act={DIAG} flg=0x400000 pkg={NWM} }}\n"
        "Broadcast completed: result=0\n"), "")
    assert device.activity.process(NWM) is None
    assert device.activity.broadcast(DIAG, package=NWM) == 0
    _rc, out, _ = sh(device, f"am broadcast -a {DIAG} -p {NWM} --include-stopped-packages")
    assert out.startswith(f"Broadcasting: Intent {{ act={DIAG} flg=0x400020 pkg={NWM} }}\n")
    proc = device.activity.process(NWM)
    assert proc is not None
    assert (f"Start proc {proc.pid}:{NWM}/u0a0 for broadcast "
            f"{{{NWM}/androidx.work.impl.diagnostics.DiagnosticsReceiver}}") in am_log(device)
    sh(device, f"am force-stop {NWM}")
    assert device.activity.broadcast(DIAG, package=NWM) == 0
    sh(device, f"am start -n {NWM}/.MainActivity")
    assert device.activity.broadcast(DIAG, package=NWM) == 1


def test_hook_broadcast_reaches_only_its_app(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    sh(device, "am start -n com.example.wmplain/.MainActivity")
    assert device.activity.broadcast("dev.brewkits.nwm_demo.ENQUEUE", extras={"task": "upload"}) == 1
    assert device.activity.broadcast("com.example.wmplain.ENQUEUE") == 1
    assert device.activity.broadcast("nobody.listens") == 0


def test_protected_broadcast_is_refused_for_shell(device: VirtualAndroidDevice) -> None:
    rc, out, err = sh(device, "am broadcast -a android.intent.action.BOOT_COMPLETED")
    assert rc == 255
    assert out == "Broadcasting: Intent { act=android.intent.action.BOOT_COMPLETED flg=0x400000 }\n"
    assert err.splitlines()[1].startswith(
        "java.lang.SecurityException: Permission Denial: not allowed to send broadcast "
        "android.intent.action.BOOT_COMPLETED from pid=")
    assert err.splitlines()[1].endswith(", uid=2000")


def test_boot_completed_goes_to_apps_that_are_not_stopped(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    sh(device, "am start -n com.example.wmplain/.MainActivity")
    sh(device, "am force-stop com.example.wmplain")
    device.reboot_now()
    assert device.activity.process(NWM) is not None  # started for BOOT_COMPLETED
    assert device.activity.process("com.example.wmplain") is None
    assert device.packages.get("com.example.wmplain").stopped  # type: ignore[union-attr]
    proc = device.activity.process(NWM)
    assert (f"Start proc {proc.pid}:{NWM}/u0a0 for broadcast "
            f"{{{NWM}/androidx.work.impl.background.systemalarm.RescheduleReceiver}}") in am_log(device)


def test_force_stop_then_reboot_keeps_the_stopped_state(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    sh(device, f"am force-stop {NWM}")
    device.reboot_now()
    device.reboot_now()
    assert device.packages.get(NWM).stopped  # type: ignore[union-attr]
    assert device.activity.process(NWM) is None
    assert " stopped=true " in sh(device, f"pm dump {NWM}")[1]
    assert device.activity.broadcast(DIAG, package=NWM) == 0


def test_processes_die_on_reboot(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    old = device.activity.process(NWM).pid
    device.reboot_now()
    new = device.activity.process(NWM)
    assert new is not None and new.pid != old


def test_standby_commands(device: VirtualAndroidDevice) -> None:
    assert sh(device, f"am set-standby-bucket {NWM} rare") == (0, "", "")
    assert sh(device, f"am get-standby-bucket {NWM}") == (0, "40\n", "")
    assert sh(device, f"am set-standby-bucket {NWM} 30") == (0, "", "")
    assert sh(device, f"am get-standby-bucket {NWM}") == (0, "30\n", "")
    assert sh(device, f"am set-standby-bucket {NWM} sometimes") == (
        255, "", "Error: Unknown bucket: sometimes\n")
    assert sh(device, f"am set-inactive {NWM} true") == (0, "", "")
    assert sh(device, f"am get-inactive {NWM}") == (0, "Idle=true\n", "")
    assert sh(device, f"am set-inactive {NWM} false") == (0, "", "")
    assert sh(device, f"am get-inactive {NWM}") == (0, "Idle=false\n", "")
    rc, _, err = sh(device, "am set-standby-bucket no.such active")
    assert rc == 255 and "non existent package" in err


def test_pidof_and_ps_show_the_app(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    pid = device.activity.process(NWM).pid
    assert sh(device, f"pidof {NWM}") == (0, f"{pid}\n", "")
    _rc, out, _ = sh(device, "ps -A")
    row = next(line for line in out.splitlines() if line.endswith(NWM))
    assert row.split()[:2] == ["u0_a0", str(pid)]


def test_load_hook_enqueues_n_unique_one_time_requests(device: VirtualAndroidDevice) -> None:
    from harness.sim.android.workmanager import database

    rc, _, _ = sh(device, "am start -a android.intent.action.VIEW -d 'nwmdemo://enqueue/load?count=100'")
    assert rc == 0
    names = sorted(n for spec in database(device, NWM).specs.values() for n in spec.unique_names)
    assert names == sorted(f"load-{i}" for i in range(100))


def test_hook_with_a_bad_param_is_ignored_with_a_warning(device: VirtualAndroidDevice) -> None:
    from harness.sim.android.workmanager import database

    sh(device, "am start -a android.intent.action.VIEW -d 'nwmdemo://enqueue/load?count=lots'")
    assert not database(device, NWM).specs
    warnings = [e.message for e in device.logd.entries(["main"]) if e.tag == "BgtestHook"]
    assert warnings == ["hook load ignored: param count: not an integer: 'lots'"]


def test_broadcast_hook_enqueues_with_extras(device: VirtualAndroidDevice) -> None:
    from harness.sim.android.workmanager import database

    sh(device, f"am start -n {NWM}/.MainActivity")
    sh(device, f"am broadcast -a dev.brewkits.nwm_demo.ENQUEUE -p {NWM} --es task flaky")
    assert [s.name for s in database(device, NWM).specs.values()] == ["flaky"]


def test_a_process_killed_behind_our_back_is_reported_dead(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    pid = device.activity.process(NWM).pid
    died: list[tuple[str, int]] = []
    device.bus.subscribe("process_died", lambda package, pid: died.append((package, pid)))
    device.procs.kill(pid)
    assert device.activity.process(NWM) is None
    assert died == [(NWM, pid)]
    assert f"Process {NWM} (pid {pid}) has died: fg  TOP" in am_log(device)


def test_home_then_kill_kills_the_app_as_the_driver_does(device: VirtualAndroidDevice) -> None:
    sh(device, f"am start -n {NWM}/.MainActivity")
    sh(device, "input keyevent KEYCODE_HOME")
    sh(device, f"am kill {NWM}")
    assert device.activity.process(NWM) is None
    assert not device.packages.get(NWM).stopped  # type: ignore[union-attr]
    _, out, _ = sh(device, f"am start -W -n {NWM}/.MainActivity")
    assert "LaunchState: COLD\n" in out
    sh(device, "input keyevent 4")
    _rc, out, _ = sh(device, f"am start -W -n {NWM}/.MainActivity")
    assert "LaunchState: WARM\n" in out


def test_monkey_launch_as_adbutils_app_start_does(device: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(device, f"monkey -p {NWM} -c android.intent.category.LAUNCHER 1")
    assert rc == 0
    assert out.splitlines()[:2] == ["  bash arg: -p", f"  bash arg: {NWM}"]
    assert out.endswith("Events injected: 1\n## Network stats: elapsed time=21ms (0ms mobile, 0ms wifi, "
                        "21ms not connected)\n")
    assert device.activity.process(NWM) is not None
    rc, out, _ = sh(device, "monkey -p no.such -c android.intent.category.LAUNCHER 1")
    assert rc == 253 and out.endswith("** No activities found to run, monkey aborted.\n")


def _wm_lines(device: VirtualAndroidDevice, needle: str, since_ns: int = 0) -> list[str]:
    return [e.message for e in device.logd.entries(["main"]) if needle in e.message and e.time_ns >= since_ns]


def test_force_stop_then_reboot_runs_nothing_until_launch(device: VirtualAndroidDevice) -> None:
    sh(device, "am start -a android.intent.action.VIEW -d nwmdemo://enqueue/periodic-sync")
    device.clock.advance(60_000)
    assert _wm_lines(device, "Worker result SUCCESS")  # the first period ran
    sh(device, f"am force-stop {NWM}")
    device.reboot_now()
    mark = device.clock.now_ns()
    device.clock.advance(3 * 3_600_000)
    assert not _wm_lines(device, "Worker result", mark)
    assert device.activity.process(NWM) is None
    sh(device, f"am start -n {NWM}/.MainActivity")
    assert _wm_lines(device, "Application was force-stopped, rescheduling.", mark)
    device.clock.advance(60_000)
    assert _wm_lines(device, "Worker result SUCCESS", mark)


def test_reboot_reschedules_a_launched_app_through_boot_completed(device: VirtualAndroidDevice) -> None:
    sh(device, "am start -a android.intent.action.VIEW -d nwmdemo://enqueue/periodic-sync")
    device.clock.advance(60_000)
    device.reboot_now()
    mark = device.clock.now_ns()
    assert _wm_lines(device, "Rescheduling Workers.", mark)
    device.clock.advance(2 * 3_600_000)
    assert _wm_lines(device, "Worker result SUCCESS", mark)


def test_dumpsys_activity_and_window_show_the_resumed_activity(device: VirtualAndroidDevice) -> None:
    _, out, _ = sh(device, "dumpsys window windows")
    assert "mCurrentFocus=Window{" in out and "com.android.launcher3/com.android.launcher3." in out
    sh(device, "am start -n com.example.wmplain/.SettingsActivity")
    pid = device.activity.process("com.example.wmplain").pid
    _, out, _ = sh(device, "dumpsys activity activities")
    assert "mResumedActivity: ActivityRecord{" in out and " u0 com.example.wmplain/.SettingsActivity t" in out
    _, out, _ = sh(device, "dumpsys activity top")
    assert "  ACTIVITY com.example.wmplain/.SettingsActivity " in out and out.rstrip().endswith(f"pid={pid}")
    _, out, _ = sh(device, "dumpsys window")
    assert " u0 com.example.wmplain/com.example.wmplain.SettingsActivity}" in out
    sh(device, "input keyevent KEYCODE_HOME")
    assert "com.android.launcher3/" in sh(device, "dumpsys activity top")[1]


def test_dumpsys_activity_processes_lists_the_app_until_a_force_stop(device: VirtualAndroidDevice) -> None:
    """`dumpsys activity processes PKG` printed the activities dump (found from outside)."""
    sh(device, "am start -n com.example.wmplain/.SettingsActivity")
    pid = device.activity.process("com.example.wmplain").pid
    _, out, _ = sh(device, "dumpsys activity processes com.example.wmplain")
    lines = out.splitlines()
    header = "ACTIVITY MANAGER RUNNING PROCESSES (dumpsys activity processes)"
    assert lines[:2] == [header, "  All known processes:"]
    assert lines[2].startswith("  *APP* UID 1") and f" {pid}:com.example.wmplain/u0a" in lines[2]
    assert f"    PID #{pid}: ProcessRecord{{" in out
    sh(device, "am force-stop com.example.wmplain")
    _, out, _ = sh(device, "dumpsys activity processes com.example.wmplain")
    assert "com.example.wmplain" not in out and out.startswith("ACTIVITY MANAGER RUNNING PROCESSES")


CRASHY = b"""\
package: com.example.crashy
deep_link_schemes: [crashy]
hooks:
  - deep_link: crashy://go
    enqueue: [boom]
work:
  boom:
    worker: boom
workers:
  boom:
    class: com.example.crashy.BoomWorker
    duration: 1s
    outcomes: [crash, success]
"""


def test_a_crashing_worker_kills_the_process_and_am_reports_the_death() -> None:
    device = VirtualAndroidDevice()
    device.fs.write("/data/local/tmp/crashy.yaml", CRASHY)
    assert sh(device, "pm install /data/local/tmp/crashy.yaml") == (0, "Success\n", "")
    sh(device, "am start -a android.intent.action.VIEW -d crashy://go")
    pid = device.activity.process("com.example.crashy").pid
    sh(device, "input keyevent KEYCODE_HOME")
    device.clock.advance(5_000)
    crash = [e.message for e in device.logd.entries(["crash"]) if e.tag == "AndroidRuntime"]
    assert crash[:2] == ["FATAL EXCEPTION: main", f"Process: com.example.crashy, PID: {pid}"]
    assert device.activity.process("com.example.crashy") is None
    assert f"Process com.example.crashy (pid {pid}) has died: cch+5 CEM" in am_log(device)
