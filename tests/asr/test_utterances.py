import json

from callqa.asr.utterances import build_transcript
from callqa.types import AsrSegment, Word, transcript_from_dict


def test_segments_are_merged_in_time_order_and_split_into_utterances():
    words = (Word(0.0, 0.5, "Добрый", 0.9), Word(0.5, 0.9, "день.", 0.9), Word(3.0, 3.5, "Слушаю", 0.9), Word(3.5, 3.8, "вас", 0.9))
    manager = [AsrSegment(0.0, 3.8, "Добрый день. Слушаю вас", -0.2, 0.01, words)]
    client = [AsrSegment(1.0, 2.0, "Здравствуйте", -0.3, 0.02)]
    t = build_transcript({"manager": manager, "client": client}, 4.0)
    assert [(s.speaker, s.start, s.text) for s in t.segments] == [
        ("manager", 0.0, "Добрый день."),
        ("client", 1.0, "Здравствуйте"),
        ("manager", 3.0, "Слушаю вас"),
    ]


def test_speech_over_the_other_side_is_kept_and_marked():
    manager = [AsrSegment(0.0, 4.0, "Смотрите, мы делаем ремонт под ключ", -0.2, 0.01)]
    client = [AsrSegment(2.5, 3.5, "А сколько стоит?", -0.3, 0.02), AsrSegment(5.0, 6.0, "Понятно", -0.3, 0.02)]
    looped = [AsrSegment(7.0, 8.0, "что", -0.2, 0.01, looped=True)]
    t = build_transcript({"manager": manager + looped, "client": client}, 9.0)
    assert [(s.text, s.overlap) for s in t.segments] == [
        ("Смотрите, мы делаем ремонт под ключ", True),
        ("А сколько стоит?", True),
        ("Понятно", False),
        ("что", False),
    ]
    assert t.segments[-1].looped
    again = json.loads(json.dumps(t.to_dict()))
    assert [(s.overlap, s.looped) for s in transcript_from_dict(again).segments] == [(s.overlap, s.looped) for s in t.segments]


def test_a_turn_that_only_touches_the_other_is_no_overlap():
    t = build_transcript({"manager": [AsrSegment(0.0, 2.0, "Добрый день", -0.2, 0.01)], "client": [AsrSegment(1.8, 3.0, "Здравствуйте", -0.2, 0.01)]}, 3.0)
    assert not any(s.overlap for s in t.segments)
