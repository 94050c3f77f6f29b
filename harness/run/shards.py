"""Shards: split one scenario set over N CI machines, deterministically and evenly.

Every machine computes the same split from the same inputs (the scenario ids and, when given,
the durations an earlier run recorded in its results.json), so shard 1/3, 2/3 and 3/3 together
run every scenario exactly once without talking to each other. With durations the split is
the longest-first greedy one (each scenario to the shard with the least work so far), which is
within 4/3 of the best possible balance; without, scenarios are dealt out in id order.

pytest-split does the same for test functions, but it keeps its own durations file written by
its own recording run; a bgtest run already records every scenario's wall time in
results.json, which is what a farm keeps as an artifact — so the split reads that.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from harness.errors import BgtestError

T = TypeVar("T")


class ShardError(BgtestError):
    """A shard option that cannot be honoured (exit 2: the command line is wrong)."""


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` (1-based) → (index, count)."""
    index_text, sep, count_text = text.partition("/")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        index = count = 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard {text}: expected I/N with 1 <= I <= N", "e.g. --shard 2/3")
    return index, count


def scenario_key(file: str, name: str) -> str:
    """The id a scenario has in every run, wherever the checkout lives: ``file.yaml::name[platform]``."""
    return f"{Path(file).name}::{name}"


def durations_from(results_json: Path) -> dict[str, float]:
    """Wall seconds per scenario from an earlier run's results.json (the report's own file)."""
    try:
        data = json.loads(results_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ShardError(
            f"--shard-durations {results_json}: cannot read it ({exc})",
            "give the results.json an earlier `bgtest run --report DIR` wrote",
        ) from None
    rows = data.get("scenarios", data) if isinstance(data, dict) else data
    durations: dict[str, float] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and {"file", "name", "platform"} <= row.keys():
            key = scenario_key(str(row["file"]), f"{row['name']}[{row['platform']}]")
            durations[key] = float(row.get("wall_s") or 0.0)
    return durations


def select(
    items: Sequence[T],
    key: Callable[[T], str],
    index: int,
    count: int,
    durations: Mapping[str, float] | None = None,
) -> list[T]:
    """The items of shard ``index`` (1-based) of ``count``, in their original order."""
    ordered = sorted(range(len(items)), key=lambda i: key(items[i]))
    known = [d for d in (durations or {}).values() if d > 0]
    if not known:
        chosen = {i for position, i in enumerate(ordered) if position % count == index - 1}
        return [item for i, item in enumerate(items) if i in chosen]
    typical = statistics.median(known)  # a scenario new since that run counts as a typical one

    def cost(i: int) -> float:
        value = (durations or {}).get(key(items[i]), 0.0)
        return value if value > 0 else typical

    loads = [0.0] * count
    owner: dict[int, int] = {}
    for i in sorted(ordered, key=lambda i: -cost(i)):  # stable: ties keep id order
        shard = min(range(count), key=lambda s: (loads[s], s))
        loads[shard] += cost(i)
        owner[i] = shard
    return [item for i, item in enumerate(items) if owner[i] == index - 1]
