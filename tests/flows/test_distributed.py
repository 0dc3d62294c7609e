"""The nightly flow across a local dask.distributed cluster of two worker processes."""

import json

import duckdb
import pytest
from samples import copy_call

from flows.nightly import nightly

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


def test_calls_spread_over_two_workers_land_exactly_once(dask_cluster, calls_dir, tmp_path, monkeypatch):
    for call_id in ("en-02", "ru-03", "ru-07", "ru-02"):
        copy_call(call_id, calls_dir)
    copy_call("ru-03", calls_dir, name="ru-03-again")
    monkeypatch.setenv("CALLQA_DASK_ADDRESS", dask_cluster)
    db = tmp_path / "callqa.duckdb"

    first = nightly(recordings_dir=str(calls_dir), db_path=str(db))
    assert (first.found, first.processed, first.skipped, first.failed) == (5, 4, 1, 0)
    con = duckdb.connect(str(db), read_only=True)
    workers = {json.loads(asr)["worker"] for (asr,) in con.execute("SELECT asr FROM calls").fetchall()}
    counts = con.execute("SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM scores), (SELECT count(*) FROM segments)").fetchone()
    con.close()
    assert len(workers) == 2, workers  # both worker processes did calls; this process none
    assert counts[:2] == (4, 4)

    second = nightly(recordings_dir=str(calls_dir), db_path=str(db))
    assert (second.processed, second.skipped) == (0, 5)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM scores), (SELECT count(*) FROM segments)").fetchone() == counts
    con.close()
