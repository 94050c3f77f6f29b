"""The app-model format: fixtures load, errors point at the YAML line, the schema is current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.apps.errors import AppModelError
from harness.apps.loader import load_app_model
from harness.apps.model import AppModel
from harness.apps.schema import SCHEMA_PATH, schema_json

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"

NWM_MODEL = load_app_model(APPS / "nwm_demo.yaml")

BASE = """\
package: com.example.app
workers:
  w:
    class: com.example.W
work:
  a:
    worker: w
"""


def err(text: str) -> AppModelError:
    with pytest.raises(AppModelError) as info:
        load_app_model(text.encode(), "app.yaml")
    return info.value


def test_fixtures_load() -> None:
    nwm = load_app_model(APPS / "nwm_demo.yaml")
    assert nwm.package == "dev.brewkits.nwm_demo"
    assert nwm.library == "native_workmanager"
    assert nwm.work["periodic-sync"].interval_ms == 3_600_000
    assert nwm.work["upload"].constraints.network == "connected"
    assert nwm.work["chain-download"].then == ("chain-process", "chain-upload")
    assert nwm.workers["flaky"].outcomes == ("retry", "retry", "success")
    assert nwm.work["urgent"].expedited is not None
    assert nwm.launcher == "dev.brewkits.nwm_demo.MainActivity"
    plain = load_app_model(APPS / "wm_plain.yaml")
    assert plain.library == "androidx.work"
    assert plain.work["sync"].flex_ms == 300_000
    fwm = load_app_model(APPS / "fwm_demo.yaml")
    assert fwm.library == "flutter_workmanager" and fwm.work["periodicTask"].unique.policy == "update"  # type: ignore[union-attr]


def test_schema_is_current() -> None:
    """Regenerate with: python -m harness.apps.schema --write"""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_json()
    schema = json.loads(schema_json())
    assert schema["properties"]["library"]["enum"] == ["androidx.work", "native_workmanager",
                                                       "flutter_workmanager"]
    assert "package" in schema["required"]


def test_durations_are_ms_and_defaults() -> None:
    m = load_app_model((BASE + "    initial_delay: 90s\n").encode(), "x")
    work = m.work["a"]
    assert work.initial_delay_ms == 90_000
    assert work.backoff.delay_ms == 30_000 and work.backoff.policy == "exponential"
    assert m.workers["w"].duration_ms == 1_000
    assert m.activities == (".MainActivity",)


def test_outcome_script_repeats_last() -> None:
    m = load_app_model(APPS / "nwm_demo.yaml")
    flaky = m.workers["flaky"]
    assert [flaky.outcome(i) for i in range(5)] == ["retry", "retry", "success", "success", "success"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (BASE + "    kind: sometimes\n", 8, "work.a.kind"),
        (BASE + "    constraints: {network: wifi}\n", 8, "work.a.constraints.network"),
        (BASE + "    worker: nope\n", 8, "duplicate key 'worker'"),
        (BASE.replace("worker: w", "worker: x"), 7, "unknown worker 'x'"),
        (BASE + "    kind: periodic\n", 6, "needs 'interval'"),
        (BASE + "    interval: 1h\n", 8, "only for periodic"),
        (BASE + "    initial_delay: soon\n", 8, "not a duration"),
        (BASE + "    then: [b]\n", 8, "unknown work 'b'"),
        (BASE + "    then: [a]\n", 8, "chain loops: a -> a"),
        (BASE + "    expedited: {}\n    initial_delay: 5s\n", 8, "cannot be delayed"),
        (BASE + "    colour: red\n", 8, "unknown field 'work.a.colour'"),
        ("package: nodots\n", 1, "package"),
        ("label: x\n", 1, "'package' is required"),
        ("package: [unclosed\n", 2, "invalid YAML"),
        ("- a\n- b\n", 1, "mapping"),
        (BASE + "hooks:\n  - deep_link: x://y\n    enqueue: [a]\n", 9, "not in deep_link_schemes"),
        (BASE + "deep_link_schemes: [x]\nhooks:\n  - deep_link: x://y/{n}\n    enqueue: [a]\n"
         "    repeat: '{count}'\n", 12, "'{count}' is not a param"),
        (BASE + "hooks:\n  - broadcast: A\n    enqueue: [zz]\n", 10, "unknown work 'zz'"),
        (BASE + "hooks:\n  - enqueue: [a]\n", 9, "exactly one of"),
        (BASE + "  b:\n    worker: w\n    kind: periodic\n    interval: 1h\n    expedited: {}\n", 12,
         "cannot be expedited"),
        (BASE.replace("    class: com.example.W\n", "    class: com.example.W\n    outcomes: [maybe]\n"),
         5, "workers.w.outcomes.0"),
    ],
)
def test_errors_point_at_the_line(text: str, line: int, fragment: str) -> None:
    e = err(text)
    assert e.file == "app.yaml"
    assert e.line == line, str(e)
    assert fragment in e.message, str(e)
    assert str(e).startswith(f"app.yaml:{line}: ")


def test_hooks_resolve_params_and_repeat() -> None:
    m = load_app_model(APPS / "nwm_demo.yaml")
    hook, raw = m.deep_link_hook("nwmdemo://enqueue/load?count=100")  # type: ignore[misc]
    action = hook.resolve(raw)
    assert action.names == ("load-task",) and action.repeat == 100
    assert m.work_with("load-task", action.changes_for(42)).unique.name == "load-42"  # type: ignore[union-attr]
    hook, raw = m.deep_link_hook("nwmdemo://enqueue/upload")  # type: ignore[misc]
    assert hook.resolve(raw).names == ("upload",)
    assert m.deep_link_hook("other://enqueue/upload") is None
    with pytest.raises(ValueError, match="param count"):
        m.deep_link_hook("nwmdemo://enqueue/load?count=lots")[0].resolve({"count": "lots"})  # type: ignore[index]
    plain = load_app_model(APPS / "wm_plain.yaml")
    b = plain.broadcast_hooks("com.example.wmplain.ENQUEUE")[0].resolve({"delay": "5m", "name": "cleanup"})
    assert b.names == ("cleanup",)
    assert plain.work_with("cleanup", b.changes).initial_delay_ms == 300_000


@given(st.text(max_size=200))
def test_arbitrary_text_never_escapes_as_another_error(text: str) -> None:
    try:
        model = load_app_model(text.encode(), "fuzz.yaml")
    except AppModelError as e:
        assert e.line >= 0 and e.message
    else:
        assert isinstance(model, AppModel)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                    max_leaves=12))
def test_arbitrary_structures_in_work_never_escape(value: object) -> None:
    text = BASE + "    constraints: " + json.dumps(value) + "\n"
    try:
        load_app_model(text.encode(), "fuzz.yaml")
    except AppModelError as e:
        assert e.line >= 1


@pytest.mark.parametrize("fixture", ["nwm_demo.yaml", "wm_plain.yaml", "fwm_demo.yaml"])
def test_fixtures_validate_against_the_exported_schema(fixture: str) -> None:
    import jsonschema
    import yaml

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load((APPS / fixture).read_text()))


def test_schema_rejects_what_the_loader_rejects() -> None:
    import jsonschema
    import yaml

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    for text in (BASE + "    kind: sometimes\n", BASE + "    colour: red\n", "label: x\n",
                 BASE + "    initial_delay: soon\n"):
        assert not validator.is_valid(yaml.safe_load(text)), text
        with pytest.raises(AppModelError):
            load_app_model(text.encode(), "x.yaml")


def test_prefix_hooks_and_query_params() -> None:
    text = BASE + (
        "deep_link_schemes: [x]\nhooks:\n  - deep_link: x://open/\n    match: prefix\n"
        "    params: {n: {type: int, default: 2}, late: {type: bool}}\n    enqueue: [a]\n    repeat: '{n}'\n"
    )
    m = load_app_model(text.encode(), "p.yaml")
    hook, raw = m.deep_link_hook("x://open/anything/below?late=true")  # type: ignore[misc]
    action = hook.resolve(raw)
    assert action.repeat == 2 and action.params == {"n": 2, "late": True}
    assert m.deep_link_hook("x://other/") is None
    with pytest.raises(ValueError, match=r"repeat must be 1\.\.10000"):
        hook.resolve({"n": "0"})


@given(st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_.~"),
               min_size=1, max_size=30))
def test_deep_link_capture_takes_one_path_segment(segment: str) -> None:
    m = NWM_MODEL
    found = m.deep_link_hook(f"nwmdemo://enqueue/{segment}")
    assert found is not None
    hook, raw = found
    if segment == "load":
        assert hook.name == "load"
    else:
        assert raw == {"task": segment}
    assert m.deep_link_hook(f"nwmdemo://enqueue/{segment}/more") is None


def test_single_items_where_lists_go_are_accepted_by_loader_and_schema() -> None:
    import jsonschema
    import yaml

    text = BASE.replace("    class: com.example.W\n", "    class: com.example.W\n    outcomes: failure\n") + (
        "    tags: one\nactivities: .Main\n"
    )
    m = load_app_model(text.encode(), "x.yaml")
    assert m.workers["w"].outcomes == ("failure",) and m.work["a"].tags == ("one",)
    assert m.activities == (".Main",)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(text))


_IDLE_DEVICES = """
import io, sys, tempfile
from pathlib import Path
from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync
from harness.sim.ios.simctl import Io, simctl
from harness.sim.ios.state import SimHome

android = VirtualAndroidDevice()
assert run_sync(android, "pm list packages; dumpsys deviceidle; cmd jobscheduler get-job-state x 1")
home = SimHome(Path(tempfile.mkdtemp()))
for argv in (["bgtest", "reset"], ["list", "-j", "devices"], ["bgtest", "clock", "booted"]):
    simctl(argv, Io(io.StringIO(), io.StringIO()), home)
print(sorted(m for m in sys.modules if m == "pydantic" or m.startswith("harness.apps.")))
"""


def test_idle_virtual_devices_do_not_load_the_format() -> None:
    """pydantic is about a third of an idle device's memory: only an app being installed loads it."""
    out = subprocess.run(
        [sys.executable, "-c", _IDLE_DEVICES], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['harness.apps.errors']"
