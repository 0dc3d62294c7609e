import json

import pytest

from callqa.asr import AsrSegment, Word
from callqa.errors import TranscriptError
from callqa.transcript import build_transcript, load_transcript, transcript_from_dict


def test_segments_are_merged_in_time_order_and_split_into_utterances():
    words = (Word(0.0, 0.5, "Добрый", 0.9), Word(0.5, 0.9, "день.", 0.9), Word(3.0, 3.5, "Слушаю", 0.9), Word(3.5, 3.8, "вас", 0.9))
    manager = [AsrSegment(0.0, 3.8, "Добрый день. Слушаю вас", -0.2, 0.01, words)]
    client = [AsrSegment(1.0, 2.0, "Здравствуйте", -0.3, 0.02)]
    t = build_transcript({"manager": manager, "client": client}, 4.0)
    assert [(s.speaker, s.start, s.text) for s in t.segments] == [
        ("manager", 0.0, "Добрый день."), ("client", 1.0, "Здравствуйте"), ("manager", 3.0, "Слушаю вас")]


def test_speech_over_the_other_side_is_kept_and_marked():
    manager = [AsrSegment(0.0, 4.0, "Смотрите, мы делаем ремонт под ключ", -0.2, 0.01)]
    client = [AsrSegment(2.5, 3.5, "А сколько стоит?", -0.3, 0.02), AsrSegment(5.0, 6.0, "Понятно", -0.3, 0.02)]
    looped = [AsrSegment(7.0, 8.0, "что", -0.2, 0.01, looped=True)]
    t = build_transcript({"manager": manager + looped, "client": client}, 9.0)
    assert [(s.text, s.overlap) for s in t.segments] == [
        ("Смотрите, мы делаем ремонт под ключ", True), ("А сколько стоит?", True), ("Понятно", False), ("что", False)]
    assert t.segments[-1].looped
    again = json.loads(json.dumps(t.to_dict()))
    assert [(s.overlap, s.looped) for s in transcript_from_dict(again).segments] == [(s.overlap, s.looped) for s in t.segments]


def test_a_turn_that_only_touches_the_other_is_no_overlap():
    t = build_transcript({"manager": [AsrSegment(0.0, 2.0, "Добрый день", -0.2, 0.01)], "client": [AsrSegment(1.8, 3.0, "Здравствуйте", -0.2, 0.01)]}, 3.0)
    assert not any(s.overlap for s in t.segments)


def test_loads_the_contract_shape(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"segments": [{"speaker": "client", "start": 1, "end": 2, "text": "да"}]}), encoding="utf-8")
    t = load_transcript(path)
    assert t.segments[0].speaker == "client" and t.duration == 2.0


def test_every_bad_segment_is_reported(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"segments": [
        {"speaker": "boss", "start": 0, "end": 1, "text": "a"},
        {"speaker": "client", "start": "x", "end": 1, "text": "b"},
        {"speaker": "client", "start": 3, "end": 2, "text": "c"},
    ]}), encoding="utf-8")
    with pytest.raises(TranscriptError) as err:
        load_transcript(path)
    message = str(err.value)
    assert "segments[0].speaker" in message and "segments[1]" in message and "segments[2]: end 2 is before start 3" in message


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"text": "no segments"}'])
def test_wrong_files_give_a_clear_error(tmp_path, content):
    path = tmp_path / "t.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TranscriptError, match="t.json"):
        load_transcript(path)
