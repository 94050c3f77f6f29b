"""Following a virtual device's reboot as an adb client does, without racing it.

A virtual device is offline for well under a second across a reboot (the server's 250 ms
redial, then the boot's hold), where a phone is gone for tens of seconds. A client that asks
the server's wait-for-disconnect only once ``reboot`` has returned can miss that window on a
loaded machine and then wait for a drop that is long over. Asked before the reboot, the
server itself watches (adb's ``wait_for_state`` samples the state every 100 ms).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import adbutils

#: Only reached when the device never gets there: generous, so a loaded machine is no failure.
TIMEOUT_S = 60.0


@contextlib.contextmanager
def disconnect_awaited(client: adbutils.AdbClient, serial: str, timeout: float = TIMEOUT_S) -> Iterator[None]:
    """``with disconnect_awaited(client, serial): d.reboot()`` ends once the server saw the drop."""
    with client.make_connection(timeout=timeout) as conn:
        conn.send_command(f"host-serial:{serial}:wait-for-any-disconnect")
        conn.check_okay()  # accepted: the server watches the device from now on
        yield
        conn.check_okay()  # the second OKAY: the device went away


def wait_boot_completed(d: adbutils.AdbDevice, timeout: float = TIMEOUT_S) -> None:
    """Poll ``getprop sys.boot_completed`` as a harness does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if d.shell("getprop sys.boot_completed") == "1":
                return
        except adbutils.AdbError:
            pass
        time.sleep(0.05)
    raise AssertionError("sys.boot_completed never became 1")
