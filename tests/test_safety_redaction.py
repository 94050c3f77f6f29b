"""Secrets never reach an artifact, a report or the console (issue #11, point 4), as attacks.

A failing run carries a bearer token, cookies, an ``api_key`` and a secret var from the
environment in deep links, extras, vars and the app's own log lines; afterwards every file
of the report folder, the JUnit XML and everything printed is grepped: zero hits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.devices.adb_server import AdbServer, free_port
from harness.report.redaction import MASK, Redactor, is_secret_name, secret_values
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]

_TOKEN = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=8, max_size=40
)


@given(
    token=_TOKEN,
    frame=st.sampled_from(
        [
            "Authorization: Bearer {t}",
            "authorization: {t}",
            "Proxy-Authorization: Basic {t}",
            "Cookie: sid={t}; theme=dark",
            "Set-Cookie: sid={t}; HttpOnly",
            "GET https://api.example.com/v1/items?page=2&api_key={t}&q=x",
            "nwmdemo://enqueue/upload?token={t}",
            "POST body: user=bob&password={t}&remember=1",
            "{{'Authorization': 'Bearer {t}', 'Accept': 'json'}}",
            '{{"access_token": "{t}", "expires": 3600}}',
            "am start -W -a android.intent.action.VIEW --es api_key {t} --ei n 3",
            "extras {{'client_secret': '{t}'}}",
            "I/Upload: sending with key={t}",
            "retry with refresh_token={t}",
        ]
    ),
)
def test_every_known_form_of_a_secret_is_masked(token: str, frame: str) -> None:
    line = frame.format(t=token)
    clean = Redactor().text(line)
    assert token not in clean and MASK in clean


@given(
    secret=st.text(min_size=6, max_size=30).filter(lambda s: s.strip() == s and s), noise=st.text(max_size=40)
)
def test_a_secret_value_is_masked_wherever_it_appears(secret: str, noise: str) -> None:
    redactor = Redactor(secrets=[secret])
    assert secret not in redactor.text(noise + secret + noise + secret)


def test_ordinary_text_is_left_alone() -> None:
    line = "I/WM-WorkerWrapper: Worker result SUCCESS for Work [ id=7, tags={ keyboard, monkey } ]"
    assert Redactor().text(line) == line


def test_user_patterns_mask_their_group_or_the_whole_match() -> None:
    redactor = Redactor(patterns=[r"pin=(\d+)", r"sk_live_\w+"])
    assert redactor.text("pin=1234 and sk_live_abcdef") == f"pin={MASK} and {MASK}"


def test_secret_names_and_values_from_vars_and_the_environment() -> None:
    assert is_secret_name("API_TOKEN") and is_secret_name("api_key") and is_secret_name("password")
    assert not is_secret_name("monkey") and not is_secret_name("task")
    found = secret_values({"upload_token": "tok-123456", "task": "upload"}, {"MY_SECRET": "s3cr3t-value"})
    assert found == ["tok-123456", "s3cr3t-value"]


def test_json_keeps_its_shape_but_not_its_secrets() -> None:
    data = {"tasks": {"token-refresh": {"counts": {"succeeded": 1}}}, "extras": {"api_key": 12345678}}
    assert Redactor().data(data) == {
        "tasks": {"token-refresh": {"counts": {"succeeded": 1}}},
        "extras": {"api_key": MASK},
    }


# --------------------------------------------------------------------------- end to end
BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg.S1gN4tUr3"
COOKIE = "sess-8c1f9a77d2"
API_KEY = "AKIAZX81Q9FAKEKEY"
ENV_SECRET = "env-provided-upload-password"
USER_SECRET = "ZZ-internal-9911"
SECRETS = (BEARER, COOKIE, API_KEY, ENV_SECRET, USER_SECRET)


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(
        adb_server=adb_server, app_models=[ROOT / "fixtures" / "apps" / "nwm_demo.yaml"]
    ) as f:
        yield f


def test_a_failing_run_leaks_no_secret_into_any_artifact_or_the_console(
    farm: VirtualAndroidFarm, adb_server: AdbServer, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenarios" / "leaky.yaml"
    scenario.parent.mkdir()
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    scenario.write_text(
        "defaults:\n"
        "  redact: ['ZZ-internal-\\d+']\n"
        "---\n"
        "name: upload with credentials fails offline\n"
        "app: {model: nwm_demo}\n"
        "vars:\n"
        "  upload_password: ${env:UPLOAD_PASSWORD}\n"
        f"  plain_token: {BEARER}\n"
        "steps:\n"
        f"  - launch: {{deep_link: 'nwmdemo://enqueue/upload?api_key={API_KEY}&pw=${{upload_password}}'}}\n"
        "  - broadcast: {action: dev.brewkits.nwm_demo.ENQUEUE,\n"
        f"      extras: {{task: upload, api_key: {API_KEY}, note: '${{upload_password}}'}}}}\n"
        f"  - shell: [log, -t, UploadClient, 'Authorization: Bearer {BEARER}']\n"
        f"  - shell: [log, -t, UploadClient, 'Cookie: sid={COOKIE}; theme=dark']\n"
        "  - shell: [log, -t, UploadClient, 'ZZ-internal-9911 pw ${upload_password} t ${plain_token}']\n"
        "  - network: airplane\n"
        "  - expect: {task: upload, state: succeeded, within: 2m}\n"
    )
    junit = tmp_path / "junit.xml"
    report = tmp_path / "report"
    env = dict(os.environ, UPLOAD_PASSWORD=ENV_SECRET, ANDROID_ADB_SERVER_PORT=str(free_port()))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            str(scenario),
            "--device",
            farm.serials[0],
            "--adb-server",
            f"127.0.0.1:{adb_server.port}",
            "--report",
            str(report),
            "--junit",
            str(junit),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    files = [p for p in report.rglob("*") if p.is_file()] + [junit]
    names = {p.name for p in files}
    assert {
        "journal.txt",
        "failing-window.txt",
        "manifest.json",
        "results.json",
        "index.html",
        "junit.xml",
    } <= names
    journal = next(p for p in files if p.name == "journal.txt").read_text()
    assert "UploadClient" in journal and MASK in journal  # the lines are there, their secrets are not
    hits = {
        (where, secret)
        for where, text in [("stdout", proc.stdout), ("stderr", proc.stderr)]
        + [(str(p.relative_to(tmp_path)), p.read_bytes().decode("utf-8", "replace")) for p in files]
        for secret in SECRETS
        if secret in text
    }
    assert hits == set()


def test_the_working_folder_is_not_a_password() -> None:
    """PWD matches the `pwd` (password) name, but it is the shell's working folder."""
    env = {"PWD": "/home/me/project", "OLDPWD": "/home/me", "DB_PASSWORD": "hunter2-long"}
    env["pwd"] = "x-long-pwd"  # a lower-case pwd is someone's own variable: still masked
    assert secret_values({}, env) == ["hunter2-long", "x-long-pwd"]


def test_a_path_in_a_secret_named_variable_is_where_the_secret_lives_not_the_secret() -> None:
    env = {"PASSWORD_STORE_DIR": "/home/me/.password-store", "API_TOKEN": "tok-abcdef123"}
    assert secret_values({}, env) == ["tok-abcdef123"]
