"""The embedded Android device started while the run still starts up (issue 17): the session
takes the very device the prestart built, a prestart nobody needs leaves nothing running, and
one that finds a real device attached starts none."""

from __future__ import annotations

from pathlib import Path

from harness.run import embedded

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "fixtures" / "apps" / "nwm_demo.yaml"


def test_the_session_takes_the_prestarted_device() -> None:
    embedded.prestart_android([MODEL], None, needed=lambda: True)
    device = embedded.take_android([MODEL], None)
    try:
        assert device.serial and device.server is not None and device.server.process is not None
        assert embedded._prestarted is None  # handed over: nothing left to discard
    finally:
        device.stop()


def test_other_models_or_profile_start_a_device_of_their_own() -> None:
    embedded.prestart_android([], None, needed=lambda: True)
    device = embedded.take_android([MODEL], None)  # the prestarted one lacks this app
    try:
        assert device.serial
    finally:
        device.stop()


def test_a_prestart_nobody_took_is_stopped() -> None:
    embedded.prestart_android([MODEL], None, needed=lambda: True)
    job = embedded._prestarted
    assert job is not None and job.server is not None
    embedded.discard_prestarted()
    assert job.server.process is None and embedded._prestarted is None
    assert job.device is None or job.device.server is None


def test_a_real_device_attached_means_no_prestart() -> None:
    embedded.prestart_android([MODEL], None, needed=lambda: False)
    job = embedded._prestarted
    assert job is not None and job.thread is not None
    job.thread.join(60)
    assert job.device is None and job.server is not None and job.server.process is None
    embedded.discard_prestarted()
