"""Connectivity and the servers the app talks to.

- ``network``: wifi, mobile data, airplane mode (``offline`` / ``online`` / ``airplane``), and
  the network's quality (``{latency: 2s, loss: 30%, bandwidth: 64kbps}``), applied at bgtest's
  fault proxy for the app's HTTP on every device;
- ``server``: fault rules for the app's HTTP by host / method / path — a sequence of answers
  (``[503, 503, 200]``), ``timeout``, ``reset``, ``dns``, latency, bandwidth (docs/network.md).

Both reach the device through the proxy of ``harness/network``: started on first use, the
device routed to it once per scenario (``route_to_proxy``), which the state guard undoes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import Field, field_validator, model_validator

from harness.actions.base import Action, RunContext
from harness.devices.base import Facet
from harness.durations import format_duration_ms
from harness.errors import UnsupportedAction
from harness.network.rules import Conditions, Rule, parse_bandwidth, parse_loss
from harness.scenario.fields import Duration, OnOff, StrictModel
from harness.scenario.step import StepBase

# --------------------------------------------------------------------------- step models

PRESETS = {
    "offline": {"wifi": False, "data": False},
    "online": {"wifi": True, "data": True, "airplane": False},
    "airplane": {"airplane": True},
}
"""``network: offline`` and its siblings: the switches each word sets."""


class Network(StepBase):
    kind: ClassVar[str] = "network"
    primary: ClassVar[str | None] = "preset"
    wifi: OnOff | None = None
    data: OnOff | None = None
    airplane: OnOff | None = None
    latency: Duration | None = Field(None, description="added to every HTTP answer the app gets, e.g. 2s")
    loss: str | float | None = Field(
        None, description="share of HTTP requests that get no answer (the client times out), e.g. 30%")
    bandwidth: str | int | None = Field(
        None, description="the link's speed for HTTP bodies both ways, e.g. 64kbps, 1mbps, 10KB/s")

    @field_validator("loss")
    @classmethod
    def _loss(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            parse_loss(value)
        return value

    @field_validator("bandwidth")
    @classmethod
    def _bandwidth(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            parse_bandwidth(value)
        return value

    @property
    def shapes_quality(self) -> bool:
        return self.latency is not None or self.loss is not None or self.bandwidth is not None

    def conditions(self) -> Conditions:
        """The quality as the proxy applies it (unset knobs: none)."""
        return Conditions(
            latency_ms=self.latency or 0,
            loss=parse_loss(self.loss) if self.loss is not None else 0.0,
            bandwidth_bytes_s=parse_bandwidth(self.bandwidth) if self.bandwidth is not None else None,
        )

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str) and value in PRESETS:
            return dict(PRESETS[value])
        raise ValueError(
            f"not a network preset: {value!r}; write offline, online, airplane, "
            "or a mapping such as {wifi: off, data: on}"
        )

    @classmethod
    def compact_schema(cls, properties: dict[str, Any]) -> dict[str, Any] | None:
        return {"enum": list(PRESETS)}

    @model_validator(mode="after")
    def _something(self) -> Network:
        if self.wifi is None and self.data is None and self.airplane is None and not self.shapes_quality:
            raise ValueError(
                "network needs wifi, data, airplane, latency, loss or bandwidth "
                "(or offline / online / airplane)")
        return self


class ServerRule(StrictModel):
    """One fault rule: which requests (globs; none named: all), and what the server does."""

    host: str | None = Field(
        None, description="host, a glob, case-insensitive: api.example.com, *.example.com")
    method: str | None = Field(None, description="GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS")
    path: str | None = Field(None, description="path without the query, a glob: /sync, /api/*")
    respond: int | str | list[int | str] | None = Field(
        None, description="the answer to each matching request in order, the last repeating: a status "
        "(503), pass (to the real server), timeout (never answered), reset (connection dropped) "
        "or dns (the host does not resolve)")
    latency: Duration | None = Field(None, description="added before each answer, e.g. 2s")
    bandwidth: str | int | None = Field(None, description="the answer's speed, e.g. 64kbps, 10KB/s")

    @model_validator(mode="after")
    def _valid(self) -> ServerRule:
        self.rule()  # RuleError is a ValueError: the loader shows it at the rule's line
        return self

    def rule(self, where: str = "") -> Rule:
        spec: dict[str, object] = self.model_dump(exclude_none=True)
        if self.latency is not None:
            spec["latency"] = f"{self.latency}ms"
        return Rule.from_mapping(spec, where=where)


class Server(StepBase):
    """``server: [rules]`` (or one rule's mapping); ``server: normal`` drops every rule."""

    kind: ClassVar[str] = "server"
    primary: ClassVar[str | None] = "rules"
    rules: list[ServerRule] = Field(
        default_factory=list, description="fault rules, the first matching one deciding; requests "
        "no rule matches reach the real server")

    @classmethod
    def _compact(cls, value: Any) -> Any:
        if value == "normal":
            return {"rules": []}
        if isinstance(value, list):
            return {"rules": value}
        raise ValueError(f"not a server rule list: {value!r}; write a list of rules "
                         "such as [{host: api.example.com, respond: [503, 200]}] or normal")

    @classmethod
    def _normalize(cls, params: Any) -> Any:
        if isinstance(params, dict) and set(params) - {"rules", "label"}:
            rule = {k: v for k, v in params.items() if k != "label"}
            return {"rules": [rule], **({"label": params["label"]} if "label" in params else {})}
        return params

    @classmethod
    def compact_schema(cls, properties: dict[str, Any]) -> dict[str, Any] | None:
        return {"anyOf": [{"enum": ["normal"]}, properties["rules"]]}

    def proxy_rules(self) -> list[Rule]:
        """The rules with where they were written (an unmatched one is reported there)."""
        loc = self.location
        at = f"{loc.file}:{loc.line}" if loc else "server step"
        return [r.rule(where=f"{at}: rule {i + 1}") for i, r in enumerate(self.rules)]


# --------------------------------------------------------------------------- driver capabilities


class HasNetwork(Protocol):
    def network(
        self, wifi: bool | None = None, data: bool | None = None, airplane: bool | None = None
    ) -> None: ...


class HasProxyRoute(Protocol):
    def route_to_proxy(self, port: int) -> None: ...


# --------------------------------------------------------------------------- actions


class NetworkAction(Action[Network]):
    model: ClassVar = Network
    summary = ("network: `offline`, `online`, `airplane`, or `{wifi:, data:, airplane:}` on/off; "
               "quality `{latency:, loss:, bandwidth:}` at bgtest's proxy")
    example = "network: offline"
    android = ("`svc wifi|data enable|disable`, `cmd connectivity airplane-mode enable|disable`; "
               "quality: the proxy, reached with `adb reverse` + `settings put global http_proxy`")
    ios = "device: WDA Control Center; the Simulator has no network switch (fails at run time)"
    touches = frozenset({Facet.NETWORK, Facet.PROXY})

    def touched(self, step: Network) -> frozenset[Facet]:
        switches = step.wifi is not None or step.data is not None or step.airplane is not None
        return frozenset(
            ({Facet.NETWORK} if switches else set()) | ({Facet.PROXY} if step.shapes_quality else set())
        )

    def describe(self, step: Network) -> str:
        if step.label or not step.shapes_quality:
            return super().describe(step)
        plain = step.model_copy(update={"latency": None, "loss": None, "bandwidth": None})
        switches = super().describe(plain)
        quality = [f"latency {format_duration_ms(step.latency)}" if step.latency is not None else "",
                   f"loss {step.loss}" if step.loss is not None else "",
                   f"bandwidth {step.bandwidth}" if step.bandwidth is not None else ""]
        text = ", ".join(q for q in quality if q) + " (at the proxy)"
        return f"{switches}, {text}" if switches != self.kind else f"{self.kind}: {text}"

    def run(self, step: Network, ctx: RunContext, device: HasNetwork) -> None:
        if step.wifi is not None or step.data is not None or step.airplane is not None:
            device.network(wifi=step.wifi, data=step.data, airplane=step.airplane)
        if step.shapes_quality:
            route = getattr(device, "route_to_proxy", None)
            if route is None:
                raise UnsupportedAction(
                    f"network quality (latency, loss, bandwidth) is applied at bgtest's proxy, which "
                    f"{device.platform} devices are not routed to yet (docs/network.md)",
                    device=device.serial)
            ctx.network.set_conditions(device, step.conditions())  # type: ignore[arg-type]


class ServerAction(Action[Server]):
    model: ClassVar = Server
    summary = ("server: fault rules for the app's HTTP by host/method/path — `respond: [503, 503, 200]`, "
               "`timeout`, `reset`, `dns`, `latency`, `bandwidth` — through bgtest's proxy")
    example = "server: [{host: api.example.com, path: /sync, respond: [503, 503, 200]}]"
    android = ("the proxy (mitmproxy), reached with `adb reverse tcp:P tcp:P` + "
               "`settings put global http_proxy 127.0.0.1:P` once per scenario")
    ios_why_not = ("the iOS drivers do not route the app to bgtest's proxy yet; point the app's base "
                   "URL at it through its launch environment (docs/network.md)")
    touches = frozenset({Facet.PROXY})

    def describe(self, step: Server) -> str:
        if step.label:
            return step.label
        if not step.rules:
            return "server: normal (no rules)"
        return "server: " + "; ".join(r.rule().describe() for r in step.rules)

    def run(self, step: Server, ctx: RunContext, device: HasProxyRoute) -> None:
        ctx.network.set_rules(device, step.proxy_rules())
