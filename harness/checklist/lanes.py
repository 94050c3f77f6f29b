"""Two lanes for the checklist's scenarios, run side by side by pytest-xdist (``--dist loadgroup``).

Nearly all of a checklist's wall time is the iOS scenarios: every step there is an ``xcrun``
process or a few (a marker, a state read, a clock step), so they wait on process start-up far
more than on the CPU of any one process. Android's scenarios share one virtual phone (and the
Android Go one) in one lane; the iOS scenarios are shared out by their number of steps, each
lane with its own virtual iPhone. A real iOS simulator or iPhone may be picked by both lanes at
once, and nothing leases it yet: then every iOS scenario stays in one lane, so one device never
runs two scenarios.

The checklist passes the lanes with ``--bgtest-lanes`` (file name → lane) and loads this module
with ``-p`` so that the xdist workers, which collect the scenarios themselves, mark them too.
"""

from __future__ import annotations

import importlib.util
import json
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


def assign(planned: Sequence[Planned], ios_shared: bool) -> dict[str, str]:
    """File name → lane ("a" or "b"). Android in "a"; the iOS scenarios, longest first, each to
    the lane with less work so far, so the lanes end about together (all of them in "b" when
    ``ios_shared``)."""
    lanes = {p.file.name: "a" for p in planned if p.platform == "android"}
    load = {"a": ANDROID_LANE_COST if lanes else 0, "b": 0}
    ios = sorted((p for p in planned if p.platform != "android"), key=lambda p: -_steps(p.file))
    for p in ios:
        lane = "b" if ios_shared or load["b"] <= load["a"] else "a"
        lanes[p.file.name] = lane
        load[lane] += _steps(p.file)
    return lanes


def xdist_args(lanes: dict[str, str]) -> list[str]:
    """pytest arguments for running the lanes in parallel; none when one lane (or no xdist) is there."""
    if len(set(lanes.values())) < 2 or importlib.util.find_spec("xdist") is None:
        return []
    return ["-n", "2", "--dist", "loadgroup", "-p", __name__, OPTION, json.dumps(lanes)]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, default="{}", help="bgtest checklist: JSON {scenario file name: lane}")


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the marks into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lanes: dict[str, str] = json.loads(config.getoption(OPTION))
    for item in items:
        lane = lanes.get(Path(str(item.path)).name)
        if lane is not None:
            item.add_marker(pytest.mark.xdist_group(lane))
