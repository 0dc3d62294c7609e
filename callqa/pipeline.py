"""One call, end to end: audio -> transcript -> analysis."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from callqa import __version__ as PIPELINE_VERSION
from callqa.analysis import AnalysisOptions, CallAnalysis, analyze_transcript
from callqa.asr import build_transcript, decode_audio, get_transcriber, screen_call
from callqa.config import Settings
from callqa.errors import NotAConversationError
from callqa.roles import attribute_mono
from callqa.scripts import Script
from callqa.types import AsrRecord, AsrSegment, ChannelLayout, Speaker, SpeakerSplit, Transcript

__all__ = ["analyze_audio", "transcribe_call"]


def transcribe_call(path: Path | str, channels: ChannelLayout, language: str | None, settings: Settings, script: Script | None = None) -> Transcript:
    """Decode once, transcribe each speaker's channel, merge into one transcript.

    `script`: tells the manager's voice in a mono call (and gives the decoder its vocabulary
    as hotwords, if the `hotwords` setting is on); without it a mono call stays `unknown`.
    """
    audio = decode_audio(path, max_seconds=settings.max_call_minutes * 60)
    warnings = list(audio.warnings)
    layout = channels
    if layout != "mono" and len(audio.channels) == 1:
        warnings.append(f"layout {channels} asked for, but the recording is mono: its two voices are separated instead")
        layout = "mono"
    transcriber = get_transcriber(settings)
    hotwords = " ".join(script.vocabulary) if settings.hotwords and script and script.vocabulary else None
    speakers: SpeakerSplit | None = None
    channel_segments: dict[Speaker, list[AsrSegment]]
    if layout == "mono":
        samples = audio.mono()
        segments = [] if audio.silent_channels else transcriber.transcribe(samples, language, hotwords)
        channel_segments = {"unknown": segments}
        if settings.separate_speakers and segments:
            mono = attribute_mono(samples, segments, audio.duration, script)
            channel_segments, speakers = mono.segments, mono.split
            warnings += mono.warnings
    else:
        sides: list[Speaker] = ["manager", "client"] if layout == "manager-left" else ["client", "manager"]
        audible = [i for i in range(len(audio.channels)) if i not in audio.silent_channels]
        decoded = transcriber.transcribe_many([audio.channels[i] for i in audible], language, hotwords)
        channel_segments = {side: [] for side in sides}
        for i, segments in zip(audible, decoded):
            channel_segments[sides[i]] = segments
    asr = AsrRecord(**asdict(transcriber.options), hotwords=hotwords, pipeline_version=PIPELINE_VERSION, speakers=speakers)
    return build_transcript(channel_segments, audio.duration, language=language, channel_layout=layout, asr=asr, warnings=warnings)


def analyze_audio(
    path: Path | str,
    script: Script,
    settings: Settings,
    channels: ChannelLayout | None = None,
    call_id: str | None = None,
    options: AnalysisOptions | None = None,
    manager: str | None = None,
) -> CallAnalysis:
    """Transcribe a recording and check it against a script; raises NotAConversationError for
    silence, answering machines and IVR menus, which are not scored."""
    language = settings.language or script.language
    transcript = transcribe_call(path, channels or settings.channels, language, settings, script)
    kind = screen_call(transcript)
    if not kind.is_conversation:
        raise NotAConversationError(f"{Path(path).name}: not scored, {kind.kind.replace('_', ' ')}: {kind.reason}", kind.kind)
    return analyze_transcript(transcript, script, call_id or Path(path).stem, options, manager)
