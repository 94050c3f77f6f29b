"""Issue 13 in the scenario language: ``server:`` rules and ``network:`` quality, run on the
virtual device through the real adb server and the real proxy. The bundled poor-network
scenarios pass; a typo'd rule, a wrong retry policy and bad input each fail with a message
that says where and what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.result import ScenarioResult
from harness.run.runner import ScenarioRunner
from harness.run.session import app_under_test
from harness.scenario.errors import ScenarioError
from harness.scenario.loader import load_file, load_text
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "fixtures" / "apps"
BUNDLED = sorted((ROOT / "scenarios").glob("poor_network_*.yaml"))


@pytest.fixture(scope="module")
def device(adb_server: AdbServer) -> Iterator[AndroidDevice]:
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[APPS / "nwm_demo.yaml"]) as farm:
        yield AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)


def _run(device: AndroidDevice, text: str, base_dir: Path = ROOT / "scenarios",
         artifacts: Path | None = None) -> ScenarioResult:
    (scenario,) = load_text(text, file=str(base_dir / "inline.yaml"), base_dir=base_dir)
    app = app_under_test(scenario, "android")
    return ScenarioRunner(scenario, device, app, artifacts_dir=artifacts).run()


def test_seven_or_more_bundled_poor_network_scenarios() -> None:
    assert len(BUNDLED) >= 7
    for path in BUNDLED:
        (scenario,) = load_file(path)
        assert "poor-network" in scenario.tags, path.name


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_a_bundled_poor_network_scenario_passes_on_the_virtual_device(
        device: AndroidDevice, path: Path) -> None:
    (scenario,) = load_file(path)
    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android")).run()
    assert result.status == "passed", result.failure
    assert "http proxy none" in result.restored  # the guard put the device back


def test_a_rule_that_matches_nothing_fails_the_scenario_and_says_where(device: AndroidDevice) -> None:
    result = _run(device, """name: typo
app: {model: nwm_demo}
steps:
  - server:
      - {host: api.example.com, path: /upload, respond: 201}
      - {host: api.exmaple.com, path: /sync, respond: 503}
  - launch: nwmdemo://enqueue/upload
  - expect: {task: upload, state: succeeded, within: 5m}
""")
    assert result.status == "failed"
    assert result.failure.startswith("server rules that matched no request:")
    assert "inline.yaml:4: rule 2 (api.exmaple.com/sync → [503]) matched no request" in result.failure
    assert all(step.status == "passed" for step in result.steps)  # every step held; the rule did not


def test_a_wrong_retry_policy_in_the_app_model_fails_the_right_expectation(
        adb_server: AdbServer, tmp_path: Path) -> None:
    """An app that retries a 401 (retry_on: 4xx) is caught by the scenario that says it must not."""
    apps = tmp_path / "fixtures" / "apps"
    apps.mkdir(parents=True)
    model = (APPS / "nwm_demo.yaml").read_text()
    wrong = model.replace(
        '      - {method: POST, url: "https://api.example.com/upload", status: 201, body: 256KB}\n',
        '      - {method: POST, url: "https://api.example.com/upload?api_key=S3CRET", status: 201}\n'
        "    retry_on: [5xx, 4xx]\n")
    assert wrong != model
    (apps / "nwm_wrong.yaml").write_text(wrong)
    text = (ROOT / "scenarios" / "poor_network_client_errors.yaml").read_text().replace(
        "app: {model: nwm_demo}", "app: {model: nwm_wrong}")
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[apps / "nwm_wrong.yaml"]) as farm:
        device = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
        result = _run(device, text, base_dir=tmp_path, artifacts=tmp_path / "out")
    assert result.status == "failed"
    assert "inline.yaml:16: expect upload failed, within 2m" in result.failure
    assert "seen 0 time(s)" in result.failure
    assert re.search(r"\+5s retried .*Worker result RETRY", result.failure)  # what it did instead
    # and what the network did to it, in the proxy's words (the key is redacted there too)
    assert re.search(r"the server at api\.example\.com: POST /upload answered 401 \d+× \(proxy records at "
                     r"device \+0s, \+", result.failure), result.failure
    journal = "".join(p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*.txt"))
    assert "bgtest-proxy" in journal and "S3CRET" not in journal  # a token in a URL is redacted


def test_a_timeout_the_app_gives_up_on_is_named_in_the_failure(adb_server: AdbServer, tmp_path: Path) -> None:
    """The failure quotes what the proxy did (issue 13): the upload's first request got no
    answer, so its client timed out — and the app failed the work instead of retrying it."""
    apps = tmp_path / "fixtures" / "apps"
    apps.mkdir(parents=True)
    upload = '      - {method: POST, url: "https://api.example.com/upload", status: 201, body: 256KB}\n'
    model = (APPS / "nwm_demo.yaml").read_text()
    assert upload in model
    (apps / "gives_up.yaml").write_text(model.replace(upload, upload + "    on_network_error: failure\n"))
    text = (ROOT / "scenarios" / "poor_network_timeout.yaml").read_text().replace(
        "app: {model: nwm_demo}", "app: {model: gives_up}")
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[apps / "gives_up.yaml"]) as farm:
        device = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
        result = _run(device, text, base_dir=tmp_path)
    assert result.status == "failed"
    assert "expect upload succeeded, within 5m" in result.failure
    network = result.failure.split("what the network did (bgtest's proxy):\n", 1)[1]
    said = "the server at api.example.com: POST /upload timed out 1× (proxy records at device +0s)"
    assert network.split("  device state:")[0].strip() == said


@pytest.mark.parametrize(("step", "message"), [
    ("server: [{host: api.example.com, respond: slow}]", "or one of pass, timeout, reset, dns"),
    ("server: [{host: api.example.com, status: 503}]", "status"),
    ("server: [{respond: 503}]", "must name a host, a method or a path"),
    ("server: sometimes", "not a server rule list"),
    ("network: {loss: lots}", "write a share such as 30%"),
    ("network: {bandwidth: fast}", "64kbps"),
])
def test_bad_network_input_is_one_message_at_its_line(step: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(f"name: bad\napp: {{model: nwm_demo}}\nsteps:\n  - {step}\n", "bad.yaml",
                  base_dir=ROOT / "scenarios")
    (diag,) = info.value.diagnostics
    assert diag.line == 4 and message in diag.message, diag.message


def test_server_rules_on_ios_are_refused_before_anything_runs() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text("name: ios\nplatforms: [ios]\napp: {model: nwm_demo}\nsteps:\n"
                  "  - server: [{host: api.example.com, respond: 503}]\n", "ios.yaml",
                  base_dir=ROOT / "scenarios")
    assert "server" in info.value.render() and "ios" in info.value.render()
