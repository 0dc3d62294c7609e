import json
import re

import click
import pytest
from click.testing import CliRunner
from samples import EXAMPLES, ROOT, SCRIPTS

from callqa.cli import cli
from callqa.config import Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_analyze_transcript_prints_the_contract_json():
    result = _invoke("analyze", "--transcript", EXAMPLES / "reference" / "ru-03.json", "--script", SCRIPTS / "stroydom-inbound.yaml", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["call_id"] == "ru-03"
    assert "missing_required_step:next_step" in data["flags"]
    assert {h["id"] for h in data["stop_words"]} >= {"ne_nashe", "ne_ko_mne"}


@pytest.mark.slow
def test_analyze_audio_prints_the_contract_json():
    result = _invoke("analyze", EXAMPLES / "calls" / "ru-05.mp3", "--script", SCRIPTS / "stroydom-inbound.yaml", "--channels", "manager-left", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["channel_layout"] == "manager-left" and data["duration"] > 30
    assert {s["speaker"] for s in data["segments"]} == {"manager", "client"}
    assert next(s for s in data["steps"] if s["id"] == "greeting")["found"]


@pytest.mark.slow
def test_analyze_audio_takes_call_id_layout_and_manager_from_the_sidecar(tmp_path):
    from samples import copy_call

    audio = copy_call("ru-06", tmp_path, name="recording")  # a mono call; its sidecar says so
    result = _invoke("analyze", audio, "--script", SCRIPTS / "stroydom-inbound.yaml", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["call_id"] == "ru-06" and data["channel_layout"] == "mono"
    assert {s["speaker"] for s in data["segments"]} == {"manager", "client"}  # the two voices separated
    assert data["segments"][0]["speaker"] == "manager"  # the greeting with the company name


def test_bad_input_is_a_message_not_a_traceback(tmp_path):
    (tmp_path / "x.mp3").write_text("not audio")
    result = _invoke("analyze", tmp_path / "x.mp3", "--script", SCRIPTS / "stroydom-inbound.yaml")
    assert result.exit_code == 1
    assert "x.mp3: not a readable audio file" in result.output and "Traceback" not in result.output


def test_a_bad_sidecar_is_a_message_before_any_decoding(tmp_path):
    (tmp_path / "call.mp3").write_text("not audio")
    (tmp_path / "call.json").write_text('{"channels": "stereo"}')
    result = _invoke("analyze", tmp_path / "call.mp3", "--script", SCRIPTS / "stroydom-inbound.yaml")
    assert result.exit_code == 1
    assert "call.json: channels must be one of manager-left, client-left, mono, not 'stereo'" in result.output


def test_script_check_lists_problems_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: 1\nlanguage: ru\nname: B\nsteps:\n  - {id: a, name: A, phrases: []}\n", encoding="utf-8")
    result = _invoke("script", "check", SCRIPTS / "stroydom-inbound.yaml", bad)
    assert result.exit_code == 1
    assert "stroydom-inbound.yaml: ok" in result.output
    assert "bad.yaml, steps[0].phrases: must not be empty" in result.output


def test_script_check_shows_the_type_each_step_was_recognised_as(tmp_path):
    script = tmp_path / "short.yaml"
    script.write_text(
        "id: short\nversion: 1\nlanguage: ru\nname: S\nsteps:\n"
        "  - {id: q1, name: Уточнение бюджета, phrases: [какой у вас бюджет]}\n"
        "  - {id: mileage, name: Уточнение пробега, phrases: [какой пробег]}\n"
        "  - {id: bye, name: Прощание, type: none, phrases: [до свидания]}\n",
        encoding="utf-8",
    )
    result = _invoke("script", "check", script)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[1:]
    assert lines[0].startswith("  q1: type budget (its name: бюджет); ") and lines[0].endswith(" wordings")
    assert lines[1] == "  mileage: no type (no type fits its id or name); 1 wordings"
    assert lines[2] == "  bye: no type (opted out (type: none)); 1 wordings"


def test_summary_without_a_database_says_what_to_do(tmp_path):
    result = _invoke("summary", "--db", tmp_path / "none.duckdb")
    assert result.exit_code == 1 and "callqa run" in result.output


def _commands(group, prefix=""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}"
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix}{name} ")


@pytest.mark.parametrize("command", sorted(_commands(cli)))
def test_every_command_is_documented(command):
    assert f"callqa {command}" in README


def _options(group, prefix=""):
    """(command, option) for every option of every command, the group's own included."""
    for param in group.params:
        if isinstance(param, click.Option):
            yield prefix.strip() or "callqa", tuple(param.opts + param.secondary_opts)
    for name, command in getattr(group, "commands", {}).items():
        yield from _options(command, f"{prefix}{name} ")


def _command_rows() -> dict[str, str]:
    """The Commands table of the README: each command's rows, by command."""
    rows: dict[str, str] = {}
    for line in README.splitlines():
        if match := re.match(r"\| `callqa ([a-z ]+?)(?: [A-Z\[`-]| ?`)", line):
            rows[match[1]] = rows.get(match[1], "") + line
    return rows


@pytest.mark.parametrize("command, names", sorted(set(_options(cli))))
def test_every_option_is_documented_with_its_command(command, names):
    """Each option (by one of its names: `--progress/--no-progress`) in its command's row of the Commands table."""
    where = README if command == "callqa" else _command_rows()[command]
    assert any(re.search(rf"{name}\b", where) for name in names), f"{names[0]} of {command} is not documented"


@pytest.mark.parametrize("setting", sorted(Settings.model_fields))
def test_every_setting_is_documented(setting):
    assert f"| `{setting}` |" in README


def test_db_upgrade_reports_what_it_did(tmp_path):
    import duckdb

    from callqa.store.schema import SCHEMA_V1

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(SCHEMA_V1)
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.close()
    result = _invoke("db", "upgrade", "--db", path)
    assert result.exit_code == 0 and "upgraded from 1" in result.output, result.output
    assert "already current" in _invoke("db", "upgrade", "--db", path).output
    missing = _invoke("db", "upgrade", "--db", tmp_path / "none.duckdb")
    assert missing.exit_code != 0 and "no database" in missing.output and not (tmp_path / "none.duckdb").exists()


def test_failures_retry_and_runs_commands(tmp_path):
    from callqa.errors import AudioError
    from callqa.store import Store

    db = tmp_path / "db.duckdb"
    with Store(db) as store:
        run_id = store.start_run("/calls", {"callqa": "0.1.0", "model": "base"})
        store.record_failure(run_id, "/calls/a.mp3", "h1", "analyze", AudioError("a.mp3: not a readable audio file"))
        store.update_run(run_id, status="finished", found=1, processed=0, skipped=0, failed=1, audio_seconds=0.0)
    listed = _invoke("failures", "--db", db)
    assert listed.exit_code == 0 and "/calls/a.mp3  [analyze, terminal] AudioError: a.mp3: not a readable audio file" in listed.output
    assert "finished" in _invoke("runs", "--db", db).output and "1 found, 0 processed" in _invoke("runs", "--db", db).output
    requeued = _invoke("retry", "/calls/a.mp3", "--db", db)
    assert requeued.exit_code == 0 and "1 failure(s) re-queued" in requeued.output
    assert _invoke("failures", "--db", db).output.strip() == "no failures"
    assert "-> requeued" in _invoke("failures", "--all", "--db", db).output
    assert "nothing to re-queue" in _invoke("retry", "--db", db).output


def test_reading_commands_without_a_database_say_what_to_do(tmp_path):
    for command in ("failures", "runs", "retry", "summary"):
        result = _invoke(command, "--db", tmp_path / "none.duckdb")
        assert result.exit_code == 1 and "callqa run FOLDER" in result.output, command


def test_a_malformed_transcript_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text('{"segments": [{"speaker": "manager", "start": 0, "end": 1, "text": "a", "words": [{"when": 1}]}]}', encoding="utf-8")
    result = _invoke("analyze", "--transcript", bad, "--script", SCRIPTS / "stroydom-inbound.yaml", "--json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "segments[0].words[0]: unknown field(s) when" in result.output
