"""Speech recognition: a faster-whisper wrapper that decodes the speech of
several signals (both channels of a call, concurrent calls) in shared batches."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from callqa.asr.audio import SAMPLE_RATE
from callqa.asr.cleanup import clean_segments
from callqa.asr.model import DEFAULT_MODEL, resolve_model
from callqa.config import Settings
from callqa.errors import ModelError
from callqa.types import AsrSegment, Word

__all__ = ["AsrOptions", "Transcriber", "get_transcriber"]


@dataclass(frozen=True)
class AsrOptions:
    """Decoding options; recorded with every transcript they produced."""

    model: str
    device: str
    compute_type: str
    beam_size: int
    batch_size: int
    vad_threshold: float
    word_timestamps: bool = True


def _resolve_device(settings: Settings) -> tuple[str, str]:
    device = settings.device
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = settings.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


_CHUNK_S = 30  # Whisper's window


@dataclass(frozen=True)
class _Speech:
    """One signal cut into speech chunks of at most 30 s, as faster-whisper's batched pipeline cuts it."""

    chunks: list[np.ndarray]
    durations: list[float]
    speech_map: object | None  # faster_whisper.vad.SpeechTimestampsMap: compacted time -> signal time


def _find_speech(signal: np.ndarray, threshold: float) -> _Speech:
    from faster_whisper.vad import SpeechTimestampsMap, VadOptions, collect_chunks, get_speech_timestamps

    # faster-whisper's batched defaults, but a lower threshold: at its 0.5, Silero drops much of the
    # quieter far end of a phone line (measured: benchmarks/README.md, asr_wer.py).
    vad = VadOptions(threshold=threshold, max_speech_duration_s=_CHUNK_S, min_silence_duration_ms=160)
    speech = get_speech_timestamps(signal, vad) if len(signal) else []
    if not speech:
        return _Speech([], [], None)
    chunks, metadata = collect_chunks(signal, speech, max_duration=_CHUNK_S)
    return _Speech(chunks, [m["duration"] for m in metadata], SpeechTimestampsMap(speech, SAMPLE_RATE))


@dataclass(eq=False)  # compared by identity: each is one waiting call
class _Request:
    signals: list[_Speech]
    language: str | None
    hotwords: str | None
    result: list[list[AsrSegment]] = field(default_factory=list)
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Transcriber:
    """One loaded model, shared by every call in the process.

    Signals are decoded together: both channels of a call, and, when several
    threads transcribe at once (the flow's workers on a GPU), their calls too.
    Whisper decodes 30-second chunks in batches, so joining signals fills the
    batches and the last, part-empty chunk of each signal is shared.
    """

    def __init__(self, settings: Settings):
        device, compute_type = _resolve_device(settings)
        self.options = AsrOptions(
            model=settings.model,
            device=device,
            compute_type=compute_type,
            beam_size=settings.beam_size,
            batch_size=settings.batch_size,
            vad_threshold=settings.vad_threshold,
        )
        model_path = resolve_model(settings)
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        try:
            model = WhisperModel(model_path, device=device, compute_type=compute_type, cpu_threads=settings.cpu_threads, local_files_only=True)
        except Exception as exc:  # ctranslate2 raises RuntimeError/ValueError of many kinds
            hint = (
                f"the assembled model looks damaged: delete {model_path} and run `callqa model install --verify`"
                if settings.model == DEFAULT_MODEL
                else f"check that {settings.model} is a complete faster-whisper (CTranslate2) model and that {device}/{compute_type} suits this machine"
            )
            raise ModelError(f"cannot load Whisper model {model_path} on {device}/{compute_type}: {exc}", hint=hint) from exc
        self._pipeline = BatchedInferencePipeline(model)
        # The batched pipeline keeps per-call state, so one decode runs at a time;
        # requests that arrive meanwhile wait and are decoded together next.
        self._decode_lock = threading.Lock()
        self._pending: list[_Request] = []
        self._pending_lock = threading.Lock()

    def transcribe(self, samples: np.ndarray, language: str | None, hotwords: str | None = None) -> list[AsrSegment]:
        """Transcribe 16 kHz mono float32 samples; silence gives an empty list.

        `hotwords`: terms (brand, products) that the decoder should prefer.
        """
        return self.transcribe_many([samples], language, hotwords)[0]

    def transcribe_many(self, signals: list[np.ndarray], language: str | None, hotwords: str | None = None) -> list[list[AsrSegment]]:
        """Transcribe several signals in shared batches; one segment list per signal."""
        # VAD runs here, in the caller's thread, so that concurrent calls find speech in parallel.
        request = _Request([_find_speech(s, self.options.vad_threshold) for s in signals], language, hotwords or None)
        with self._pending_lock:
            self._pending.append(request)
        with self._decode_lock:
            if not request.done.is_set():
                with self._pending_lock:
                    group = [r for r in self._pending if (r.language, r.hotwords) == (language, request.hotwords)]
                    self._pending = [r for r in self._pending if r not in group]
                self._decode_group(group)
        if request.error is not None:
            raise request.error
        return request.result

    def _decode_group(self, group: list[_Request]) -> None:
        signals = [s for r in group for s in r.signals]
        try:
            per_signal = self._decode(signals, group[0].language, group[0].hotwords)
        except BaseException as exc:  # every waiting call hears of it, not just the one decoding
            for r in group:
                r.error = exc
                r.done.set()
            raise
        for r in group:
            r.result, per_signal = per_signal[: len(r.signals)], per_signal[len(r.signals) :]
            r.done.set()

    def _decode(self, signals: list[_Speech], language: str | None, hotwords: str | None) -> list[list[AsrSegment]]:
        # All signals' chunks go to the decoder as clips of one compacted signal: the
        # batches are shared, yet no chunk mixes two signals (a chunk whose voice
        # changes half-way loses words).
        pieces, clips, bases = [], [], []
        base = 0.0
        for speech in signals:
            bases.append(base)
            for chunk, duration in zip(speech.chunks, speech.durations):
                clips.append({"start": base, "end": base + duration})
                pieces.append(chunk)
                base += len(chunk) / SAMPLE_RATE
        per_signal: list[list[AsrSegment]] = [[] for _ in signals]
        if not clips:
            return per_signal
        # The tail keeps the clips' float sum below the audio's length (faster-whisper asserts on it).
        pieces.append(np.zeros(SAMPLE_RATE // 10, dtype=np.float32))
        segments, _info = self._pipeline.transcribe(
            np.concatenate(pieces),
            language=language,
            beam_size=self.options.beam_size,
            batch_size=self.options.batch_size,
            word_timestamps=self.options.word_timestamps,
            vad_filter=False,
            clip_timestamps=clips,
            condition_on_previous_text=False,
            hotwords=hotwords,
        )
        for seg in segments:
            index = int(np.searchsorted(bases, (seg.start + seg.end) / 2, side="right")) - 1
            while signals[index].speech_map is None:  # signals without speech take no room in the compacted signal
                index -= 1
            per_signal[index].append(_restore_times(seg, bases[index], signals[index].speech_map))
        return [clean_segments(segs) for segs in per_signal]


def _restore_times(seg, base: float, speech_map) -> AsrSegment:
    """A decoded segment with its times moved from the compacted signal back to its own signal's time."""

    def original(t: float, chunk: int | None = None, is_end: bool = False) -> float:
        return round(float(speech_map.get_original_time(t - base, chunk, is_end)), 2)

    words = []
    for w in seg.words or ():
        chunk = speech_map.get_chunk_index((w.start + w.end) / 2 - base)  # both ends in one speech region
        words.append(Word(original(w.start, chunk), original(w.end, chunk), w.word.strip(), float(w.probability)))
    start, end = (words[0].start, words[-1].end) if words else (original(seg.start), original(seg.end, is_end=True))
    return AsrSegment(start, end, seg.text.strip(), float(seg.avg_logprob), float(seg.no_speech_prob), tuple(words))


_transcribers: dict[tuple, Transcriber] = {}
_transcribers_lock = threading.Lock()


def get_transcriber(settings: Settings) -> Transcriber:
    """The process-wide transcriber for these settings, loaded on first use."""
    key = (settings.model, str(settings.models_dir), settings.device, settings.compute_type, settings.cpu_threads, settings.batch_size, settings.beam_size)
    with _transcribers_lock:
        if key not in _transcribers:
            _transcribers[key] = Transcriber(settings)
        return _transcribers[key]
