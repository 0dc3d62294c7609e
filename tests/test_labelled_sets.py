"""The labelled dialogue sets name only steps, stop-words and objections their scripts have."""

import pytest
import yaml
from samples import ROOT

from callqa.scripts import find_script, load_script

DIALOGUES = sorted(p for folder in ("examples", "benchmarks/dev", "benchmarks/eval") for p in (ROOT / folder / "dialogues").glob("*.yaml"))


@pytest.mark.parametrize("path", DIALOGUES, ids=[p.stem for p in DIALOGUES])
def test_labels_name_items_of_the_script(path, settings):
    dialogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    script = find_script(dialogue["script"], settings.scripts_dir)
    expected = dialogue["expected"]
    assert set(expected["steps_present"]) <= {s.id for s in script.steps}
    stop_words = {w.id for w in script.stop_words}
    assert set(expected.get("stop_words", [])) | set(expected.get("client_stop_words", [])) <= stop_words
    parts = {o.id: {p.id for p in o.handling} for o in script.objections}
    for objection in expected.get("objections", []):
        assert set(objection["handling"]) <= parts[objection["id"]]
        assert objection["handled"] == (len(objection["handling"]) / len(parts[objection["id"]]) >= 0.5)


BLIND = sorted((ROOT / "benchmarks" / "blind").glob("*/dialogues/*.yaml"))


@pytest.mark.parametrize("path", BLIND, ids=[p.stem for p in BLIND])
def test_blind_labels_name_items_of_their_business_script(path):
    """The blind dialogues were labelled from the brief alone: their ids must still be the script's
    (the handling parts are the writer's own kinds of answer, not the script's parts)."""
    dialogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    script = load_script(path.parent.parent / "script.yaml")
    assert dialogue["script"] == script.id == path.parent.parent.name
    expected = dialogue["expected"]
    assert set(expected["steps_present"]) <= {s.id for s in script.steps}
    assert set(expected.get("stop_words", [])) | set(expected.get("client_stop_words", [])) <= {w.id for w in script.stop_words}
    assert {o["id"] for o in expected.get("objections", [])} <= {o.id for o in script.objections}
