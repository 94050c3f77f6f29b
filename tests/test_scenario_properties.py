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


_KINDS = st.sampled_from(
    [
        "stop_app",
        "doze",
        "wait",
        "expect",
        "launch",
        "network",
        "battery",
        "shell",
        "include",
        "capture",
        "battery_saver",
        "screen",
        "run_task",
        "standby_bucket",
        "push",
        "nope",
    ]
)
_STEP = st.one_of(_KINDS, st.dictionaries(_KINDS, _VALUES, min_size=1, max_size=2), _VALUES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STEP, max_size=6), st.sampled_from([["android"], ["ios"], ["android", "ios"], "ios"]))
def test_arbitrary_steps_raise_only_scenario_error(steps: list, platforms: object) -> None:
    import yaml

    doc = {
        "name": "fuzz",
        "platforms": platforms,
        "steps": steps,
        "app": {"package": "com.example.app", "bundle_id": "com.example.App", "library": "androidx.work"},
    }
    try:
        scenarios = load_text(yaml.safe_dump(doc), "f.yaml", env={})
    except ScenarioError as exc:
        assert all(d.file == "f.yaml" for d in exc.diagnostics)
        exc.render()
    else:
        (s,) = scenarios
        assert len(s.steps) == len(steps)
        assert all(st_.location is not None for st_ in s.steps)


_VALID_STEPS = st.sampled_from(
    [
        "- stop_app",
        "- doze: deep",
        "- doze: {mode: light}",
        "- wait: 90m",
        "- battery: {level: 15}",
        "- network: offline",
        "- expect: sync succeeded",
        '- launch: {deep_link: "app://x"}',
        '- expect: {tag: WM-WorkerWrapper, message: "SUCCESS", count: ">= 2", within: 1h}',
        "- wait: {until: {task: sync, state: succeeded}, timeout: 2h}",
        "- screen: off",
        "- kill",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_VALID_STEPS, min_size=1, max_size=12))
def test_valid_steps_load_with_their_own_line(lines: list[str]) -> None:
    text = "name: gen\napp: {package: com.example.app, library: androidx.work}\nsteps:\n"
    text += "".join(f"  {line}\n" for line in lines)
    (s,) = load_text(text, "g.yaml", env={})
    assert [st_.location.line for st_ in s.steps] == list(range(4, 4 + len(lines)))
    assert [st_.location.col for st_ in s.steps] == [5] * len(lines)
