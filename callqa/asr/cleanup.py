"""Clean-up of decoder output: loops, and text invented over non-speech.

Whisper, like any autoregressive decoder, sometimes repeats itself
("что, что, что, ...") and writes plausible text over silence, hold music or
beeps (Russian models trained on subtitles favour "Продолжение следует...").
Both would otherwise reach the analysis as things somebody said.
"""

from __future__ import annotations

import re
from dataclasses import replace

from callqa.text import plain_words
from callqa.types import AsrSegment

__all__ = ["clean_segments", "collapse_repeats"]

MAX_NGRAM = 8
# A phrase said this many times in a row is a decoder loop, not speech: people
# repeat a word two or three times ("да-да-да"), the decoder ten or more.
MIN_WORD_REPEATS = 4
MIN_PHRASE_REPEATS = 3
# Copies separated by a real pause are separate turns ("Да." ... "Да."), not a loop.
MAX_LOOP_GAP_S = 1.0

# Whisper's own rule for a window with no speech in it.
NO_SPEECH_PROB = 0.6
LOGPROB_WITH_NO_SPEECH = -1.0

# Whole segments that Whisper writes over non-speech (subtitle credits, sound descriptions).
_NON_SPEECH = re.compile(
    r"^(?:"
    r"продолжение следует|субтитры.*|редактор субтитров.*|корректор.*|спасибо за просмотр|"
    r"подписывайтесь на канал.*|thanks? (?:you )?for watching.*|subtitles by.*|please subscribe.*|"
    r"музыка|music|аплодисменты|applause|смех|laughter|гудки?|beep|звонок|тишина|silence"
    r")$"
)
_BRACKETED = re.compile(r"[\[(*♪][^\])*♪]*[\])*♪]|♪")


def collapse_repeats(tokens: list[str], pauses: list[float] | None = None) -> list[int]:
    """Indexes of the tokens to keep once runs of a repeated n-gram are cut to one copy.

    `pauses[i]`: seconds of silence before token i, where word times are known.
    """
    keys = [plain_words(t) for t in tokens]
    keep = [True] * len(tokens)

    def continues(start: int, gram: list[str]) -> bool:
        return keys[start : start + len(gram)] == gram and (pauses is None or pauses[start] < MAX_LOOP_GAP_S)

    i = 0
    while i < len(tokens):
        for n in range(1, MAX_NGRAM + 1):
            gram = keys[i : i + n]
            if len(gram) < n or not all(gram):
                break
            repeats = 1
            while continues(i + repeats * n, gram):
                repeats += 1
            if repeats >= (MIN_WORD_REPEATS if n == 1 else MIN_PHRASE_REPEATS):
                for j in range(i + n, i + repeats * n):
                    keep[j] = False
                i += repeats * n - 1
                break
        i += 1
    return [j for j, k in enumerate(keep) if k]


def _without_loops(seg: AsrSegment) -> AsrSegment:
    if seg.words:
        pauses = [0.0] + [b.start - a.end for a, b in zip(seg.words, seg.words[1:])]
        kept = collapse_repeats([w.text for w in seg.words], pauses)
        if len(kept) == len(seg.words):
            return seg
        words = tuple(seg.words[j] for j in kept)
        return replace(seg, words=words, text=" ".join(w.text for w in words), end=words[-1].end, looped=True)
    tokens = seg.text.split()
    kept = collapse_repeats(tokens)
    if len(kept) == len(tokens):
        return seg
    return replace(seg, text=" ".join(tokens[j] for j in kept), looped=True)


def _without_sound_descriptions(seg: AsrSegment) -> AsrSegment:
    if not _BRACKETED.search(seg.text):
        return seg
    words = tuple(w for w in seg.words if not _BRACKETED.fullmatch(w.text.strip(" .,!?")))
    text = " ".join(_BRACKETED.sub(" ", seg.text).split())
    return replace(seg, text=text, words=words)


def _is_speech(seg: AsrSegment) -> bool:
    if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOGPROB_WITH_NO_SPEECH:
        return False
    key = plain_words(seg.text)
    return bool(key) and not _NON_SPEECH.match(key)


def clean_segments(segments: list[AsrSegment]) -> list[AsrSegment]:
    """Drop text decoded over non-speech and cut decoder loops; `looped` marks a cut segment."""
    cleaned = [_without_loops(_without_sound_descriptions(seg)) for seg in segments]
    return [seg for seg in cleaned if _is_speech(seg)]
