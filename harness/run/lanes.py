"""Lanes: ``bgtest run`` on bgtest's own virtual devices uses the machine's cores by itself.

The embedded virtual devices belong to the run and share nothing with each other, so when every
scenario would run on them (nothing attached, nothing named: ``session.embedded_only``) and no
``-n`` was given, the run is split over pytest-xdist workers, one lane per idle core. A lane is a
worker process with its own virtual iPhones, started when a scenario needs one; the lane of the
Android scenarios borrows the phone the controller started while the workers did
(``embedded.lent_android``). ``-n N`` is the user's choice and is kept (``-n 0``: one process);
a real device is never shared out unless the user asked with ``-n``.

What goes where (:func:`scheduler`): the scenarios of a *shared* platform form one unit of work
— a virtual Android phone serves one scenario in about a tenth of a second but takes seconds to
start (its adb server and ``adb connect``), so one worker runs them all on one phone. Every
other scenario is a unit of its own — an iOS scenario is seconds of ``xcrun`` processes, a
virtual iPhone starts in a tenth of a second — handed to whichever worker is free, the biggest
unit first (xdist's ``LoadScopeScheduling``, which keeps a worker's units on that worker).
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Below this many scenario runs, the workers' start (each a Python process importing pytest and
#: bgtest: about a second of CPU, while the run itself starts) costs about what the lanes save.
MIN_RUNS = 4


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class CpuTimes:
    """The whole machine's CPU time so far, idle and in total (``/proc/stat``, clock ticks)."""

    idle: int
    total: int


def cpu_times(stat: Path = Path("/proc/stat")) -> CpuTimes | None:
    """Now's :class:`CpuTimes`; None where there is no ``/proc/stat`` (not Linux)."""
    try:
        fields = stat.read_text(encoding="ascii").split("\n", 1)[0].split()
        ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    if fields[0] != "cpu" or len(ticks) < 5:
        return None
    return CpuTimes(idle=ticks[3] + ticks[4], total=sum(ticks))


def idle_cores(since: CpuTimes | None = None, now: CpuTimes | None = None) -> int:
    """The cores nobody else used since ``since`` (taken when ``bgtest run`` started, while it
    loaded the scenarios on one core of its own), else by the 1-minute load average, rounded up.

    Linux shares a busy CPU between sessions (autogroup) and cgroups, not between processes: a
    run in lanes on a machine that is busy already gets no more CPU than one in one process, and
    pays its workers' start on top (measured: 42 s against 36 s for the bundled run at load 12
    on 2 cores, the first step line 9.8 s against 3.3 s). So the lanes use idle cores only, as
    ``make -l`` does. The load average alone would count a run that just ended (a second
    ``bgtest run`` right after the first would find the machine busy): what the CPUs did while
    this run started says more, when that span is long enough to count (a tenth of a second).
    """
    now = now or (cpu_times() if since is not None else None)
    if since is not None and now is not None and now.total - since.total >= 10 * cores():
        idle = (now.idle - since.idle) / (now.total - since.total) * cores()
        return max(1, min(cores(), math.floor(idle + 0.5) + 1))  # + the core this run was using
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this system
        load = 0.0
    return max(1, math.ceil(cores() - load))


def default_workers(runs: Mapping[str, int], shared: Collection[str], cores: int) -> int:
    """How many lanes a run on the embedded devices gets when no ``-n`` was given; 0: one process.

    ``runs``: scenario runs per platform; ``shared``: the platforms whose scenarios form one unit.
    One lane per core given (the idle ones: :func:`idle_cores`), no more lanes than units of work,
    and none for a run too small to gain.
    """
    units = sum(1 if platform in shared else count for platform, count in runs.items() if count)
    lanes = min(cores, units)
    return lanes if lanes >= 2 and sum(runs.values()) >= MIN_RUNS else 0


def shared_lanes(runs: Mapping[str, int], workers: int, cheap: Collection[str]) -> frozenset[str]:
    """The platforms among ``cheap`` (one embedded device serves their scenarios quickly) whose
    scenarios go to one worker: those with enough other scenarios to keep the other workers busy
    (an Android-only run under ``-n 4`` keeps all four workers)."""
    return frozenset(
        platform
        for platform in cheap
        if runs.get(platform) and sum(n for p, n in runs.items() if p != platform) >= workers - 1
    )


def unit_of(nodeid: str, shared: Collection[str]) -> str:
    """The unit of work a scenario item belongs to: its platform when that one is shared, else
    itself (items are named ``scenario name[platform]`` by the plugin)."""
    name = nodeid.rsplit("::", 1)[-1]
    platform = name.rsplit("[", 1)[-1][:-1] if name.endswith("]") else ""
    return platform if platform in shared else nodeid


def scheduler(config: Any, log: Any, shared: Collection[str]) -> Any:
    """An xdist scheduler that keeps each shared platform's scenarios on one worker (see above).

    xdist's own ``--dist loadgroup`` would do it with marks, but it appends the group to every
    node id, and the JUnit XML would name the scenarios differently from a run in one process.
    """
    from xdist.scheduler import LoadScopeScheduling

    class _Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid, shared)

    return _Lanes(config, log)
