"""Property tests: whatever text arrives, the loader answers with its own error type or models."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_text
from harness.scenario.yamlmarks import YamlLoadError, load_documents

_YAMLISH = st.text(
    alphabet=st.sampled_from(list("abcdefgnstw :-[]{},&*!|>'\"#\n\t${}0123456789.%")), max_size=200
)
_KEYS = st.sampled_from(
    [
        "name",
        "steps",
        "app",
        "platforms",
        "vars",
        "doze",
        "wait",
        "expect",
        "task",
        "state",
        "within",
        "count",
        "include",
        "defaults",
        "setup",
        "finally",
        "x",
    ]
)
_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 10**6),
        st.text(max_size=12),
        st.sampled_from(["deep", "2h", "${x}", "${env:HOME}", ">= 3", "succeeded", "stop_app"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), _YAMLISH))
def test_arbitrary_text_raises_only_scenario_error(text: str) -> None:
    try:
        load_text(text, "p.yaml", env={})
    except ScenarioError as exc:
        assert exc.diagnostics and all(d.line >= 1 and d.col >= 1 for d in exc.diagnostics)
        exc.render()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_scenario_error(data: bytes) -> None:
    try:
        load_text(data, "b.yaml", env={})
    except ScenarioError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_arbitrary_structures_raise_only_scenario_error(doc: dict) -> None:
    import yaml

    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        load_text(text, "s.yaml", env={})
    except ScenarioError as exc:
        exc.render()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_reader_raises_only_its_error(text: str) -> None:
    try:
        load_documents(text, "r.yaml")
    except YamlLoadError as exc:
        assert exc.span.line >= 1


def test_deep_nesting_is_refused_not_a_crash() -> None:
    try:
        load_text("[" * 5000 + "]" * 5000, "deep.yaml")
    except ScenarioError as exc:
        assert "nesting" in exc.diagnostics[0].message
    else:  # pragma: no cover
        raise AssertionError("deep nesting accepted")
