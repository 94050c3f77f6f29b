"""WorkManager's lines carry the tid of the thread that logs them, as on a phone.

SystemJobService runs on the app's main thread (tid = pid), WorkerWrapper on ``WM.task-N``
threads, ``doWork`` (and so a plugin's "started"/"finished" lines) on ``androidx.work-N``
threads. A journal that keys records by (time, pid, tid, tag, message) needs this to keep
same-millisecond lines of concurrent workers apart.
"""

from __future__ import annotations

from pathlib import Path

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
NWM = "dev.brewkits.nwm_demo"


def _load(count: int) -> VirtualAndroidDevice:
    device = VirtualAndroidDevice(app_models=[FIXTURES / "nwm_demo.yaml"])
    rc, _out, err = run_sync(device, f"am start -a android.intent.action.VIEW -d 'nwmdemo://enqueue/load?count={count}'")
    assert rc == 0, err
    device.clock.advance(60_000)
    return device


def test_workers_log_from_their_own_threads_not_the_main_thread() -> None:
    device = _load(8)
    pid = int(run_sync(device, f"pidof {NWM}")[1].decode().split()[0])
    entries = [e for e in device.logd.entries() if e.pid == pid]
    results = [e for e in entries if e.tag == "WM-WorkerWrapper" and "Worker result" in e.message]
    assert len(results) == 8
    assert all(e.tid != pid for e in results), "WorkerWrapper runs on a WM.task thread"
    started = [e for e in entries if e.tag == "TaskStore" and "status to running" in e.message]
    worker_tids = {e.tid for e in started}
    # 8 works started together share the 4 threads of WorkManager's default executor
    assert len(worker_tids) == 4
    assert pid not in worker_tids
    # Linux hands out tids from the pid counter: a thread is younger than its process
    assert min(worker_tids) > pid
    proc = device.procs.get(pid)
    assert proc is not None
    names = {proc.threads[t] for t in worker_tids}
    assert names == {f"androidx.work-{n}" for n in range(1, 5)}
    # the main thread still logs as tid = pid (SystemJobService, the enqueue path)
    assert any(e.tid == pid for e in entries)


def test_a_worker_finishes_on_the_thread_it_started_on() -> None:
    device = _load(3)
    pid = int(run_sync(device, f"pidof {NWM}")[1].decode().split()[0])
    by_task: dict[str, set[int]] = {}
    for e in device.logd.entries():
        if e.pid == pid and e.tag == "TaskStore":
            task = e.message.split()[2]
            by_task.setdefault(task, set()).add(e.tid)
    running = [tids for tids in by_task.values() if len(tids) > 0]
    assert running
    # "pending" is written on the main thread at enqueue, "running"/"completed" on the worker's thread
    assert all(len(tids) == 2 and pid in tids for tids in running), by_task
