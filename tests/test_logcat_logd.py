"""logd's ring buffers: sequence, merge order, eviction, payload limit, timestamps, reboot."""

from __future__ import annotations

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.os.logd import ENTRY_OVERHEAD, LOGGER_ENTRY_MAX_PAYLOAD, Logd


def fresh() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice()
    d.logd.clear()
    return d


def test_seq_is_device_wide_and_merge_follows_it() -> None:
    d = fresh()
    for i, buf in enumerate(["main", "system", "main", "crash", "system"]):
        d.log("I", "T", f"m{i}", buffer=buf)
        d.clock.advance(1)
    entries = d.logd.entries()
    assert [e.message for e in entries] == [f"m{i}" for i in range(5)]
    seqs = [e.seq for e in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [e.message for e in d.logd.entries(["system"])] == ["m1", "m4"]
    assert [e.message for e in d.logd.since(seqs[1], ["main", "crash"])] == ["m2", "m3"]


def test_ring_drops_the_oldest_entries_of_that_buffer_only() -> None:
    d = fresh()
    assert d.logd.set_size("main", 64 * 1024)
    d.log("I", "Sys", "keep me", buffer="system")
    for i in range(2000):
        d.log("I", "Tag", f"line {i:05d} " + "x" * 80)
    main = d.logd.entries(["main"])
    assert main[-1].message.startswith("line 01999")
    assert main[0].message > "line 00000"  # the oldest went first
    assert d.logd.used("main") <= 64 * 1024
    assert d.logd.used("main") == sum(ENTRY_OVERHEAD + len(e.tag) + len(e.message) for e in main)
    assert [e.message for e in d.logd.entries(["system"])] == ["keep me"]
    numbers = [int(e.message[5:10]) for e in main]
    assert numbers == list(range(numbers[0], 2000))  # contiguous: nothing but the head dropped


def test_size_limits_like_logd() -> None:
    logd = Logd(None)
    assert not logd.set_size("main", 1024)
    assert not logd.set_size("main", 512 * 1024 * 1024)
    assert logd.set_size("main", 64 * 1024) and logd.size("main") == 64 * 1024
    custom = Logd(None, sizes={"crash": 128 * 1024})
    assert custom.size("crash") == 128 * 1024 and custom.size("main") == 1024 * 1024


def test_message_is_cut_to_the_payload_limit() -> None:
    logd = Logd(None)
    e = logd.append("main", 1, 1, 1, 0, "I", "Tag", "y" * 10_000)
    assert len(e.message.encode()) == LOGGER_ENTRY_MAX_PAYLOAD - 3 - len("Tag")
    multibyte = logd.append("main", 2, 1, 1, 0, "I", "Tag", "€" * 2000)  # 6000 bytes
    assert len(multibyte.message.encode()) <= LOGGER_ENTRY_MAX_PAYLOAD - 6
    assert multibyte.message == "€" * len(multibyte.message)  # cut on a character boundary
    short = logd.append("main", 3, 1, 1, 0, "I", "Tag", "fine")
    assert short.message == "fine"


def test_timestamps_are_strictly_increasing_and_never_on_a_millisecond() -> None:
    d = fresh()
    d.clock.advance(5)
    entries = [d.logd.append("main", d.clock.now_ns(), 1, 1, 0, "I", "T", str(i)) for i in range(50)]
    times = [e.time_ns for e in entries]
    assert times == sorted(set(times))
    assert all(t % 1_000_000 for t in times)
    assert {t // 1_000_000 for t in times} == {d.clock.now_ns() // 1_000_000}  # same printed ms


def test_reboot_empties_the_buffers_and_seq_keeps_counting() -> None:
    d = fresh()
    d.log("I", "T", "before")
    before = d.logd.last_seq
    d.reboot_now()
    messages = [e.message for e in d.logd.entries()]
    assert "before" not in messages
    assert all(e.seq > before for e in d.logd.entries())


def test_clear_only_the_named_buffers() -> None:
    d = fresh()
    d.log("I", "T", "m")
    d.log("I", "T", "s", buffer="system")
    d.logd.clear(["main"])
    assert [e.message for e in d.logd.entries()] == ["s"]
    assert d.logd.used("main") == 0


def test_since_is_exact_for_short_and_long_steps() -> None:
    d = fresh()
    for i in range(1000):
        d.log("I", "T", str(i), buffer="system" if i % 3 == 0 else "main")
    everything = d.logd.entries()
    for cursor in (0, everything[10].seq, everything[600].seq, everything[-5].seq, everything[-1].seq):
        assert d.logd.since(cursor) == [e for e in everything if e.seq > cursor]


def test_tail_equals_the_end_of_the_merge() -> None:
    d = fresh()
    for i in range(300):
        d.log("I", "T", str(i), buffer=("main", "system", "crash")[i % 7 % 3])
    everything = d.logd.entries()
    for n in (1, 5, 299, 300, 1000):
        assert d.logd.tail(n) == everything[-n:]
    assert d.logd.tail(3, ["events"]) == []
