"""The proxy of one bgtest process, and its part in one scenario.

The proxy starts on first use — only a scenario that sets server rules or network conditions
pays for mitmproxy — and serves every later scenario of the process (an xdist worker is one
process, with its own proxy and its own embedded device); it stops when the process exits.

:class:`ScenarioNetwork` is what one scenario does with it: route the device to it once (the
driver's ``route_to_proxy``: ``adb reverse`` + the global HTTP proxy setting, which the state
guard puts back), load rules and conditions, hand every request to the journal as a record,
and at the end say which rules matched nothing — a typo in a host must not pass silently.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..logs.record import LogRecord
from .proxy import FaultProxy
from .records import RequestRecord
from .rules import Conditions, Rule

_lock = threading.Lock()
_proxy: FaultProxy | None = None


def shared_proxy(confdir: Path) -> FaultProxy:
    """This process's proxy, started now if it is not running (``ProxyError``, exit 3, if it
    cannot listen); ``confdir`` (Settings.proxy_confdir) is its CA's folder."""
    global _proxy
    with _lock:
        if _proxy is None:
            _proxy = FaultProxy(confdir=confdir)
            atexit.register(_proxy.stop)
        _proxy.start()
        return _proxy


class HasProxyRoute(Protocol):
    """The driver capability: send the device's HTTP to a proxy on this machine."""

    def route_to_proxy(self, port: int) -> None: ...


class ScenarioNetwork:
    """The proxy's part in one scenario (see the module docstring)."""

    def __init__(self, sink: Callable[[LogRecord], None], proxy: Callable[[], FaultProxy]) -> None:
        self._sink = sink
        self._get_proxy = proxy
        self._proxy: FaultProxy | None = None
        self._retired: list[tuple[Rule, int]] = []  # rules a later server: step replaced

    @property
    def active(self) -> bool:
        return self._proxy is not None

    def _attach(self, device: HasProxyRoute) -> FaultProxy:
        if self._proxy is None:
            proxy = self._get_proxy()
            proxy.rules.reset()
            proxy.log.reset()
            proxy.log.listeners.append(self._forward)
            self._proxy = proxy
            try:
                device.route_to_proxy(proxy.port)
            except BaseException:
                self.finish()
                raise
        return self._proxy

    def _forward(self, record: RequestRecord) -> None:
        self._sink(record.to_log_record())

    def set_rules(self, device: HasProxyRoute, rules: list[Rule]) -> None:
        """From now on these rules decide (a previous step's rules are done; their matches count)."""
        proxy = self._attach(device)
        self._retired += zip(proxy.rules.rules, proxy.rules.hits(), strict=True)
        proxy.set_rules(rules)

    def records(self) -> list[RequestRecord]:
        """This scenario's requests so far (the proxy's log is reset when a scenario attaches)."""
        return list(self._proxy.log.records) if self._proxy is not None else []

    def set_conditions(self, device: HasProxyRoute, conditions: Conditions) -> None:
        self._attach(device).rules.set_conditions(conditions)

    def finish(self) -> list[str]:
        """Stop listening for this scenario; one line per rule that matched no request."""
        proxy, self._proxy = self._proxy, None
        if proxy is None:
            return []
        if self._forward in proxy.log.listeners:
            proxy.log.listeners.remove(self._forward)  # add() iterates a copy
        rules = [*self._retired, *zip(proxy.rules.rules, proxy.rules.hits(), strict=True)]
        proxy.rules.reset()
        self._retired = []
        return [f"{rule.where or 'a server rule'} ({rule.describe()}) matched no request: "
                "check its host, method and path against the requests in the journal "
                "(tag bgtest-proxy)" for rule, hits in rules if hits == 0]
