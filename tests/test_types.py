import json

import pytest

from callqa.errors import TranscriptError
from callqa.types import load_transcript


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
