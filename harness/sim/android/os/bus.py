"""A tiny synchronous publish/subscribe bus between the virtual device's system services.

Services stay independent modules: the battery publishes ``power_source``; Doze, JobScheduler
and WorkManager subscribe. Handlers run in subscription order, on the device's loop thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., object]

#: Topics and what they carry (keyword arguments), so publishers and subscribers agree.
TOPICS = {
    "boot": "device powered on; services reset volatile state (no args)",
    "boot_completed": "sys.boot_completed became 1 (no args)",
    "shutdown": "device is going down; processes die (no args)",
    "screen": "interactive: bool",
    "power_source": "plugged: bool",
    "battery_level": "level: int",
    "power_save": "enabled: bool",
    "deviceidle": "deep: str, light: str (new states)",
    "network": "connected: bool (any change in connectivity)",
    "standby_bucket": "package: str, bucket: int",
    "package_stopped": "package: str (force-stop)",
    "package_started": "package: str (an activity launch took it out of the stopped state)",
    "package_removed": "package: str",
    "package_cleared": "package: str (pm clear)",
    "process_died": "package: str, pid: int",
    "constraints": "something a job constraint depends on changed (no args)",
    "worker_started": "package: str, uid: int, spec_id: str, worker: str (a doWork() began)",
    "worker_stopped": "package: str, spec_id: str (it returned or was stopped)",
}


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, topic: str, handler: Handler) -> None:
        if topic not in TOPICS:
            raise KeyError(f"unknown bus topic {topic!r}; known: {', '.join(sorted(TOPICS))}")
        self._handlers[topic].append(handler)

    def publish(self, topic: str, **kwargs: Any) -> None:
        if topic not in TOPICS:
            raise KeyError(f"unknown bus topic {topic!r}")
        for handler in list(self._handlers[topic]):
            handler(**kwargs)
