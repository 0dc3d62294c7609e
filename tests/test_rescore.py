import pytest
from click.testing import CliRunner

from callqa.cli import cli
from callqa.rescore import try_script
from callqa.scoring import analyze_transcript
from callqa.store import CallRecord, Store
from callqa.transcript import transcript_from_dict


@pytest.fixture
def db(tmp_path, ru_script):
    """Two stored calls scored with the bundled script."""
    path = tmp_path / "db.duckdb"
    calls = {
        "good": ["Добрый день, компания СтройДом, меня зовут Анна.", "Какой ремонт вы планируете? На какой бюджет вы рассчитываете?"],
        "short": ["Алло.", "Какой ремонт вы планируете?"],
    }
    with Store(path) as store:
        for call_id, lines in calls.items():
            transcript = transcript_from_dict({"segments": [
                {"speaker": "manager", "start": i * 4.0, "end": i * 4.0 + 3, "text": text} for i, text in enumerate(lines)]})
            store.save_call(CallRecord(call_id, call_id, f"{call_id}.mp3", "m-1", "Анна Иванова"), analyze_transcript(transcript, ru_script, call_id), None)
    return path


def test_new_version_lists_only_the_verdicts_that_change(db, ru_script):
    budget_gone = [s.model_copy(update={"phrases": ["ваш бюджет утвержден руководством"]}) if s.id == "budget" else s for s in ru_script.steps]
    new = ru_script.model_copy(update={"version": ru_script.version + 1, "steps": budget_gone})
    with Store(db, read_only=True) as store:
        trial = try_script(store, new, workers=1)
    assert trial.calls == 2
    [call] = trial.changed
    assert call.call_id == "good" and call.baseline_version == ru_script.version
    assert [(c.step_id, c.before, c.after) for c in call.changes] == [("budget", "found", "missing")]


def test_script_test_command(db, tmp_path):
    from samples import SCRIPTS

    text = (SCRIPTS / "stroydom-inbound.yaml").read_text(encoding="utf-8")
    version = int(text.split("version: ")[1].split()[0])
    # the introduction step keeps only a phrase nobody says: every {manager} wording goes
    text = text.replace(f"version: {version}", f"version: {version + 1}")
    intro = text.index("  - id: introduction")
    phrases = text.index("    phrases:\n", intro) + len("    phrases:\n")
    text = text[:phrases] + '      - "никто так не представляется"\n' + text[phrases:]
    new = "".join(line for line in text.splitlines(keepends=True) if "{manager}" not in line)
    (tmp_path / "catalogues").symlink_to(SCRIPTS / "catalogues")
    (tmp_path / "new.yaml").write_text(new, encoding="utf-8")
    result = CliRunner().invoke(cli, ["script", "test", str(tmp_path / "new.yaml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "on 2 stored calls" in result.output and "1 call(s) change" in result.output
    assert f"good  introduction: found (v{version}) -> missing" in result.output


def test_script_test_on_an_unknown_script_says_what_to_do(db, tmp_path):
    (tmp_path / "other.yaml").write_text("id: other\nversion: 1\nlanguage: ru\nname: O\nsteps:\n  - {id: a, name: A, phrases: [привет]}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["script", "test", str(tmp_path / "other.yaml"), "--db", str(db)])
    assert result.exit_code == 1 and "bump its version" in result.output
