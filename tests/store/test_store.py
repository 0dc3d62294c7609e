import duckdb
import pytest

from callqa.analysis import analyze_transcript
from callqa.errors import AudioError, StoreBusyError, StoreError
from callqa.store import CallRecord, Rows, Store, call_rows, open_store, score_rows
from callqa.types import RecordingMetadata, transcript_from_dict


@pytest.fixture
def analysis(ru_script):
    transcript = transcript_from_dict(
        {
            "segments": [
                {"speaker": "manager", "start": 0.0, "end": 3.0, "text": "Добрый день, компания СтройДом, меня зовут Анна."},
                {"speaker": "client", "start": 3.5, "end": 6.0, "text": "Это слишком дорого."},
                {"speaker": "manager", "start": 6.5, "end": 9.0, "text": "Понимаю вас. Короче, в цену уже входит всё."},
            ]
        }
    )
    return analyze_transcript(transcript, ru_script, "c1")


def _record(h="abc", manager="Анна"):
    return CallRecord(h, "/x/c1.wav", RecordingMetadata("c1", "m-1", manager))


def test_saving_a_call_writes_every_table(tmp_path, analysis):
    with Store(tmp_path / "db.duckdb") as store:
        store.save_call(_record(), analysis, "run1")
        counts = {
            t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("calls", "segments", "scores", "step_results", "stop_word_hits", "objections")
        }
    assert counts == {"calls": 1, "segments": 3, "scores": 1, "step_results": len(analysis.steps), "stop_word_hits": 1, "objections": 1}


def test_saving_again_replaces_instead_of_duplicating(tmp_path, analysis):
    with Store(tmp_path / "db.duckdb") as store:
        store.save_call(_record(), analysis, "run1")
        store.save_call(_record(), analysis, "run2")
        assert store.con.execute("SELECT count(*) FROM scores").fetchone()[0] == 1
        assert store.con.execute("SELECT count(*) FROM step_results").fetchone()[0] == len(analysis.steps)
        assert store.done_keys() == {("abc", "stroydom-inbound", analysis.script_version)}


def test_a_failed_write_leaves_nothing_behind(tmp_path, analysis):
    with Store(tmp_path / "db.duckdb") as store:
        store.con.execute("DROP TABLE objections")  # make the last insert of the transaction fail
        with pytest.raises(duckdb.Error):
            store.save_call(_record(), analysis, "run1")
        assert store.con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
        assert store.con.execute("SELECT count(*) FROM scores").fetchone()[0] == 0


def test_manager_summary(tmp_path, analysis):
    with Store(tmp_path / "db.duckdb") as store:
        store.save_call(_record("a"), analysis, "r")
        store.save_call(_record("b"), analysis, "r")
        [row] = store.manager_summary()
    assert (row.manager, row.calls, row.objections, row.objections_handled_pct, row.stop_words_per_call) == ("Анна", 2, 2, 100.0, 1.0)


def test_failures_are_stored_with_their_reason(tmp_path):
    with Store(tmp_path / "db.duckdb") as store:
        store.record_failure("r", "/x/bad.mp3", "h1", "analyze", AudioError("bad.mp3: not a readable audio file"))
        store.record_failure("r", "/x/busy.mp3", "h2", "analyze", ValueError("boom"))
        bad, busy = store.failures()
        assert store.terminal_failures() == {"h1"}  # only the terminal one is skipped by later runs
    assert (bad["file_path"], bad["error_class"], bad["message"], bad["retryable"]) == ("/x/bad.mp3", "AudioError", "bad.mp3: not a readable audio file", False)
    assert (busy["error_class"], busy["retryable"]) == ("ValueError", True)


def test_the_same_failure_again_counts_an_attempt_and_success_resolves_it(tmp_path, analysis):
    with Store(tmp_path / "db.duckdb") as store:
        for run in ("r1", "r2"):
            store.record_failure(run, "/x/c1.wav", "abc", "analyze", StoreBusyError("db busy"))
        [row] = store.failures()
        assert row["attempts"] == 2
        store.save_call(_record(), analysis, "r3")
        assert store.failures() == []
        [row] = store.failures(include_resolved=True)
        assert row["resolution"] == "processed"


def test_requeue_lets_a_terminal_failure_be_tried_again(tmp_path):
    with Store(tmp_path / "db.duckdb") as store:
        store.record_failure("r", "/x/a.mp3", "h1", "analyze", AudioError("a.mp3: damaged"))
        store.record_failure("r", "/x/b.mp3", "h2", "analyze", AudioError("b.mp3: damaged"))
        assert store.requeue(["/x/a.mp3"]) == 1
        assert store.terminal_failures() == {"h2"}
        assert store.requeue() == 1
        assert store.terminal_failures() == set() and store.failures() == []


def test_many_calls_load_in_one_set_based_transaction(tmp_path, analysis):
    rows = Rows()
    for h in ("a", "b", "c"):
        rows.extend(call_rows(_record(h), analysis.transcript, analysis.duration, "r")).extend(score_rows(h, analysis, "r"))
    with Store(tmp_path / "db.duckdb") as store:
        store.load(rows)
        store.load(rows)  # loading the same calls again replaces, never duplicates
        counts = {
            t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("calls", "segments", "scores", "step_results", "objections", "objection_handling", "flags")
        }
        handling = store.con.execute("SELECT part_id, found FROM objection_handling WHERE content_hash = 'a' ORDER BY part_id").fetchall()
    parts = analysis.objections[0].handling
    assert counts == {
        "calls": 3,
        "segments": 9,
        "scores": 3,
        "step_results": 3 * len(analysis.steps),
        "objections": 3,
        "objection_handling": 3 * len(parts),
        "flags": 3 * len(analysis.flags),
    }
    assert handling == sorted((p.id, p.found) for p in parts)


def test_a_run_whose_process_died_is_marked_interrupted(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    with Store(tmp_path / "db.duckdb") as store:
        old = store.start_run("/calls", {"callqa": "0"})
        store.con.execute("UPDATE runs SET pid = ? WHERE run_id = ?", [int(dead), old])
        new = store.start_run("/calls", {"callqa": "0"})
        store.update_run(new, status="finished", processed=3)
        status = dict(store.con.execute("SELECT run_id, status FROM runs").fetchall())
    assert status == {old: "interrupted", new: "finished"}


def test_a_second_run_over_the_same_folder_is_refused_while_the_first_goes_on(tmp_path):
    import subprocess
    import sys

    from callqa.errors import CallQAError

    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with Store(tmp_path / "db.duckdb") as store:
            first = store.start_run("/calls", {"callqa": "0"})
            store.con.execute("UPDATE runs SET pid = ? WHERE run_id = ?", [alive.pid, first])  # as if another process ran it
            with pytest.raises(CallQAError, match=f"run {first} over /calls is still going"):
                store.start_run("/calls", {"callqa": "0"})
            store.start_run("rescore stroydom-inbound v4", {"callqa": "0"})  # other work goes on beside it
    finally:
        alive.kill()


def _held_by_another_process(path, seconds):
    """Another process that opens the database file for writing and keeps it `seconds`."""
    import subprocess
    import sys

    Store(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep({seconds})"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ok"
    return holder


def test_second_writer_gets_a_clear_busy_error(tmp_path):
    path = tmp_path / "db.duckdb"
    holder = _held_by_another_process(path, 30)
    try:
        with pytest.raises(StoreBusyError, match="in use by another process"):
            Store(path)
        with pytest.raises(StoreBusyError):
            open_store(path, timeout_s=0.3)
    finally:
        holder.kill()


def test_open_store_waits_for_the_other_process_to_let_go(tmp_path):
    path = tmp_path / "db.duckdb"
    holder = _held_by_another_process(path, 1.5)
    try:
        with open_store(path, timeout_s=30) as store:  # a reader waits the same way
            assert holder.poll() is not None
            assert store.done_keys() == set()
    finally:
        holder.kill()


def test_segment_flags_survive_the_round_trip(tmp_path, analysis):
    analysis.transcript.segments[1].overlap = analysis.transcript.segments[2].looped = True
    with Store(tmp_path / "db.duckdb") as store:
        store.save_call(_record(), analysis, "run1")
        [call] = store.stored_calls()
        transcript = call.transcript()
    assert [(s.overlap, s.looped) for s in transcript.segments] == [(False, False), (True, False), (False, True)]


def _schema_v1_file(path):
    """A database file as callqa wrote it before schema version 2."""
    from callqa.store.schema import SCHEMA_V1

    con = duckdb.connect(str(path))
    con.execute(SCHEMA_V1)
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.execute("INSERT INTO calls (content_hash, call_id, duration) VALUES ('old', 'c0', 1.0)")
    con.execute("INSERT INTO segments (content_hash, idx, speaker, start_s, end_s, text) VALUES ('old', 0, 'manager', 0, 1, 'Добрый день')")
    con.execute("INSERT INTO scores (content_hash, script_id, script_version, flags) VALUES ('old', 's', 1, ['speaker_unknown'])")
    con.execute("""INSERT INTO objections (content_hash, script_id, script_version, seq, objection_id, handling) VALUES ('old', 's', 1, 0, 'price',
                   '[{"id": "acknowledge", "found": true, "score": 0.9, "start": 3.5, "text": "понимаю", "phrase": "понимаю вас"}]')""")
    con.execute("INSERT INTO runs (run_id, started_at, finished_at) VALUES ('done', now(), now()), ('killed', now(), NULL)")
    con.close()


def test_an_older_file_is_upgraded_in_place_and_keeps_its_data(tmp_path, analysis):
    from callqa.store import SCHEMA_VERSION

    path = tmp_path / "old.duckdb"
    _schema_v1_file(path)
    with pytest.raises(StoreError, match="callqa db upgrade"):
        Store(path, read_only=True)  # readers never change the file
    with Store(path) as store:
        assert store.upgraded_from == 1
        store.save_call(_record(), analysis, "run1")
        assert store.con.execute("SELECT text, looped, overlap FROM segments WHERE content_hash = 'old'").fetchall() == [("Добрый день", False, False)]
        assert store.con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
        # what later versions keep in tables of their own is filled from the old rows
        assert store.con.execute("SELECT flag FROM flags WHERE content_hash = 'old'").fetchall() == [("speaker_unknown",)]
        assert store.con.execute("SELECT part_id, found, text FROM objection_handling WHERE content_hash = 'old'").fetchall() == [
            ("acknowledge", True, "понимаю")
        ]
        assert dict(store.con.execute("SELECT run_id, status FROM runs").fetchall()) == {"done": "finished", "killed": "interrupted"}
    with Store(path) as store:
        assert store.upgraded_from is None
    with Store(path, read_only=True) as store:
        assert len(store.stored_calls()) == 2


def test_a_file_from_a_newer_callqa_is_refused_untouched(tmp_path):
    path = tmp_path / "new.duckdb"
    with Store(path) as store:
        store.con.execute("INSERT INTO schema_version VALUES (99)")
    for read_only in (False, True):
        with pytest.raises(StoreError, match="schema version 99, newer"):
            Store(path, read_only=read_only)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 99
    con.close()
