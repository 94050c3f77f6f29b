"""Reruns in JUnit XML, in the elements CI tools already read.

pytest's JUnit writer knows one outcome per test. A scenario that ran more than once
(``--reruns``) keeps its attempts in the ``bgtest_result`` property; this adds Maven Surefire's
rerun elements, which Jenkins' JUnit plugin, GitLab and the common JUnit report actions read:
``<flakyFailure>`` / ``<flakyError>`` for each failed attempt of a scenario that passed in the
end (the test case itself passes and is shown as flaky), ``<rerunFailure>`` / ``<rerunError>``
for the earlier attempts of one that never passed (its last attempt is the ``<failure>``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def mark_reruns(path: Path) -> int:
    """Add the rerun elements to the JUnit file at ``path``; how many test cases had reruns."""
    tree = ET.parse(path)
    marked = 0
    for case in tree.getroot().iter("testcase"):
        result = _result_of(case)
        attempts = (result or {}).get("attempts") or []
        if not attempts:
            continue
        prefix = "flaky" if result and result.get("status") == "flaky" else "rerun"
        for attempt in attempts[:-1]:
            if attempt.get("status") not in ("failed", "error"):
                continue
            kind = "Failure" if attempt["status"] == "failed" else "Error"
            failure = (attempt.get("failure") or "").strip()
            where = f"attempt {attempt.get('attempt')} on {attempt.get('device') or 'its device'}"
            element = ET.SubElement(case, prefix + kind, message=f"{where}: {_first_line(failure)}",
                                    type="bgtest.ScenarioFailed")
            trace = ET.SubElement(element, "stackTrace")
            trace.text = f"{where}\n{failure}"
        marked += 1
    if marked:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    return marked


def _result_of(case: ET.Element) -> dict[str, Any] | None:
    for prop in case.iter("property"):
        if prop.get("name") == "bgtest_result":
            try:
                return json.loads(prop.get("value") or "")
            except ValueError:
                return None
    return None


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else "failed"
