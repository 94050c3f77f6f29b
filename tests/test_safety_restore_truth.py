"""The restore's report is the truth (issue #11, point 1): what is back, what is not and why.

The guard restores in passes; each pass lists what it still found different and changed. A
setter that returned without error but changed nothing is found by the next pass, so nothing
is ever called restored that is not.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.run.guard import NOT_RESTORED, truth, unrestored

ITEMS = ["doze unforced", "airplane mode off", "battery reset", "battery saver off", "screen on"]


def test_a_restore_that_held_is_reported_as_it_was_done() -> None:
    assert truth([["doze unforced", "airplane mode off"], []]) == ["doze unforced", "airplane mode off"]


def test_a_setter_that_changed_nothing_is_not_called_restored() -> None:
    report = truth(
        [["doze unforced", "battery 80% unplugged"], ["battery 80% unplugged"], ["battery 80% unplugged"]]
    )
    assert report == [
        "doze unforced",
        f"{NOT_RESTORED}battery 80% unplugged (still different after two tries)",
    ]


def test_a_failed_command_says_why_and_a_second_try_says_so() -> None:
    report = truth(
        [["battery saver off (FAILED: <x> `settings put` exited 1: denied)"], ["battery saver off"], []]
    )
    assert report == ["battery saver off (on a second try)"]
    report = truth(
        [["saver off (FAILED: denied)"], ["saver off (FAILED: denied)"], ["saver off (FAILED: denied)"]]
    )
    assert report == [f"{NOT_RESTORED}saver off (FAILED: denied)"]


@given(
    still=st.lists(st.sets(st.sampled_from(ITEMS)), min_size=1, max_size=3).map(
        lambda passes: [sorted(p) for p in passes]
    )
)
def test_whatever_the_passes_nothing_still_different_is_called_restored(still: list[list[str]]) -> None:
    # each pass can only list what the previous one left different (the device's own rule)
    passes = [still[0]]
    for nxt in still[1:]:
        if not passes[-1]:
            break
        passes.append([item for item in nxt if item in passes[-1]])
    if passes[-1] and len(passes) < 3:
        passes.append([])  # the guard always checks a pass that changed something
    report = truth(passes)
    left = set(passes[-1])
    assert {r.removeprefix(NOT_RESTORED).split(" (")[0] for r in unrestored(report)} == left
    claimed = {r.split(" (")[0] for r in report if not r.startswith(NOT_RESTORED)}
    assert not claimed & left
