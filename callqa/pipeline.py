"""One call, end to end: audio -> transcript -> analysis."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from callqa.asr import get_transcriber
from callqa.audio import decode_audio
from callqa.config import ChannelLayout, Settings
from callqa.errors import AudioError
from callqa.scoring import AnalysisOptions, CallAnalysis, analyze_transcript
from callqa.scripts import Script
from callqa.transcript import Transcript, build_transcript

__all__ = ["analyze_audio", "transcribe_call"]

from callqa import __version__ as PIPELINE_VERSION


def transcribe_call(path: Path | str, channels: ChannelLayout, language: str | None, settings: Settings) -> Transcript:
    """Decode once, transcribe each speaker's channel, merge into one transcript."""
    audio = decode_audio(path)
    warnings = list(audio.warnings)
    layout = channels
    if layout != "mono" and len(audio.channels) == 1:
        warnings.append(f"layout {channels} asked for, but the recording is mono: speakers are not attributed")
        layout = "mono"
    if layout == "mono":
        speakers = ["unknown"]
        channels = [audio.mono()]
    else:
        speakers = ["manager", "client"] if layout == "manager-left" else ["client", "manager"]
        channels = audio.channels
    transcriber = get_transcriber(settings)
    channel_segments = {
        speaker: [] if index in audio.silent_channels else transcriber.transcribe(samples, language)
        for index, (speaker, samples) in enumerate(zip(speakers, channels))
    }
    return build_transcript(
        channel_segments, audio.duration, language=language, channel_layout=layout,
        asr=asdict(transcriber.options) | {"pipeline_version": PIPELINE_VERSION}, warnings=warnings,
    )


def analyze_audio(
    path: Path | str, script: Script, settings: Settings, channels: ChannelLayout | None = None,
    call_id: str | None = None, options: AnalysisOptions | None = None, manager: str | None = None,
) -> CallAnalysis:
    """Transcribe a recording and check it against a script."""
    language = settings.language or script.language
    transcript = transcribe_call(path, channels or settings.channels, language, settings)
    if not transcript.segments:
        raise AudioError(f"{Path(path).name}: no speech in {transcript.duration:.0f} s of audio", hint="silence, hold music or a dropped call: there is nothing to score")
    return analyze_transcript(transcript, script, call_id or Path(path).stem, options, manager)
