"""One report from many: the shards of a farm run, each from its own CI machine.

Each shard's ``--report DIR`` holds results.json, the run folders of its scenarios and
index.html; its ``--junit`` file may sit inside or beside it. The merge gathers them into one
folder — results.json, junit.xml, index.html — as if one machine had run everything, copying
each shard's run folders under ``shard-N/`` so numbers that repeat across shards never collide
and the links stay relative. A shard folder downloaded from CI no longer lives at the absolute
path its results.json names, so run folders are found by name inside the shard folder.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import BgtestError
from harness.report.html import write_report


class MergeError(BgtestError):
    """A shard folder or JUnit file that cannot be read (exit 2: the input is wrong)."""


@dataclass
class Merged:
    """What the merge wrote and what it noticed."""

    results: list[dict[str, Any]] = field(default_factory=list)
    junit: Path | None = None
    index: Path | None = None
    #: scenarios that ran in more than one shard (a split that was not the same everywhere)
    repeated: list[str] = field(default_factory=list)


def _read_results(folder: Path) -> list[dict[str, Any]]:
    path = folder / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(
            f"{folder}: no results.json", "give the folders `bgtest run --report DIR` wrote"
        ) from None
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: not a bgtest results file ({exc})") from None
    if not isinstance(data, list):
        raise MergeError(f"{path}: not a bgtest results file (expected a list of scenario results)")
    return data


def _relocate(result: dict[str, Any], shard: Path, target: Path) -> None:
    """Copy the scenario's run folder into ``target`` and point the result at the copy."""
    where = result.get("artifacts")
    if not where:
        return
    source = Path(where)
    if not source.is_dir():
        source = shard / source.name  # the shard folder moved (downloaded from CI)
    if not source.is_dir():
        result["artifacts"] = ""
        return
    copy = target / source.name
    shutil.copytree(source, copy, dirs_exist_ok=True)
    result["artifacts"] = str(copy)


def _merge_junit(files: list[Path], out: Path) -> Path:
    """Every ``<testsuite>`` of every file under one ``<testsuites>`` with summed counts."""
    root = ET.Element("testsuites")
    totals: Counter[str] = Counter()
    for path in files:
        try:
            tree = ET.parse(path)
        except (OSError, ET.ParseError) as exc:
            raise MergeError(f"{path}: not a JUnit XML file ({exc})") from None
        top = tree.getroot()
        suites = [top] if top.tag == "testsuite" else list(top.iter("testsuite"))
        for suite in suites:
            root.append(suite)
            for key in ("tests", "failures", "errors", "skipped"):
                totals[key] += int(suite.get(key, "0") or 0)
    for key, value in totals.items():
        root.set(key, str(value))
    target = out / "junit.xml"
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)
    return target


def merge(shards: list[Path], out: Path, junit_files: list[Path] | None = None) -> Merged:
    """Merge shard report folders into ``out`` (JUnit files: given, or ``*.xml`` in the shards)."""
    merged = Merged()
    gathered = [(shard, _read_results(shard)) for shard in shards]  # all readable before writing
    out.mkdir(parents=True, exist_ok=True)
    for number, (shard, results) in enumerate(gathered, 1):
        target = out / f"shard-{number}"
        for result in results:
            _relocate(result, shard, target)
        merged.results += results
    seen = Counter(
        f"{Path(str(r.get('file', ''))).name}::{r.get('name', '')}[{r.get('platform', '')}]"
        for r in merged.results
    )
    merged.repeated = sorted(key for key, n in seen.items() if n > 1)
    (out / "results.json").write_text(json.dumps(merged.results, indent=2), encoding="utf-8")
    junits = list(junit_files or []) or sorted(p for shard in shards for p in shard.glob("*.xml"))
    if junits:
        merged.junit = _merge_junit(junits, out)
    merged.index = write_report(merged.results, out, title=f"bgtest report ({len(shards)} shards)")
    return merged
