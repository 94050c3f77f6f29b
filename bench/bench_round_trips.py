"""Device round trips per step of the bundled scenarios: before (issue 17's figures, recorded
below) and now, as ratios.

Run: ``.venv/bin/python bench/bench_round_trips.py [--only NAME]``. Every bundled scenario runs
on the embedded virtual devices; each step's ``round_trips`` (adb requests, xcrun calls, WDA
requests — what ``results.json`` carries) is summed per scenario and compared with the counts
the harness made on 2026-12-07 before issue 10's batching (measured with counters wrapped
around the same three channels on that code, same scenarios). A count is a property of the
code, not of the machine, so the "before" column is recorded rather than re-measured.

Targets (issue 17): an Android action step <= 4 adb round trips (a ``doze`` step was 14-23);
``ios_low_power.yaml`` <= 12 xcrun calls in all (was 47; 18 xcrun + 3 WDA on the morning of
2026-12-08, before the virtual iPhone's vendor calls answered more per call: ``bgtest state
--mark`` is the state, the status bar and a barrier line, ``clock advance --mark`` a wait slice
and its barrier, ``reinstall`` the fresh app). ``ios_fwm_periodic.yaml`` was 38 that morning
(its last expectation walked the clock in 14 slices, two calls each; now one ``clock advance
--until-output`` runs on through the slices with nothing logged or printed in them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.actions.registry import ACTIONS  # noqa: E402
from harness.run.session import DeviceSession  # noqa: E402
from harness.scenario.loader import load_file  # noqa: E402

#: Per scenario, per step (kind, round trips) with the code before issue 10 (2026-12-07), and
#: the scenario's total (steps + start, end, snapshots and restore).
BEFORE: dict[str, tuple[int, list[tuple[str, int]]]] = {
    "airplane_upload.yaml[android]": (
        75,
        [("network", 22), ("launch", 2), ("expect", 1), ("wait", 2),
         ("expect", 1), ("network", 12), ("expect", 3), ("network", 13)],
    ),
    "doze_periodic_sync.yaml[android]": (
        83,
        [("launch", 2), ("expect", 1), ("battery", 22), ("screen", 12),
         ("doze", 14), ("wait", 2), ("expect", 1), ("doze", 13)],
    ),
    "force_stop.yaml[android]": (
        21,
        [("launch", 2), ("expect", 3), ("stop_app", 2), ("wait", 2),
         ("expect", 1), ("launch", 2), ("expect", 1), ("expect", 3)],
    ),
    "ios_expire_task.yaml[ios]": (
        40,
        [("launch", 4), ("expect", 1), ("run_task", 2), ("expect", 1),
         ("expect", 21), ("expire_task", 2), ("expect", 1)],
    ),
    "ios_force_quit.yaml[ios]": (
        23,
        [("launch", 3), ("expect", 1), ("stop_app", 3), ("wait", 2),
         ("expect", 1), ("launch", 2), ("expect", 1)],
    ),
    "ios_fwm_periodic.yaml[ios]": (
        45,
        [("launch", 3), ("expect", 1), ("expect", 1), ("wait", 2),
         ("expect", 1), ("expect", 29)],
    ),
    "ios_low_power.yaml[ios]": (
        47,
        [("launch", 3), ("expect", 1), ("low_power", 11), ("wait", 2),
         ("expect", 1), ("low_power", 6), ("expect", 1), ("low_power", 6)],
    ),
    "ios_processing_needs_power.yaml[ios]": (
        48,
        [("battery", 14), ("launch", 3), ("expect", 1), ("wait", 2),
         ("expect", 1), ("battery", 7), ("expect", 1), ("expect", 3)],
    ),
    "ios_refresh_simulated_launch.yaml[ios]": (
        20,
        [("launch", 3), ("expect", 1), ("run_task", 2), ("expect", 3),
         ("expect", 1)],
    ),
    "ios_simulator_refuses_submit.yaml[ios]": (
        23,
        [("launch", 4), ("expect", 1), ("expect", 1), ("wait", 2),
         ("expect", 1), ("run_task", 2), ("expect", 1), ("expect", 3)],
    ),
    "load_100.yaml[android]": (
        11,
        [("launch", 2), ("wait", 2), ("expect", 1), ("expect", 1)],
    ),
    "reboot.yaml[android]": (
        36,
        [("launch", 2), ("expect", 3), ("reboot", 22), ("expect", 1),
         ("wait", 2), ("expect", 1)],
    ),
    "retry_backoff.yaml[android]": (
        14,
        [("launch", 2), ("expect", 5), ("expect", 1), ("expect", 1)],
    ),
}  # fmt: skip


#: the channels of each scenario's total, by key (``{"xcrun": 18, "wda": 3}``)
CHANNELS: dict[str, dict[str, int]] = {}


def run_bundled(only: str | None = None) -> dict[str, tuple[int, list[tuple[str, int]]]]:
    """Each bundled scenario on the embedded devices: (total round trips, per step)."""
    scenarios = [s for p in sorted((ROOT / "scenarios").glob("*.yaml")) for s in load_file(p)]
    session = DeviceSession(note=lambda _: None)
    session.app_models = list(
        dict.fromkeys(Path(s.app.model_path) for s in scenarios if s.app is not None and s.app.model_path)
    )
    found: dict[str, tuple[int, list[tuple[str, int]]]] = {}
    try:
        for scenario in scenarios:
            name = Path(scenario.location.file).name if scenario.location else scenario.name
            for platform in scenario.platforms:
                key = f"{name}[{platform}]"
                if only and only not in key:
                    continue
                with session.device_for(scenario, platform) as device:  # embedded: the same every run
                    before = device.round_trips.copy()
                result = session.run(scenario, platform)
                CHANNELS[key] = device.round_trips.since(before)
                total = sum(CHANNELS[key].values())
                steps = [(s.kind, sum(s.round_trips.values())) for s in result.steps]
                found[key] = (total, steps)
    finally:
        session.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="only scenarios whose file name contains this")
    args = parser.parse_args()
    now = run_bundled(args.only)
    print(f"{'scenario':42} {'before':>7} {'now':>5} {'ratio':>6}   worst action step (before → now)")
    for key, (total, steps) in now.items():
        was_total, was_steps = BEFORE.get(key, (0, []))
        actions = [(i, kind, n) for i, (kind, n) in enumerate(steps) if ACTIONS[kind].marks_start]
        worst = max(actions, key=lambda a: a[2], default=None)
        worst_text = ""
        if worst is not None:
            i, kind, n = worst
            was = was_steps[i][1] if i < len(was_steps) and was_steps[i][0] == kind else 0
            worst_text = f"{kind} {was} → {n}"
        ratio = f"{was_total / total:.1f}×" if total and was_total else "-"
        print(f"{key:42} {was_total:7} {total:5} {ratio:>6}   {worst_text}")
    android_actions = [
        n for key, (_, steps) in now.items() if "[android]" in key
        for kind, n in steps if ACTIONS[kind].marks_start
    ]  # fmt: skip
    if android_actions:
        print(
            f"\nAndroid action steps: at most {max(android_actions)} adb round trips "
            "(target <= 4, a reboot aside; before: 23)"
        )
    doze = [n for key, (_, steps) in now.items() for kind, n in steps if kind == "doze"]
    if doze:
        print(
            f"a doze step: {max(doze)} round trips "
            "(before: 14 and 13; the issue counted ~24 with the snapshot)"
        )
    reboot = [n for _, steps in now.values() for kind, n in steps if kind == "reboot"]
    if reboot:
        print(f"a reboot step: {max(reboot)} adb round trips (target <= 4; before: 22, 9 this morning)")
    if "ios_low_power.yaml[ios]" in now:
        total = now["ios_low_power.yaml[ios]"][0]
        made = CHANNELS["ios_low_power.yaml[ios]"]
        channels = ", ".join(f"{n} {c}" for c, n in sorted(made.items()))
        print(
            f"ios_low_power.yaml: {total} requests ({channels}) (target <= 12 xcrun; before: 47, "
            f"{47 / total:.1f}×; 18 xcrun + 3 wda on 2026-12-08 00:00)"
        )
    if "ios_fwm_periodic.yaml[ios]" in now:
        made = CHANNELS["ios_fwm_periodic.yaml[ios]"]
        xcrun = made.get("xcrun", 0)
        print(f"ios_fwm_periodic.yaml: {xcrun} xcrun calls (before: 45; 38 on 2026-12-08 00:00)")


if __name__ == "__main__":
    main()
