"""Who speaks when in a mono recording: a split of its speech into two anonymous voices, 0 and 1.

Deciding which voice is the manager is left to the caller (by content); this module only tells the
voices apart, and says when it cannot (`SpeakerTrack.reliable`).

How:
1. Speech regions come from frame energy (intersected with the caller's regions when given) and are
   cut at pauses longer than 0.25 s, so that no window spans a turn change at a pause.
2. Windows of 1.6 s (hop 0.8 s) inside those regions are embedded by Resemblyzer's speaker encoder:
   a 3-layer LSTM over 40 mel bands trained for speaker verification (GE2E). Only its weights file is
   used, read from the installed `resemblyzer` wheel without torch; the mel front end and the LSTM
   run in numpy here (checked equal to torch + librosa to 1e-6). Each window is scaled to one
   loudness first, so a quieter far end does not pass for another voice.
3. The embeddings are split in two (spherical 2-means started from the first principal axis). Each
   window's evidence for voice 1 over voice 0 is a log-likelihood ratio from the two clusters' score
   distributions, so a call whose voices are close counts each window for less.
4. A two-state Viterbi over the speech decides the voice: changing voice costs more inside
   continuous speech than at a pause, and runs without a window take their neighbours' voice.

Why a speaker embedding: our Russian renders are one Festival voice with the client pitched down, so
pitch alone would split them and nothing real. Per-window MFCC statistics in the same procedure got
97% of words right on average but 75% on the worst call, and gave no figure to tell one speaker
from two; the embedding gets 99% (worst call 97%) and does.

Reliability: `separation` is the cosine distance between the two clusters' mean embeddings. On the
rendered calls two voices give 0.17 or more (about 0.33 for the English pairs of different voices);
one speaker's recording split in two gives at most 0.10 with 20 s or more of speech (0.04-0.06 for
real speech, Asterisk's Russian prompts), and more with less speech (fewer windows, noisier means),
hence a bar that rises for short recordings.

Cost: about 0.4 s of one core per minute of call (0.7% of its duration), nearly all in the encoder;
BLAS is held to one thread meanwhile, as a second thread spinning on a busy machine cost several times
the CPU for nothing. Memory: 10 MB of weights, loaded once per process on first use, and working
buffers of about 50 MB for a 2-minute call, 60 MB for a 10-minute one.
"""

from __future__ import annotations

import bisect
import importlib.metadata
import itertools
import pickle
import struct
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from callqa.errors import ModelError

__all__ = ["SpeakerTrack", "split_speakers"]

_RATE = 16000
_FPS = 100  # mel frames per second (10 ms hop, 25 ms window: the encoder's front end)
_N_FFT = 400
_N_MELS = 40
_WINDOW = 160  # frames per embedded window: the 1.6 s partials the encoder was trained on
_HOP = 80
_MIN_WINDOW = 30  # a speech run shorter than 0.3 s is not embedded; it takes its neighbours' voice
_LEVEL = 2.5e-3  # mean mel power each window is scaled to (about -36 dBFS speech)
_PAUSE = 25  # frames of quiet that still count as inside an utterance
_MIN_RUN = 12  # frames: shorter bursts of energy are clicks, not speech
_FLOOR_DB, _RANGE_DB = 10.0, 40.0  # speech: above the noise floor by this much, within this of the peak
_SWITCH_IN_SPEECH, _SWITCH_AT_PAUSE = 8.0, 1.0  # log-odds against a change of voice
_BRIDGE_S = 1.0  # a pause this short between two runs of one voice stays inside its turn
_MIN_SEPARATION, _FULL_SPEECH_S = 0.13, 20.0  # the bar rises as sqrt(20 s / speech) below 20 s of speech
_MIN_VOICE_S = 1.0  # each voice must hold this much speech for a split to count
_BATCH = 32  # windows run through the LSTM together
_SLACK_S = 0.3  # voice_at: word times from the recogniser may spill this far past a turn

_PACKAGE = "resemblyzer"
_INSTALL_HINT = "pip install --no-deps resemblyzer==0.1.4 (only its weights file is used: no torch, no librosa)"


@dataclass(frozen=True)
class SpeakerTrack:
    """Who speaks when in a mono recording: two anonymous voices, 0 and 1.

    turns: (start s, end s, voice) in time order; runs of one voice over speech, pauses shorter than
      1 s inside a run kept in it. When not `reliable`, every turn is voice 0 (the speech found).
    reliable: False when the recording holds too little speech or its voices are too alike to split.
    separation: cosine distance between the two voices' mean embeddings (0 for no split);
      `reliable` needs 0.13 or more, more below 20 s of speech.
    method: the encoder and the version of this procedure; recorded with the transcript.
    """

    turns: list[tuple[float, float, int]]
    reliable: bool
    separation: float
    method: str

    def voice_at(self, t: float) -> int | None:
        """The voice speaking at t s; None outside speech or when the split is not reliable."""
        if not self.reliable:
            return None
        i = bisect.bisect_right(self._starts, t)
        near = [(max(start - t, t - end, 0.0), voice) for start, end, voice in self.turns[max(i - 1, 0) : i + 1]]
        distance, voice = min(near, default=(np.inf, None))
        return voice if distance <= _SLACK_S else None

    @cached_property
    def _starts(self) -> list[float]:
        return [start for start, _, _ in self.turns]


def split_speakers(samples: np.ndarray, speech: list[tuple[float, float]] | None = None) -> SpeakerTrack:
    """Split the speech of a 16 kHz mono float32 recording between two voices.

    speech: optional regions in seconds (word spans, VAD output); only audio inside them is used, and
      pauses inside them are still found from the audio. Regions that miss speech leave it without a voice.
    Loads the speaker encoder on first use (ModelError if its package is missing).
    """
    encoder = _encoder()
    with encoder.blas.limit(limits=1, user_api="blas"):
        return _split(encoder, np.asarray(samples, dtype=np.float32), speech)


def _split(encoder: _Encoder, samples: np.ndarray, speech: list[tuple[float, float]] | None) -> SpeakerTrack:
    mel = _mel(samples)
    mask = _speech_mask(mel)
    if speech is not None:
        given = np.zeros(len(mask), bool)
        for start, end in speech:
            given[max(int(start * _FPS), 0) : max(int(end * _FPS), 0)] = True
        mask = _tidy(mask & given)
    runs = _runs(mask)
    speech_s = float(mask.sum()) / _FPS
    windows = [w for a, b in runs for w in _windows(a, b)]
    one_voice = SpeakerTrack(_merge([(a / _FPS, b / _FPS, 0) for a, b in runs]), False, 0.0, encoder.method)
    if len(windows) < 2:
        return one_voice
    embeddings = encoder.embed([mel[a:b] for a, b in windows])
    weights = np.array([b - a for a, b in windows], dtype=np.float64) / _WINDOW
    centroids = _two_means(embeddings, weights)
    if centroids is None:
        return one_voice
    separation = float(1.0 - centroids[0] @ centroids[1])
    llr = _window_llr(embeddings @ centroids[1] - embeddings @ centroids[0], weights)
    turns = _decode(runs, windows, llr)
    held = [sum(end - start for start, end, v in turns if v == voice) for voice in (0, 1)]
    bar = _MIN_SEPARATION * max(1.0, np.sqrt(_FULL_SPEECH_S / max(speech_s, 1e-9)))
    if separation < bar or min(held) < _MIN_VOICE_S:
        return SpeakerTrack(one_voice.turns, False, separation, encoder.method)
    return SpeakerTrack(_merge(turns), True, separation, encoder.method)


# --- speech regions and windows -------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _tidy(mask: np.ndarray) -> np.ndarray:
    """Close short pauses, then drop bursts too short to be speech."""
    mask = mask.copy()
    runs = _runs(mask)
    for (_, end), (start, _) in itertools.pairwise(runs):
        if start - end <= _PAUSE:
            mask[end:start] = True
    for start, end in _runs(mask):
        if end - start < _MIN_RUN:
            mask[start:end] = False
    return mask


def _speech_mask(mel: np.ndarray) -> np.ndarray:
    level = 10 * np.log10(mel.sum(axis=1) + 1e-10)
    floor, peak = np.percentile(level, 10), np.percentile(level, 95)
    return _tidy(level > max(floor + _FLOOR_DB, peak - _RANGE_DB))


def _windows(start: int, end: int) -> list[tuple[int, int]]:
    """Windows covering one speech run, the last one flush with its end; a short run is one window."""
    if end - start < _MIN_WINDOW:
        return []
    size = min(_WINDOW, end - start)
    starts = list(range(start, end - size + 1, _HOP))
    if starts[-1] != end - size:
        starts.append(end - size)
    return [(s, s + size) for s in starts]


# --- clustering and decoding ------------------------------------------------------------------


def _two_means(x: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Unit centroids of a weighted spherical 2-means, started from the first principal axis; None if one cluster."""
    centred = x - np.average(x, axis=0, weights=w)
    axis = np.linalg.svd(centred * np.sqrt(w)[:, None], full_matrices=False)[2][0]
    side = centred @ axis > 0
    if side.all() or not side.any():
        return None
    for _ in range(50):
        c = np.stack([np.average(x[~side], axis=0, weights=w[~side]), np.average(x[side], axis=0, weights=w[side])])
        c /= np.linalg.norm(c, axis=1, keepdims=True)
        new = x @ c[1] > x @ c[0]
        if new.all() or not new.any():
            return None
        if (new == side).all():
            break
        side = new
    return c


def _window_llr(score: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Log-likelihood ratio voice 1 : voice 0 per window, from two equal-variance Gaussians fitted to the scores."""
    side = score > 0
    m0, m1 = np.average(score[~side], weights=w[~side]), np.average(score[side], weights=w[side])
    var = np.average(np.where(side, score - m1, score - m0) ** 2, weights=w) + 1e-12
    return (m1 - m0) * (score - (m0 + m1) / 2) / var


def _decode(runs: list[tuple[int, int]], windows: list[tuple[int, int]], llr: np.ndarray) -> list[tuple[float, float, int]]:
    """Two-state Viterbi over blocks of speech; evidence is constant inside a block, so changes fall on block edges."""
    evidence = np.zeros(runs[-1][1] + 1)
    for (a, b), value in zip(windows, llr):
        # Overlapping windows see the same audio: share each window's evidence among the windows over a frame.
        evidence[a:b] += value / (b - a) * _HOP / _WINDOW
    cuts = sorted({p for a, b in windows for p in (a, b)})
    blocks, penalties = [], []
    for a, b in runs:
        edges = [a, *cuts[bisect.bisect_right(cuts, a) : bisect.bisect_left(cuts, b)], b]
        blocks += list(itertools.pairwise(edges))
        penalties += [_SWITCH_AT_PAUSE] + [_SWITCH_IN_SPEECH] * (len(edges) - 2)
    gains = [float(evidence[a:b].sum()) / 2 for a, b in blocks]
    score, back = (-gains[0], gains[0]), []
    for gain, penalty in zip(gains[1:], penalties[1:]):
        stay0, swap0 = score[0], score[1] - penalty
        stay1, swap1 = score[1], score[0] - penalty
        back.append((swap0 > stay0, swap1 > stay1))
        score = (max(stay0, swap0) - gain, max(stay1, swap1) + gain)
    voice = int(score[1] > score[0])
    path = [voice]
    for swapped in reversed(back):
        voice ^= swapped[voice]
        path.append(voice)
    path.reverse()
    return [(a / _FPS, b / _FPS, v) for (a, b), v in zip(blocks, path)]


def _merge(turns: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    merged: list[tuple[float, float, int]] = []
    for start, end, voice in turns:
        if merged and merged[-1][2] == voice and start - merged[-1][1] <= _BRIDGE_S:
            merged[-1] = (merged[-1][0], end, voice)
        else:
            merged.append((start, end, voice))
    return merged


# --- the encoder ------------------------------------------------------------------------------


def _mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney mel scale, area-normalised triangles."""

    def to_mel(f):
        return np.where(f < 1000, f * 3 / 200, 15 + 27 * np.log(np.maximum(f, 1e-9) / 1000) / np.log(6.4))

    def to_hz(m):
        return np.where(m < 15, m * 200 / 3, 1000 * np.exp((m - 15) * np.log(6.4) / 27))

    edges = to_hz(np.linspace(0, to_mel(np.float64(_RATE / 2)), _N_MELS + 2))
    freqs = np.linspace(0, _RATE / 2, _N_FFT // 2 + 1)
    low, mid, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    triangles = np.maximum(0, np.minimum((freqs - low) / (mid - low), (high - freqs) / (high - mid)))
    return (triangles * (2 / (high - low))).astype(np.float32)


_FILTERS = _mel_filters()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)


def _mel(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram as librosa.feature.melspectrogram computes it (centred, zero-padded frames)."""
    hop, half, chunk = _RATE // _FPS, _N_FFT // 2, 1000  # 10 s at a time: buffers stay small whatever the call's length
    n = 1 + len(samples) // hop
    out = np.empty((n, _N_MELS), np.float32)
    for i in range(0, n, chunk):
        lo, hi = i * hop - half, (min(i + chunk, n) - 1) * hop + half
        piece = np.pad(samples[max(lo, 0) : hi], (max(-lo, 0), max(hi - len(samples), 0)))
        spectrum = np.fft.rfft(np.lib.stride_tricks.sliding_window_view(piece, _N_FFT)[::hop] * _HANN, axis=1)
        out[i : i + chunk] = (spectrum.real**2 + spectrum.imag**2).astype(np.float32) @ _FILTERS.T
    return out


class _Encoder:
    """Resemblyzer's VoiceEncoder in numpy: LSTM(40 -> 256, 3 layers), linear 256 -> 256, ReLU, L2 norm."""

    def __init__(self, state: dict[str, np.ndarray], method: str):
        from threadpoolctl import ThreadpoolController

        self.method = method
        # Gate order i, f, g, o; halving the i, f, o rows lets one tanh give every gate, as sigmoid(x) = (1 + tanh(x/2)) / 2.
        half = np.r_[np.full(512, 0.5), np.ones(256), np.full(256, 0.5)].astype(np.float32)[:, None]
        self.layers = [
            (
                np.ascontiguousarray((state[f"lstm.weight_ih_l{k}"] * half).T),
                np.ascontiguousarray((state[f"lstm.weight_hh_l{k}"] * half).T),
                (state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"]) * half[:, 0],
            )
            for k in range(3)
        ]
        self.linear = np.ascontiguousarray(state["linear.weight"].T), state["linear.bias"]
        self.blas = ThreadpoolController()

    def embed(self, mels: list[np.ndarray]) -> np.ndarray:
        """Unit embeddings of mel windows of any length up to _WINDOW frames."""
        order = sorted(range(len(mels)), key=lambda i: -len(mels[i]))  # similar lengths batch with little padding
        out = np.empty((len(mels), 256), np.float32)
        for i in range(0, len(order), _BATCH):
            idx = order[i : i + _BATCH]
            out[idx] = self._forward([mels[j] for j in idx])
        return out

    def _forward(self, mels: list[np.ndarray]) -> np.ndarray:
        lengths = np.array([len(m) for m in mels])
        x = np.zeros((len(mels), lengths.max(), _N_MELS), np.float32)
        for row, m in zip(x, mels):
            row[: len(m)] = m * (_LEVEL / max(float(m.mean()), 1e-12))
        batch, steps = x.shape[:2]
        gates = np.empty((batch, 1024), np.float32)
        for w_in, w_hidden, bias in self.layers:
            projected = (x.reshape(batch * steps, -1) @ w_in).reshape(batch, steps, 1024)
            projected += bias
            h = np.zeros((batch, 256), np.float32)
            c = np.zeros((batch, 256), np.float32)
            x = np.empty((batch, steps, 256), np.float32)
            for t in range(steps):
                np.matmul(h, w_hidden, out=gates)
                gates += projected[:, t]
                np.tanh(gates, out=gates)
                gates[:, :512] += 1
                gates[:, :512] *= 0.5
                gates[:, 768:] += 1
                gates[:, 768:] *= 0.5
                c *= gates[:, 256:512]
                c += gates[:, :256] * gates[:, 512:768]
                np.tanh(c, out=h)
                h *= gates[:, 768:]
                x[:, t] = h
        # Padding follows each window, so its embedding comes from the last layer's state at its own last frame.
        e = np.maximum(x[np.arange(batch), lengths - 1] @ self.linear[0] + self.linear[1], 0)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def _load_state(path: Path) -> dict[str, np.ndarray]:
    """The model_state of a legacy (non-zip) torch.save checkpoint, read without torch.

    Layout: three small pickles (magic, protocol, system info), the object pickle whose tensors refer
    to storages by key, the list of storage keys, then each storage as int64 count + raw data.
    """
    kinds: dict[str, str] = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda storage, offset, size, stride, *_: (storage, offset, tuple(size), tuple(stride))
            if module == "torch" and name in ("FloatStorage", "LongStorage"):
                return name
            if (module, name) == ("collections", "OrderedDict"):
                return type("OrderedDict", (dict,), {})  # a dict that takes the attributes torch sets on it
            raise pickle.UnpicklingError(f"unexpected {module}.{name} in {path.name}")

        def persistent_load(self, pid):
            _, kind, key, *_ = pid
            kinds[key] = kind
            return key

    with open(path, "rb") as f:
        for _ in range(3):
            Unpickler(f).load()
        checkpoint = Unpickler(f).load()
        storages = {}
        for key in Unpickler(f).load():
            (count,) = struct.unpack("<q", f.read(8))
            dtype = np.dtype("<f4" if kinds[key] == "FloatStorage" else "<i8")
            storages[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype)

    def tensor(ref):
        key, offset, size, stride = ref
        data = storages[key]
        return np.lib.stride_tricks.as_strided(data[offset:], size, [s * data.itemsize for s in stride]).astype(np.float32)

    return {name: tensor(ref) for name, ref in checkpoint["model_state"].items()}


_lock = threading.Lock()
_cached: _Encoder | None = None


def _encoder() -> _Encoder:
    global _cached
    with _lock:
        if _cached is None:
            try:
                dist = importlib.metadata.distribution(_PACKAGE)
            except importlib.metadata.PackageNotFoundError:
                raise ModelError("the speaker encoder is not installed", hint=_INSTALL_HINT) from None
            # Located, not imported: importing resemblyzer would pull in torch, librosa and webrtcvad.
            path = Path(str(dist.locate_file(f"{_PACKAGE}/pretrained.pt")))
            if not path.is_file():
                raise ModelError(f"{path} is missing from the {_PACKAGE} package", hint=_INSTALL_HINT)
            _cached = _Encoder(_load_state(path), f"{_PACKAGE}-{dist.version}/split-1")
        return _cached
