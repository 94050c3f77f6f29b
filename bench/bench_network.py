"""The fault proxy's costs (issue 13), each against a baseline measured in the same run.

Run: ``.venv/bin/python bench/bench_network.py [--requests N] [--runs N]``.

1. A poor-network scenario on the embedded virtual Android device, through the real adb
   server, ``adb reverse`` and the real proxy: ``scenarios/poor_network_5xx.yaml`` (three
   uploads, two answered 503) against the same upload with no ``server:`` rule (the app
   model's own status, no proxy), wall time per run. Virtual time must survive the proxy:
   both cover minutes of device time in a fraction of a second of wall time each. The
   proxy's first start in a process (paid once, by the first scenario that needs it) is
   printed on its own.
2. Proxy overhead. One local HTTP/1.1 server on loopback, one keep-alive client
   (``requests.Session``), all in this process:
   - baseline: N GETs straight to the server;
   - through the proxy with no rule (pure pass-through: mitmproxy's parse, the addon's
     decision and record, the upstream hop);
   - answered by a rule (the server never asked).
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.network import session as network_session  # noqa: E402
from harness.network.proxy import FaultProxy  # noqa: E402
from harness.network.rules import RuleSet  # noqa: E402
from harness.run.session import DeviceSession, app_under_test  # noqa: E402
from harness.scenario.loader import load_file, load_text  # noqa: E402

BASELINE_SCENARIO = """\
name: the same upload, no server rules (the app model's own status, no proxy)
platforms: [android]
app: {model: nwm_demo}
steps:
  - launch: {deep_link: "nwmdemo://enqueue/upload"}
  - expect: {task: upload, state: succeeded, within: 10m}
"""


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


def proxy_overhead(n: int) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/sync"
    with tempfile.TemporaryDirectory() as confdir:
        proxy = FaultProxy(confdir=Path(confdir))
        proxy.start()
        try:
            proxies = {"http": proxy.url}
            with requests.Session() as s:
                direct = _rate(s, url, n, None)
            with requests.Session() as s:
                through = _rate(s, url, n, proxies)
            proxy.set_rules(RuleSet.parse([{"host": "127.0.0.1", "respond": 200}]))
            with requests.Session() as s:
                answered = _rate(s, url, n, proxies)
            recorded = len(proxy.log.records)
        finally:
            proxy.stop()
            server.shutdown()
    print(f"\n2. proxy overhead: {n} requests per leg, keep-alive, loopback "
          f"({recorded} recorded by the proxy)")
    print(f"   {'leg':<34}{'req/s':>10}{'vs direct':>12}")
    print(f"   {'direct to the server (baseline)':<34}{direct:>10.0f}{1.0:>11.2f}x")
    print(f"   {'through the proxy, no rule':<34}{through:>10.0f}{through / direct:>11.2f}x")
    print(f"   {'answered by a rule':<34}{answered:>10.0f}{answered / direct:>11.2f}x")


def scenario_wall(runs: int) -> None:
    from harness.run.runner import ScenarioRunner

    base_dir = ROOT / "scenarios"
    (baseline,) = load_text(BASELINE_SCENARIO, file=str(base_dir / "baseline.yaml"), base_dir=base_dir)
    (faulty,) = load_file(base_dir / "poor_network_5xx.yaml")
    session = DeviceSession(note=lambda _: None, app_models=[ROOT / "fixtures" / "apps" / "nwm_demo.yaml"])
    walls: dict[str, list[float]] = {"baseline": [], "poor": []}
    device_s: dict[str, float] = {}
    first_start = 0.0
    try:
        for i in range(runs + 1):  # run 0 warms the device (and starts the proxy, timed apart)
            for key, scenario in (("baseline", baseline), ("poor", faulty)):
                with session.device_for(scenario, "android") as device:
                    if key == "poor" and i == 0:
                        start = time.perf_counter()
                        network_session.shared_proxy(session.settings.proxy_confdir)
                        first_start = time.perf_counter() - start
                    start = time.perf_counter()
                    result = ScenarioRunner(scenario, device, app_under_test(scenario, "android"),
                                            settings=session.settings).run()
                    wall = time.perf_counter() - start
                if result.status != "passed":
                    raise SystemExit(f"{scenario.name}: {result.status}: {result.failure}")
                if i:
                    walls[key].append(wall)
                device_s[key] = (result.device_end_ms - result.device_start_ms) / 1000
    finally:
        session.close()
    base, poor = statistics.median(walls["baseline"]), statistics.median(walls["poor"])
    print(f"1. scenario wall time on the embedded virtual Android device, median of {runs} runs")
    print(f"   {'scenario':<46}{'device time':>12}{'wall':>9}{'vs baseline':>13}")
    print(f"   {'upload, no server rule (baseline)':<46}{device_s['baseline']:>11.0f}s{base:>8.2f}s"
          f"{1.0:>12.2f}x")
    print(f"   {'poor_network_5xx.yaml (503, 503, 201)':<46}{device_s['poor']:>11.0f}s{poor:>8.2f}s"
          f"{poor / base:>12.2f}x")
    print(f"   the proxy's first start in this process (once, not in the figures above): {first_start:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    scenario_wall(args.runs)  # first: the proxy's first start includes importing mitmproxy
    proxy_overhead(args.requests)


if __name__ == "__main__":
    main()
