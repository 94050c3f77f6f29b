"""How the proxy and a virtual device agree on device time.

A phone runs in real time: the proxy stamps a request with the host clock (plus the device's
clock offset) and a latency rule really waits. A virtual device runs in *virtual* time — a
six-hour night passes in a second — so a real two-second sleep in the proxy would both break
that (the device's clock does not move while its worker waits on a socket) and be wrong (the
device would see 2 s of wall time as some arbitrary amount of device time).

So the virtual device's network stack stamps each request it sends with its clock
(:data:`DEVICE_TIME_HEADER`, epoch ms), and the proxy, seeing the stamp, never sleeps: it
answers at once and says how much device time the exchange took (:data:`DELAY_HEADER`: ms of
latency + transfer time, or ``never`` for an answer that never comes). The virtual network
charges that time to the request in device time — a 2 s latency makes the worker's request
take 2 s of device time; ``never`` runs into the worker's own timeout. Both headers are
removed before a request is forwarded: a real server never sees them, and a real phone never
sends the stamp, so for a phone nothing changes.
"""

from __future__ import annotations

DEVICE_TIME_HEADER = "X-Bgtest-Device-Time-Ms"
DELAY_HEADER = "X-Bgtest-Delay-Ms"
NEVER = "never"


def parse_device_time_ms(value: str | None) -> int | None:
    """The stamp as epoch ms, or None when absent or not a number (then: real time)."""
    if value is None:
        return None
    try:
        ms = int(value.strip())
    except ValueError:
        return None
    return ms if ms >= 0 else None


def parse_delay(value: str | None) -> int | None:
    """Delay in ms from the proxy's answer; None means the answer never comes; absent → 0."""
    if value is None:
        return 0
    text = value.strip().lower()
    if text == NEVER:
        return None
    try:
        return max(0, int(text))
    except ValueError:
        return 0
