"""Kill -9 a running batch, run it again: no partial call, no duplicate, the rest processed."""

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from samples import ROOT, copy_call

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

CALLS = ("en-02", "ru-03", "ru-07", "ru-02", "en-01")


def _start_run(calls_dir, db):
    from prefect.settings import PREFECT_API_URL

    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "CALLQA_WRITE_EVERY": "1"}
    cmd = [sys.executable, "-m", "callqa", "run", str(calls_dir), "--db", str(db), "--no-progress"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _stored_calls(db) -> int | None:
    """Calls stored so far, or None while the batch has the file."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("SELECT count(*) FROM scores").fetchall()[0][0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def _kill_when(run, ready, deadline_s=240):
    deadline = time.monotonic() + deadline_s
    while not ready():
        assert run.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline, "the batch never got there"
        time.sleep(0.005)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()


def _check_exactly_once(db):
    con = duckdb.connect(str(db), read_only=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    assert q("SELECT count(*), count(DISTINCT content_hash) FROM calls") == [(len(CALLS), len(CALLS))]
    assert q("SELECT count(*) FROM scores") == [(len(CALLS),)]
    # every call whole: its transcript, and one set of step verdicts
    assert q("SELECT count(*) FROM calls WHERE content_hash NOT IN (SELECT content_hash FROM segments)") == [(0,)]
    assert q("SELECT count(*) FROM segments") == q("SELECT count(DISTINCT (content_hash, idx)) FROM segments")
    assert q("SELECT count(DISTINCT content_hash) FROM step_results") == [(len(CALLS),)]
    assert q("SELECT count(*) FROM step_results") == q("SELECT count(DISTINCT (content_hash, script_id, script_version, step_id)) FROM step_results")
    assert q("SELECT count(*) FROM failures") == [(0,)]
    statuses = dict(q("SELECT status, count(*) FROM runs GROUP BY 1"))
    con.close()
    return statuses


@pytest.mark.parametrize("moment", ["mid-transcription", "mid-write"])
def test_a_batch_killed_at_any_moment_resumes_without_loss_or_duplicates(moment, calls_dir, tmp_path):
    for call_id in CALLS:
        copy_call(call_id, calls_dir)
    db = tmp_path / "callqa.duckdb"
    wal = db.with_name(db.name + ".wal")
    run = _start_run(calls_dir, db)
    if moment == "mid-transcription":
        # after the first call is stored, while the next ones are being transcribed
        _kill_when(run, lambda: (_stored_calls(db) or 0) >= 1)
    else:
        # the third time the batch writes (run row, plan, first call): while its transaction is going to disk
        sightings = []

        def writing():
            if wal.exists() and wal.stat().st_size and not (sightings and sightings[-1]):
                sightings.append(True)
            elif not wal.exists() and sightings and sightings[-1]:
                sightings.append(False)
            return sightings.count(True) >= 3

        _kill_when(run, writing)
        assert wal.exists()  # killed with a transaction in the log, not yet in the file
    stored_before = _stored_calls(db) or 0
    assert stored_before < len(CALLS)

    resumed = _start_run(calls_dir, db)
    assert resumed.wait(timeout=600) == 0
    statuses = _check_exactly_once(db)
    assert statuses == {"interrupted": 1, "finished": 1}
    con = duckdb.connect(str(db), read_only=True)
    processed = con.execute("SELECT processed FROM runs WHERE status = 'finished'").fetchall()[0][0]
    con.close()
    assert processed == len(CALLS) - stored_before
