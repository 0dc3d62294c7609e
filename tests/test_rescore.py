from click.testing import CliRunner

from callqa.cli import cli
from callqa.rescore import try_script
from callqa.store import Store


def test_new_version_lists_only_the_verdicts_that_change(scored_db, ru_script):
    # a step about something else: one wording nobody says, a name that is no budget, no step type to fill in from
    budget_gone = [
        s.model_copy(update={"name": "Ипотека", "phrases": ["ваша ипотека одобрена банком"], "type": "none"}) if s.id == "budget" else s
        for s in ru_script.steps
    ]
    new = ru_script.model_copy(update={"version": ru_script.version + 1, "steps": budget_gone})
    with Store(scored_db, read_only=True) as store:
        trial = try_script(store, new, workers=1)
    assert trial.calls == 2
    [call] = trial.changed
    assert call.call_id == "good" and call.baseline_version == ru_script.version
    assert [(c.step_id, c.before, c.after) for c in call.changes] == [("budget", "found", "missing")]


def test_script_test_command(scored_db, tmp_path, ru_script):
    from samples import SCRIPTS, new_version

    def no_introduction(text):
        # the introduction step keeps only a phrase nobody says: every {manager} wording goes
        intro = text.index("  - id: introduction")
        phrases = text.index("    phrases:\n", intro) + len("    phrases:\n")
        text = text[:phrases] + '      - "никто так не представляется"\n' + text[phrases:]
        text = text.replace("  - id: introduction\n", "  - id: introduction\n    type: none\n")  # and no step type fills it in
        return "".join(line for line in text.splitlines(keepends=True) if "{manager}" not in line)

    new = new_version(SCRIPTS / "stroydom-inbound.yaml", tmp_path, no_introduction)
    version = ru_script.version
    result = CliRunner().invoke(cli, ["script", "test", str(new), "--db", str(scored_db)])
    assert result.exit_code == 0, result.output
    assert "on 2 stored calls" in result.output and "1 call(s) change" in result.output
    assert f"good  introduction: found (v{version}) -> missing" in result.output


def test_script_test_on_an_unknown_script_says_what_to_do(scored_db, tmp_path):
    (tmp_path / "other.yaml").write_text("id: other\nversion: 1\nlanguage: ru\nname: O\nsteps:\n  - {id: a, name: A, phrases: [привет]}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["script", "test", str(tmp_path / "other.yaml"), "--db", str(scored_db)])
    assert result.exit_code == 1 and "bump its version" in result.output
