"""Issue 13 end to end below the scenario language: the virtual device's apps really do HTTP
through the real fault proxy, reached with ``adb reverse`` through the real adb server and
the global proxy setting; their results follow the answers; the state guard puts the proxy
setting and the reverse rule back. Device time only: every wait is a clock advance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.devices.base import Facet
from harness.errors import DeviceError
from harness.network.proxy import FaultProxy
from harness.network.rules import RuleSet
from harness.run import exits
from harness.run.guard import StateGuard
from harness.sim.android.launcher import VirtualAndroidFarm

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
RESULT_TAG = "KMP_WorkManager"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProxy]:
    p = FaultProxy(confdir=tmp_path_factory.mktemp("proxy-ca"))
    p.start()
    yield p
    p.stop()


@pytest.fixture()
def device(adb_server: AdbServer, proxy: FaultProxy) -> Iterator[AndroidDevice]:
    proxy.set_rules([])
    proxy.log.reset()
    with VirtualAndroidFarm(count=1, adb_server=adb_server, app_models=[APPS / "nwm_demo.yaml"]) as farm:
        yield AndroidDevice(farm.serials[0], port=adb_server.port)


def _enqueue(device: AndroidDevice, task: str) -> None:
    device.sh(["am", "start", "-a", "android.intent.action.VIEW", "-d", f"nwmdemo://enqueue/{task}"])


def _advance(device: AndroidDevice, times: int, step: str = "1m") -> None:
    for _ in range(times):
        device.sh(["cmd", "bgtest", "clock", "advance", step])


def _results(device: AndroidDevice) -> list[str]:
    """The worker results the app logged, as ``HH:MM:SS message``."""
    lines = device.out(["logcat", "-d", "-s", f"{RESULT_TAG}:*"]).splitlines()
    return [f"{line.split()[1][:8]} {line.split(' — ', 1)[1]}" for line in lines if " — " in line]


def test_a_failing_server_makes_the_worker_retry_for_real_until_it_recovers(
        device: AndroidDevice, proxy: FaultProxy, adb_server: AdbServer) -> None:
    proxy.set_rules(RuleSet.parse([
        {"host": "api.example.com", "method": "POST", "path": "/upload",
         "respond": [503, "timeout", "reset", 201]}]))
    device.route_to_proxy(proxy.port)
    assert f"tcp:{proxy.port}" in adb_server.adb("-s", device.serial, "reverse", "--list").stdout
    _enqueue(device, "upload")
    _advance(device, 6, "1m")
    # 5 s of doWork each; the timeout is the call's 30 s; WorkManager's backoff 30 s, 60 s, 120 s
    assert _results(device) == [
        "09:00:05 HTTP 503",
        "09:01:10 java.net.SocketTimeoutException: timeout",
        "09:02:15 java.net.SocketException: Connection reset",
        "09:04:20 HTTP 201",
    ]
    records = proxy.log.records
    assert [(r.outcome, r.attempt) for r in records] == [("503", 1), ("timeout", 2), ("reset", 3), ("201", 4)]
    # stamped with device time: the second attempt starts after 5 s of work + 30 s of backoff
    assert (records[1].time_ns - records[0].time_ns) // 1_000_000 == 35_000
    assert records[0].url == "https://api.example.com/upload"


def test_latency_is_device_time_and_the_clients_timeout_decides(
        device: AndroidDevice, proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([
        {"host": "api.example.com", "path": "/upload", "respond": 201, "latency": "20s"},
        {"host": "api.example.com", "path": "/sync", "respond": 200, "latency": "45s"},
    ]))
    device.route_to_proxy(proxy.port)
    _enqueue(device, "upload")
    _advance(device, 1, "1m")
    assert _results(device) == ["09:00:25 HTTP 201"]  # 20 s on the wire + 5 s of work, under 30 s
    _enqueue(device, "periodic-sync")
    _advance(device, 2, "1m")
    assert _results(device)[1] == "09:01:32 java.net.SocketTimeoutException: timeout"  # 30 s + 2 s


def test_without_adb_reverse_the_proxy_is_refused_and_nothing_reaches_it(
        device: AndroidDevice, proxy: FaultProxy) -> None:
    device.set_http_proxy(f"127.0.0.1:{proxy.port}")  # the setting, but no reverse rule
    _enqueue(device, "upload")
    _advance(device, 1)
    result = _results(device)[0]
    assert "ConnectException" in result and "refused" in result
    assert proxy.log.records == []


def test_the_guard_restores_the_proxy_setting_and_removes_the_reverse_rule(
        device: AndroidDevice, proxy: FaultProxy, adb_server: AdbServer) -> None:
    guard = StateGuard(device, [])
    guard.before(frozenset({Facet.PROXY}))
    assert guard.saved is not None and guard.saved.http_proxy == "null"  # type: ignore[attr-defined]
    device.route_to_proxy(proxy.port)
    assert device.snapshot().http_proxy == f"127.0.0.1:{proxy.port}"
    report = guard.restore()
    assert report == ["http proxy none", f"adb reverse tcp:{proxy.port} removed"]
    assert device.snapshot().http_proxy == "null"
    assert adb_server.adb("-s", device.serial, "reverse", "--list").stdout.strip() == ""


def test_a_left_over_proxy_is_repaired_from_the_setting_alone(
        device: AndroidDevice, proxy: FaultProxy, adb_server: AdbServer) -> None:
    """A run that died left the setting and the rule; the next run's driver never made them."""
    saved = device.snapshot()
    AndroidDevice(device.serial, port=adb_server.port).route_to_proxy(proxy.port)
    fresh = AndroidDevice(device.serial, port=adb_server.port)
    report = fresh.restore(saved, facets={Facet.PROXY})
    assert report == ["http proxy none", f"adb reverse tcp:{proxy.port} removed"]
    assert adb_server.adb("-s", device.serial, "reverse", "--list").stdout.strip() == ""


def test_a_device_that_refuses_reverse_is_one_clear_error(adb_server: AdbServer) -> None:
    gone = AndroidDevice("emulator-5999", port=adb_server.port)
    gone.wire.reconnect_timeout = 0.05  # not worth waiting for: it never existed
    with pytest.raises(DeviceError) as info:
        gone.route_to_proxy(8080)
    assert info.value.device == "emulator-5999"
    assert "`adb reverse tcp:8080 tcp:8080` was refused" in info.value.message
    assert exits.for_error(info.value) == exits.INFRASTRUCTURE
