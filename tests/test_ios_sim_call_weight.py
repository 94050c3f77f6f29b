"""What one ``bgtest-xcrun`` process loads: each call is a process start, so a call imports only
its verb's code, an app's code runs from the plain installed form of its model, and only a hook
that changes the work it enqueues needs the validated model, unpickled (counts of modules, never
times; the times are bench/bench_xcrun_call.py's)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from harness.sim.ios.installed import load_installed

APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "nwm_ios_demo.yaml"
BID = "dev.brewkits.nwmIosDemo"

#: a call reports which modules it ended up with (the xcrun console script runs the same main)
#: (only what the call itself imported: the interpreter's start-up may import more elsewhere)
_PROBE = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "from harness.sim.ios.xcrun import main\n"
    "code = main(sys.argv[1:])\n"
    "import json\n"
    "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(set(sys.modules) - before)) + '\\n')\n"
    "sys.exit(code)\n"
)
#: what no call that runs no app code needs: the app-model stack, the log predicate parser and
#: styles, the screen, the standard modules the stand-in once imported on every call (typing:
#: see harness/sim/ios/__init__.py; hashlib: facts.seeded_uuid)
_NEVER_PLAIN = {
    "pydantic", "yaml", "harness.apps.model", "harness.sim.ios.predicate", "harness.sim.ios.oslog",
    "harness.sim.ios.screen", "harness.sim.ios.simctl_devices", "dataclasses", "inspect", "shutil",
    "uuid", "copy", "typing", "hashlib",
}


def call(home: Path, *argv: str) -> tuple[str, set[str]]:
    env = {**os.environ, "BGTEST_SIM_HOME": str(home), "TZ": "UTC"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    modules = done.stderr.rpartition("\nMODULES ")[2]
    return done.stdout, set(json.loads(modules))


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("weight")
    call(home, "simctl", "bgtest", "reset", "--kind", "device")
    out, _ = call(home, "simctl", "bgtest", "state", "booted")
    udid = json.loads(out)["udid"]
    call(home, "simctl", "install", udid, str(APP))
    return home, udid


@pytest.mark.parametrize(
    "argv",
    [
        ("simctl", "list", "-j", "devices"),
        ("simctl", "spawn", "{u}", "logger", "-t", "bgtest", "bgtest-step-1"),
        ("simctl", "bgtest", "state", "{u}"),
        ("simctl", "bgtest", "state", "{u}", "--mark", "bgtest-step-2"),
        ("simctl", "bgtest", "clock", "{u}", "advance", "10ms"),
        ("simctl", "status_bar", "{u}", "list"),
        ("simctl", "get_app_container", "{u}", BID, "data"),
    ],
    ids=lambda argv: " ".join(a for a in argv[1:3] if a != "{u}"),
)
def test_a_call_without_app_code_imports_only_its_verb(
    phone: tuple[Path, str], argv: tuple[str, ...]
) -> None:
    home, udid = phone
    _, modules = call(home, *(a.replace("{u}", udid) for a in argv))
    assert not modules & _NEVER_PLAIN


def test_an_installed_app_runs_without_the_model_stack(phone: tuple[Path, str]) -> None:
    home, udid = phone
    assert (home / "apps" / udid / f"{BID}.yaml.pickle").is_file()  # made by install
    out, modules = call(home, "simctl", "launch", "--terminate-running-process", udid, BID)
    assert out.startswith(f"{BID}: ")
    assert "harness.sim.ios.apps" in modules and "pydantic" not in modules  # its code ran, plain
    _, modules = call(home, "simctl", "openurl", udid, "nwmios://enqueue/periodic-sync")  # a deep link
    assert "harness.apps.links" in modules and "pydantic" not in modules
    state, _ = call(home, "simctl", "bgtest", "state", udid)
    assert [r["ident"] for r in json.loads(state)["requests"]] == ["dev.brewkits.native_workmanager.refresh"]
    # dasd launches the task an hour on, it runs 2 s and ends: the app's code without pydantic
    _, modules = call(home, "simctl", "bgtest", "clock", udid, "advance", "61m")
    assert "pydantic" not in modules
    log, _ = call(home, "simctl", "spawn", udid, "log", "show", "--style", "compact")
    assert "complete with success: 1" in log


def test_installing_the_same_file_again_validates_nothing(phone: tuple[Path, str]) -> None:
    home, udid = phone  # the fixture installed APP once
    _, modules = call(home, "simctl", "install", udid, str(APP))
    assert "pydantic" not in modules
    out, _ = call(home, "simctl", "appinfo", udid, BID)
    assert "CFBundleExecutable = Runner;" in out


def test_the_runs_app_models_are_validated_when_the_iphone_starts(tmp_path: Path) -> None:
    from harness.sim.ios.launcher import start_ios
    from harness.sim.ios.state import SimHome

    running = start_ios(kind="device", wda_port=0, clock="manual", home=SimHome(tmp_path), app_models=[APP])
    running.stop()
    _, modules = call(tmp_path, "simctl", "install", running.udid, str(APP))  # the scenario's install
    assert "pydantic" not in modules


def test_a_hook_that_changes_its_work_unpickles_the_validated_model(tmp_path: Path) -> None:
    app = APP.parent / "nwm_demo.yaml"  # its load hook sets each work's unique name and tags
    call(tmp_path, "simctl", "bgtest", "reset", "--kind", "device")
    call(tmp_path, "simctl", "install", "booted", str(app))
    _, modules = call(tmp_path, "simctl", "openurl", "booted", "nwmdemo://enqueue/load?count=3")
    assert "harness.apps.model" in modules
    assert not {"yaml", "harness.apps.loader"} & modules  # not read again (the new unique name is
    # validated, as the model does it)
    log, _ = call(tmp_path, "simctl", "spawn", "booted", "log", "show", "--style", "compact")
    assert log.count("handleEnqueue called") == 3


def test_a_stale_or_broken_pickle_is_replaced_by_the_file(tmp_path: Path) -> None:
    path = tmp_path / f"{BID}.yaml"
    path.write_text(APP.read_text())
    pickled = Path(f"{path}.pickle")
    pickled.write_bytes(b"not a pickle")
    assert load_installed(str(path)).bundle_id == BID
    stamp = pickle.loads(pickled.read_bytes())[0]  # rewritten whole
    path.write_text(APP.read_text().replace("bundle_id: dev.brewkits.nwmIosDemo", "bundle_id: dev.x.changed"))
    assert load_installed(str(path)).bundle_id == "dev.x.changed"  # the file changed: parsed again
    assert pickle.loads(pickled.read_bytes())[0] != stamp


def test_a_kept_form_is_stamped_with_all_the_code_that_made_it() -> None:
    """A kept form is used while the code it was made with is unchanged: that is every bgtest
    module validating an app model loads (a duration parser that changed makes another model,
    a snapshot that changed another plain form), not only the app-model package's files."""
    probe = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        "import harness.apps.ios, harness.apps.loader, harness.sim.ios.installed as i\n"
        "made = {m.__file__ for n, m in sys.modules.items() if n.startswith('harness') and n not in before"
        " and not m.__file__.endswith('__init__.py')}\n"
        "print(json.dumps(sorted(made - set(i._code_stamp()))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         timeout=60)
    assert json.loads(out.stdout) == []


class _Planted:
    """What someone else could leave in a sim home they may write in: a pickle that runs code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (str(self.marker), "w"))


def test_a_pickle_others_could_have_written_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / f"{BID}.yaml"
    path.write_text(APP.read_text())
    assert load_installed(str(path)).bundle_id == BID
    pickled = Path(f"{path}.pickle")
    assert pickled.stat().st_mode & 0o777 == 0o600  # made private
    marker = tmp_path / "ran"
    pickled.write_bytes(pickle.dumps(_Planted(marker)))
    pickled.chmod(0o666)  # (a file of another user cannot be made here: one anybody may write)
    assert load_installed(str(path)).bundle_id == BID  # parsed again
    assert not marker.exists()
