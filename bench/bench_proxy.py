"""Proxy overhead: requests/s through the fault proxy with no rule vs direct to the same server.

Run: ``.venv/bin/python bench/bench_proxy.py [--requests N]``. One local HTTP/1.1 server on
loopback, one keep-alive client (``requests.Session``), measured in the same run:

- baseline: N GETs straight to the server;
- proxied: N GETs through the proxy with no rule (pure pass-through: mitmproxy's parse,
  the addon's decision and record, the upstream hop);
- proxied + rule: N GETs answered by a rule (the server never asked).

Prints requests/s for each and the ratios against the baseline.
"""

from __future__ import annotations

import argparse
import http.server
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.network.proxy import FaultProxy  # noqa: E402
from harness.network.rules import RuleSet  # noqa: E402


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as an app's HTTP client does
    disable_nagle_algorithm = True  # else each small reply waits out a delayed ACK (40 ms)

    def do_GET(self) -> None:
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _rate(session: requests.Session, url: str, n: int, proxies: dict[str, str] | None) -> float:
    session.get(url, proxies=proxies, timeout=10)  # warm: connection set up outside the count
    start = time.perf_counter()
    for _ in range(n):
        resp = session.get(url, proxies=proxies, timeout=10)
        resp.raise_for_status()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/sync"
    with tempfile.TemporaryDirectory() as confdir:
        proxy = FaultProxy(confdir=Path(confdir))
        proxy.start()
        try:
            proxies = {"http": proxy.url}
            with requests.Session() as s:
                direct = _rate(s, url, args.requests, None)
            with requests.Session() as s:
                through = _rate(s, url, args.requests, proxies)
            proxy.set_rules(RuleSet.parse([{"host": "127.0.0.1", "respond": 200}]))
            with requests.Session() as s:
                answered = _rate(s, url, args.requests, proxies)
            recorded = len(proxy.log.records)
        finally:
            proxy.stop()
            server.shutdown()
    print(f"requests: {args.requests} per leg, keep-alive, loopback ({recorded} recorded by the proxy)")
    print(f"{'leg':<34}{'req/s':>10}{'vs direct':>12}")
    print(f"{'direct to the server (baseline)':<34}{direct:>10.0f}{1.0:>11.2f}x")
    print(f"{'through the proxy, no rule':<34}{through:>10.0f}{through / direct:>11.2f}x")
    print(f"{'answered by a rule':<34}{answered:>10.0f}{answered / direct:>11.2f}x")


if __name__ == "__main__":
    main()
