"""The Android driver against the virtual device, through the real adb server: every action."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.adb_server import AdbServer
from harness.devices.android import AndroidDevice
from harness.devices.android_journal import DeviceJournal
from harness.devices.base import Facet
from harness.errors import DeviceCommandError, DeviceError
from harness.sim.android.launcher import VirtualAndroidFarm

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
PKG = "dev.brewkits.nwm_demo"


@pytest.fixture(scope="module")
def farm(adb_server: AdbServer) -> Iterator[VirtualAndroidFarm]:
    with VirtualAndroidFarm(adb_server=adb_server, app_models=[APPS / "nwm_demo.yaml"]) as farm:
        yield farm


@pytest.fixture()
def device(farm: VirtualAndroidFarm, adb_server: AdbServer) -> Iterator[AndroidDevice]:
    dev = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
    saved = dev.snapshot([PKG])
    yield dev
    dev.restore(saved, [PKG])
    dev.sh(["dumpsys", "battery", "reset"], check=False)


def test_shell_exit_codes_and_streams(device: AndroidDevice) -> None:
    result = device.sh("echo out; echo err >&2; exit 3", check=False)
    assert (result.exit_code, result.out, result.err) == (3, "out\n", "err\n")
    with pytest.raises(DeviceCommandError) as info:
        device.sh(["ls", "/nope"])
    assert info.value.exit_status == 1 and "/nope" in info.value.stderr
    assert info.value.message.startswith(f"<{device.serial}>")


def test_arguments_are_quoted_once(device: AndroidDevice) -> None:
    assert device.out(["echo", "a b", "$HOME", "it's"]) == "a b $HOME it's"


def test_identity_and_virtual_discovery(device: AndroidDevice) -> None:
    info = device.describe()
    assert info["sdk"] == "34" and info["virtual"] == "yes" and info["model"]


def test_doze_deep_is_forced_and_verified_then_off(device: AndroidDevice) -> None:
    assert device.doze("deep") == "IDLE"
    assert device.out(["dumpsys", "deviceidle", "get", "force"]) == "true"
    device.doze("off")
    assert device.out(["dumpsys", "deviceidle", "get", "force"]) == "false"


def test_doze_light_and_step(device: AndroidDevice) -> None:
    assert device.doze("light") == "IDLE"
    device.doze("off")
    assert device.doze("step").startswith("Stepped to deep:")


def test_battery_actions(device: AndroidDevice) -> None:
    device.battery("unplugged", level=42)
    state = device.snapshot()
    assert state.plugged is False and state.battery_level == 42 and state.battery_frozen
    device.battery("charging")
    assert device.snapshot().plugged is True
    device.battery("reset")
    assert not device.snapshot().battery_frozen


def test_battery_saver_refused_while_charging_then_on_when_unplugged(device: AndroidDevice) -> None:
    device.battery("charging")
    device.sh(["settings", "put", "global", "low_power", "0"])
    device.power_saver(True)  # unplugs first, as a person must
    assert device.out(["settings", "get", "global", "low_power"]) == "1"
    device.power_saver(False)
    assert device.out(["settings", "get", "global", "low_power"]) == "0"


def test_network_airplane_wifi_data(device: AndroidDevice) -> None:
    device.network(airplane=True)
    assert device.out(["settings", "get", "global", "airplane_mode_on"]) == "1"
    device.network(airplane=False, wifi=False, data=True)
    state = device.snapshot()
    assert (state.airplane, state.wifi_on, state.mobile_data) == ("0", "0", "1")
    device.network(wifi=True)


def test_standby_bucket_and_screen(device: AndroidDevice) -> None:
    device.standby_bucket(PKG, "rare")
    assert device.get_standby_bucket(PKG) == 40
    device.screen(False)
    assert device.snapshot().screen_on is False
    device.screen(True)
    assert device.snapshot().screen_on is True


def test_app_lifecycle_actions(device: AndroidDevice) -> None:
    device.launch(PKG, ".MainActivity")
    assert device.out(["pidof", PKG])
    device.stop_app(PKG)
    assert device.sh(["pidof", PKG], check=False).exit_code == 1
    device.launch(PKG, deep_link="nwmdemo://enqueue/upload")
    device.background()
    device.kill(PKG)
    assert device.sh(["pidof", PKG], check=False).exit_code == 1
    assert "Broadcast completed" in device.broadcast("dev.brewkits.nwm_demo.ENQUEUE", PKG, {"task": "upload"})
    assert "Broadcast completed" in device.diagnostics(PKG)
    device.open_url("nwmdemo://enqueue/flaky")


def test_launch_of_a_missing_app_names_the_fix(device: AndroidDevice) -> None:
    with pytest.raises(DeviceError) as info:
        device.launch("com.example.missing", ".MainActivity")
    assert "pm list packages" in info.value.render()


def test_jobs_are_found_and_run_now(device: AndroidDevice) -> None:
    device.clear_data(PKG)
    device.launch(PKG, deep_link="nwmdemo://enqueue/periodic-sync")
    device.advance(5 * 60_000)
    ids = device.job_ids(PKG)
    assert ids, device.out(["dumpsys", "jobscheduler", PKG])
    assert device.run_job(PKG, ids[0]).startswith("Running job")


def test_screenshot_is_a_png(device: AndroidDevice) -> None:
    assert device.screenshot().startswith(b"\x89PNG\r\n\x1a\n")


def test_state_guard_restores_everything_it_touched(device: AndroidDevice) -> None:
    before = device.snapshot([PKG])
    device.doze("deep")
    device.network(airplane=True)
    device.standby_bucket(PKG, "restricted")
    restored = device.restore(before, [PKG])
    after = device.snapshot([PKG])
    assert not after.doze_forced and after.airplane == before.airplane
    assert after.buckets == before.buckets and after.battery_frozen == before.battery_frozen
    assert any("doze" in r for r in restored) and any("airplane" in r for r in restored)


def test_reboot_waits_for_the_drop_then_boot_completed(device: AndroidDevice) -> None:
    with device.rebooting(None, timeout=60):
        device.reboot()
    assert device.getprop("sys.boot_completed") == "1"


def test_a_reboot_over_before_the_wait_starts_is_still_seen(
    device: AndroidDevice, farm: VirtualAndroidFarm, adb_server: AdbServer
) -> None:
    """A loaded host can run the harness late: the virtual device has dropped, booted and come
    back before rebooting() asks the server anything. The boot id, not the missed drop, decides
    (this used to wait the whole timeout and fail "it never went offline")."""
    booted = threading.Event()
    boots = farm.call(lambda: farm.devices[0].boot_count)
    farm.call(lambda: farm.devices[0].bus.subscribe("boot_completed", lambda **_: booted.set()))
    with device.rebooting(None, timeout=60):
        device.reboot()
        # the whole reboot, before rebooting() looks: a new boot, completed, listed by the server
        assert booted.wait(60)
        adb_server.client().wait_for(device.serial, state="device", timeout=60)
    assert device.getprop("sys.boot_completed") == "1"
    assert farm.call(lambda: farm.devices[0].boot_count) == boots + 1


def test_journal_survives_a_reboot_without_loss_or_duplicates(device: AndroidDevice) -> None:
    journal = DeviceJournal(device)
    journal.start()
    try:
        for i in range(40):
            device.sh(["log", "-t", "bgtest-seq", f"line {i}"])
        with device.rebooting(journal, timeout=60):
            device.reboot()
        for i in range(40, 80):
            device.sh(["log", "-t", "bgtest-seq", f"line {i}"])
        device.sh(["log", "-t", "bgtest", "done"])
        device.sh(["log", "-t", "bgtest-end", "done"])
        assert journal.wait_for_marker("bgtest", "done", timeout=30) is not None
    finally:
        journal.stop()
    lines = [r.message for r in journal.journal.all_records() if r.tag == "bgtest-seq"]
    assert lines == [f"line {i}" for i in range(80)]
    assert journal.journal.reboots == 1


def _recording(device: AndroidDevice, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    real = device.sh

    def sh(argv: object, check: bool = True, timeout: float = 60.0) -> object:
        sent.append(argv if isinstance(argv, str) else " ".join(argv))  # type: ignore[arg-type]
        return real(argv, check=check, timeout=timeout)  # type: ignore[arg-type]

    monkeypatch.setattr(device, "sh", sh)
    return sent


def test_restore_uses_the_setters_airplane_below_api_28(
    device: AndroidDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard restores through network(): below API 28 the setting and the broadcast, never
    `cmd connectivity` (which only exists from 28 on) — the drift the old restore had."""
    device.props()["ro.build.version.sdk"] = "27"
    before = device.snapshot([PKG])
    device.network(airplane=True)
    sent = _recording(device, monkeypatch)
    restored = device.restore(before, [PKG], {Facet.NETWORK})
    assert "airplane mode off" in restored
    assert any("settings put global airplane_mode_on 0" in c for c in sent)
    assert any("android.intent.action.AIRPLANE_MODE" in c for c in sent)
    assert not any("cmd connectivity" in c for c in sent)


def test_restore_turns_saver_off_with_set_mode_too(
    device: AndroidDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = device.snapshot([PKG])
    device.power_saver(True)
    sent = _recording(device, monkeypatch)
    assert "battery saver off" in device.restore(before, [PKG], {Facet.SAVER, Facet.BATTERY})
    assert any("cmd power set-mode 0" in c for c in sent)
    assert device.snapshot([PKG]).low_power in ("0", "null", "")


def test_a_state_snapshot_is_one_round_trip(device: AndroidDevice) -> None:
    before = device.round_trips.copy()
    state = device.snapshot([PKG])
    assert device.round_trips.since(before) == {"adb": 1}
    assert state.doze_deep and state.battery_level is not None and PKG in state.buckets
