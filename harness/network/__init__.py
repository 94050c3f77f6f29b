"""Poor network and failing servers: the fault-injecting proxy bgtest starts and drives.

- ``rules``: what a scenario asks of the network — per host/method/path a sequence of
  answers (``[503, 503, 200]``, ``timeout``, ``reset``, ``dns``), latency, bandwidth.
- ``records``: every request that went through the proxy, as a journal record the
  expectation engine searches like any log line.
- ``virtual_time``: how the proxy and a virtual device agree on device time, so a latency
  rule never turns into a real sleep that breaks virtual time.
- ``proxy``: the proxy itself (mitmproxy through its Python API), one service per session.
"""
