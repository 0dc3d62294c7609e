from samples import SCRIPTS, new_version

from callqa.scripts import load_script
from callqa.store import Store
from callqa.suggest import suggest_wordings


def _without_budget_wordings(text: str) -> str:
    """The budget step, described by four wordings (so no type or key words fill it in), none of them what was said."""
    start = text.index("  - id: budget")
    end = text.index("  - id: timeline", start)
    wordings = ["ипотека одобрена банком", "у вас есть ипотека", "какой банк выдал кредит", "на какую сумму вы рассчитываете"]
    step = "  - id: budget\n    name: Ипотека\n    stage: qualification\n    phrases:\n" + "".join(f'      - "{w}"\n' for w in wordings)
    return text[:start] + step + text[end:]


def test_a_near_miss_in_the_stored_calls_is_proposed_with_the_calls_it_changes(scored_db, tmp_path):
    script = load_script(new_version(SCRIPTS / "stroydom-inbound.yaml", tmp_path, _without_budget_wordings))
    with Store(scored_db, read_only=True) as store:
        suggestions = suggest_wordings(store, script, "budget")
    assert suggestions, "the call 'good' asks the budget in words close to the script's"
    best = suggestions[0]
    assert best.step_id == "budget" and best.calls == ["good"] and "бюджет" in best.wording
    assert all(s.step_id == "budget" for s in suggestions)


def test_nothing_is_proposed_where_every_step_was_found(scored_db, ru_script):
    with Store(scored_db, read_only=True) as store:
        # "good" greets; "short" only says "Алло.", one word, which is no wording to propose
        assert suggest_wordings(store, ru_script, "greeting") == []
