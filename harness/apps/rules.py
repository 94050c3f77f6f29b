"""What an app model's scripts decide, as plain functions: no pydantic here.

The pydantic models (``model.py``, ``ios.py``) call these, and so does the virtual iPhone's
stand-in when it runs an installed app's code from a plain snapshot of the model
(``harness/sim/ios/installed.py``): an ``xcrun`` call is a process start, and importing
pydantic and defining the model classes was most of such a call.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from collections.abc import Iterable


def scripted_outcome(outcomes: tuple[str, ...], run_attempt: int) -> str:
    """The scripted result of run attempt ``run_attempt`` (0-based); the last entry repeats."""
    return outcomes[min(max(run_attempt, 0), len(outcomes) - 1)]


def http_outcome(status: int | None, scripted: str, retry_on: Iterable[str], on_network_error: str) -> str:
    """What one call's answer makes of the run (``status`` None: no answer came): the worker's
    rules, the same on every virtual device — no answer gives ``on_network_error``, a status in
    ``retry_on`` retry, any other 4xx/5xx failure, a good answer leaves the scripted outcome
    (native_workmanager: ``shouldRetry = code >= 500``, exceptions retry; NWM
    ``workers/HttpRequestWorker.kt``)."""
    if status is None:
        return on_network_error
    if status >= 400:
        retry = any(entry in (str(status), f"{status // 100}xx") for entry in retry_on)
        return "retry" if retry else "failure"
    return scripted


def handles_url(url_schemes: Iterable[str], url: str) -> bool:
    """Whether an iOS app that declares ``url_schemes`` (CFBundleURLSchemes) opens ``url``."""
    scheme = url.partition(":")[0].lower()
    return scheme in (s.lower() for s in url_schemes)
