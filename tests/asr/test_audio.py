import numpy as np
import pytest
from samples import EXAMPLES, three_hour_recording

from callqa.asr.audio import SAMPLE_RATE, decode_audio
from callqa.errors import AudioError

CALLS = EXAMPLES / "calls"


def _write_wav(path, channels: np.ndarray, rate=8000, codec="pcm_s16le"):
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo" if channels.shape[0] == 2 else "mono")
        frame = av.AudioFrame.from_ndarray((channels.T.reshape(1, -1) * 32767).astype(np.int16), format="s16", layout=stream.layout.name)
        frame.sample_rate = rate
        if codec != "pcm_s16le":
            frame = av.AudioResampler(format=stream.format.name, layout=stream.layout.name, rate=rate).resample(frame)[0]
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_stereo_mp3_decodes_into_two_16khz_channels():
    audio = decode_audio(CALLS / "ru-01.mp3")
    assert audio.source_sample_rate == 8000 and audio.source_channels == 2
    assert len(audio.channels) == 2 and audio.channels[0].dtype == np.float32
    assert abs(len(audio.channels[0]) / SAMPLE_RATE - audio.duration) < 0.01
    assert not np.allclose(audio.channels[0], audio.channels[1])  # one speaker per channel


@pytest.mark.parametrize("name", ["ru-09.wav", "ru-04.ogg", "ru-05.mp3"])
def test_other_formats_decode(name):
    audio = decode_audio(CALLS / name)
    assert audio.duration > 20 and not audio.warnings


def test_m4a_decodes(tmp_path):
    tone = np.sin(np.linspace(0, 4000, 16000 * 2)).astype(np.float32) * 0.3
    _write_wav(tmp_path / "call.m4a", np.stack([tone, np.zeros_like(tone)]), rate=16000, codec="aac")
    audio = decode_audio(tmp_path / "call.m4a")
    assert len(audio.channels) == 2 and 1.9 < audio.duration < 2.2 and audio.silent_channels == [1]


def test_dual_mono_stereo_is_treated_as_mono(tmp_path):
    tone = np.sin(np.linspace(0, 2000, 8000 * 2)).astype(np.float32) * 0.3
    _write_wav(tmp_path / "dual.wav", np.stack([tone, tone]))
    audio = decode_audio(tmp_path / "dual.wav")
    assert len(audio.channels) == 1 and "treated as mono" in audio.warnings[0]


def test_silent_channel_is_noticed(tmp_path):
    tone = np.sin(np.linspace(0, 2000, 8000 * 2)).astype(np.float32) * 0.3
    _write_wav(tmp_path / "one-side.wav", np.stack([tone, np.zeros_like(tone)]))
    assert decode_audio(tmp_path / "one-side.wav").silent_channels == [1]


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav: the file is empty"):
        decode_audio(tmp_path / "empty.wav")


def test_text_file_renamed_mp3(tmp_path):
    (tmp_path / "notes.mp3").write_text("call back on Monday\n" * 20)
    with pytest.raises(AudioError, match="notes.mp3: not a readable audio file") as err:
        decode_audio(tmp_path / "notes.mp3")
    assert "renamed" in err.value.hint


def test_truncated_mp3_decodes_what_is_there_and_says_so(tmp_path):
    data = (CALLS / "ru-01.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    audio = decode_audio(tmp_path / "cut.mp3")
    assert audio.warnings and audio.warnings[0].startswith("truncated: decoded")


def test_mp3_cut_to_its_first_bytes_is_an_error(tmp_path):
    (tmp_path / "stub.mp3").write_bytes((CALLS / "ru-01.mp3").read_bytes()[:200])
    with pytest.raises(AudioError, match="stub.mp3"):
        decode_audio(tmp_path / "stub.mp3")


def test_a_three_hour_recording_is_refused_from_its_header(tmp_path):
    path = three_hour_recording(tmp_path / "all-night.flac")
    with pytest.raises(AudioError, match="all-night.flac: 180 min long, more than the 120 min") as err:
        decode_audio(path, max_seconds=120 * 60)
    assert "max_call_minutes" in err.value.hint


def test_a_real_recording_over_the_limit_is_refused(tmp_path):
    with pytest.raises(AudioError, match="more than the 1 min"):
        decode_audio(CALLS / "ru-01.mp3", max_seconds=60)
    assert decode_audio(CALLS / "ru-01.mp3", max_seconds=120).duration > 90
