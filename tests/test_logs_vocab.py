"""Vocabulary mapping for each library, from the real-format fixtures."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from harness.logs.logcat_parser import LogcatParser
from harness.logs.oslog_parser import OslogParser
from harness.logs.vocab import (
    STATES,
    VocabState,
    VocabularyError,
    available_vocabularies,
    load_vocabulary,
)

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
REF = calendar.timegm((2026, 6, 1, 0, 0, 0)) * 10**9


def events(vocab: str, *files: str) -> tuple[list[tuple[str, str]], VocabState]:
    state = VocabState([load_vocabulary(vocab)])
    out = []
    for f in files:
        data = (FIX / f).read_bytes()
        p = LogcatParser(reference_ns=REF) if f.endswith(".logcat") else OslogParser()
        for rec in p.feed(data) + p.flush():
            out += [(e.task, e.state) for e in state.events(rec)]
    return out, state


def test_every_vocabulary_compiles() -> None:
    names = available_vocabularies()
    assert {"androidx_workmanager", "native_workmanager", "flutter_workmanager", "bgtaskscheduler",
            "native_workmanager_ios", "flutter_workmanager_ios", "kmpworkmanager"} <= set(names)
    for n in names:
        v = load_vocabulary(n)
        assert v.rules
        assert all(r.event in (None, *STATES) for r in v.rules)


def test_androidx_retry_run_resolves_uuid_to_tag() -> None:
    evs, state = events("androidx_workmanager", "wm_retry_run.logcat")
    # the first "Scheduling work ID" only names a UUID: it is held until the RETRY line links
    # the UUID to the tag `upload`; re-scheduling right after a retry is part of the retry
    assert evs == [
        ("upload", "enqueued"), ("upload", "started"), ("upload", "retried"),
        ("upload", "started"), ("upload", "retried"), ("upload", "started"), ("upload", "succeeded"),
    ]
    assert sum(1 for _t, s in evs if s == "retried") == 2
    assert sum(1 for _t, s in evs if s == "succeeded") == 1
    assert state.job_id_for("upload") == 12


def test_diagnostics_rows_link_unique_names_and_job_ids() -> None:
    evs, state = events("androidx_workmanager", "wm_diagnostics.logcat")
    assert evs == []  # diagnostics rows are links, not events
    assert {"daily-upload", "upload"} <= state.names_for("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b")
    assert state.job_id_for("periodic-sync") == 13
    assert state.job_id_for("daily-upload") == 12
    # the Diagnostics worker's own row: "null" is not a name; its class names it (issue #9:
    # work may be named by its worker class, simple or fully qualified)
    assert state.names_for("08be261c-2def-4bd6-a716-1e4410968dc4") == {
        "DiagnosticsWorker", "androidx.work.impl.workers.DiagnosticsWorker"}


def test_unique_name_from_diagnostics_applies_to_later_lines() -> None:
    state = VocabState([load_vocabulary("androidx_workmanager")])
    p = LogcatParser(reference_ns=REF)
    recs = p.feed((FIX / "wm_diagnostics.logcat").read_bytes() + (FIX / "wm_retry_run.logcat").read_bytes())
    recs += p.flush()
    evs = [e for r in recs for e in state.events(r)]
    assert all(e.is_for("daily-upload") and e.is_for("upload") for e in evs)


def test_native_workmanager_android() -> None:
    evs, _ = events("native_workmanager", "nwm_run.logcat")
    assert ("periodic-sync", "enqueued") in evs
    assert evs.count(("upload-1", "enqueued")) == 1  # NWM line + WM line deduplicated
    assert evs.count(("upload-1", "started")) == 1  # WM-Processor + TaskStore running
    assert evs.count(("upload-1", "succeeded")) == 1  # WorkerWrapper, TaskStore, WorkInfo fallback
    assert evs.count(("periodic-sync", "succeeded")) == 1
    names = {t for t, _ in evs}
    assert names == {"periodic-sync", "upload-1"}  # no kmp-worker-task / worker-… / class names


def test_nwm_fallback_counts_when_workmanager_is_quiet() -> None:
    state = VocabState([load_vocabulary("native_workmanager")])
    p = LogcatParser(reference_ns=REF)
    [rec] = p.feed(b"05-12 09:00:03.970  5000  5000 D NativeWorkManager: \xe2\x9c\x85 WorkInfo SUCCEEDED "
                   b"(fallback): upload-9\n") or p.flush()
    [ev] = state.events(rec)
    assert (ev.task, ev.state) == ("upload-9", "succeeded")


def test_flutter_workmanager_android() -> None:
    evs, _ = events("flutter_workmanager", "fwm_run.logcat")
    assert evs == [
        ("simpleTask", "enqueued"), ("simpleTask", "started"), ("simpleTask", "retried"),
        ("sync-tag", "retried"), ("simpleTask", "started"), ("simpleTask", "succeeded"),
        ("sync-tag", "succeeded"), ("otherTask", "cancelled"),
    ]


def test_ios_native_workmanager_and_bgtaskscheduler() -> None:
    evs, _ = events("native_workmanager_ios", "ios_stream.ndjson")
    assert evs == [
        ("dev.brewkits.native_workmanager.refresh", "enqueued"),  # dasd's Submitted line deduplicated
        ("dev.brewkits.native_workmanager.refresh", "started"),
        ("periodic-sync", "succeeded"),
        ("com.example.cleanup", "cancelled"),
    ]


def test_ios_flutter_workmanager_subsystem_and_private_redaction() -> None:
    evs, _ = events("flutter_workmanager_ios", "ios_stream.ndjson")
    assert ("fwmTask", "enqueued") in evs and ("fwmTask", "succeeded") in evs
    assert not any(t == "<private>" for t, _ in evs)


def test_kmpworkmanager_both_platforms() -> None:
    state = VocabState([load_vocabulary("kmpworkmanager")])
    p = LogcatParser(reference_ns=REF)
    line = ("05-12 09:00:00.000  1  2 I KMP_WorkManager: ℹ️ [TaskScheduler] Scheduling one-time task - "
            "ID: 'exact-1', Delay: 0ms\n")
    recs = p.feed(line.encode()) + p.flush()
    o = OslogParser()
    recs += o.feed('{"timestamp":"2026-05-12 10:00:00.000000+0000","eventMessage":'
                   '"ℹ️ [TaskWorker] Task \'demo-quick-sync\' finished (result=Success)",'
                   '"processImagePath":"/x/App"}\n')
    got = [(e.task, e.state) for r in recs for e in state.events(r)]
    assert got == [("exact-1", "enqueued"), ("demo-quick-sync", "succeeded")]


def test_bad_vocabularies_are_refused_with_the_rule(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "rules:\n  - id: r1\n    tag: T\n    regex: '('\n    event: succeeded\n")
    with pytest.raises(VocabularyError, match="rule r1: bad regex"):
        load_vocabulary("bad", str(tmp_path))
    (tmp_path / "st.yaml").write_text(
        "rules:\n  - id: r2\n    tag: T\n    regex: '(?P<task>x)'\n    event: done\n")
    with pytest.raises(VocabularyError, match="unknown state 'done'"):
        load_vocabulary("st", str(tmp_path))
    (tmp_path / "a.yaml").write_text("include: [b]\n")
    (tmp_path / "b.yaml").write_text("include: [a]\n")
    with pytest.raises(VocabularyError, match="include cycle"):
        load_vocabulary("a", str(tmp_path))
    with pytest.raises(VocabularyError, match="unknown vocabulary 'nope'"):
        load_vocabulary("nope", str(tmp_path))
