"""Virtual devices of one farm run on threads of their own: a busy device stalls no other.

Deterministic, no timing: device 1's loop is held blocked by the test until device 2 has
answered ``adb shell`` through the real adb server; with one shared loop that answer could not
come before the release.
"""

from __future__ import annotations

import threading

from harness.devices.adb_server import AdbServer
from harness.devices.adbwire import AdbWire
from harness.devices.android import AndroidDevice
from harness.devices.pool import list_devices
from harness.sim.android.launcher import VirtualAndroidFarm


def test_a_blocked_device_does_not_stall_another(adb_server: AdbServer) -> None:
    with VirtualAndroidFarm(count=2, adb_server=adb_server) as farm:
        release, entered = threading.Event(), threading.Event()

        def hold() -> None:  # runs on device 1's thread and blocks its loop
            entered.set()
            release.wait(120)

        holder = threading.Thread(target=lambda: farm.call(hold, timeout=150, on=0), daemon=True)
        holder.start()
        try:
            assert entered.wait(60)
            other = AndroidDevice(farm.serials[1], adb_server.host, adb_server.port)
            assert other.sh(["echo", "ok"]).out.strip() == "ok"
            assert not release.is_set()  # answered while device 1 was still blocked
        finally:
            release.set()
            holder.join(60)
        first = AndroidDevice(farm.serials[0], adb_server.host, adb_server.port)
        assert first.sh(["echo", "back"]).out.strip() == "back"


def test_each_device_has_its_own_thread_and_call_reaches_the_one_asked(adb_server: AdbServer) -> None:
    with VirtualAndroidFarm(count=3) as farm:
        names = [farm.call(lambda: threading.current_thread().name, on=i) for i in range(3)]
        assert len(set(names)) == 3
        serials = [farm.call(lambda i=i: farm.devices[i].serial, on=i) for i in range(3)]
        assert serials == ["bgtest-0001", "bgtest-0002", "bgtest-0003"]


def test_an_unplugged_device_leaves_the_adb_server_and_the_others_run_on(adb_server: AdbServer) -> None:
    with VirtualAndroidFarm(count=2, adb_server=adb_server) as farm:
        gone, kept = farm.serials
        farm.unplug(0)
        AdbWire(gone, adb_server.host, adb_server.port).wait_for("disconnect", 60)  # the server saw it
        states = {d.serial: d.state for d in list_devices(adb_server.host, adb_server.port)}
        assert states.get(gone) != "device"
        assert AndroidDevice(kept, adb_server.host, adb_server.port).sh(["echo", "ok"]).out.strip() == "ok"

