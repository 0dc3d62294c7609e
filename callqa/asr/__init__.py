"""The ASR stage: audio decoding, the faster-whisper wrapper, clean-up of its
output, utterances, voice separation of mono calls, and screening of what is
no conversation. Nothing here reads a script's verdicts or the database."""

from callqa.asr.audio import DecodedAudio, decode_audio
from callqa.asr.model import ensure_default_model, resolve_model
from callqa.asr.screening import CallKind, screen_call
from callqa.asr.transcriber import AsrOptions, Transcriber, get_transcriber
from callqa.asr.utterances import build_transcript

__all__ = [
    "AsrOptions",
    "CallKind",
    "DecodedAudio",
    "Transcriber",
    "build_transcript",
    "decode_audio",
    "ensure_default_model",
    "get_transcriber",
    "resolve_model",
    "screen_call",
]
