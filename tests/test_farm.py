"""Device farms: leases, several devices and servers, explicit targets that never fall back, shards.

End to end through the real adb server (the binary adbutils ships, on private ports) and
virtual devices; `bgtest run` as a user runs it, in a subprocess.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.devices.adb_server import AdbServer, free_port
from harness.devices.lease import DeviceLeases
from harness.devices.pool import Candidate, android_candidates
from harness.errors import DeviceError
from harness.run import shards
from harness.sim.android.launcher import VirtualAndroidFarm

ROOT = Path(__file__).resolve().parents[1]
BGTEST = [sys.executable, "-m", "harness.cli"]
DEMO = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"


def bgtest(
    *args: str, tmp: Path, timeout: float = 300, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **(extra_env or {}))
    env["ANDROID_ADB_SERVER_PORT"] = str(free_port())  # nothing where bgtest looks by default
    env["XDG_RUNTIME_DIR"] = str(tmp)  # this test's own leases
    env["COLUMNS"] = "250"
    return subprocess.run(
        [*BGTEST, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture()
def server() -> Iterator[AdbServer]:
    """A server of this test's own: the session one may hold other tests' devices."""
    srv = AdbServer.start_private()
    try:
        yield srv
    finally:
        srv.stop()


# ------------------------------------------------------------------ explicit targets


def test_an_unreachable_adb_server_is_an_error_never_a_virtual_phone(tmp_path: Path) -> None:
    port = free_port()
    proc = bgtest("run", "scenarios/retry_backoff.yaml", "--adb-server", f"127.0.0.1:{port}",
                  "--report", str(tmp_path / "r"), tmp=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert f"<adb-server 127.0.0.1:{port}> no adb server answers there" in out
    assert "started a virtual one" not in out


def test_a_named_server_without_devices_is_an_error(tmp_path: Path, server: AdbServer) -> None:
    proc = bgtest("run", "scenarios/retry_backoff.yaml", "--adb-server", f"127.0.0.1:{server.port}",
                  "--report", str(tmp_path / "r"), tmp=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "has no device online" in out and "started a virtual one" not in out


def test_a_named_device_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    proc = bgtest("run", "scenarios/retry_backoff.yaml", "--device", "R58M123ABC",
                  "--report", str(tmp_path / "r"), tmp=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "<R58M123ABC> is not attached" in out and "started a virtual one" not in out


# ------------------------------------------------------------------ candidates across servers


def test_candidates_span_servers_and_filter_by_serial_and_glob() -> None:
    first, second = AdbServer.start_private(), AdbServer.start_private()
    try:
        with VirtualAndroidFarm(count=2, adb_server=first) as a, VirtualAndroidFarm(
            count=2, adb_server=second
        ) as b:
            servers = f"127.0.0.1:{first.port},127.0.0.1:{second.port}"
            found = android_candidates(servers, None)
            assert sorted(c.serial for c in found) == sorted(a.serials + b.serials)
            assert {c.port for c in found} == {first.port, second.port}
            one = android_candidates(servers, b.serials[1])
            assert [(c.serial, c.port) for c in one] == [(b.serials[1], second.port)]
            assert len(android_candidates(servers, "127.0.0.1:*")) == 4
            with pytest.raises(DeviceError, match="matches no online device"):
                android_candidates(servers, "emulator-*")
    finally:
        first.stop()
        second.stop()


# ------------------------------------------------------------------ leases


def _hold_in_child(root: Path, candidate: Candidate) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from harness.devices.lease import DeviceLeases
        from harness.devices.pool import Candidate
        lease = DeviceLeases(Path({str(root)!r})).try_acquire([Candidate({candidate.serial!r}, "h", 1)])
        print("held" if lease else "busy", flush=True)
        sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_device_leased_by_another_process_is_skipped_and_freed_by_its_death(tmp_path: Path) -> None:
    a, b = Candidate("A", "h", 1), Candidate("B", "h", 1)
    leases = DeviceLeases(tmp_path)
    child = _hold_in_child(tmp_path, a)
    try:
        lease = leases.try_acquire([a, b])
        assert lease is not None and lease.candidate == b
        assert leases.try_acquire([a, b]) is None  # both taken now
        with pytest.raises(DeviceError, match="every device is leased"):
            leases.acquire([a], timeout_s=0.0)
        lease.release()
        lease.release()  # idempotent
    finally:
        child.send_signal(signal.SIGKILL)  # a SIGKILLed holder leaves nothing locked
        child.wait()
    again = leases.try_acquire([a])
    assert again is not None and again.candidate == a


def test_leases_rotate_to_the_least_recently_used_device(tmp_path: Path) -> None:
    leases = DeviceLeases(tmp_path)
    pool = [Candidate(s, "h", 1) for s in ("A", "B", "C")]
    used = []
    for _ in range(6):
        lease = leases.try_acquire(pool)
        assert lease is not None
        used.append(lease.candidate.serial)
        os.utime(leases._path(lease.candidate), (len(used), len(used)))  # distinct mtimes
        lease.release()
    assert sorted(used[:3]) == ["A", "B", "C"] and used[3:] == used[:3]


# ------------------------------------------------------------------ a farm run


def _scenarios(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        (folder / f"s{i}.yaml").write_text(
            textwrap.dedent(
                f"""\
                name: farm scenario {i}
                app: {{model: nwm_demo}}
                platforms: [android]
                steps:
                  - launch: {{deep_link: "nwmdemo://enqueue/flaky"}}
                  - expect: {{task: flaky, state: succeeded, within: 10m}}
                """
            )
        )
    return folder


def test_a_farm_run_leases_every_device_to_one_worker_at_a_time(tmp_path: Path, server: AdbServer) -> None:
    """Two adb servers (two hosts of a farm), two devices each, two workers: every device used,
    and no two scenarios ever on one device at once — on a device, the scenarios' device-time
    spans never overlap (a shared device would interleave them and mix their journals)."""
    flows = _scenarios(tmp_path / "flows", 6)
    other = AdbServer.start_private()
    try:
        with VirtualAndroidFarm(count=2, adb_server=server, app_models=[DEMO]) as a, VirtualAndroidFarm(
            count=2, adb_server=other, app_models=[DEMO]
        ) as b:
            report = tmp_path / "report"
            proc = bgtest("run", str(flows), "--adb-server", f"127.0.0.1:{server.port}", "--adb-server",
                          f"127.0.0.1:{other.port}", "-n", "2", "--report", str(report), tmp=tmp_path)
            out = proc.stdout + proc.stderr
            assert proc.returncode == 0, out
            assert "started a virtual one" not in out
            results = json.loads((report / "results.json").read_text())
            assert sorted(r["name"] for r in results) == [f"farm scenario {i}" for i in range(6)]
            assert {r["status"] for r in results} == {"passed"}
            assert {r["device"]["serial"] for r in results} == set(a.serials + b.serials)
            assert all(0 < r["device_start_ms"] <= r["device_end_ms"] for r in results)
            for serial in a.serials + b.serials:
                spans = sorted((r["device_start_ms"], r["device_end_ms"]) for r in results
                               if r["device"]["serial"] == serial)
                assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans)), spans
    finally:
        other.stop()


# ------------------------------------------------------------------ shards


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.integers(0, 60).map(str), unique=True, max_size=30),
    st.integers(1, 6),
    st.dictionaries(st.integers(0, 60).map(str), st.floats(0, 1000), max_size=20),
)
def test_shards_cover_every_scenario_exactly_once(ids: list[str], count: int, durations: dict) -> None:
    for timed in (None, durations):
        parts = [shards.select(ids, str, i, count, timed) for i in range(1, count + 1)]
        assert sorted(x for part in parts for x in part) == sorted(ids)
        assert parts == [shards.select(list(ids), str, i, count, timed) for i in range(1, count + 1)]


def test_durations_balance_the_shards() -> None:
    durations = {"a": 100.0, "b": 60.0, "c": 50.0, "d": 40.0, "e": 10.0}
    parts = [shards.select(list(durations), str, i, 2, durations) for i in (1, 2)]
    loads = sorted(sum(durations[x] for x in part) for part in parts)
    assert loads == [120.0, 140.0]  # the best split of these five (no 130/130 exists)


def test_shards_through_pytest_split_the_bundled_scenarios(tmp_path: Path) -> None:
    seen: list[str] = []
    for index in (1, 2, 3):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q", "-p", "no:xdist",
             "--bgtest-shard", f"{index}/3"],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        seen += [line for line in proc.stdout.splitlines() if line.startswith("scenarios/")]
    everything = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q", "-p", "no:xdist"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    all_items = [line for line in everything.stdout.splitlines() if line.startswith("scenarios/")]
    assert len(all_items) >= 13 and sorted(seen) == sorted(all_items)


def test_a_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    proc = bgtest("run", "scenarios/", "--shard-index", "4", "--shard-count", "3", tmp=tmp_path)
    assert proc.returncode == 2 and "1 <= I <= N" in proc.stderr
    proc = bgtest("run", "scenarios/", "--shard-index", "1", tmp=tmp_path)
    assert proc.returncode == 2 and "go together" in proc.stderr


def test_shards_run_apart_and_merge_into_one_report(tmp_path: Path) -> None:
    flows = _scenarios(tmp_path / "flows", 4)
    for index in (1, 2):
        shard = tmp_path / f"shard{index}"
        proc = bgtest("run", str(flows), "--shard-index", str(index), "--shard-count", "2",
                      "--report", str(shard), "--junit", str(shard / "junit.xml"), tmp=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert len(json.loads((shard / "results.json").read_text())) == 2
    out = tmp_path / "merged"
    proc = bgtest("report", "merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"), "--out", str(out),
                  tmp=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert sorted(r["name"] for r in results) == [f"farm scenario {i}" for i in range(4)]
    suites = ET.parse(out / "junit.xml").getroot()
    assert suites.tag == "testsuites" and suites.get("tests") == "4" and suites.get("failures") == "0"
    assert len(list(suites.iter("testcase"))) == 4
    assert "farm scenario 3" in (out / "index.html").read_text()


def test_merging_a_folder_that_is_no_report_is_exit_2(tmp_path: Path) -> None:
    proc = bgtest("report", "merge", str(tmp_path), "--out", str(tmp_path / "o"), tmp=tmp_path)
    assert proc.returncode == 2 and "no results.json" in proc.stderr
