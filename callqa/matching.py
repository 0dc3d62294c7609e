"""Phrase search over a call: fuzzy token alignment on lemmas, vectorised.

A script phrase is an example wording, not an exact string. Each phrase token
is compared (rapidfuzz ratio) with every token of a speaker's turns; a window
of a few more tokens than the phrase scores the share of phrase tokens it
contains, so inflections (lemmas), changed word order (a small penalty),
filler words in between (the extra room) and ASR slips ("дурго" for
"дорого": fuzzy token similarity) still match. Windows never cross turns and
are made of whole tokens, so "типа" cannot fire inside another word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from rapidfuzz import fuzz, process

from callqa.nlp import NEGATIONS, Token, lemmatize
from callqa.transcript import Segment

__all__ = ["CallIndex", "Hit", "MatchParams", "PhraseSet", "Turn", "expand_placeholders"]

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_SET_OFF = set(",;:-—–…")
_SENTENCE_END = set(".!?")


@dataclass(frozen=True)
class MatchParams:
    """How loosely one kind of script item matches (from AnalysisOptions)."""

    threshold: float  # share of phrase tokens found, 0..1
    token_floor: float = 0.7  # a phrase token counts as found from this similarity up
    order_penalty: float = 0.9  # factor when the words come in another order
    gaps: bool = True  # room for filler words inside the phrase


@dataclass(frozen=True)
class Hit:
    score: float  # 0..1
    phrase: str  # the script phrase that matched
    turn: int  # index into CallIndex.turns
    start: float  # seconds, of the first matched word
    end: float
    text: str  # the matched words as said
    context: str  # the words around them
    tokens: tuple[int, int]  # first and last matched token of the turn


@dataclass
class Turn:
    """Consecutive utterances of one speaker. Phrases are searched in turns,
    not utterances, because the decoder splits speech at pauses, often inside
    a phrase ("Добрый день," | "компания СтройДом")."""

    index: int
    speaker: str
    text: str
    tokens: tuple[Token, ...]
    times: list[tuple[float, float]]  # (start, end) of each token
    reliable: list[bool]  # per token: from a segment the ASR was confident about

    @property
    def start(self) -> float:
        return self.times[0][0] if self.times else 0.0


def expand_placeholders(phrase: str, values: dict[str, list[str]]) -> list[tuple[str, int]]:
    """Phrase variants with named placeholders filled in, and the number of
    open slots ({name} with no listed values: any one or two words)."""
    variants = [(phrase, 0)]
    for name in dict.fromkeys(PLACEHOLDER.findall(phrase)):
        options = values.get(name) or []
        expanded = []
        for text, slots in variants:
            if options:
                expanded += [(text.replace(f"{{{name}}}", option), slots) for option in options]
            else:
                expanded.append((text.replace(f"{{{name}}}", " "), slots + text.count(f"{{{name}}}")))
        variants = expanded
    return variants


@dataclass(frozen=True)
class _Variant:
    phrase: str
    tokens: tuple[str, ...]
    slots: int
    negated: bool


class PhraseSet:
    """The example wordings of one script item, compiled for search.

    `forms=True` matches word forms as written instead of lemmas: stop-words
    are particular words ("типа" is a filler, its lemma "тип" is not).
    """

    def __init__(self, phrases: list[str], language: str, placeholders: dict[str, list[str]] | None = None, forms: bool = False):
        self.forms = forms
        self.variants: list[_Variant] = []
        for phrase in phrases:
            for text, slots in expand_placeholders(phrase, placeholders or {}):
                tokens = tuple(t.text if forms else t.lemma for t in lemmatize(text, language))
                if tokens:
                    self.variants.append(_Variant(phrase, tokens, slots, any(t in NEGATIONS for t in tokens)))


def _turns(segments: list[Segment], language: str, reliable: list[bool]) -> list[Turn]:
    groups: list[list[int]] = []
    for i, seg in enumerate(segments):
        if groups and segments[groups[-1][-1]].speaker == seg.speaker:
            groups[-1].append(i)
        else:
            groups.append([i])
    turns = []
    for number, group in enumerate(groups):
        text, tokens, times, flags = "", [], [], []
        for i in group:
            seg = segments[i]
            offset = len(text) + (1 if text else 0)
            text = f"{text} {seg.text}" if text else seg.text
            seg_tokens = lemmatize(seg.text, language)
            tokens += [Token(t.text, t.lemma, t.start + offset, t.end + offset) for t in seg_tokens]
            times += _token_times(seg, seg_tokens)
            flags += [reliable[i]] * len(seg_tokens)
        turns.append(Turn(number, segments[group[0]].speaker, text, tuple(tokens), times, flags))
    return turns


def _token_times(seg: Segment, tokens: tuple[Token, ...]) -> list[tuple[float, float]]:
    """(start, end) of each token: from word timestamps when there are any, else interpolated."""
    spans = []
    if seg.words:
        position = 0
        for word in seg.words:
            found = seg.text.find(word.text, position)
            if found >= 0:
                spans.append((found, found + len(word.text), word.start, word.end))
                position = found + len(word.text)
    times = []
    span = max(len(seg.text), 1)
    for token in tokens:
        match = next((s for s in spans if s[1] > token.start), None)
        if match:
            times.append((match[2], match[3]))
        else:
            times.append((round(seg.start + (seg.end - seg.start) * token.start / span, 2),
                          round(seg.start + (seg.end - seg.start) * token.end / span, 2)))
    return times


class _Stream:
    """The tokens of some turns laid end to end, with padding between turns
    wider than any window, as vocabulary ids for lemmas and for word forms."""

    PAD = 24

    def __init__(self, turns: list[Turn], lemma_ids: dict[str, int], form_ids: dict[str, int]):
        lemma_pad, form_pad = len(lemma_ids), len(form_ids)  # ids of the all-zero similarity column
        lemmas, forms, owner, position = [], [], [], []
        for turn in turns:
            lemmas += [lemma_ids[t.lemma] for t in turn.tokens] + [lemma_pad] * self.PAD
            forms += [form_ids[t.text] for t in turn.tokens] + [form_pad] * self.PAD
            owner += [turn.index] * len(turn.tokens) + [-1] * self.PAD
            position += list(range(len(turn.tokens))) + [-1] * self.PAD
        self.lemmas = np.array(lemmas, dtype=np.int64)
        self.forms = np.array(forms, dtype=np.int64)
        self.turn = np.array(owner, dtype=np.int64)
        self.position = np.array(position, dtype=np.int64)


class CallIndex:
    """A call's turns and token vocabulary, built once and searched for every script item."""

    def __init__(self, segments: list[Segment], language: str, reliable: list[bool] | None = None):
        self.language = language
        self.turns = _turns(segments, language, reliable or [True] * len(segments))
        tokens = [t for turn in self.turns for t in turn.tokens]
        self._vocab = {False: list(dict.fromkeys(t.lemma for t in tokens)), True: list(dict.fromkeys(t.text for t in tokens))}
        self._ids = {forms: {w: i for i, w in enumerate(words)} for forms, words in self._vocab.items()}
        self._rows: dict[tuple[bool, str], np.ndarray] = {}
        self._negation_ids = {forms: {self._ids[forms][w] for w in NEGATIONS if w in self._ids[forms]} for forms in (False, True)}
        self._streams: dict[tuple[str, ...], _Stream] = {}

    def stream(self, speakers: tuple[str, ...]) -> _Stream:
        if speakers not in self._streams:
            self._streams[speakers] = _Stream([t for t in self.turns if t.speaker in speakers], self._ids[False], self._ids[True])
        return self._streams[speakers]

    def _similarity(self, tokens: tuple[str, ...], forms: bool) -> np.ndarray:
        """Similarity (0..100) of each phrase token to every vocabulary word, plus a zero padding column."""
        missing = [t for t in dict.fromkeys(tokens) if (forms, t) not in self._rows]
        if missing:
            vocab = self._vocab[forms]
            matrix = process.cdist(missing, vocab, scorer=fuzz.ratio, dtype=np.uint8) if vocab else np.zeros((len(missing), 0), np.uint8)
            for token, row in zip(missing, matrix):
                self._rows[forms, token] = np.append(row, 0).astype(np.uint8)
        return np.stack([self._rows[forms, t] for t in tokens])

    def search(self, phrases: PhraseSet, speakers: tuple[str, ...], params: MatchParams, turns: set[int] | None = None) -> list[Hit]:
        """Every separate occurrence at or above the threshold, best first; optionally only in `turns`."""
        hits, _ = self._search(phrases, speakers, params, turns)
        return hits

    def best_below(self, phrases: PhraseSet, speakers: tuple[str, ...], params: MatchParams) -> tuple[float, bool]:
        """Best score under the threshold, and whether it lies in unreliable speech (for 'uncertain')."""
        _, near = self._search(phrases, speakers, params, None)
        return near

    def _search(self, phrases: PhraseSet, speakers, params: MatchParams, turns: set[int] | None):
        stream = self.stream(speakers)
        ids = stream.forms if phrases.forms else stream.lemmas
        candidates: list[tuple[float, int, int, int, str]] = []  # score, first, last, turn, phrase
        near = (0.0, False)
        if not len(ids):
            return [], near
        negation_ids = self._negation_ids[phrases.forms]
        is_negation = np.isin(ids, list(negation_ids)) if negation_ids else np.zeros(len(ids), bool)
        for variant in phrases.variants:
            m = len(variant.tokens)
            width = m if not params.gaps or m == 1 else m + max(1, m // 2) + 2 * variant.slots
            sim = self._similarity(variant.tokens, phrases.forms)[:, ids].astype(np.float32) / 100
            credit = np.where(sim >= params.token_floor, sim, 0.0)
            if credit.shape[1] < width:
                continue
            view = sliding_window_view(credit, width, axis=1)  # (m, starts, width)
            best = view.max(axis=2)
            where = view.argmax(axis=2)
            scores = best.mean(axis=0)
            if m > 1:  # in order: each found word comes after the found words before it in the phrase
                placed = np.where(best > 0, where, -1)
                in_order = np.all((best == 0) | (placed >= np.maximum.accumulate(placed, axis=0)), axis=0)
                scores = np.where(in_order, scores, scores * params.order_penalty)
            for start in np.flatnonzero(scores >= params.threshold):
                found = where[:, start][best[:, start] > 0] + start
                first, last = int(found.min()), int(found.max())
                turn = int(stream.turn[first])
                if turns is not None and turn not in turns:
                    continue
                if not variant.negated and is_negation[max(first - 1, 0) : last + 1].any():
                    continue  # "это не дорого" is no price objection
                candidates.append((round(float(scores[start]), 3), first, last, turn, variant.phrase))
            below = np.where(scores < params.threshold, scores, 0.0)
            start = int(below.argmax())
            if below[start] > near[0]:
                found = where[:, start][best[:, start] > 0] + start
                turn = self.turns[int(stream.turn[found.min()])]
                near = (float(below[start]), not all(turn.reliable[int(stream.position[p])] for p in found))
        taken: list[tuple[float, int, int, int, str]] = []
        for cand in sorted(candidates, key=lambda c: (-c[0], c[1])):
            if all(cand[2] < other[1] or cand[1] > other[2] for other in taken):
                taken.append(cand)
        return [self._hit(stream, *cand) for cand in taken], near

    def _hit(self, stream: _Stream, score: float, first: int, last: int, turn_index: int, phrase: str) -> Hit:
        turn = self.turns[turn_index]
        a, b = int(stream.position[first]), int(stream.position[last])
        text = turn.text[turn.tokens[a].start : turn.tokens[b].end]
        lo, hi = max(a - 6, 0), min(b + 6, len(turn.tokens) - 1)
        context = turn.text[turn.tokens[lo].start : turn.tokens[hi].end]
        return Hit(score, phrase, turn_index, turn.times[a][0], turn.times[b][1], text, context, (a, b))

    def is_set_off(self, hit: Hit) -> bool:
        """Whether the matched words open a sentence or stand apart by punctuation, as fillers do ("Ну, типа, сделаем")."""
        turn = self.turns[hit.turn]
        before = turn.text[: turn.tokens[hit.tokens[0]].start].rstrip()
        after = turn.text[turn.tokens[hit.tokens[1]].end :].lstrip()
        return not before or before[-1] in _SET_OFF | _SENTENCE_END or after[:1] in _SET_OFF
