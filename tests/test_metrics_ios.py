"""iOS metrics: the queue read through lldb on a (virtual) iPhone; memory and battery said to be
not measurable, with the reason, rather than guessed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.devices.ios_metrics import IosMetrics

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_demo.yaml"
BID = "dev.brewkits.nwmDemo"


def xcrun(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BGTEST_SIM_HOME": str(home), "TZ": "UTC"}
    return subprocess.run([sys.executable, "-m", "harness.sim.ios.xcrun", *argv],
                          capture_output=True, text=True, env=env, timeout=30)


def test_the_queue_of_an_iphone_is_asked_of_bgtaskscheduler(tmp_path: Path) -> None:
    assert xcrun(tmp_path, "simctl", "bgtest", "reset", "--kind", "device").returncode == 0
    xcrun(tmp_path, "simctl", "install", "booted", str(APP))
    pid = xcrun(tmp_path, "simctl", "launch", "booted", BID).stdout.split(": ")[1].strip()

    def ask(expression: str) -> list[str]:
        run = xcrun(tmp_path, "lldb", "--batch", "-p", pid, "-o", expression, "-o", "process detach")
        assert run.returncode == 0, run.stderr
        shown = xcrun(tmp_path, "simctl", "spawn", "booted", "log", "show", "--style", "ndjson")
        return [json.loads(line).get("eventMessage", "") for line in shown.stdout.splitlines()[1:] if line]

    metrics = IosMetrics("device", ask)
    assert metrics.measure("queue").value == 0
    xcrun(tmp_path, "simctl", "openurl", "booted", "nwmdemo://enqueue/periodic-sync")
    queue = metrics.measure("queue")
    assert (queue.value, queue.source) == (1, "lldb getPendingTaskRequestsWithCompletionHandler:")


def test_what_ios_does_not_expose_is_not_measurable() -> None:
    def never(expression: str) -> list[str]:
        raise AssertionError("no debugger on a simulator")

    sim = IosMetrics("simulator", never)
    for name, words in (("memory", "Mac process"), ("battery", "no battery"), ("queue", "Code=1")):
        reading = sim.measure(name)
        assert reading.value is None and words in reading.reason
        assert reading.text().startswith("not measurable here: ")
    phone = IosMetrics("device", lambda expression: [])
    assert "MetricKit" in phone.measure("memory").reason
    assert "did not answer" in phone.measure("queue").reason
