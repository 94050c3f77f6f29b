"""The virtual iPhone: an xcrun (simctl, lldb) stand-in and a WebDriverAgent-compatible server.

Every ``xcrun`` call is a process of its own, so what a call imports is most of what it costs
(bench/bench_xcrun_call.py; tests/test_ios_sim_call_weight.py keeps the list short). The modules
a call goes through therefore do not import ``typing`` at run time (about a tenth of a call's
own work): they write ``TYPE_CHECKING = False`` and import ``Any``, ``Literal``, ``Protocol``
… under ``if TYPE_CHECKING:``, which type checkers treat as the standard guard; type aliases
and protocols that only annotations use live there too.
"""
