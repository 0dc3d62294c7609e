"""The nightly flow, for real: Prefect server, Whisper base, a DuckDB file."""

import duckdb
import pytest

from samples import EXAMPLES, copy_call
from flows.nightly import nightly

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


@pytest.fixture
def batch_dir(calls_dir):
    copy_call("ru-01", calls_dir)  # stereo mp3
    copy_call("ru-06", calls_dir)  # mono mp3
    copy_call("en-01", calls_dir)  # English
    (calls_dir / "empty.wav").write_bytes(b"")
    (calls_dir / "notes.mp3").write_text("call back on Monday\n" * 20)
    (calls_dir / "cut.mp3").write_bytes((EXAMPLES / "calls" / "ru-02.mp3").read_bytes()[:200])
    return calls_dir


def test_nightly_run_stores_good_calls_records_bad_ones_and_adds_nothing_the_second_time(batch_dir, tmp_path):
    db = tmp_path / "callqa.duckdb"
    first = nightly(recordings_dir=str(batch_dir), db_path=str(db), script="stroydom-inbound")
    # the English call checked against the Russian script still gets scored, just badly
    assert (first.found, first.processed, first.failed) == (6, 3, 3)

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 3
    failures = dict(con.execute("SELECT regexp_extract(file_path, '[^/]+$'), message FROM failures").fetchall())
    assert "the file is empty" in failures["empty.wav"]
    assert "not a readable audio file" in failures["notes.mp3"]
    assert "cut.mp3" in failures
    layouts = dict(con.execute("SELECT call_id, channel_layout FROM calls").fetchall())
    assert layouts == {"ru-01": "manager-left", "ru-06": "mono", "en-01": "manager-left"}
    ru01 = con.execute(
        "SELECT s.overall, s.script_id, s.script_version, s.model FROM scores s JOIN calls c USING (content_hash) WHERE c.call_id = 'ru-01'"
    ).fetchone()
    assert ru01[0] > 0.6 and ru01[1:] == ("stroydom-inbound", 2, "base")
    counts = con.execute("SELECT (SELECT count(*) FROM segments), (SELECT count(*) FROM step_results)").fetchone()
    con.close()

    second = nightly(recordings_dir=str(batch_dir), db_path=str(db), script="stroydom-inbound")
    assert (second.processed, second.skipped, second.failed) == (0, 6, 0)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 3
    assert con.execute("SELECT (SELECT count(*) FROM segments), (SELECT count(*) FROM step_results)").fetchone() == counts
    assert con.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0] == 2
    con.close()
