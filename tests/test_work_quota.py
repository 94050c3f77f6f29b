"""JobScheduler gating beyond constraints: standby-bucket quota, expedited quota, saver, Doze stop."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.os.jobscheduler import JobInfo, JobStatus
from harness.sim.android.shell.shell import run_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
PLAIN = "com.example.wmplain"
MIN = 60_000


class Service:
    """A JobService whose jobs run ``run_ms`` of device time, then call jobFinished."""

    def __init__(self, device: VirtualAndroidDevice, run_ms: int) -> None:
        self.device = device
        self.run_ms = run_ms
        self.starts: list[int] = []
        self.stops: list[str] = []

    def on_start_job(self, job: JobStatus) -> None:
        self.starts.append(self.device.now_ms())
        if self.run_ms:
            self.device.clock.schedule_in(self.run_ms, lambda: self.device.jobs.job_finished(job, False))

    def on_stop_job(self, job: JobStatus, reason: str) -> bool:
        self.stops.append(reason)
        return True


def sh(device: VirtualAndroidDevice, line: str) -> str:
    rc, out, err = run_sync(device, line)
    assert rc == 0, err
    return out.decode()


@pytest.fixture
def device() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice(app_models=[FIXTURES / "wm_plain.yaml"])
    sh(d, "settings put system screen_off_timeout 86400000")  # screen stays on: no Doze by itself
    sh(d, "input keyevent KEYCODE_WAKEUP")
    sh(d, "dumpsys battery unplug")
    return d


def uid(device: VirtualAndroidDevice) -> int:
    return device.packages.get(PLAIN).uid


def test_rare_bucket_runs_ten_minutes_per_day_then_waits_for_quota(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} rare")
    svc = Service(device, 6 * MIN)
    for job_id in (1, 2, 3):
        device.jobs.schedule(JobInfo(uid(device), PLAIN, job_id, "com.example.wmplain.Job", callback=svc))
    device.clock.advance(30 * MIN)
    # 16 slots: all three start at once; together they use 18 minutes of the 10-minute RARE quota
    assert len(svc.starts) == 3
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 4, "com.example.wmplain.Job", callback=svc))
    device.clock.advance(MIN)
    assert len(svc.starts) == 3
    out = sh(device, f"dumpsys jobscheduler {PLAIN}")
    assert "Standby bucket: RARE" in out
    assert "Unsatisfied constraints: WITHIN_QUOTA [0x1000000]" in out
    sh(device, f"cmd jobscheduler reset-execution-quota {PLAIN}")
    assert len(svc.starts) == 4


def test_expedited_job_runs_in_doze_until_its_quota_is_spent(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} rare")  # 10 minutes of expedited work per day
    assert sh(device, "dumpsys deviceidle force-idle").strip() == "Now forced in to deep idle mode"
    svc = Service(device, 0)  # never finishes: stopped at the 10-minute limit
    info = JobInfo(uid(device), PLAIN, 7, "com.example.wmplain.Job", expedited=True, callback=svc)
    device.jobs.schedule(info)
    assert len(svc.starts) == 1, "an expedited job runs in Doze"
    device.clock.advance(10 * MIN)
    assert svc.stops == ["timeout"]
    assert device.jobs.ej_quota_left_ms(PLAIN) == 0
    device.clock.advance(20 * MIN)
    # out of expedited quota: now a regular job, and Doze holds it
    assert len(svc.starts) == 1
    out = sh(device, f"dumpsys jobscheduler {PLAIN}")
    assert "readyNotDozing: false" in out and "      EXPEDITED" in out


def test_doze_stops_a_running_regular_job(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} active")
    svc = Service(device, 0)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 9, "com.example.wmplain.Job", callback=svc))
    assert len(svc.starts) == 1
    sh(device, "dumpsys deviceidle force-idle")
    assert svc.stops == ["device_idle"]
    assert device.jobs.active_jobs() == []
    sh(device, "dumpsys deviceidle unforce")
    sh(device, "dumpsys battery reset")
    device.clock.advance(MIN)
    assert len(svc.starts) == 2


def test_battery_saver_defers_background_jobs(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} active")
    sh(device, "settings put global low_power 1")
    assert device.power.saver_enabled
    svc = Service(device, 1_000)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 11, "com.example.wmplain.Job", callback=svc))
    device.clock.advance(30 * MIN)
    assert svc.starts == []
    sh(device, "settings put global low_power 0")
    device.clock.advance(MIN)
    assert len(svc.starts) == 1


def test_never_bucket_never_runs(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} never")
    svc = Service(device, 1_000)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 12, "com.example.wmplain.Job", callback=svc))
    device.clock.advance(6 * 60 * MIN)
    assert svc.starts == []
    assert sh(device, f"cmd jobscheduler run -f {PLAIN} 12") == "Running job [FORCED]\n"
    assert len(svc.starts) == 1


def test_non_persisted_jobs_vanish_at_reboot(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} active")
    svc = Service(device, 1_000)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 13, "com.example.wmplain.Job", min_latency_ms=HOURS,
                                 callback=svc))
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 14, "com.example.wmplain.Job", min_latency_ms=HOURS,
                                 persisted=True, callback=svc))
    device.reboot_now()
    assert [js.job_id for js in device.jobs.jobs(PLAIN)] == [14]


HOURS = 3_600_000


def test_storage_not_low_job_waits_while_storage_is_forced_low(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} active")
    assert sh(device, "cmd devicestoragemonitor force-low -f") == "1\n"
    svc = Service(device, 1_000)
    info = JobInfo(uid(device), PLAIN, 15, "com.example.wmplain.Job", requires_storage_not_low=True,
                   callback=svc)
    device.jobs.schedule(info)
    device.clock.advance(30 * MIN)
    assert svc.starts == []
    assert "Unsatisfied constraints: STORAGE_NOT_LOW [0x8]" in sh(device, f"dumpsys jobscheduler {PLAIN}")
    sh(device, "cmd devicestoragemonitor reset")
    assert len(svc.starts) == 1


def test_charging_job_runs_when_plugged(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} active")
    svc = Service(device, 1_000)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 16, "com.example.wmplain.Job", requires_charging=True,
                                 callback=svc))
    device.clock.advance(30 * MIN)
    assert svc.starts == []
    sh(device, "dumpsys battery set ac 1")
    assert len(svc.starts) == 1


def test_working_set_quota_refills_when_old_sessions_leave_the_window(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} working_set")  # 10 minutes per rolling 2 hours
    svc = Service(device, 6 * MIN)
    start = device.now_ms()
    for job_id in (21, 22):
        device.jobs.schedule(JobInfo(uid(device), PLAIN, job_id, "com.example.wmplain.Job", callback=svc))
    device.clock.advance(7 * MIN)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 23, "com.example.wmplain.Job", callback=svc))
    events = device.clock.events_run
    device.clock.advance(3 * 60 * MIN)
    assert len(svc.starts) == 3
    # the two 6-minute sessions ended at +6 m; they leave the 2 h window at +2 h 6 m
    assert svc.starts[2] - start == 2 * 60 * MIN + 6 * MIN
    assert device.clock.events_run - events < 50, "quota waiting must not poll"
    # again, hours later: sessions older than the window (still in the day's record) are not waited for
    for job_id in (24, 25):
        device.jobs.schedule(JobInfo(uid(device), PLAIN, job_id, "com.example.wmplain.Job", callback=svc))
    device.clock.advance(7 * MIN)
    device.jobs.schedule(JobInfo(uid(device), PLAIN, 26, "com.example.wmplain.Job", callback=svc))
    events = device.clock.events_run
    device.clock.advance(3 * 60 * MIN)
    assert len(svc.starts) == 6
    assert device.clock.events_run - events < 50, "quota waiting must not poll"


def test_a_restricted_app_gets_one_session_a_day_however_short_its_jobs(device: VirtualAndroidDevice) -> None:
    """QuotaController's session cap, not only its run time: 2-second jobs an hour apart use
    48 s of the 10 minutes, yet RESTRICTED allows one session per 24 h (RARE three)."""
    sh(device, f"am set-standby-bucket {PLAIN} restricted")
    svc = Service(device, 2_000)
    start = device.now_ms()
    for hour in range(24):
        device.jobs.schedule(JobInfo(uid(device), PLAIN, 100 + hour, "com.example.wmplain.Job", callback=svc))
        device.clock.advance(60 * MIN)
    assert len(svc.starts) == 1
    device.clock.advance(60 * MIN)  # the first session leaves the 24 h window: the waiting jobs run
    assert len(svc.starts) > 1 and svc.starts[1] - start >= 24 * 60 * MIN


def test_a_rare_app_gets_three_sessions_a_day(device: VirtualAndroidDevice) -> None:
    sh(device, f"am set-standby-bucket {PLAIN} rare")
    svc = Service(device, 2_000)
    for hour in range(12):
        device.jobs.schedule(JobInfo(uid(device), PLAIN, 200 + hour, "com.example.wmplain.Job", callback=svc))
        device.clock.advance(60 * MIN)
    assert len(svc.starts) == 3
