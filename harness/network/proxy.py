"""The fault-injecting HTTP(S) proxy: mitmproxy through its Python API, as a bgtest service.

Why mitmproxy and not a proxy of our own: it is the field's tool for exactly this (HTTP/1,
HTTP/2, CONNECT + TLS interception with its own CA that a phone can install, upstream
connection handling, the 502 a client really gets when a host does not resolve), and its
addon hooks are where faults belong: `request` decides (answer, kill, hold), `response`
charges bandwidth, `error` sees resets and upstream failures. What bgtest adds is the rules,
the records and device time.

One `FaultProxy` per session: `start()` brings up the listener on its own event loop thread
(and raises `ProxyError`, exit 3, when the port is taken), `set_rules()` loads a scenario's
rules, `stop()` never throws. Every request becomes a `RequestRecord` in `log`.

Time: a request stamped by a virtual device (``virtual_time``) is answered at once with the
device time it took; any other request gets real waits, stamped with the host clock plus
`clock_offset_ns` (the phone's clock minus the host's, measured by the driver).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BgtestError
from .records import RequestLog, RequestRecord, redact_url
from .rules import Decision, Rule, RuleSet
from .virtual_time import DELAY_HEADER, DEVICE_TIME_HEADER, NEVER, parse_device_time_ms

if TYPE_CHECKING:  # mitmproxy is imported when the proxy starts, not with the harness
    from mitmproxy.connection import Client
    from mitmproxy.http import HTTPFlow

#: How long `start()` waits for the listener before calling the proxy broken.
START_TIMEOUT_S = 30.0


class ProxyError(BgtestError):
    """The proxy could not start or was refused; an infrastructure error, never a pass."""

    exit_code = 3


@dataclass
class _Pending:
    """What the request hook decided, kept on the flow for the response / error hooks."""

    decision: Decision
    attempt: int
    after_ms: int | None
    method: str
    url: str
    device_ms: int | None  # the virtual device's stamp; None: real time
    start_ns: int
    start_wall: float
    recorded: bool = False

    @property
    def virtual(self) -> bool:
        return self.device_ms is not None


class _FaultInjector:
    """The mitmproxy addon: applies the rules and records every request."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._waiting: dict[str, asyncio.Event] = {}  # client connection id -> disconnected
        self.stopping = asyncio.Event()

    # --- hooks (names and signatures are mitmproxy's) -------------------------------------
    async def request(self, flow: HTTPFlow) -> None:
        from mitmproxy import http

        req = flow.request
        device_ms = parse_device_time_ms(req.headers.get(DEVICE_TIME_HEADER))
        req.headers.pop(DEVICE_TIME_HEADER, None)
        url = req.pretty_url
        start_ns = self.proxy.now_ns(device_ms)
        attempt, after_ms = self.proxy.log.next_attempt(req.method, url, start_ns)
        pending = _Pending(
            decision=self.proxy.rules.decide(req.pretty_host, req.method, req.path),
            attempt=attempt, after_ms=after_ms,
            method=req.method, url=redact_url(url), device_ms=device_ms,
            start_ns=start_ns, start_wall=time.monotonic())
        flow.metadata["bgtest"] = pending
        decision = pending.decision
        if decision.latency_ms and not pending.virtual:
            await asyncio.sleep(decision.latency_ms / 1000)
        answer = decision.answer
        if answer.kind == "status":
            flow.response = http.Response.make(
                answer.status or 200, f"bgtest proxy: rule {decision.rule_index + 1} answered "  # type: ignore[operator]
                f"{answer.status}\n", {"Content-Type": "text/plain"})
        elif answer.kind == "dns":
            # What mitmproxy itself answers when the upstream name does not resolve.
            flow.response = http.Response.make(
                502, f"502 Bad Gateway: [Errno -2] Name or service not known: {req.pretty_host}\n",
                {"Content-Type": "text/plain"})
        elif answer.kind == "reset":
            # recorded before the client sees the connection go: the record is in the journal
            # before the device can react to it
            self._record(pending, None, "reset", None if pending.virtual else self._elapsed_ms(pending))
            flow.kill()
        elif answer.kind == "timeout":
            if pending.virtual:
                # Answered at once, marked as never arriving: the device's own timeout decides.
                flow.response = http.Response.make(504, b"", {DELAY_HEADER: NEVER})
            else:
                await self._hold(flow)

    async def response(self, flow: HTTPFlow) -> None:
        pending: _Pending | None = flow.metadata.get("bgtest")
        if pending is None or flow.response is None:
            return
        decision = pending.decision
        if flow.response.headers.get(DELAY_HEADER) == NEVER:
            self._record(pending, None, "timeout", None)
            return
        transfer_ms = 0
        if decision.bandwidth_bytes_s:
            # both ways through the one slow link: the upload, then the answer
            size = (len(flow.request.raw_content or b"") + len(flow.response.raw_content or b"")
                    + len(bytes(flow.response.headers)))
            transfer_ms = int(size * 1000 / decision.bandwidth_bytes_s)
        if pending.virtual:
            delay = decision.latency_ms + transfer_ms
            flow.response.headers[DELAY_HEADER] = str(delay)
            self._record(pending, flow.response.status_code, str(flow.response.status_code), delay)
            return
        if transfer_ms:
            await asyncio.sleep(transfer_ms / 1000)
        status = flow.response.status_code
        self._record(pending, status, str(status), self._elapsed_ms(pending))

    def error(self, flow: HTTPFlow) -> None:
        pending: _Pending | None = flow.metadata.get("bgtest")
        if pending is None:
            return
        kind = pending.decision.answer.kind
        outcome = kind if kind in ("reset", "timeout") else "error"
        self._record(pending, None, outcome, None if pending.virtual else self._elapsed_ms(pending))

    def client_disconnected(self, client: Client) -> None:
        event = self._waiting.pop(client.id, None)
        if event is not None:
            event.set()

    # --- helpers --------------------------------------------------------------------------
    async def _hold(self, flow: HTTPFlow) -> None:
        """An answer that never comes: hold the request until the client gives up (or we stop)."""
        gone = self._waiting.setdefault(flow.client_conn.id, asyncio.Event())
        waits = [asyncio.ensure_future(gone.wait()), asyncio.ensure_future(self.stopping.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        pending: _Pending = flow.metadata["bgtest"]
        self._record(pending, None, "timeout", self._elapsed_ms(pending))
        flow.kill()

    def _elapsed_ms(self, pending: _Pending) -> int:
        return int((time.monotonic() - pending.start_wall) * 1000)

    def _record(self, pending: _Pending, status: int | None, outcome: str, duration_ms: int | None) -> None:
        if pending.recorded:
            return
        pending.recorded = True
        index = pending.decision.rule_index
        self.proxy.log.add(RequestRecord(
            time_ns=pending.start_ns, method=pending.method, url=pending.url, status=status,
            outcome=outcome, duration_ms=duration_ms, attempt=pending.attempt,
            rule=None if index is None else index + 1, after_ms=pending.after_ms))


def _listen_failure(exc: BaseException | None) -> str:
    """mitmproxy's bind failure in one line ("port 8080 is already in use")."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "the port is already in use"
    if exc is None:
        return "failed to listen"
    return str(exc).splitlines()[0]


class FaultProxy:
    """The proxy as a service: start, load rules, read records, stop."""

    def __init__(self, *, confdir: Path, host: str = "127.0.0.1", port: int = 0,
                 clock_offset_ns: int = 0) -> None:
        self.host = host
        self.requested_port = port
        self.confdir = confdir  # its CA (Settings.proxy_confdir), kept: a phone that trusts it keeps doing so
        self.clock_offset_ns = clock_offset_ns
        self.rules = RuleSet()
        self.log = RequestLog()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._master = None
        self._addon: _FaultInjector | None = None

    # --- reading --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca_cert_path(self) -> Path:
        """The CA a phone must trust for HTTPS interception (PEM; mitmproxy writes it on start)."""
        return self.confdir / "mitmproxy-ca-cert.pem"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def now_ns(self, device_ms: int | None = None) -> int:
        """Device time of a request: the virtual device's stamp, else host time plus the offset."""
        if device_ms is not None:
            return device_ms * 1_000_000
        return time.time_ns() + self.clock_offset_ns

    def set_rules(self, rules: list[Rule] | RuleSet) -> None:
        self.rules.replace(rules.rules if isinstance(rules, RuleSet) else rules)

    def unmatched(self) -> list[Rule]:
        return self.rules.unmatched()

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> int:
        """Listen; return the port. `ProxyError` when the port is in use or mitmproxy fails."""
        if self.running:
            return self.port
        self.confdir.mkdir(parents=True, exist_ok=True)
        ready = threading.Event()
        outcome: dict[str, object] = {}
        self._thread = threading.Thread(target=self._thread_main, args=(ready, outcome),
                                        name="bgtest-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S):
            self.stop()
            raise ProxyError(f"proxy on {self.host}:{self.requested_port}: did not start in "
                             f"{START_TIMEOUT_S:g}s")
        error = outcome.get("error")
        if error is not None:
            self._thread.join(5)
            self._thread = None
            raise ProxyError(f"proxy on {self.host}:{self.requested_port}: {error}",
                             hint="choose another proxy port, or stop what listens on this one")
        self.port = int(outcome["port"])  # type: ignore[call-overload]
        return self.port

    def stop(self) -> None:
        """Stop listening and release held requests. Never throws; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            def shutdown() -> None:
                if self._addon is not None:
                    self._addon.stopping.set()
                if self._master is not None:
                    self._master.shutdown()
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(shutdown)
            thread.join(10)
        self._thread = None
        self._loop = None

    def _thread_main(self, ready: threading.Event, outcome: dict[str, object]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(ready, outcome))
        except Exception as exc:  # anything mitmproxy raises while starting is reported, not lost
            outcome.setdefault("error", f"{type(exc).__name__}: {exc}")
            ready.set()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, ready: threading.Event, outcome: dict[str, object]) -> None:
        from mitmproxy import addons, master, options

        opts = options.Options(listen_host=self.host, listen_port=self.requested_port,
                               confdir=str(self.confdir))
        m = master.Master(opts, event_loop=asyncio.get_running_loop())
        m.addons.add(*addons.default_addons())
        self._addon = _FaultInjector(self)
        m.addons.add(self._addon)
        # lazy: a rule answers for hosts that do not exist here; never dial them up front
        opts.update(connection_strategy="lazy")
        self._master = m
        server = m.addons.get("proxyserver")
        if not await server.setup_servers():
            failures = [s.last_exception for s in server.servers if s.last_exception]
            outcome["error"] = _listen_failure(failures[0] if failures else None)
            ready.set()
            return
        outcome["port"] = server.listen_addrs()[0][1]
        try:
            await m.running()
            ready.set()
            await m.should_exit.wait()
        finally:
            self._addon.stopping.set()
            await server.servers.update([])
            await m.done()
