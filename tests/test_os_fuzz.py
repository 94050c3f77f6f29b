"""Bad arguments never raise: every OS-model command answers any argv with an exit status."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from os_testutil import new_device

from harness.sim.android.procio import InputSource, OutputSink
from harness.sim.android.registry import CMD_SERVICES, COMMANDS, DUMPSYS_SECTIONS, CommandContext, invoke

WORDS = [
    "get",
    "set",
    "put",
    "delete",
    "list",
    "reset",
    "unplug",
    "-f",
    "level",
    "ac",
    "usb",
    "status",
    "deep",
    "light",
    "all",
    "step",
    "force-idle",
    "unforce",
    "force-inactive",
    "motion",
    "enable",
    "disable",
    "enabled",
    "whitelist",
    "+com.example.wmplain",
    "-com.example.wmplain",
    "=x",
    "tempwhitelist",
    "-d",
    "-r",
    "-u",
    "sys-whitelist",
    "except-idle-whitelist",
    "global",
    "system",
    "secure",
    "low_power",
    "airplane-mode",
    "set-mode",
    "1",
    "0",
    "-1",
    "99999999999",
    "restrict-background",
    "metered-network",
    "wifi-networks",
    "add",
    "remove",
    "restrict-background-whitelist",
    "clock",
    "advance",
    "mode",
    "scaled",
    "6h",
    "15m",
    "abc",
    "",
    "keyevent",
    "26",
    "KEYCODE_POWER",
    "tap",
    "wifi",
    "data",
    "stayon",
    "true",
    "--user",
    "help",
    "-h",
    "-a",
    "cable",
    "none",
    "pre-idle-factor",
]
PROGRAMS = [
    ("cmd", "deviceidle"),
    ("cmd", "battery"),
    ("cmd", "power"),
    ("cmd", "connectivity"),
    ("cmd", "netpolicy"),
    ("cmd", "bgtest"),
    ("cmd", "wifi"),
    ("cmd", "phone"),
    ("cmd", "input"),
    ("cmd", "settings"),
    ("dumpsys", "deviceidle"),
    ("dumpsys", "battery"),
    ("dumpsys", "power"),
    ("dumpsys", "alarm"),
    ("dumpsys", "connectivity"),
    ("prog", "settings"),
    ("prog", "svc"),
    ("prog", "input"),
]
_DEV = new_device(with_app=True)
_LOOP = asyncio.new_event_loop()


def run(table: str, name: str, args: list[str]) -> int:
    fn = {"cmd": CMD_SERVICES, "dumpsys": DUMPSYS_SECTIONS, "prog": COMMANDS}[table][name]
    ctx = CommandContext(_DEV, [name, *args], InputSource(), OutputSink(), OutputSink())
    return _LOOP.run_until_complete(invoke(fn, ctx))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    program=st.sampled_from(PROGRAMS),
    args=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=5),
)
def test_no_command_raises(program, args):
    table, name = program
    if name == "bgtest" and args[:2] == ["clock", "advance"]:
        args = [*args[:2], "1m", *args[3:]]  # keep the shared device's clock cheap to drive
    rc = run(table, name, args)
    assert 0 <= rc <= 255
