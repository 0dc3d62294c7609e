import json

import pytest

from callqa.errors import TranscriptError
from callqa.types import AsrRecord, SpeakerSplit, load_transcript, transcript_from_dict


def test_loads_the_contract_shape(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"segments": [{"speaker": "client", "start": 1, "end": 2, "text": "да"}]}), encoding="utf-8")
    t = load_transcript(path)
    assert t.segments[0].speaker == "client" and t.duration == 2.0


def test_every_bad_segment_is_reported(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {
                "segments": [
                    {"speaker": "boss", "start": 0, "end": 1, "text": "a"},
                    {"speaker": "client", "start": "x", "end": 1, "text": "b"},
                    {"speaker": "client", "start": 3, "end": 2, "text": "c"},
                ]
            }
        ),
        encoding="utf-8",
    )
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


def test_every_bad_word_and_number_is_reported_with_its_place(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(
        '{"duration": "long", "warnings": "x", "segments": ['
        '{"speaker": "manager", "start": 0, "end": 1, "text": "a", "avg_logprob": "low",'
        ' "words": [{"start": 0, "end": 1, "text": "a", "probability": 0.9, "speaker": "x"}, {"start": "0", "end": 1, "text": "b", "probability": 1}, 7]},'
        '{"speaker": "client", "start": NaN, "end": 2, "text": "b"},'
        '{"speaker": "client", "start": 2, "end": 3, "text": "c", "words": "c"}]}',
        encoding="utf-8",
    )
    with pytest.raises(TranscriptError) as err:
        load_transcript(path)
    message = str(err.value)
    for problem in (
        "segments[0].avg_logprob: must be a number",
        "segments[0].words[0]: unknown field(s) speaker",
        "segments[0].words[1]: start, end and probability must be numbers, text a string",
        "segments[0].words[2]: must be an object with start, end, text, probability",
        "segments[1]: start and end must be numbers of seconds",  # NaN is no number
        "segments[2].words: must be a list of words",
        "duration: must be a number of seconds",
        "warnings: must be a list of strings",
    ):
        assert problem in message


def test_null_words_are_no_words():
    t = transcript_from_dict({"segments": [{"speaker": "manager", "start": 0, "end": 1, "text": "a", "words": None}]})
    assert t.segments[0].words == []


def test_the_asr_record_keeps_the_json_shape_it_had_as_a_dict():
    stored = {
        "model": "base", "device": "cpu", "compute_type": "int8", "beam_size": 5, "batch_size": 8, "vad_threshold": 0.25,
        "word_timestamps": True, "hotwords": None, "pipeline_version": "0.1.0",
        "speakers": {"method": "ge2e", "reliable": True, "separation": 0.41, "manager_voice": 1, "evidence": {"voice0": 2, "voice1": 7}},
        "worker": "host:12",
    }  # fmt: skip
    assert AsrRecord.from_dict(stored).to_dict() == stored
    assert list(AsrRecord.from_dict(stored).to_dict()) == list(stored)  # the same key order, so stored JSON reads alike
    unsplit = SpeakerSplit(None, False)
    assert unsplit.to_dict() == {"method": None, "reliable": False}  # no encoder: no separation, no decision
    assert AsrRecord.from_dict({"model": "base", "extra": 1}).model == "base"  # a foreign or older record still reads
