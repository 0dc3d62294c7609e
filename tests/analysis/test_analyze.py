import json

import pytest
from samples import EXAMPLES

from callqa.analysis import analyze_transcript
from callqa.scripts import find_script
from callqa.types import transcript_from_dict

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
    result = analyze_transcript(
        _dialogue(
            ("manager", "Добрый день, компания СтройДом, меня зовут Анна."),
            ("client", "Хочу ремонт в двушке."),
            ("manager", "Какой ремонт вы планируете? И какая площадь квартиры?"),
            ("client", "Ой, это слишком дорого наверное."),
            ("manager", "Понимаю вас. В цену уже входит материал и вывоз мусора."),
        ),
        ru_script,
    )
    found = {s.id for s in result.steps if s.found}
    assert {"greeting", "introduction", "need", "property"} <= found
    assert "budget" not in found and "missing_required_step:budget" in result.flags
    [price] = result.objections
    assert price.id == "price" and price.handled
    assert price.handling_found == ["acknowledge", "argument"]
    assert result.stop_words == []  # "наверное" was the client's


def test_stop_words_only_in_managers_speech(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("client", "Я не знаю, какой у меня бюджет."),
            ("manager", "Ну я не знаю, короче, посмотрим."),
        ),
        ru_script,
    )
    assert [(h.id, h.speaker) for h in result.stop_words] == [("ne_znayu", "manager"), ("koroche", "manager")]
    assert result.stop_words[0].start >= 3.5 and result.stop_words[0].text == "не знаю"


def test_objection_left_unanswered_is_not_handled(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("client", "Пришлите на почту, я посмотрю."),
            ("manager", "Хорошо, до свидания."),
        ),
        ru_script,
    )
    [objection] = result.objections
    assert objection.id == "send_email" and not objection.handled
    assert "objection_not_handled:send_email" in result.flags


def test_late_greeting_is_reported_separately_from_missing(ru_script):
    transcript = transcript_from_dict(
        {
            "segments": [
                {"speaker": "manager", "start": 0.0, "end": 2.0, "text": "Алло."},
                {"speaker": "manager", "start": 40.0, "end": 43.0, "text": "Добрый день, компания СтройДом."},
            ]
        }
    )
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
    text = json.dumps(data, ensure_ascii=False)
    again = json.loads(text)
    assert again == data  # every value is plain JSON: nothing is lost or turned into a string on the way
    assert "Здравствуйте" in text  # Cyrillic as written, not \u-escaped
    assert again["segments"] == [{"speaker": "manager", "start": 0.0, "end": 3.0, "text": "Здравствуйте."}]
    assert {s["status"] for s in again["steps"]} <= {"found", "missing", "uncertain"}
    assert all(s["found"] == (s["status"] == "found") for s in again["steps"])
    assert again["script"] == {"id": ru_script.id, "version": ru_script.version} and again["asr"] is None  # a human transcript
    assert again["options"]["stop_word_penalty"] == {"minor": 0.01, "major": 0.03, "critical": 0.1}
    assert transcript_from_dict(again).segments == analyze_transcript(_dialogue(("manager", "Здравствуйте.")), ru_script).transcript.segments


def _asr_dialogue(*turns):
    """Like _dialogue, with ASR confidence: (speaker, text, avg_logprob)."""
    t, segments = 0.0, []
    for speaker, text, logprob in turns:
        segments.append({"speaker": speaker, "start": t, "end": t + 3.0, "text": text, "avg_logprob": logprob, "no_speech_prob": 0.01})
        t += 3.5
    return transcript_from_dict({"segments": segments})


def test_missing_step_in_unreliable_speech_is_uncertain_not_missing(ru_script):
    reliable = analyze_transcript(
        _asr_dialogue(
            ("manager", "Добрый день, компания СтройДом, меня зовут Анна.", -0.2),
            ("manager", "Какой ремонт вы планируете?", -0.3),
        ),
        ru_script,
    )
    garbled = analyze_transcript(
        _asr_dialogue(
            ("manager", "Добрый день, компания СтройДом, меня зовут Анна.", -0.2),
            ("manager", "Кхм бюд жет какой рассчит ваете на", -1.6),  # the recogniser was unsure
            ("manager", "Какой ремонт вы планируете?", -1.4),
        ),
        ru_script,
    )
    assert next(s for s in reliable.steps if s.id == "budget").status == "missing"
    budget = next(s for s in garbled.steps if s.id == "budget")
    assert budget.status == "uncertain" and not budget.found and budget.uncertain_because == "unreliable_speech"
    assert "uncertain_step:budget" in garbled.flags and "missing_required_step:budget" not in garbled.flags
    assert "needs_review" in garbled.flags
    # uncertain steps are left out of the compliance score, not counted as failures
    assert garbled.scores.script_compliance > reliable.scores.script_compliance


def test_looped_text_is_unreliable(ru_script):
    from callqa.analysis import AnalysisOptions, segment_is_reliable
    from callqa.types import Segment

    loop = Segment("manager", 0, 30, "что, " * 40, avg_logprob=-0.3, no_speech_prob=0.1)
    assert not segment_is_reliable(loop, AnalysisOptions())
    assert segment_is_reliable(Segment("manager", 0, 3, "Добрый день, компания СтройДом.", avg_logprob=-0.3, no_speech_prob=0.1), AnalysisOptions())


def test_step_out_of_order_is_a_finding_of_its_own(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("manager", "Добрый день, компания СтройДом, меня зовут Анна."),
            ("manager", "Давайте запишем вас на бесплатный замер."),
            ("manager", "Какой ремонт вы планируете?"),
        ),
        ru_script,
    )
    steps = {s.id: s for s in result.steps}
    assert steps["need"].found and steps["next_step"].found
    assert [s for s in ("greeting", "need", "next_step") if steps[s].in_order is False] == ["next_step"]
    assert "out_of_order_step:next_step" in result.flags and "missing_required_step:next_step" not in result.flags


def test_handling_is_searched_only_in_the_next_manager_turns(ru_script):
    late = analyze_transcript(
        _dialogue(
            ("client", "Это слишком дорого."),
            ("manager", "Ну ладно."),
            ("client", "Да."),
            ("manager", "Хорошо."),
            ("client", "Угу."),
            ("manager", "Понимаю вас. В цену уже входит материал."),  # third manager turn: too late
        ),
        ru_script,
    )
    [price] = late.objections
    assert not price.handled and price.handling_found == []
    assert [p.id for p in price.handling] == ["acknowledge", "argument", "question", "alternative"]
    assert all(not p.found and p.text is None for p in price.handling)


def test_objection_raised_again_later_is_a_new_occurrence(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("client", "Это слишком дорого."),
            ("manager", "Понимаю вас. В цену уже входит материал и вывоз мусора."),
            ("client", "Все равно очень дорого."),
            ("manager", "Ну как хотите."),
        ),
        ru_script,
    )
    assert [(o.id, o.handled) for o in result.objections] == [("price", True), ("price", False)]
    first = result.objections[0]
    assert first.handling[0].id == "acknowledge" and first.handling[0].text == "Понимаю вас" and first.handling[0].start >= 3.5


def test_filler_stop_word_counts_only_as_a_filler(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("manager", "Короче, давайте так. Путь через двор короче."),
            ("manager", "ну короче кухня в пятницу"),
        ),
        ru_script,
    )
    assert [h.id for h in result.stop_words] == ["koroche", "koroche"]


def test_tipa_counts_inside_a_sentence_but_not_as_the_noun(ru_script):
    # "типа" is the filler wherever no modifier or numeral makes it the noun, punctuation or not
    result = analyze_transcript(
        _dialogue(
            ("manager", "обслуживание типа бесплатное"),
            ("manager", "У нас два типа карт. А пол какого типа?"),
        ),
        ru_script,
    )
    assert [(h.id, h.text) for h in result.stop_words] == [("tipa", "типа")]
    assert result.stop_words[0].start < 3.5


def test_stop_word_not_after_a_modifier(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("manager", "А дом какого типа, кирпич?"),
            ("manager", "Ну, типа, сделаем."),
        ),
        ru_script,
    )
    assert [h.id for h in result.stop_words] == ["tipa"]


def test_stop_word_not_before_a_word_that_makes_it_a_question(ru_script):
    result = analyze_transcript(
        _dialogue(
            ("manager", "Как бы вам удобнее, в среду или в пятницу?"),
            ("manager", "Это у нас как бы базовая вещь."),
        ),
        ru_script,
    )
    assert [h.id for h in result.stop_words] == ["kak_by"] and result.stop_words[0].start >= 3.5  # the second turn's


def test_manager_introducing_by_short_name(ru_script):
    transcript = _dialogue(("manager", "Здравствуйте, это СтройДом, Аня на линии."))
    result = analyze_transcript(transcript, ru_script, manager="Анна Иванова")
    assert next(s for s in result.steps if s.id == "introduction").found


def test_manager_placeholder_takes_the_name_from_metadata(ru_script):
    transcript = _dialogue(("manager", "Добрый день, СтройДом. Это Олег Сидоров, слушаю вас."))
    with_name = analyze_transcript(transcript, ru_script, manager="Олег Сидоров")
    other_name = analyze_transcript(transcript, ru_script, manager="Анна Иванова")
    assert next(s for s in with_name.steps if s.id == "introduction").found
    assert not next(s for s in other_name.steps if s.id == "introduction").found


def test_handling_said_long_after_the_objection_does_not_count(ru_script):
    """One long manager turn: the answer words 140 s after the objection are outside the 60 s window."""
    transcript = transcript_from_dict(
        {
            "segments": [
                {"speaker": "client", "start": 0.0, "end": 2.0, "text": "Это слишком дорого."},
                {"speaker": "manager", "start": 3.0, "end": 6.0, "text": "Так, давайте про сроки поговорим."},
                {"speaker": "manager", "start": 140.0, "end": 145.0, "text": "Понимаю вас. В цену уже входит материал и вывоз мусора."},
            ]
        }
    )
    [price] = analyze_transcript(transcript, ru_script).objections
    assert not price.handled and price.handling_found == []
    early = transcript_from_dict(
        {"segments": [{**s.to_dict(), "start": s.start if s.start < 100 else 10.0, "end": s.end if s.end < 100 else 15.0} for s in transcript.segments]}
    )
    assert analyze_transcript(early, ru_script).objections[0].handled  # the same words within the window do count


@pytest.mark.parametrize(
    ("client", "manager", "handled", "answer"),
    [
        # an argument in the manager's own words, no script part said
        ("Честно говоря, дороговато.", "Понимаю. Но это максимальный тариф со всеми интеграциями, базовый стоит девятьсот рублей.", True,
         "Но это максимальный тариф со всеми интеграциями, базовый стоит девятьсот рублей"),
        # the answer goes on past the sentence that opens it
        ("Я подумаю ещё, с женой посоветуюсь.", "Конечно. Так давайте вы с супругой вместе и приедете! Она посмотрит кухню, замерщик всё посчитает на месте.",
         True, "Так давайте вы с супругой вместе и приедете"),
        # a courtesy alone, then another topic
        ("Честно говоря, дороговато.", "Ну да, недёшево, что поделать. Во вторник в девять утра можете?", False, None),
    ],
)  # fmt: skip
def test_an_objection_answered_in_the_managers_own_words(ru_script, client, manager, handled, answer):
    [objection] = analyze_transcript(_dialogue(("client", client), ("manager", manager)), ru_script).objections
    assert (objection.handled, objection.answer) == (handled, answer)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Слушайте, мне там уже показали подешевле.", ["competitor_cheaper"]),
        ("А мне в другом сервисе сказали, что за двадцать поменяют.", ["competitor_cheaper"]),
        ("Спина у меня, сидячая работа.", []),
        ("Сорок тысяч для меня дороговато.", ["price"]),
    ],
)
def test_catalogue_objections_said_in_everyday_words(ru_script, said, expected):
    result = analyze_transcript(_dialogue(("client", said), ("manager", "Понимаю.")), ru_script)
    assert [o.id for o in result.objections] == expected


def test_an_objection_of_the_scripts_own_is_also_said_in_its_catalogue_words(tmp_path):
    from callqa.scripts import load_script

    path = tmp_path / "solar.yaml"
    path.write_text(
        """
id: solar
version: 1
language: en
name: Solar survey
steps:
  - {id: greeting, name: Greeting with the company name, phrases: ["hello this is sunny roofs"]}
objections:
  - id: too_expensive
    name: It's too expensive
    client_phrases: ["that's too expensive"]
    handling:
      - {id: acknowledge, phrases: ["i understand it's a big investment"]}
      - {id: alternative, phrases: ["with a solar loan you pay nothing upfront"]}
""",
        encoding="utf-8",
    )
    result = analyze_transcript(
        _dialogue(("client", "Honestly, we can't afford that right now."), ("manager", "I hear you. We do have a payment plan, though.")),
        load_script(path),
    )
    [objection] = result.objections
    assert objection.id == "too_expensive" and objection.handling_found == ["acknowledge", "alternative"]


def test_a_scripts_filler_takes_the_catalogues_way_of_telling_it_from_the_ordinary_word(tmp_path):
    from callqa.scripts import load_script

    path = tmp_path / "desk.yaml"
    path.write_text(
        """
id: desk
version: 1
language: en
name: Desk delivery
steps:
  - {id: greeting, name: Greeting with the company name, phrases: ["hello this is oak desks"]}
stop_words:
  - {id: kind_of, phrase: "kind of", severity: minor, filler: true}
""",
        encoding="utf-8",
    )
    result = analyze_transcript(
        _dialogue(("manager", "It's kind of our most popular one."), ("manager", "And what kind of floor is it, wood or tile?")),
        load_script(path),
    )
    # no punctuation around the filler, yet it counts; "what kind of floor" is the noun
    assert [h.id for h in result.stop_words] == ["kind_of"] and result.stop_words[0].start < 3.5
