"""Lanes for the checklist's scenarios, run side by side by pytest-xdist (``--dist loadgroup``).

Nearly all of a checklist's wall time is the iOS scenarios: every step there is an ``xcrun``
process or a few (a marker, a state read, a clock step), so an iOS lane is one process start-up
after another, single-threaded; a second lane starts its processes on the other core. Android's
scenarios share one virtual phone (and the Android Go one) in lane 1; the iOS scenarios are
shared out by their number of steps over all lanes (one per core, at least two), each lane with
its own virtual iPhone. A real iOS simulator or iPhone may be picked by several lanes at once,
and nothing leases it yet: then every iOS scenario stays in lane 2, so one device never runs two
scenarios.

The checklist passes the lanes with ``--bgtest-lanes`` (file name → lane) and loads this module
with ``-p`` so that the xdist workers, which collect the scenarios themselves, mark them too.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from harness.checklist.items import Planned

OPTION = "--bgtest-lanes"


#: What all the Android scenarios of a checklist cost together, in iOS steps (each a few ``xcrun``
#: processes): their adb round trips are cheap, the virtual phones' and the proxy's start-up is
#: not. Measured on the starter: the seven Android scenarios took as long as five iOS steps.
ANDROID_LANE_COST = 5


def _steps(path: Path) -> int:
    """A scenario's steps, ``finally`` included: the measure of an iOS scenario's cost."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return len(doc.get("steps") or []) + len(doc.get("finally") or [])


def lane_count() -> int:
    """One lane per core (at least two: the iOS scenarios wait on process start-ups more than on
    the CPU), and no more: each lane is a worker process with its own virtual devices."""
    return max(2, os.cpu_count() or 2)


def assign(planned: Sequence[Planned], ios_shared: bool, lanes: int = 2) -> dict[str, str]:
    """File name → lane ("1" … ``lanes``). Android in lane 1; the iOS scenarios, longest first,
    each to the lane with the least work so far, so the lanes end about together (all of them in
    lane 2 when ``ios_shared``)."""
    out = {p.file.name: "1" for p in planned if p.platform == "android"}
    load = {str(n): 0 for n in range(1, lanes + 1)}
    load["1"] = ANDROID_LANE_COST if out else 0
    shared_lane = "2" if lanes > 1 else "1"
    ios = sorted((p for p in planned if p.platform != "android"), key=lambda p: -_steps(p.file))
    for p in ios:
        # the lightest lane; among equals the later one (lane 1 also starts the Android devices)
        lane = shared_lane if ios_shared else min(reversed(load), key=lambda k: load[k])
        out[p.file.name] = lane
        load[lane] += _steps(p.file)
    return out


def xdist_args(lanes: dict[str, str]) -> list[str]:
    """pytest arguments that run the lanes side by side; none for one lane (or without xdist)."""
    used = len(set(lanes.values()))
    if used < 2 or importlib.util.find_spec("xdist") is None:
        return []
    return ["-n", str(used), "--dist", "loadgroup", "-p", __name__, OPTION, json.dumps(lanes)]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, default="{}", help="bgtest checklist: JSON {scenario file name: lane}")


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the marks into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lanes: dict[str, str] = json.loads(config.getoption(OPTION))
    for item in items:
        lane = lanes.get(Path(str(item.path)).name)
        if lane is not None:
            item.add_marker(pytest.mark.xdist_group(lane))
