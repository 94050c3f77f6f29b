"""The embedded Android device started while the run still starts up (issue 17): the session
takes the very device the prestart built, a prestart nobody needs leaves nothing running, and
one that finds a real device attached starts none."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

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


def test_a_held_prestart_builds_its_phone_only_once_released(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run in lanes holds the phone it lends until its workers are started (their start is
    the critical path; the phone is needed only after it)."""
    released = threading.Event()
    built_early: list[bool] = []
    real_start = embedded.EmbeddedAndroid.start

    def start(self: embedded.EmbeddedAndroid, server: Any = None) -> embedded.EmbeddedAndroid:
        built_early.append(not released.is_set())
        return real_start(self, server)

    monkeypatch.setattr(embedded.EmbeddedAndroid, "start", start)
    asked = threading.Event()

    def needed() -> bool:
        asked.set()
        return True

    embedded.prestart_android([MODEL], None, needed=needed, held=True)
    job = embedded._prestarted
    assert job is not None and job.thread is not None and job.server is not None
    assert asked.wait(60)  # the thread is past `needed` and at the hold
    assert job.device is None and not job.go.is_set()
    released.set()
    embedded.release_prestarted()
    job.thread.join(60)
    try:
        assert built_early == [False] and job.device is not None and job.device.serial
        assert embedded.take_android([MODEL], None) is job.device
    finally:
        if job.device is not None:
            job.device.stop()


def test_a_held_prestart_the_run_never_released_leaves_nothing_running() -> None:
    embedded.prestart_android([MODEL], None, needed=lambda: True, held=True)
    job = embedded._prestarted
    assert job is not None and job.server is not None and job.thread is not None
    embedded.discard_prestarted()
    assert not job.thread.is_alive() and job.device is None
    assert job.server.process is None and embedded._prestarted is None
