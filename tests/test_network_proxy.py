"""The fault-injecting proxy, driven by real clients (urllib, requests) against a real local
HTTP server on loopback: sequences, fixed statuses, latency, timeouts, resets, DNS failure,
bandwidth, device-time stamps, records, redaction, unmatched rules, a busy port."""

from __future__ import annotations

import http.server
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.network.proxy import FaultProxy, ProxyError
from harness.network.records import PROXY_TAG, redact_url
from harness.network.rules import Answer, RuleError, RuleSet, parse_bandwidth
from harness.network.virtual_time import DELAY_HEADER, DEVICE_TIME_HEADER


class _Upstream(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []  # noqa: RUF012 - one list per server, see fixture

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        body = b"x" * 1000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[http.server.ThreadingHTTPServer]:
    handler = type("Handler", (_Upstream,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("proxy-ca")


@pytest.fixture(scope="module")
def running_proxy(confdir: Path) -> Iterator[FaultProxy]:
    proxy = FaultProxy(confdir=confdir)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy(running_proxy: FaultProxy) -> FaultProxy:
    running_proxy.set_rules([])
    running_proxy.log.reset()
    return running_proxy


def _opener(proxy: FaultProxy) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))


def _status(opener: urllib.request.OpenerDirector, url: str, **kw: object) -> int:
    try:
        with opener.open(url, **kw) as resp:  # type: ignore[arg-type]
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_sequence_answers_in_order_and_the_last_repeats(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "api.example.com", "path": "/sync", "respond": [503, 503, 200]}]))
    opener = _opener(proxy)
    got = [_status(opener, "http://api.example.com/sync") for _ in range(4)]
    assert got == [503, 503, 200, 200]
    recs = proxy.log.records
    assert [(r.outcome, r.attempt, r.rule) for r in recs] == [
        ("503", 1, 1), ("503", 2, 1), ("200", 3, 1), ("200", 4, 1)]
    assert recs[0].message().startswith("GET http://api.example.com/sync 503 attempt=1 ")


def test_fixed_statuses_by_method_and_path(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([
        {"host": "*.example.com", "method": "POST", "path": "/upload", "respond": 401},
        {"host": "*.example.com", "path": "/gone/*", "respond": 404},
    ]))
    opener = _opener(proxy)
    post = urllib.request.Request("http://api.example.com/upload", data=b"{}", method="POST")
    assert _status(opener, post) == 401  # type: ignore[arg-type]
    assert _status(opener, "http://cdn.example.com/gone/file.zip") == 404
    assert proxy.unmatched() == []


def test_pass_through_reaches_the_real_server_with_added_latency(
        proxy: FaultProxy, upstream: http.server.ThreadingHTTPServer) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "127.0.0.1", "latency": "150ms"}]))
    url = f"http://127.0.0.1:{upstream.server_port}/data"
    with _opener(proxy).open(url) as resp:
        assert resp.read() == b"x" * 1000
    (rec,) = proxy.log.records
    assert rec.status == 200 and rec.rule == 1
    assert rec.duration_ms is not None and rec.duration_ms >= 150  # the real wait happened


def test_no_rule_passes_through_and_is_recorded(
        proxy: FaultProxy, upstream: http.server.ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{upstream.server_port}/plain"
    assert requests.get(url, proxies={"http": proxy.url}, timeout=10).status_code == 200
    (rec,) = proxy.log.records
    assert (rec.outcome, rec.rule) == ("200", None)
    assert rec.message().endswith("rule=-")


def test_an_answer_that_never_comes_runs_into_the_clients_timeout(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "api.example.com", "respond": "timeout"}]))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get("http://api.example.com/slow", proxies={"http": proxy.url}, timeout=0.3)
    assert _wait_for_records(proxy, 1)
    (rec,) = proxy.log.records
    assert rec.outcome == "timeout" and rec.status is None


def test_reset_closes_the_connection_under_the_request(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "api.example.com", "respond": ["reset", 200]}]))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://api.example.com/x", proxies={"http": proxy.url}, timeout=10)
    again = requests.get("http://api.example.com/x", proxies={"http": proxy.url}, timeout=10)
    assert again.status_code == 200
    _wait_for_records(proxy, 2)
    assert [r.outcome for r in proxy.log.records] == ["reset", "200"]


def test_dns_failure_is_the_proxys_502(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "api.example.com", "respond": "dns"}]))
    resp = requests.get("http://api.example.com/x", proxies={"http": proxy.url}, timeout=10)
    assert resp.status_code == 502 and "Name or service not known" in resp.text


def test_a_virtual_device_stamp_means_no_real_wait_and_device_time_in_the_record(
        proxy: FaultProxy, upstream: http.server.ThreadingHTTPServer) -> None:
    proxy.set_rules(RuleSet.parse([
        {"host": "127.0.0.1", "latency": "2h", "bandwidth": "1KB/s"},
        {"host": "api.example.com", "respond": "timeout"},
    ]))
    stamp = {DEVICE_TIME_HEADER: "1767603600000"}
    url = f"http://127.0.0.1:{upstream.server_port}/v"
    resp = requests.get(url, proxies={"http": proxy.url}, headers=stamp, timeout=10)  # a 2h sleep would hang
    assert resp.status_code == 200
    delay = int(resp.headers[DELAY_HEADER])
    assert 7_200_000 + 1000 < delay < 7_200_000 + 2000  # latency + ~1 KB at 1 KB/s
    assert DEVICE_TIME_HEADER not in upstream.RequestHandlerClass.seen[-1]  # never forwarded
    never = requests.get("http://api.example.com/t", proxies={"http": proxy.url}, headers=stamp, timeout=10)
    assert never.headers[DELAY_HEADER] == "never"
    first, second = proxy.log.records
    assert first.time_ns == 1_767_603_600_000 * 1_000_000 and first.duration_ms == delay
    assert (second.outcome, second.duration_ms) == ("timeout", None)


def test_https_is_intercepted_with_the_proxys_ca(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "api.example.com", "path": "/secure", "respond": [403]}]))
    resp = requests.get("https://api.example.com/secure", proxies={"https": proxy.url},
                        verify=str(proxy.ca_cert_path), timeout=10)
    assert resp.status_code == 403
    assert proxy.log.records[0].url == "https://api.example.com/secure"


def test_a_rule_that_matched_nothing_is_reported(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([
        {"host": "api.example.com", "respond": 200},
        {"host": "api.exmaple.com", "respond": 503},  # the typo
    ]))
    _status(_opener(proxy), "http://api.example.com/sync")
    (unused,) = proxy.unmatched()
    assert unused.host == "api.exmaple.com" and unused.where == "rule 2"


def test_secrets_in_urls_are_redacted_in_records(proxy: FaultProxy) -> None:
    proxy.set_rules(RuleSet.parse([{"host": "api.example.com", "respond": 200}]))
    _status(_opener(proxy), "http://api.example.com/sync?access_token=s3cret&page=2&api_key=k")
    rec = proxy.log.records[0]
    assert "s3cret" not in rec.message() and "=k " not in rec.message()
    assert "page=2" in rec.url
    assert rec.to_log_record().tag == PROXY_TAG


def test_a_busy_port_is_a_proxy_error_with_exit_3(confdir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ProxyError) as info:
            FaultProxy(port=port, confdir=confdir).start()
    assert info.value.exit_code == 3
    assert f"127.0.0.1:{port}" in info.value.message and "already in use" in info.value.message


def test_redact_url_forms() -> None:
    assert redact_url("https://u:p@h/x?sig=1&q=a") == "https://[REDACTED]@h/x?sig=[REDACTED]&q=a"
    assert redact_url("https://h/x") == "https://h/x"


@pytest.mark.parametrize(("spec", "needle"), [
    ({"respond": 200}, "must name a host"),
    ({"host": "h", "respond": 700}, "100-599"),
    ({"host": "h", "respond": "slow"}, "one of pass, timeout, reset, dns"),
    ({"host": "h", "latency": "2 hours"}, "latency"),
    ({"host": "h", "bandwidth": "fast"}, "64kbps"),
    ({"host": "h", "path": "sync", "respond": 200}, "starts with /"),
    ({"host": "h", "method": "FETCH", "respond": 200}, "method"),
    ({"host": "h"}, "needs respond, latency or bandwidth"),
    ({"host": "h", "status": 200}, "unknown key 'status'"),
])
def test_bad_rules_say_what_to_write(spec: dict[str, object], needle: str) -> None:
    with pytest.raises(RuleError, match="rule 1: ") as info:
        RuleSet.parse([spec])
    assert needle in str(info.value)


def test_answers_and_bandwidth_parse() -> None:
    assert Answer.parse("503") == Answer("status", 503)
    assert Answer.parse("Timeout") == Answer("timeout")
    assert parse_bandwidth("64kbps") == 8000
    assert parse_bandwidth("10KB/s") == 10240


def _wait_for_records(proxy: FaultProxy, n: int) -> bool:
    """The proxy records on its own thread after the client has already returned."""
    done = threading.Event()

    def check(_rec: object) -> None:
        if len(proxy.log.records) >= n:
            done.set()

    proxy.log.listeners.append(check)
    try:
        return len(proxy.log.records) >= n or done.wait(10)
    finally:
        proxy.log.listeners.remove(check)
