"""Mono calls: the two voices separated and the manager told by what each says, on real renders."""

import json

import pytest
from samples import EXAMPLES

from callqa.pipeline import transcribe_call


def _word_roles_right(transcript, reference: list[dict]) -> float:
    right = total = 0
    for seg in transcript.segments:
        for word in seg.words:
            middle = (word.start + word.end) / 2
            truth = next((t["speaker"] for t in reference if t["start"] - 0.3 <= middle <= t["end"] + 0.3), None)
            if truth:
                total += 1
                right += seg.speaker == truth
    return right / total


@pytest.mark.parametrize("call_id, script", [("ru-07", "ru_script"), ("en-01", "en_script")])
def test_a_mono_call_gets_its_roles_from_voices_and_content(settings, call_id, script, request):
    """ru-07 was recorded mono; en-01 is stereo, here decoded as one mixed channel."""
    audio = next(p for p in (EXAMPLES / "calls").glob(f"{call_id}.*") if p.suffix != ".json")
    transcript = transcribe_call(audio, "mono", None, settings, request.getfixturevalue(script))
    reference = json.loads((EXAMPLES / "reference" / f"{call_id}.json").read_text())["segments"]
    speakers = transcript.asr.speakers
    assert speakers.reliable and speakers.evidence[f"voice{speakers.manager_voice}"] > speakers.evidence[f"voice{1 - speakers.manager_voice}"]
    assert _word_roles_right(transcript, reference) >= 0.9
    assert transcript.channel_layout == "mono" and not transcript.warnings


def test_without_a_script_the_manager_is_not_guessed(settings):
    transcript = transcribe_call(EXAMPLES / "calls" / "ru-07.mp3", "mono", "ru", settings)
    assert {s.speaker for s in transcript.segments} == {"unknown"}
    assert transcript.asr.speakers.reliable and "no script" in transcript.warnings[0]


def test_one_voice_stays_unknown_and_says_so(settings, en_script, tmp_path):
    import wave

    import numpy as np

    from callqa.asr.audio import decode_audio

    manager_only = decode_audio(EXAMPLES / "calls" / "en-01.mp3").channels[0]
    with wave.open(str(tmp_path / "one.wav"), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(16000)
        wav.writeframes((manager_only * 32767).astype(np.int16).tobytes())
    transcript = transcribe_call(tmp_path / "one.wav", "mono", "en", settings, en_script)
    assert {s.speaker for s in transcript.segments} == {"unknown"}
    assert not transcript.asr.speakers.reliable and "could not be told apart" in transcript.warnings[0]


def test_segments_are_cut_where_the_voice_changes_and_nothing_is_dropped():
    from callqa.asr.speakers import SpeakerTrack
    from callqa.roles import split_by_voice
    from callqa.types import AsrSegment, Word

    track = SpeakerTrack([(0.0, 2.0, 0), (2.2, 4.0, 1)], True, 0.3, "test")
    words = (Word(0.1, 0.5, "Добрый", 0.9), Word(0.5, 1.0, "день.", 0.9), Word(2.3, 2.8, "Здравствуйте", 0.9), Word(3.0, 3.4, "да", 0.9))
    stray = AsrSegment(9.0, 9.5, "угу", -0.4, 0.1, (Word(9.0, 9.5, "угу", 0.5),))
    by_voice = split_by_voice([AsrSegment(0.1, 3.4, "Добрый день. Здравствуйте да", -0.2, 0.01, words), stray], track)
    assert [(s.text, s.start, s.end) for s in by_voice[0]] == [("Добрый день.", 0.1, 1.0)]
    assert [s.text for s in by_voice[1]] == ["Здравствуйте да", "угу"]  # far from any turn: the nearest voice
