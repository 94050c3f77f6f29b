"""What the network did, in a failure message: the proxy's records folded into a line per server.

A poor-network scenario that fails usually fails *because* of what the proxy did (a timeout
the app did not retry, a 503 it took for success). The records are in the journal and the
report, but a reader of the failure should not have to go and find them: this gives the two
or three lines that say it, from the records the run already has, e.g.::

    the server at api.example.com: POST /upload timed out 2× (proxy records at device +0s, +1m5s);
    answered 201 1× (+2m10s)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from .records import RequestRecord

#: at most this many servers, and device times per outcome, are named
MAX_HOSTS = 3
MAX_TIMES = 4

_WORDS = {"timeout": "timed out", "reset": "reset the connection", "dns": "did not resolve",
          "error": "failed in the proxy"}


def _said(outcome: str) -> str:
    return _WORDS.get(outcome, f"answered {outcome}")


def _is_fault(record: RequestRecord) -> bool:
    return record.status is None or record.status >= 400


def what_the_network_did(records: Sequence[RequestRecord], rel: Callable[[int], str]) -> list[str]:
    """One line per server (at most :data:`MAX_HOSTS`), each request kind's outcomes in the order
    they first happened with their device times (``rel``: ``+1m5s`` from the scenario's start).
    [] when every request got a good answer: then the network is not the story."""
    if not any(_is_fault(r) for r in records):
        return []
    # host -> (method, path) -> outcome -> device times, all in first-seen order
    hosts: dict[str, dict[tuple[str, str], dict[str, list[int]]]] = {}
    for r in records:
        parts = urlsplit(r.url)
        kind = hosts.setdefault(parts.hostname or r.url, {}).setdefault((r.method, parts.path or "/"), {})
        kind.setdefault(r.outcome, []).append(r.time_ns)
    lines = []
    for host, kinds in list(hosts.items())[:MAX_HOSTS]:
        said = []
        for (method, path), outcomes in kinds.items():
            parts = []
            for outcome, times in outcomes.items():
                shown = ", ".join(rel(t) for t in times[:MAX_TIMES]) + (" …" * (len(times) > MAX_TIMES))
                when = f"proxy records at device {shown}" if not parts else shown
                parts.append(f"{_said(outcome)} {len(times)}× ({when})")
            said.append(f"{method} {path} " + "; ".join(parts))
        lines.append(f"the server at {host}: " + " · ".join(said))
    if len(hosts) > MAX_HOSTS:
        lines.append(f"… and {len(hosts) - MAX_HOSTS} more server(s): the requests are in the journal "
                     "(tag bgtest-proxy)")
    return lines
