"""WorkManager request semantics: unique-work policies, out-of-quota policy, plugin lines per library."""

from __future__ import annotations

from collections import deque

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

PKG = "dev.bgtest.policies"
MIN = 60_000

APP = """
package: dev.bgtest.policies
library: {library}
debug_logging: {debug}
deep_link_schemes: [pol]
hooks:
  - deep_link: pol://go/{{name}}
    enqueue: ["{{name}}"]
work:
  slow:
    worker: slow
    unique: {{name: line, policy: append}}
  slow-or-replace:
    worker: slow
    unique: {{name: line, policy: append_or_replace}}
  bad:
    worker: bad
    unique: {{name: line, policy: append}}
  urgent:
    worker: quick
    expedited: {{out_of_quota: drop}}
  urgent-soft:
    worker: quick
    expedited: {{out_of_quota: run_as_non_expedited}}
  flaky:
    worker: flaky
  short-backoff:
    worker: flaky
    backoff: {{policy: linear, delay: 5s}}
workers:
  slow:
    class: dev.bgtest.policies.SlowWorker
    duration: 1m
  bad:
    class: dev.bgtest.policies.BadWorker
    outcomes: [failure]
  quick:
    class: dev.bgtest.policies.QuickWorker
    duration: 1s
  flaky:
    class: dev.bgtest.policies.FlakyWorker
    duration: 1s
    outcomes: [retry, success]
"""


def make(library: str = "androidx.work", debug: bool = True) -> VirtualAndroidDevice:
    device = VirtualAndroidDevice()
    text = APP.format(library=library, debug=str(debug).lower())
    assert device.packages.install_bytes(text.encode(), "policies.yaml") == "Success"
    return device


def go(device: VirtualAndroidDevice, name: str) -> None:
    rc, _, err = run_sync(device, f"am start -a android.intent.action.VIEW -d pol://go/{name}")
    assert rc == 0, err.decode()


def specs(device: VirtualAndroidDevice) -> list:
    return list(device.jobs.work_db[PKG].specs.values())


def messages(device: VirtualAndroidDevice, tag: str) -> list[str]:
    return [e.message for e in device.logd.entries() if e.tag == tag]


def test_append_waits_for_the_existing_work() -> None:
    d = make()
    go(d, "slow")
    go(d, "slow")
    first, second = specs(d)
    assert (first.state, second.state) == ("RUNNING", "BLOCKED")
    assert second.prerequisites == [first.id]
    d.clock.advance(61_000)
    assert (first.state, second.state) == ("SUCCEEDED", "RUNNING")
    assert f"Setting status to enqueued for {second.id}" in messages(d, "WM-WorkerWrapper")


def test_append_after_failure_fails_and_append_or_replace_starts_fresh() -> None:
    d = make()
    go(d, "bad")
    d.clock.advance(5_000)
    go(d, "slow")
    assert [s.state for s in specs(d)] == ["FAILED", "FAILED"]
    go(d, "slow-or-replace")
    assert [s.state for s in specs(d)][-1] == "RUNNING"


def test_expedited_out_of_quota_drop_and_run_as_non_expedited() -> None:
    d = make()
    # 40 min of expedited work today: past even the ACTIVE budget of 30 (a launch makes the app ACTIVE)
    d.jobs._ej_usage[PKG] = deque([(d.now_ms() - 40 * MIN, d.now_ms())])
    assert d.jobs.ej_quota_left_ms(PKG) == 0
    go(d, "urgent")
    dropped = specs(d)[-1]
    assert dropped.state == "FAILED" and dropped.job_id is not None
    assert d.jobs.get(PKG, dropped.job_id) is None
    go(d, "urgent-soft")
    soft = specs(d)[-1]
    job = d.jobs.get(PKG, soft.job_id)
    assert job is not None and not job.info.expedited


def test_linear_backoff_below_minimum_is_clamped_with_warning() -> None:
    d = make()
    go(d, "short-backoff")
    assert "Backoff delay duration less than minimum value" in messages(d, "WM-WorkSpec")
    d.clock.advance(2_000)
    spec = specs(d)[-1]
    assert spec.backoff_delay_ms == 10_000
    job = d.jobs.get(PKG, spec.job_id)
    assert job is not None and job.earliest_ms is not None and job.earliest_ms - d.now_ms() == 9_000


@pytest.mark.parametrize("debug", [True, False])
def test_flutter_workmanager_lines(debug: bool) -> None:
    d = make("flutter_workmanager", debug)
    go(d, "flaky")
    d.clock.advance(MIN)
    lines = messages(d, "WorkmanagerDebug")
    if not debug:
        assert lines == []
        return
    assert lines[0] == "Task scheduled: flaky"
    assert lines[1].startswith("Task started: flaky, callbackHandle: ")
    assert lines[2:] == ["Task rescheduled: flaky", "Task retrying: flaky",
                         "Task completed: flaky, success: true, duration: 1000ms"]


def test_native_workmanager_failure_line_is_logged_without_debug() -> None:
    d = make("native_workmanager", debug=False)
    go(d, "bad")
    d.clock.advance(5_000)
    assert messages(d, "NativeWorkManager") == ["❌ WorkInfo FAILED (fallback): line"]
    wrapper = messages(d, "WM-WorkerWrapper")
    assert len(wrapper) == 1 and wrapper[0].startswith("Worker result FAILURE for Work [ id=")
