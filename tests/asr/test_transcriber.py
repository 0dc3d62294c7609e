"""The real default model (Whisper base from PyPI) on real recordings."""

import json
import re

import pytest
from rapidfuzz.distance import Levenshtein
from samples import EXAMPLES

from callqa.asr import ensure_default_model, get_transcriber
from callqa.asr.audio import decode_audio
from callqa.config import load_settings
from callqa.errors import ModelError
from callqa.pipeline import transcribe_call
from callqa.types import Transcript, load_transcript


def test_default_model_is_assembled_once_and_verified(settings):
    path = ensure_default_model(settings.models_dir, verify_checksum=True)
    marker = json.loads((path / "callqa-model.json").read_text())
    assert (path / "model.bin").stat().st_size == marker["size"] > 100_000_000
    assert ensure_default_model(settings.models_dir) == path  # reused, not rebuilt


def test_incomplete_model_folder_is_rebuilt(tmp_path):
    first = ensure_default_model(tmp_path)
    with (first / "model.bin").open("r+b") as fh:
        fh.truncate(1000)  # an interrupted copy
    rebuilt = ensure_default_model(tmp_path)
    assert (rebuilt / "model.bin").stat().st_size > 100_000_000


def test_a_model_folder_without_model_bin_gives_a_clear_error(tmp_path):
    settings = load_settings(model=str(tmp_path))
    with pytest.raises(ModelError, match="not a CTranslate2 model folder") as err:
        get_transcriber(settings)
    assert "CALLQA_MODEL" in err.value.hint


def test_a_damaged_model_gives_one_clear_error(tmp_path, settings):
    import shutil

    broken = tmp_path / "broken-model"
    shutil.copytree(ensure_default_model(settings.models_dir), broken)
    (broken / "model.bin").write_bytes(b"\0" * 4096)
    with pytest.raises(ModelError, match="cannot load Whisper model") as err:
        get_transcriber(load_settings(model=str(broken)))
    assert "complete faster-whisper" in err.value.hint


def test_real_model_hears_the_key_words_of_a_real_recording(settings):
    audio = decode_audio(EXAMPLES / "calls" / "ru-01.mp3")
    segments = get_transcriber(settings).transcribe(audio.channels[0][: 16000 * 20], "ru")
    text = " ".join(s.text for s in segments).lower()
    assert "добрый день" in text and "меня зовут" in text and "расскажите" in text
    assert all(s.words for s in segments)  # word timestamps for the review page
    assert all(-1.5 < s.avg_logprob <= 0 for s in segments)


def _side_words(transcript: Transcript, speaker: str) -> list[str]:
    return re.findall(r"\w+", " ".join(s.text for s in transcript.segments if s.speaker == speaker).lower())


def test_stereo_call_is_transcribed_per_speaker(settings):
    transcript = transcribe_call(EXAMPLES / "calls" / "en-01.mp3", "manager-left", "en", settings)
    reference = load_transcript(EXAMPLES / "reference" / "en-01.json")
    for speaker in ("manager", "client"):
        said, expected = _side_words(transcript, speaker), _side_words(reference, speaker)
        # Each channel is its own speaker's words (measured: 7% and 11% word errors; swapped channels would be ~100%).
        assert Levenshtein.distance(expected, said) / len(expected) <= 0.2, (speaker, said)
    assert transcript.asr.model == "base" and transcript.channel_layout == "manager-left"


def test_calls_transcribed_at_once_share_batches_and_get_their_own_words(settings):
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    transcriber = get_transcriber(settings)
    calls = [decode_audio(EXAMPLES / "calls" / f"{name}.mp3").channels for name in ("ru-01", "ru-03", "en-01")]
    calls = [[channel[: 16000 * 25] for channel in channels] for channels in calls]
    calls[1].append(np.zeros(16000 * 3, dtype=np.float32))  # a silent signal takes no room among the others
    languages = ["ru", "ru", "en"]
    alone = [transcriber.transcribe_many(signals, language) for signals, language in zip(calls, languages)]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(transcriber.transcribe_many, calls, languages))
    assert [[[s.text for s in signal] for signal in call] for call in together] == [[[s.text for s in signal] for signal in call] for call in alone]
    assert together[1][2] == [] and all(0 <= s.start < 25 for call in together for signal in call for s in signal)
