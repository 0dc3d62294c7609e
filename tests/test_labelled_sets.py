"""The labelled dialogue sets name only steps, stop-words and objections their scripts have."""

import pytest
import yaml
from samples import ROOT

from callqa.scripts import find_script

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
