"""Audio stage: decode any common format once, split channels, find silence.

PyAV (ffmpeg libraries inside its wheel) decodes and resamples to 16 kHz, so
no system ffmpeg is needed; pydub then handles channels and loudness.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from callqa.errors import AudioError

with warnings.catch_warnings():
    # pydub looks for an ffmpeg binary when imported and warns when there is none; decoding
    # is PyAV's job here, and what pydub does with the decoded samples needs no ffmpeg.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv", category=RuntimeWarning)
    from pydub import AudioSegment

__all__ = ["SAMPLE_RATE", "DecodedAudio", "decode_audio"]

SAMPLE_RATE = 16000  # what Whisper expects
SILENT_DBFS = -55.0  # quieter than this, a channel carries no speech worth transcribing
_MIN_SECONDS = 0.3


@dataclass
class DecodedAudio:
    channels: list[np.ndarray]  # float32 in [-1, 1] at SAMPLE_RATE, one array per channel
    duration: float
    source_sample_rate: int
    source_channels: int
    silent_channels: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def mono(self) -> np.ndarray:
        return self.channels[0] if len(self.channels) == 1 else np.mean(self.channels, axis=0).astype(np.float32)


def _too_long(path: Path, seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        f"{path.name}: {seconds / 60:.0f} min long, more than the {max_seconds / 60:.0f} min a call may last",
        hint="split the recording, or raise the max_call_minutes setting if calls really are this long",
    )


def _decode_pcm(path: Path, max_seconds: float | None) -> tuple[bytes, int, int, float | None, int]:
    """Decode to interleaved s16 at SAMPLE_RATE; returns pcm, channels, source rate, declared duration, bad packets.

    A recording longer than `max_seconds` is refused from its header, or, where the header
    says nothing, as soon as decoding passes the limit: never a 3-hour file in memory."""
    import av

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise AudioError(
            f"{path.name}: not a readable audio file ({exc.strerror or exc})",
            hint="check that the file is a wav/mp3/ogg/opus/m4a recording and not truncated or renamed",
        ) from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path.name}: the file has no audio stream", hint="export the call recording as wav/mp3/ogg")
        stream = container.streams.audio[0]
        channels = min(stream.codec_context.channels or 1, 2)
        resampler = av.AudioResampler(format="s16", layout="stereo" if channels == 2 else "mono", rate=SAMPLE_RATE)
        declared = float(container.duration) / 1_000_000 if container.duration else None
        if max_seconds and declared and declared > max_seconds:
            raise _too_long(path, declared, max_seconds)
        bytes_per_second = SAMPLE_RATE * 2 * channels
        chunks: list[bytes] = []
        size = bad_packets = 0
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    for f in resampler.resample(frame):
                        chunks.append(bytes(f.planes[0])[: f.samples * 2 * channels])
                        size += len(chunks[-1])
            except av.error.FFmpegError:
                bad_packets += 1  # a damaged frame costs its few milliseconds, not the call
            if max_seconds and size > max_seconds * bytes_per_second:
                raise _too_long(path, size / bytes_per_second, max_seconds)
        chunks.extend(bytes(f.planes[0])[: f.samples * 2 * channels] for f in resampler.resample(None))
        return b"".join(chunks), channels, stream.codec_context.sample_rate or 0, declared, bad_packets


def _same_signal(left: np.ndarray, right: np.ndarray) -> bool:
    level = float(np.abs(left).mean() + np.abs(right).mean())
    return level > 0 and float(np.abs(left - right).mean()) < 0.02 * level


def decode_audio(path: Path | str, max_seconds: float | None = None) -> DecodedAudio:
    """Decode a recording into 16 kHz float channels, or raise AudioError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file", hint="check the path")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: the file is empty (0 bytes)", hint="the recording was not written completely; re-export it from the PBX")
    pcm, n_channels, source_rate, declared, bad_packets = _decode_pcm(path, max_seconds)
    if not pcm:
        raise AudioError(f"{path.name}: no audio could be decoded", hint="the file is damaged or not audio; re-export it")
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=SAMPLE_RATE, channels=n_channels)
    duration = segment.duration_seconds
    if duration < _MIN_SECONDS:
        raise AudioError(f"{path.name}: only {duration:.2f} s of audio", hint="the recording is too short to be a call")
    warnings = []
    if bad_packets:
        warnings.append(f"{bad_packets} damaged audio packet(s) skipped")
    if declared and duration < 0.9 * declared:
        warnings.append(f"truncated: decoded {duration:.1f} s of {declared:.1f} s declared")
    monos = segment.split_to_mono()
    channels = [np.array(ch.get_array_of_samples(), dtype=np.float32) / 32768.0 for ch in monos]
    if len(channels) == 2 and _same_signal(*channels):
        # Many PBXs write "dual mono": one mix copied to both channels.
        warnings.append("both channels carry the same signal: treated as mono")
        monos, channels = monos[:1], channels[:1]
    silent = [i for i, ch in enumerate(monos) if ch.dBFS < SILENT_DBFS]
    return DecodedAudio(channels, round(duration, 2), source_rate, n_channels, silent, warnings)
