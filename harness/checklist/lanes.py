"""Two lanes for the checklist's scenarios, run side by side by pytest-xdist (``--dist loadgroup``).

Nearly all of a checklist's wall time is the iOS scenarios: every step there is an ``xcrun``
process (a marker, a state read, a clock step), so they wait on process start-up far more than
on the CPU of any one process. Android's scenarios share one virtual phone (and the Android Go
one) in one lane; the iOS scenarios are dealt to both lanes, each lane with its own virtual
iPhone. A real iOS simulator or iPhone may be picked by both lanes at once, and nothing leases
it yet: then every iOS scenario stays in one lane, so one device never runs two scenarios.

The checklist passes the lanes with ``--bgtest-lanes`` (file name → lane) and loads this module
with ``-p`` so that the xdist workers, which collect the scenarios themselves, mark them too.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.checklist.items import Planned

OPTION = "--bgtest-lanes"


def assign(planned: Sequence[Planned], ios_shared: bool) -> dict[str, str]:
    """File name → lane ("a" or "b"). Android in "a"; iOS dealt b, a, b, a … so that each lane
    gets about half of the slow iOS scenarios (all of them in "b" when ``ios_shared``)."""
    lanes: dict[str, str] = {}
    ios = 0
    for p in planned:
        if p.platform == "android":
            lanes[p.file.name] = "a"
        else:
            lanes[p.file.name] = "b" if ios_shared or ios % 2 == 0 else "a"
            ios += 1
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
