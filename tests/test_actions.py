"""The actions home: one action per step model, dispatched by type, available where the one
table says and implemented by every driver of a platform that has it — no stubs elsewhere."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest

from harness.actions.base import Action
from harness.actions.registry import ACTIONS, action_for
from harness.devices.android import AndroidDevice
from harness.devices.base import Device
from harness.devices.ios import IosDevice
from harness.errors import UnsupportedAction
from harness.scenario import models as m
from harness.scenario.loader import load_text

DRIVERS: dict[str, type[Any]] = {"android": AndroidDevice, "ios": IosDevice}


def _capability(action: Action[Any]) -> Any:
    return typing.get_type_hints(type(action).run)["device"]


def test_every_step_model_has_exactly_one_action() -> None:
    assert set(ACTIONS) == set(m.STEP_MODELS)
    for kind, model in m.STEP_MODELS.items():
        assert ACTIONS[kind].model is model
        assert type(ACTIONS[kind]).run is not Action.run, f"{kind} has no execution"


@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_each_driver_of_a_platform_that_has_the_action_implements_it(kind: str) -> None:
    action = ACTIONS[kind]
    capability = _capability(action)
    if capability is Any:
        return  # wait / expect: the runner's own, no device method
    needed = [
        name for name, _ in inspect.getmembers(capability, inspect.isfunction) if not name.startswith("_")
    ]
    assert needed, f"{kind}: its capability names no driver method"
    for platform, driver in DRIVERS.items():
        has = all(callable(getattr(driver, name, None)) for name in needed)
        if action.available(platform):
            assert has, f"{kind} is available on {platform} but {driver.__name__} lacks {needed}"
        else:
            assert action.why_not(platform), f"{kind}: say why {platform} cannot"


def test_no_driver_carries_a_stub_to_look_like_the_other() -> None:
    for name in ("sh", "diagnostics", "doze", "standby_bucket", "shell", "kill", "clear_data"):
        assert not hasattr(IosDevice, name), name
    for name in ("push", "expire_task"):
        assert not hasattr(AndroidDevice, name), name
    assert not hasattr(IosDevice, "app_hooks") and not hasattr(IosDevice("X"), "app_hooks")


def test_both_drivers_are_devices() -> None:
    members = [n for n in vars(Device) if not n.startswith("_")] + list(Device.__annotations__)
    for device in (AndroidDevice("emulator-5554", port=1), IosDevice("UDID")):
        missing = [n for n in members if n not in vars(type(device)) and n not in vars(device)]
        assert not missing, f"{type(device).__name__} lacks {missing}"


def test_an_action_the_platform_lacks_is_one_error_naming_the_device() -> None:
    [scenario] = load_text("name: t\nplatforms: [android]\nsteps:\n  - doze: deep\n")
    step = scenario.steps[0]

    class Ctx:
        device = IosDevice("0F00-UDID")

    with pytest.raises(UnsupportedAction) as info:
        action_for(step).execute(step, Ctx())  # type: ignore[arg-type]
    assert info.value.render().startswith("<0F00-UDID> doze is not available on ios: iOS has no Doze")


def test_descriptions_are_short_human_text() -> None:
    text = """name: t
platforms: [android]
app: {package: dev.example.app, library: androidx.work}
steps:
  - launch: {deep_link: "app://go"}
  - doze: deep
  - network: offline
  - battery: {state: unplugged, level: 15}
  - shell: [settings, put, global, x, "a b"]
  - wait: 2h
  - expect: {task: sync, state: succeeded, within: 1h}
"""
    [scenario] = load_text(text)
    assert [action_for(s).describe(s) for s in scenario.steps] == [
        "launch: app://go",
        "doze: deep",
        "network: wifi off, data off",
        "battery: unplugged, level 15",
        "shell: settings put global x 'a b'",
        "wait: 2h",
        "expect sync succeeded, within 1h",
    ]


def test_state_changing_actions_name_what_the_guard_restores() -> None:
    changing = {k for k, a in ACTIONS.items() if a.touches}
    assert changing == {
        "doze",
        "battery",
        "battery_saver",
        "low_power",
        "network",
        "server",
        "standby_bucket",
        "screen",
    }
