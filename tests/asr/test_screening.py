"""Recordings that are no conversation are recognised from real speech, and not scored."""

import numpy as np
import pytest
from samples import prompt_recording

from callqa.analysis import AnalysisOptions, segment_is_reliable
from callqa.asr.screening import screen_call
from callqa.errors import NotAConversationError
from callqa.pipeline import analyze_audio, transcribe_call
from callqa.types import Segment, Transcript

ANSWERING_MACHINE = ["hello", 0.8, "vm-nobodyavail", 0.5, "vm-intro", 0.3, "beep", 3.0]
IVR = [0.5, "queue-periodic-announce", 1.0, "pls-hold-while-try", 2.0]
TONES_ONLY = [2.0, "beep", 1.0, "beep", 1.0, "beep", 4.0]


@pytest.mark.parametrize("parts, kind", [(ANSWERING_MACHINE, "answering_machine"), (IVR, "ivr"), (TONES_ONLY, "no_speech")])
def test_recorded_voices_and_tones_are_not_scored(tmp_path, settings, ru_script, parts, kind):
    recording = prompt_recording(tmp_path / "call.wav", parts)
    with pytest.raises(NotAConversationError, match="not scored") as err:
        analyze_audio(recording, ru_script, settings, channels="mono")
    assert err.value.kind == kind and not err.value.retryable


def test_a_seamless_loop_of_a_real_prompt_is_cut_and_marked(tmp_path, settings):
    import wave

    with wave.open(str(prompt_recording(tmp_path / "one.wav", ["vm-goodbye"], noise_dbfs=-90))) as wav:
        prompt = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    voiced = np.nonzero(np.abs(prompt) > 600)[0]
    with wave.open(str(tmp_path / "loop.wav"), "wb") as wav:  # "До свидания" eight times, no pause
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(8000)
        wav.writeframes(np.tile(prompt[voiced[0] : voiced[-1]], 8).tobytes())
    transcript = transcribe_call(tmp_path / "loop.wav", "mono", "ru", settings)
    text = " ".join(s.text for s in transcript.segments).lower()
    assert text.count("свидания") == 1
    assert all(s.looped for s in transcript.segments)
    assert not any(segment_is_reliable(s, AnalysisOptions()) for s in transcript.segments)


def _said(*lines: str) -> Transcript:
    return Transcript([Segment("unknown", 3.0 * i, 3.0 * i + 2.5, text) for i, text in enumerate(lines)], 3.0 * len(lines))


def test_a_person_who_answers_after_the_menu_makes_it_a_conversation():
    menu = "Все наши операторы заняты, пожалуйста, оставайтесь на линии."
    assert screen_call(_said(menu)).kind == "ivr"
    person = "Добрый день, компания СтройДом, меня зовут Анна, слушаю вас. Да, я оставлял заявку на ремонт кухни."
    assert screen_call(_said(menu, person)).is_conversation


def test_ordinary_calls_are_conversations():
    assert screen_call(_said("Алло.", "Добрый день, это Bright Windows, you asked for a quote last week.", "Yes, hi.")).is_conversation
    assert screen_call(_said("Здравствуйте, нажмите на ссылку в письме, там всё есть", "Хорошо, спасибо, посмотрю сегодня вечером")).is_conversation
