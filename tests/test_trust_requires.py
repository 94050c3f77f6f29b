"""A `requires:` no device of a listed platform can ever meet is refused at validation.

Found from outside: `requires: {profile: iphone-7}` on an Android scenario, or `sdk:` /
`low_ram: true` on an iOS one, validated fine and every run skipped the scenario (exit 0): a
check that never runs, reported green. `device: {profile: iphone-7}` on Android was refused
already; requirements now are too, at the scenario's line.
"""

from __future__ import annotations

import pytest

from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_text


def problems(text: str) -> list[str]:
    try:
        load_text(text, file="s.yaml")
    except ScenarioError as exc:
        return [f"{d.line}:{d.col}: {d.message}" for d in exc.diagnostics]
    return []


@pytest.mark.parametrize(
    ("platforms", "requires", "why"),
    [
        ("[android]", "{profile: iphone-7}",
         "requires profile iphone-7 (none of them is for android): on android"),
        ("[android, ios]", "{profile: android-go}",
         "requires profile android-go (none of them is for ios): on ios"),
        ("[ios]", '{sdk: ">= 31"}', "requires sdk >= 31 (an Android API level): on ios"),
        ("[ios]", "{low_ram: true}", "requires low_ram: true (Android's ro.config.low_ram): on ios"),
    ],
)
def test_a_requirement_that_can_never_hold_on_a_listed_platform_is_an_error(
    platforms: str, requires: str, why: str
) -> None:
    found = problems(f"name: x\nplatforms: {platforms}\nrequires: {requires}\nsteps: [background]\n")
    assert found == [f"1:1: {why} this scenario would always be skipped; remove it, or the platform "
                     "from platforms:"]


@pytest.mark.parametrize(
    ("platforms", "requires"),
    [
        ("[android]", "{profile: [android-go, iphone-7]}"),
        ("[android, ios]", "{profile: [android-go, iphone-7]}"),
        ("[android]", '{sdk: "< 28", low_ram: true}'),
        ("[ios]", "{low_ram: false}"),
    ],
)
def test_a_requirement_some_device_of_each_platform_can_meet_is_accepted(
    platforms: str, requires: str
) -> None:
    assert problems(f"name: x\nplatforms: {platforms}\nrequires: {requires}\nsteps: [background]\n") == []


def test_a_bad_api_level_bound_is_named_as_one_not_as_a_count() -> None:
    assert problems('name: x\nrequires: {sdk: ">= 3l"}\nsteps: [background]\n') == [
        "2:17: not an Android API level bound: '>= 3l'; write e.g. \">= 31\", \"< 28\" or 34"]
