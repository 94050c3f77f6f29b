"""Golden outputs of ``cmd jobscheduler`` and ``dumpsys jobscheduler`` on the virtual device."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.sim.android.commands.jobscheduler_shell import constraints_text, format_duration
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.os.jobscheduler import JobInfo, JobStatus, format_uid
from harness.sim.android.shell.shell import run_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"
PLAIN = "com.example.wmplain"
SJS = "androidx.work.impl.background.systemjob.SystemJobService"


def sh(device: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(device, line)
    return rc, out.decode(), err.decode()


@pytest.fixture
def device() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice(app_models=[FIXTURES / "nwm_demo.yaml", FIXTURES / "wm_plain.yaml"])
    return d


def enqueue(device: VirtualAndroidDevice, link: str) -> int:
    rc, _, err = sh(device, f"am start -a android.intent.action.VIEW -d {link}")
    assert rc == 0, err
    package = PLAIN if link.startswith("wmplain:") else NWM
    return max(js.job_id for js in device.jobs.jobs(package))


# ------------------------------------------------------------------------------ run
def test_run_unknown_package(device: VirtualAndroidDevice) -> None:
    assert sh(device, "cmd jobscheduler run com.nope 3") == (24, "", "Package not found: com.nope / user 0\n")


def test_run_unknown_job(device: VirtualAndroidDevice) -> None:
    assert sh(device, f"cmd jobscheduler run {NWM} 77") == (
        23, "", f"Could not find job 77 in package {NWM} / user 0\n")


def test_run_functional_constraint_needs_force(device: VirtualAndroidDevice) -> None:
    sh(device, "cmd connectivity airplane-mode enable")
    job = enqueue(device, "nwmdemo://enqueue/upload")
    assert sh(device, f"cmd jobscheduler run {NWM} {job}") == (
        22, "", f"Job {job} in package {NWM} / user 0 has functional constraints but --force not specified\n")
    assert sh(device, f"cmd jobscheduler run -f {NWM} {job}") == (0, "Running job [FORCED]\n", "")


def test_run_option_errors(device: VirtualAndroidDevice) -> None:
    assert sh(device, f"cmd jobscheduler run -f -s {NWM} 0") == (
        255, "Cannot specify both --force and --satisfied\n", "")
    assert sh(device, f"cmd jobscheduler run -x {NWM} 0") == (255, "Error: unknown option '-x'\n", "")
    assert sh(device, f"cmd jobscheduler run {NWM} abc") == (
        255, 'Exception: java.lang.NumberFormatException: For input string: "abc"\n', "")
    assert sh(device, "cmd jobscheduler run") == (
        255, 'Exception: java.lang.IllegalArgumentException: Argument expected after "run"\n', "")


# -------------------------------------------------------------------- get-job-state
def test_get_job_state_words(device: VirtualAndroidDevice) -> None:
    job = enqueue(device, "wmplain://work/cleanup")  # 10-minute delay
    assert sh(device, f"cmd jobscheduler get-job-state {PLAIN} {job}") == (0, "waiting\n", "")
    sh(device, f"cmd jobscheduler run -f {PLAIN} {job}")
    assert sh(device, f"cmd jobscheduler get-job-state {PLAIN} {job}") == (0, "active\n ready\n\n", "")
    assert sh(device, f"cmd jobscheduler get-job-state {PLAIN} 99") == (
        23, "unknown(u0a1/jid99)\n", f"Could not find job 99 in package {PLAIN} / user 0\n")
    assert sh(device, "cmd jobscheduler get-job-state com.nope 1") == (
        24, "unknown(com.nope)\n", "Package not found: com.nope / user 0\n")


# ------------------------------------------------------------- battery and storage
def test_battery_plumbing(device: VirtualAndroidDevice) -> None:
    assert sh(device, "cmd jobscheduler monitor-battery on") == (0, "Battery monitoring enabled\n", "")
    seq = int(sh(device, "cmd jobscheduler get-battery-seq")[1])
    sh(device, "dumpsys battery unplug")
    assert int(sh(device, "cmd jobscheduler get-battery-seq")[1]) > seq
    assert sh(device, "cmd jobscheduler get-battery-charging") == (0, "false\n", "")
    assert sh(device, "cmd jobscheduler get-battery-not-low") == (0, "true\n", "")
    sh(device, "dumpsys battery set level 5")
    assert sh(device, "cmd jobscheduler get-battery-not-low") == (0, "false\n", "")
    assert sh(device, "cmd jobscheduler monitor-battery off") == (0, "Battery monitoring disabled\n", "")
    assert sh(device, "cmd jobscheduler monitor-battery maybe") == (1, "", "Error: unknown option maybe\n")
    assert sh(device, "cmd jobscheduler get-storage-seq") == (0, "0\n", "")
    assert sh(device, "cmd jobscheduler get-storage-not-low") == (0, "true\n", "")
    assert sh(device, "cmd devicestoragemonitor force-low -f") == (0, "1\n", "")
    assert sh(device, "cmd jobscheduler get-storage-not-low") == (0, "false\n", "")
    assert sh(device, "cmd devicestoragemonitor reset") == (0, "", "")
    assert sh(device, "cmd jobscheduler get-storage-seq") == (0, "2\n", "")
    assert sh(device, "cmd jobscheduler get-storage-not-low") == (0, "true\n", "")
    assert sh(device, "cmd jobscheduler heartbeat") == (255, "", "Heartbeat command is no longer supported\n")


# -------------------------------------------------------------- cancel and timeout
def test_cancel_texts(device: VirtualAndroidDevice) -> None:
    job = enqueue(device, "wmplain://work/cleanup")
    assert sh(device, f"cmd jobscheduler cancel {PLAIN} {job}") == (
        0, f"Canceling job {PLAIN}/#{job} in user 0\n", "")
    assert sh(device, f"cmd jobscheduler cancel {PLAIN} {job}") == (
        0, f"Canceling job {PLAIN}/#{job} in user 0\nNo matching job found.\n", "")
    assert sh(device, f"cmd jobscheduler cancel {PLAIN}") == (
        0, f"Canceling all jobs for {PLAIN} in user 0\nNo matching jobs found.\n", "")
    assert sh(device, "cmd jobscheduler cancel com.nope") == (24, "Package com.nope not found.\n", "")


def test_timeout_stops_running_job_and_reschedules(device: VirtualAndroidDevice) -> None:
    assert sh(device, "cmd jobscheduler timeout") == (0, "No matching executing jobs found.\n", "")
    job = enqueue(device, "nwmdemo://enqueue/chain-download")  # 8 s worker, runs at once
    uid = device.packages.get(NWM).uid
    rc, out, _ = sh(device, f"cmd jobscheduler timeout {NWM} {job}")
    assert (rc, out) == (0, f"Timing out: #{format_uid(uid)}/{job} {NWM}/{SJS}\n")
    dump = sh(device, f"dumpsys jobscheduler {NWM}")[1]
    assert re.search(rf"   STOP: #{format_uid(uid)}/{job} \*job\*/{NWM}/{SJS} timeout", dump)
    assert "Num failures: 1" in dump


def test_reset_execution_quota_and_unknown_command(device: VirtualAndroidDevice) -> None:
    assert sh(device, f"cmd jobscheduler reset-execution-quota {NWM}") == (0, "", "")
    assert sh(device, "cmd jobscheduler frobnicate") == (255, "", "Unknown command: frobnicate\n")


# --------------------------------------------------------------------------- dumpsys
def test_dumpsys_job_block_golden(device: VirtualAndroidDevice) -> None:
    sh(device, "cmd connectivity airplane-mode enable")
    device.clock.advance(1_000)
    job = enqueue(device, "nwmdemo://enqueue/upload")
    device.clock.advance(90_000)
    uid = device.packages.get(NWM).uid
    u = format_uid(uid)
    out = sh(device, f"dumpsys jobscheduler {NWM}")[1]
    js = device.jobs.get(NWM, job)
    block = out[out.index(f"  JOB #{u}/{job}:"):out.index("\n\nmReadyToRock")]
    assert block == "\n".join([
        f"  JOB #{u}/{job}: {js.hash_id:x} {NWM}/{SJS}",
        f"    {u} tag=*job*/{NWM}/{SJS}",
        f"    Source: uid={u} user=0 pkg={NWM}",
        "    JobInfo:",
        f"      Service: {NWM}/{SJS}",
        "      Requires: charging=false batteryNotLow=false deviceIdle=false",
        "      Extras: mParcelledData.dataSize=180",
        "      Network type: NetworkRequest [ NONE id=0, [ Capabilities: "
        f"INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED Uid: {uid}] ]",
        "      Backoff: policy=1 initial=+30s0ms",
        "    Required constraints: CONNECTIVITY [0x10000000]",
        "    Satisfied constraints: DEVICE_NOT_DOZING BACKGROUND_NOT_RESTRICTED WITHIN_QUOTA [0x3400000]",
        "    Unsatisfied constraints: CONNECTIVITY [0x10000000]",
        "    Tracking: CONNECTIVITY QUOTA",
        "    Implicit constraints:",
        "      readyNotDozing: true",
        "      readyNotRestrictedInBg: true",
        "      readyComponentEnabled: true",
        "    Standby bucket: ACTIVE",
        "    Enqueue time: -1m30s0ms",
        "    Run time: earliest=none, latest=none, original latest=none",
        "    Ready: false (job=false user=true !restricted=true !pending=true !active=true !backingup=true "
        "comp=true)",
    ])
    assert "Pending queue:\n  None" in out and "Active jobs:\n  None" in out
    assert f"Registered 1 jobs:\n  JOB #{u}/{job}:" in out


def test_dumpsys_doze_and_history(device: VirtualAndroidDevice) -> None:
    enqueue(device, "nwmdemo://enqueue/periodic-sync")
    device.clock.advance(5_000)
    sh(device, "dumpsys battery unplug")
    sh(device, "dumpsys deviceidle force-idle")
    out = sh(device, f"dumpsys jobscheduler {NWM}")[1]
    assert "      readyNotDozing: false" in out
    # Doze blocks the app's network too; DEVICE_NOT_DOZING leaves Satisfied
    assert "    Satisfied constraints: BACKGROUND_NOT_RESTRICTED WITHIN_QUOTA [0x1400000]" in out
    assert "    Unsatisfied constraints: TIMING_DELAY CONNECTIVITY [0x90000000]" in out
    assert re.search(r"\n {13}-5s0ms   START: #u0a0/0 \*job\*/", out)
    assert re.search(r"\n {13}-3s0ms    STOP: #u0a0/0 \*job\*/.* app called jobFinished\n", out)
    assert "      Minimum latency: +1h0m0s0ms" in out


def test_dumpsys_invalid_package_and_help(device: VirtualAndroidDevice) -> None:
    assert sh(device, "dumpsys jobscheduler com.nope") == (0, "Invalid package: com.nope\n", "")
    rc, out, _ = sh(device, "dumpsys jobscheduler -h")
    assert rc == 0
    assert out.splitlines()[:2] == ["Job Scheduler (jobscheduler) dump options:", "  [-h] [package] ..."]
    rc, out, _ = sh(device, "dumpsys jobscheduler")
    assert "Registered 0 jobs:\n  None.\n" in out


# -------------------------------------------------------------------- pure helpers
def test_format_duration_examples() -> None:
    assert format_duration(0) == "0"
    assert format_duration(30_000) == "+30s0ms"
    assert format_duration(5_369_687 + 0) == "+1h29m29s687ms"
    assert format_duration(-(51 * 60_000 + 29_853)) == "-51m29s853ms"
    assert format_duration(900_000) == "+15m0s0ms"
    assert format_duration(500) == "+500ms"
    assert format_duration(86_400_000 + 1) == "+1d0h0m0s1ms"


_DUR = re.compile(r"^([+-])(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(\d+)ms$")


@given(st.integers(min_value=-10**10, max_value=10**10).filter(lambda v: v != 0))
def test_format_duration_round_trips(ms: int) -> None:
    m = _DUR.match(format_duration(ms))
    assert m is not None
    sign, d, h, mi, s, milli = m.groups()
    total = (int(d or 0) * 86_400 + int(h or 0) * 3600 + int(mi or 0) * 60 + int(s or 0)) * 1000 + int(milli)
    assert total * (1 if sign == "+" else -1) == ms


def test_constraint_masks() -> None:
    assert constraints_text(0x90000000) == "TIMING_DELAY CONNECTIVITY [0x90000000]"
    text = "DEVICE_NOT_DOZING BACKGROUND_NOT_RESTRICTED WITHIN_QUOTA [0x3400000]"
    assert constraints_text(0x3400000) == text
    assert constraints_text(0) == ""
    assert format_uid(10172) == "u0a172"
    assert format_uid(1000) == "1000"  # UserHandle.formatUid: below FIRST_APPLICATION_UID as is
    assert format_uid(1_001_000) == "u10s1000"


class _Recorder:
    """A JobService that finishes every job as soon as it starts."""

    def __init__(self, device: VirtualAndroidDevice) -> None:
        self.device = device
        self.started: list[int] = []

    def on_start_job(self, job: JobStatus) -> None:
        self.started.append(self.device.now_ms())
        self.device.jobs.job_finished(job, False)

    def on_stop_job(self, job: JobStatus, reason: str) -> bool:
        return True


def test_periodic_jobinfo_runs_once_per_period(device: VirtualAndroidDevice) -> None:
    rec = _Recorder(device)
    sh(device, f"am set-standby-bucket {PLAIN} active")  # never launched = NEVER bucket: no jobs
    info = JobInfo(uid=10_500, package=PLAIN, job_id=42, service="com.example.wmplain.Sync",
                   period_ms=3_600_000, flex_ms=600_000, persisted=True, callback=rec)
    device.jobs.schedule(info)
    dump = sh(device, f"dumpsys jobscheduler {PLAIN}")[1]
    assert "      PERIODIC: interval=+1h0m0s0ms flex=+10m0s0ms\n      PERSISTED\n" in dump
    start = device.now_ms()
    for period in range(1, 4):
        device.clock.advance(3_600_000)
        assert len(rec.started) == period, "periodic job did not run once in its period"
        assert start + period * 3_600_000 - 600_000 <= rec.started[-1] <= start + period * 3_600_000
    # persisted jobs survive a reboot
    device.reboot_now()
    assert device.jobs.get(PLAIN, 42) is not None
