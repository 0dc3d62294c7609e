"""Two-voice split of mono recordings, on the rendered sample calls and their reference turns."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from samples import EXAMPLES

from callqa.asr import speakers
from callqa.asr.audio import SAMPLE_RATE, decode_audio
from callqa.asr.speakers import split_speakers
from callqa.errors import ModelError


def _call(call_id: str) -> tuple[list[np.ndarray], list[dict]]:
    """Channels of a sample call as (manager, client) for a stereo one, and its reference turns."""
    audio = next(p for p in (EXAMPLES / "calls").glob(f"{call_id}.*") if p.suffix != ".json")
    channels = decode_audio(audio).channels
    if json.loads(audio.with_suffix(".json").read_text())["channels"] == "client-left":
        channels = channels[::-1]
    return channels, json.loads((EXAMPLES / "reference" / f"{call_id}.json").read_text())["segments"]


def _mix(channels: list[np.ndarray], client_gain_db: float = 0.0) -> np.ndarray:
    if len(channels) == 1:
        return channels[0]
    return ((channels[0] + channels[1] * 10 ** (client_gain_db / 20)) / 2).astype(np.float32)


def _word_accuracy(track, turns: list[dict]) -> float:
    """Share of reference words (spread evenly over their turn) whose voice is the speaker's, under the better voice mapping."""
    pairs = []
    for turn in turns:
        n = len(turn["text"].split())
        step = (turn["end"] - turn["start"]) / n
        pairs += [(track.voice_at(turn["start"] + (i + 0.5) * step), turn["speaker"] == "manager") for i in range(n)]
    straight = sum(voice == int(manager) for voice, manager in pairs)
    crossed = sum(voice == int(not manager) for voice, manager in pairs)
    return max(straight, crossed) / len(pairs)


@pytest.mark.parametrize("call_id", ["en-01", "ru-09", "ru-07"])  # two English voices; one Russian voice pitch-shifted (stereo mixed down, mono)
def test_words_get_the_voice_of_their_speaker(call_id):
    channels, turns = _call(call_id)
    track = split_speakers(_mix(channels))
    assert track.reliable
    assert _word_accuracy(track, turns) >= 0.95
    assert track.method.startswith("resemblyzer-0.1.4/")
    assert all(a < b <= c for (a, b, _), (c, _, _) in itertools.pairwise(track.turns))
    assert {voice for _, _, voice in track.turns} == {0, 1}


def test_a_quieter_far_end_is_no_other_voice():
    channels, turns = _call("en-01")
    loud, quiet = split_speakers(_mix(channels, +6)), split_speakers(_mix(channels, -10))
    assert _word_accuracy(loud, turns) >= 0.95 and _word_accuracy(quiet, turns) >= 0.95


@pytest.mark.parametrize("call_id", ["en-01", "ru-01"])
def test_one_speaker_is_not_split(call_id):
    (manager, _), turns = _call(call_id)
    track = split_speakers(manager)
    assert not track.reliable
    assert {voice for _, _, voice in track.turns} == {0}  # the speech is still there, as one voice
    assert sum(end - start for start, end, _ in track.turns) > 20
    assert track.voice_at(turns[0]["start"] + 0.5) is None


def test_silence_and_line_noise_give_no_turns():
    rng = np.random.default_rng(0)
    for samples in (np.zeros(10 * SAMPLE_RATE, np.float32), (rng.standard_normal(10 * SAMPLE_RATE) * 5e-4).astype(np.float32)):
        track = split_speakers(samples)
        assert track.turns == [] and not track.reliable and track.voice_at(5.0) is None


def test_speech_regions_limit_where_voices_are_given():
    channels, turns = _call("ru-09")
    spans = [(t["start"], t["end"]) for t in turns]
    track = split_speakers(_mix(channels), speech=spans)
    assert track.reliable and _word_accuracy(track, turns) >= 0.95
    first_half = [(a, b) for a, b in spans if b < 16]
    track = split_speakers(_mix(channels), speech=first_half)
    assert all(end <= 16 for _, end, _ in track.turns)


def test_the_encoder_loads_once_and_not_at_import():
    assert speakers._encoder() is speakers._encoder()
    code = "import callqa.asr.speakers as s, sys; assert s._cached is None and 'threadpoolctl' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_encoder_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(speakers, "_cached", None)
    monkeypatch.setattr(speakers, "_PACKAGE", "no-such-speaker-encoder")
    with pytest.raises(ModelError, match="not installed") as err:
        split_speakers(np.zeros(SAMPLE_RATE, np.float32))
    assert "pip install" in err.value.hint
