"""The nightly flow, for real: Prefect server, Whisper base, a DuckDB file."""

import duckdb
import pytest
from samples import EXAMPLES, copy_call, three_hour_recording

from flows.nightly import nightly

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


@pytest.fixture
def batch_dir(calls_dir):
    copy_call("ru-01", calls_dir)  # stereo mp3
    copy_call("ru-01", calls_dir, name="ru-01-copy")  # the same recording under another name
    copy_call("ru-06", calls_dir)  # mono mp3
    copy_call("en-01", calls_dir)  # English
    (calls_dir / "empty.wav").write_bytes(b"")
    (calls_dir / "notes.mp3").write_text("call back on Monday\n" * 20)
    (calls_dir / "cut.mp3").write_bytes((EXAMPLES / "calls" / "ru-02.mp3").read_bytes()[:200])
    three_hour_recording(calls_dir / "all-night.flac")
    (calls_dir / "moved.mp3").symlink_to(calls_dir / "gone.mp3")
    return calls_dir


def _attempts(names):
    """How many times Prefect ran each task of these names, over every flow run so far."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return await client.read_task_runs()

    return sorted({r.run_count for r in asyncio.run(read()) if r.name in names})


def _progress_artifacts():
    """The progress (percent) of every progress artifact flows have made so far."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return await client.read_artifacts()

    return [a.data for a in asyncio.run(read()) if a.type == "progress"]


def _tables(db):
    con = duckdb.connect(str(db), read_only=True)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("calls", "segments", "scores", "step_results", "objections", "objection_handling", "recordings")
    }
    con.close()
    return counts


def test_nightly_run_stores_good_calls_records_bad_ones_and_never_counts_twice(batch_dir, tmp_path, ru_script):
    db = tmp_path / "callqa.duckdb"
    first = nightly(recordings_dir=str(batch_dir), db_path=str(db), script="stroydom-inbound")
    # the English call checked against the Russian script still gets scored, just badly
    assert (first.found, first.processed, first.skipped, first.failed) == (9, 3, 1, 5)

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 3
    failures = {
        name: (stage, error_class, message, retryable)
        for name, stage, error_class, message, retryable in con.execute(
            "SELECT regexp_extract(file_path, '[^/]+$'), stage, error_class, message, retryable FROM failures"
        ).fetchall()
    }
    # every broken file once, at the stage that found it, with its kind and a reason that names it
    assert {name: stage_and_class for name, (*stage_and_class, _, _) in failures.items()} == {
        "empty.wav": ["analyze", "AudioError"],
        "notes.mp3": ["analyze", "AudioError"],
        "cut.mp3": ["analyze", "AudioError"],
        "all-night.flac": ["analyze", "AudioError"],
        "moved.mp3": ["read", "CallQAError"],
    }
    assert failures["empty.wav"][2] == "empty.wav: the file is empty (0 bytes)"
    assert failures["notes.mp3"][2].startswith("notes.mp3: not a readable audio file")
    assert failures["cut.mp3"][2].startswith("cut.mp3: not a readable audio file")
    assert failures["all-night.flac"][2] == "all-night.flac: 180 min long, more than the 120 min a call may last"
    assert failures["moved.mp3"][2].startswith("moved.mp3: cannot read file")
    assert not any(retryable for *_, retryable in failures.values())
    # both names of the copied recording point at the one call
    copies = con.execute("SELECT count(*), count(DISTINCT content_hash) FROM recordings WHERE file_path LIKE '%ru-01%'").fetchone()
    assert copies == (2, 1)
    layouts = dict(con.execute("SELECT call_id, channel_layout FROM calls").fetchall())
    assert layouts in (
        {"ru-01": "manager-left", "ru-06": "mono", "en-01": "manager-left"},
        {"ru-01-copy": "manager-left", "ru-06": "mono", "en-01": "manager-left"},
    )
    ru01 = con.execute(
        "SELECT s.overall, s.script_id, s.script_version, s.model, s.pipeline_version FROM scores s JOIN calls c USING (content_hash) WHERE c.call_id LIKE 'ru-01%'"
    ).fetchone()
    assert ru01[0] > 0.6 and ru01[1:4] == ("stroydom-inbound", ru_script.version, "base") and ru01[4]
    run = con.execute("SELECT status, found, processed, skipped, failed, audio_seconds, versions, timings FROM runs").fetchone()
    assert run[:5] == ("finished", 9, 3, 1, 5) and 230 < run[5] < 250
    assert '"callqa"' in run[6] and f'"stroydom-inbound v{ru_script.version}"' in run[6] and '"work_s"' in run[7]
    con.close()
    counts = _tables(db)
    assert 100.0 in _progress_artifacts()  # the run's progress, as the Prefect UI shows it

    second = nightly(recordings_dir=str(batch_dir), db_path=str(db), script="stroydom-inbound")
    assert (second.processed, second.skipped, second.failed) == (0, 8, 1)  # done, the copy, and the broken files are skipped now
    assert _tables(db) == counts
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 2
    # a metadata or read failure is checked again each run: the same one counts another attempt, no new row
    assert con.execute("SELECT attempts FROM failures WHERE file_path LIKE '%moved.mp3'").fetchall() == [(2,)]
    con.close()

    forced = nightly(recordings_dir=str(batch_dir), db_path=str(db), script="stroydom-inbound", force=True)
    assert (forced.processed, forced.failed) == (3, 5)
    assert _tables(db) == counts  # transcripts and scores replaced, nothing added
    # a broken file fails once per run: its error says retrying cannot help, so Prefect does not retry it
    assert _attempts({"analyze empty", "analyze notes", "analyze cut", "analyze all-night"}) == [1]
