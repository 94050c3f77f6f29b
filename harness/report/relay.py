"""Step lines of scenarios that run in xdist workers, on ``bgtest run``'s screen as they happen.

Under ``-n`` (and the lanes bgtest picks by itself, run/lanes.py) the scenarios run in worker
processes, and a worker's report reaches the controller only when its scenario has ended: the
screen would stay empty for the whole first scenario, and show each block at once at its end.
The controller hands every worker an execnet channel of its own (execnet sends channels over
channels; xdist passes ``workerinput`` to the worker that way); the worker's runner observer
sends each step, state line and device note over it, and the controller's live view
(report/live.py) prints them, one scenario's block at a time.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from harness.report import redaction

#: the key of the channel in xdist's ``workerinput``
KEY = "bgtest_relay"


def open_for(node: Any, console: Any) -> None:
    """Controller side: a channel to the worker ``node`` whose messages go to ``console.relayed``."""
    channel = node.gateway.newchannel()
    worker = str(node.gateway.id)
    channel.setcallback(lambda message: console.relayed(worker, message))
    node.workerinput[KEY] = channel
    console.relaying(worker)


class Relay:
    """Worker side: what the runner observes, sent to the controller (never fails a scenario)."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    @classmethod
    def of(cls, config: Any) -> Relay | None:
        channel = getattr(config, "workerinput", {}).get(KEY)
        return cls(channel) if channel is not None else None

    def send(self, kind: str, name: str, platform: str, payload: Any) -> None:
        try:
            self.channel.send((kind, name, platform, payload))
        except Exception:  # the controller is gone (interrupted): the report still carries it all
            pass

    def note(self, text: str) -> None:
        """A line about the worker's devices ("started a virtual one …")."""
        self.send("note", "", "", redaction.active().text(text))

    def end(self, scenario: Any, platform: str) -> None:
        self.send("end", redaction.active().text(scenario.name), platform, None)

    def observer(self, scenario: Any, platform: str) -> Any:
        from harness.run.runner import RunObserver

        redact = redaction.active().text
        name = redact(scenario.name)  # a block's header: a secret var may be in the name

        def step(kind: str) -> Any:
            def send(result: Any) -> None:
                plain = dataclasses.asdict(redaction.active().data(result))
                self.send(kind, name, platform, json.loads(json.dumps(plain, default=str)))

            return send

        return RunObserver(
            on_step=step("step"),
            on_step_done=step("done"),
            on_wait=lambda done, total, what: self.send("wait", name, platform, (done, total, redact(what))),
            on_note=lambda text: self.send("state", name, platform, redact(text)),
        )
