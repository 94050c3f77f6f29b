"""Metrics on iOS: what a Mac can honestly read off a simulator or an iPhone, and what it cannot.

- queue: the app's pending BGTaskScheduler requests. On an iPhone bgtest asks the scheduler
  itself, through the debugger it already uses for ``run_task``: ``lldb`` attaches to the app and
  calls ``getPendingTaskRequestsWithCompletionHandler:`` with a block that ``NSLog``s the count;
  the line arrives in the unified log, which bgtest reads anyway. On the Simulator
  BGTaskScheduler does not schedule at all (``submitTaskRequest`` fails with
  ``BGTaskSchedulerErrorDomain Code=1``), so there is no queue to read.
- memory: not measurable. A Simulator app is a Mac process (its footprint is the Mac's, without
  an iPhone's jetsam limits); an iPhone offers no shell to read another process's footprint —
  Xcode's memory gauge, Instruments (Allocations, VM Tracker) and the app's own MetricKit
  reports are where iOS shows it.
- battery: not measurable. A Simulator has no battery; iOS keeps per-app energy to Xcode's
  energy gauge, Instruments' Energy Log and MetricKit (the app's own report), none of which a
  test harness reads from outside the app.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.metrics import Measurement, not_measurable

#: The line the completion block logs; bgtest finds it in the unified log.
PENDING_LOG = "bgtest pending task requests: %lu"
PENDING_RE = re.compile(r"bgtest pending task requests: (\d+)")

MEMORY_WHY = {
    "simulator": "a Simulator app is a Mac process: its memory is neither an iPhone's nor held to "
    "jetsam's limits (measure on an iPhone with Xcode's memory gauge or Instruments)",
    "device": "iOS has no shell to read another process's memory footprint; Xcode's memory gauge, "
    "Instruments (Allocations, VM Tracker) and the app's MetricKit reports show it",
}
BATTERY_WHY = {
    "simulator": "a Simulator has no battery",
    "device": "iOS keeps per-app energy use to Xcode's energy gauge, Instruments' Energy Log and the "
    "app's own MetricKit reports; nothing outside the app can read it",
}
QUEUE_SIMULATOR_WHY = ("the Simulator does not run BGTaskScheduler (submitTaskRequest fails with "
                       "BGTaskSchedulerErrorDomain Code=1), so no requests wait")


def pending_expression() -> str:
    """The lldb expression that logs the app's pending request count."""
    return (
        "expression -l objc -- (void)[[BGTaskScheduler sharedScheduler] "
        "getPendingTaskRequestsWithCompletionHandler:^(NSArray *requests){ "
        f'NSLog(@"{PENDING_LOG}", (unsigned long)requests.count); }}]'
    )


class IosMetrics:
    """Metric readings for one app on one iPhone or simulator.

    ``ask_pending()`` runs the lldb expression in the app and returns the log messages that
    arrived after it (the caller owns the debugger and the journal).
    """

    def __init__(self, kind: str, ask_pending: Callable[[str], list[str]]) -> None:
        self.kind = kind
        self.ask_pending = ask_pending

    def start(self, names: set[str]) -> None:
        """Nothing to reset: the queue is read as it is, the rest is not measurable."""

    def measure(self, name: str) -> Measurement:
        if name == "memory":
            return not_measurable("memory", "iOS", MEMORY_WHY.get(self.kind, MEMORY_WHY["device"]))
        if name == "battery":
            return not_measurable("battery", "iOS", BATTERY_WHY.get(self.kind, BATTERY_WHY["device"]))
        source = "lldb getPendingTaskRequestsWithCompletionHandler:"
        if self.kind == "simulator":
            return not_measurable("queue", source, QUEUE_SIMULATOR_WHY)
        for message in reversed(self.ask_pending(pending_expression())):
            m = PENDING_RE.search(message)
            if m:
                return Measurement("queue", float(m.group(1)), source)
        return not_measurable("queue", source, "the app did not answer the debugger (no count in its log)")
