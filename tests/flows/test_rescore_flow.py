"""The re-score flow on a real Prefect server: a new script version over stored transcripts, no ASR."""

import duckdb
import pytest
from click.testing import CliRunner
from samples import SCRIPTS, new_version

from callqa.cli import cli
from flows.rescore import rescore

pytestmark = pytest.mark.usefixtures("prefect_server")


def _versions(db):
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT script_version, count(*) FROM scores GROUP BY 1 ORDER BY 1").fetchall()
    steps = con.execute("SELECT count(*) FROM step_results").fetchone()[0]
    con.close()
    return rows, steps


def test_a_new_version_is_scored_once_beside_the_old_one(scored_db, tmp_path, ru_script):
    script = new_version(SCRIPTS / "stroydom-inbound.yaml", tmp_path)
    first = rescore(script_path=str(script), db_path=str(scored_db), workers=1)
    assert (first.found, first.processed, first.skipped) == (2, 2, 0)
    v = ru_script.version
    assert _versions(scored_db)[0] == [(v, 2), (v + 1, 2)]
    counts = _versions(scored_db)

    again = rescore(script_path=str(script), db_path=str(scored_db), workers=1)
    assert (again.processed, again.skipped) == (0, 2)
    forced = rescore(script_path=str(script), db_path=str(scored_db), workers=1, force=True)
    assert forced.processed == 2
    assert _versions(scored_db) == counts  # replaced, never added

    con = duckdb.connect(str(scored_db), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'finished' AND source LIKE 'rescore stroydom-inbound%'").fetchone()[0] == 3
    con.close()


def test_rescore_command_prints_the_run_and_the_summary(scored_db, tmp_path):
    script = new_version(SCRIPTS / "stroydom-inbound.yaml", tmp_path)
    result = CliRunner().invoke(cli, ["rescore", str(script), "--db", str(scored_db), "--workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "2 found, 2 processed, 0 skipped, 0 failed" in result.output and "Анна Иванова" in result.output
