import json

import pytest

from callqa.scoring import analyze_transcript
from callqa.scripts import find_script
from callqa.transcript import transcript_from_dict
from samples import EXAMPLES

REFERENCES = sorted((EXAMPLES / "reference").glob("*.json"))


def _dialogue(*turns):
    t, segments = 0.0, []
    for speaker, text in turns:
        segments.append({"speaker": speaker, "start": t, "end": t + 3.0, "text": text})
        t += 3.5
    return transcript_from_dict({"segments": segments})


@pytest.mark.parametrize("path", REFERENCES, ids=[p.stem for p in REFERENCES])
def test_reference_dialogues_get_their_labelled_verdicts(path, settings):
    """Each sample call's written dialogue: steps, stop-words and objections as labelled by hand."""
    data = json.loads(path.read_text(encoding="utf-8"))
    expected = data["expected"]
    script_id = json.loads((EXAMPLES / "calls" / path.name).read_text())["script"]
    result = analyze_transcript(transcript_from_dict(data), find_script(script_id, settings.scripts_dir), data["call_id"])
    assert {s.id for s in result.steps if s.found} == set(expected["steps_present"])
    assert sorted(h.id for h in result.stop_words) == sorted(expected.get("stop_words", []))
    assert sorted((o.id, o.handled) for o in result.objections) == sorted((o["id"], o["handled"]) for o in expected.get("objections", []))


def test_good_call_finds_steps_and_handled_objection(ru_script):
    result = analyze_transcript(_dialogue(
        ("manager", "Добрый день, компания СтройДом, меня зовут Анна."),
        ("client", "Хочу ремонт в двушке."),
        ("manager", "Какой ремонт вы планируете? И какая площадь квартиры?"),
        ("client", "Ой, это слишком дорого наверное."),
        ("manager", "Понимаю вас. В цену уже входит материал и вывоз мусора."),
    ), ru_script)
    found = {s.id for s in result.steps if s.found}
    assert {"greeting", "introduction", "need", "property"} <= found
    assert "budget" not in found and "missing_required_step:budget" in result.flags
    [price] = result.objections
    assert price.id == "price" and price.handled
    assert price.handling_found == ["acknowledge", "argument"]
    assert result.stop_words == []  # "наверное" was the client's


def test_stop_words_only_in_managers_speech(ru_script):
    result = analyze_transcript(_dialogue(
        ("client", "Я не знаю, какой у меня бюджет."),
        ("manager", "Ну я не знаю, короче, посмотрим."),
    ), ru_script)
    assert [(h.id, h.speaker) for h in result.stop_words] == [("ne_znayu", "manager"), ("koroche", "manager")]
    assert result.stop_words[0].start >= 3.5 and result.stop_words[0].text == "не знаю"


def test_objection_left_unanswered_is_not_handled(ru_script):
    result = analyze_transcript(_dialogue(
        ("client", "Пришлите на почту, я посмотрю."),
        ("manager", "Хорошо, до свидания."),
    ), ru_script)
    [objection] = result.objections
    assert objection.id == "send_email" and not objection.handled
    assert "objection_not_handled:send_email" in result.flags


def test_late_greeting_is_reported_separately_from_missing(ru_script):
    transcript = transcript_from_dict({"segments": [
        {"speaker": "manager", "start": 0.0, "end": 2.0, "text": "Алло."},
        {"speaker": "manager", "start": 40.0, "end": 43.0, "text": "Добрый день, компания СтройДом."},
    ]})
    greeting = analyze_transcript(transcript, ru_script).steps[0]
    assert greeting.found and greeting.on_time is False


def test_scores_weigh_steps_objections_and_stop_words(ru_script):
    result = analyze_transcript(_dialogue(("manager", "Добрый день, компания СтройДом, меня зовут Анна. Короче.")), ru_script)
    weights = {s.id: s.weight for s in ru_script.steps}
    assert result.scores.script_compliance == round((weights["greeting"] + weights["introduction"]) / sum(weights.values()), 3)
    assert result.scores.objection_handling is None  # nothing to handle
    assert result.scores.overall == round(result.scores.script_compliance - 0.01, 3)


def test_json_has_the_contract_keys_and_every_step(ru_script):
    data = analyze_transcript(_dialogue(("manager", "Здравствуйте.")), ru_script, "c1").to_dict()
    assert {"call_id", "duration", "segments", "steps", "stop_words", "objections", "scores", "flags"} <= data.keys()
    assert [s["id"] for s in data["steps"]] == [s.id for s in ru_script.steps]
    assert {"id", "found", "score", "start", "evidence"} <= data["steps"][0].keys()
    assert {"script_compliance", "objection_handling", "overall"} == data["scores"].keys()
    json.dumps(data)
