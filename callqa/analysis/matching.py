"""Phrase search over a call: fuzzy token alignment on lemmas, vectorised.

A script phrase is an example wording, not an exact string. Each phrase token
is compared (rapidfuzz ratio) with every token of a speaker's turns; a window
of a few more tokens than the phrase scores the weighted share of phrase
tokens it contains (function words weigh less), so inflections (lemmas),
changed word order (a small penalty), filler words in between (the extra
room) and ASR slips ("дурго" for "дорого": fuzzy token similarity) still
match. Fuzzy similarity stands for slips only: a word of the call that the
dictionary knows and that shares no stem with the phrase word is another word
("понимаю" is not "подумаю"). Matches never span two turns and are made of
whole tokens, so "типа" cannot fire inside another word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from rapidfuzz import fuzz, process

from callqa.analysis.nlp import NEGATIONS, STEM_PREFIX, Token, is_dictionary_word, is_function_word, lemmatize
from callqa.scripts import PLACEHOLDER
from callqa.types import Segment

__all__ = [
    "SENTENCE_END",
    "SET_OFF",
    "CallIndex",
    "Found",
    "Hit",
    "MatchParams",
    "PhraseBatch",
    "PhraseSet",
    "Turn",
    "best_hit",
    "expand_placeholders",
    "parted_from_previous",
    "sentences",
]

_TRAILING_SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}\s*$")
_ITEM = re.compile(r"\(([^()]*)\)|[^\s()]+")  # "(бюджет|сумма)" or a word
_ONE_WORD = re.compile(r"[^\W_]+")
SET_OFF = frozenset(",;:-—–…")
SENTENCE_END = frozenset(".!?")


@dataclass(frozen=True)
class MatchParams:
    """How loosely one kind of script item matches (from AnalysisOptions)."""

    threshold: float  # share of phrase tokens found, 0..1
    token_floor: float = 0.7  # a phrase token counts as found from this similarity up...
    short_word_floor: float = 0.85  # ...or this, for words of 4 letters or fewer ("как" is not "какой") and one-word phrases
    order_penalty: float = 0.9  # factor when the words come in another order
    function_word_weight: float = 0.5  # "на", "какой", "вы" weigh less than "бюджет" in a phrase's score
    extra_words: int = 2  # room for filler words inside a phrase (half its length if more); 0: the words as written


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
class Found:
    """What a search found for one script item."""

    hits: list[Hit]  # separate occurrences, best first
    near_score: float  # best score under the threshold...
    near_unreliable: bool  # ...and whether it lies in speech the recogniser was unsure of...
    near_at: tuple[int, float, float] | None = None  # ...and where: turn, start and end of its words


def best_hit(hits: list[Hit]) -> Hit | None:
    """The best-scoring hit, the earliest of equals."""
    return min(hits, key=lambda h: (-h.score, h.start)) if hits else None


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


def parted_from_previous(turn: Turn, position: int) -> bool:
    """Whether punctuation stands between token `position` of a turn and the token before it."""
    gap = turn.text[turn.tokens[position - 1].end : turn.tokens[position].start]
    return any(c in SET_OFF or c in SENTENCE_END for c in gap)


def expand_placeholders(phrase: str, values: Mapping[str, Sequence[str]]) -> list[tuple[str, int]]:
    """Phrase variants with named placeholders filled in, and the number of
    open slots ({name} with no listed values: any one or two words). One-word
    values share one variant as alternatives ("(анна|аня)"): the same matches,
    fewer variants to search."""
    variants = [(phrase, 0)]
    for name in dict.fromkeys(PLACEHOLDER.findall(phrase)):
        options = values.get(name) or []
        in_group = re.search(r"\([^()]*\{" + name + r"\}[^()]*\)", phrase) is not None
        for short in (False, True):  # short words get a stricter floor: group them apart
            single = [o for o in options if _ONE_WORD.fullmatch(o) and (len(o) <= 4) == short] if not in_group else []
            if len(single) > 1:
                options = [f"({'|'.join(single)})"] + [o for o in options if o not in single]
        expanded = []
        for text, slots in variants:
            if options:
                expanded += [(text.replace(f"{{{name}}}", option), slots) for option in options]
            else:
                expanded.append((text.replace(f"{{{name}}}", " "), slots + text.count(f"{{{name}}}")))
        variants = expanded
    return variants


Alternatives = tuple[str, ...]  # one phrase word: the lemmas (or forms) that may stand for it


@dataclass(frozen=True)
class _Variant:
    phrase: str
    tokens: tuple[Alternatives, ...]
    slots: int
    trailing_slots: int  # open slots after the last word ("меня зовут {name}"): the evidence takes in what fills them
    negated: bool
    function: tuple[bool, ...]  # per word: a function word ("на", "какой", "вы")


def _phrase_tokens(text: str, language: str, forms: bool) -> tuple[Alternatives, ...]:
    """Words of a phrase; "(бюджет|сумма|деньги)" is one word with alternatives.
    Lemmas do not depend on context here, so each word is lemmatised on its own."""
    tokens = []
    for match in _ITEM.finditer(text):
        if match.group(1) is not None:
            options = tuple(dict.fromkeys(t.text if forms else t.lemma for option in match.group(1).split("|") for t in lemmatize(option, language)[:1]))
            if options:
                tokens.append(options)
        else:
            tokens += [(t.text if forms else t.lemma,) for t in lemmatize(match.group(0), language)]
    return tuple(tokens)


class PhraseSet:
    """The example wordings of one script item, compiled for search.

    `forms=True` matches word forms as written instead of lemmas: stop-words
    are particular words ("типа" is a filler, its lemma "тип" is not).
    """

    def __init__(self, phrases: list[str], language: str, placeholders: Mapping[str, Sequence[str]] | None = None, forms: bool = False):
        self.forms = forms
        self.variants: list[_Variant] = []
        for phrase in phrases:
            for text, slots in expand_placeholders(phrase, placeholders or {}):
                tokens = _phrase_tokens(text, language, forms)
                function = tuple(all(is_function_word(w, language) for w in options) for options in tokens)
                # An open slot ({manager} with no name known) leaves too little to go on in
                # "это {manager}"; such a variant needs two words, one of them a content word.
                if tokens and not (slots and (len(tokens) < 2 or all(function))):
                    trailing = _TRAILING_SLOT.search(phrase)
                    open_end = int(bool(slots and trailing and not (placeholders or {}).get(trailing[1])))
                    self.variants.append(_Variant(phrase, tokens, slots, open_end, any(NEGATIONS.intersection(t) for t in tokens), function))


@dataclass
class _Group:
    """Phrase variants of one window width, as arrays (one row per phrase token or per variant)."""

    forms: bool
    width: int
    keys: list
    phrases: list[str]
    unique_rows: np.ndarray  # per distinct phrase word of the group: its row in the batch's token list...
    unique_floors: np.ndarray  # ...its similarity floor (0..100, the least similarity that counts), column...
    unique_weights: np.ndarray  # ...and its weight in a phrase's score, column
    token_unique: np.ndarray  # per phrase token: its distinct word (window maxima are computed once per word)
    sizes: np.ndarray  # per variant
    offsets: np.ndarray
    totals: np.ndarray  # per variant: sum of its words' weights, column
    bases: np.ndarray  # per phrase token: its variant's number, column
    thresholds: np.ndarray  # per variant, column
    penalties: np.ndarray
    negated: np.ndarray
    trailing_slots: np.ndarray  # per variant
    near_keys: frozenset  # items whose best sub-threshold score is wanted


class PhraseBatch:
    """Script items compiled for search, once per script: every phrase
    variant grouped by window width, so a call costs a few array operations
    per group rather than per phrase."""

    def __init__(self, items: list[tuple[object, PhraseSet, MatchParams]], near: bool = False):
        self.keys = [key for key, _, _ in items]
        self.tokens: dict[bool, list[Alternatives]] = {False: [], True: []}
        rows: dict[tuple[bool, Alternatives], int] = {}
        by_width: dict[tuple[bool, int], list[tuple[object, _Variant, MatchParams]]] = {}
        for key, phrases, params in items:
            for variant in phrases.variants:
                m = len(variant.tokens)
                width = m if not params.extra_words or m == 1 else m + max(params.extra_words, m // 2) + 2 * variant.slots
                by_width.setdefault((phrases.forms, width), []).append((key, variant, params))
                for token in variant.tokens:
                    if (phrases.forms, token) not in rows:
                        rows[phrases.forms, token] = len(self.tokens[phrases.forms])
                        self.tokens[phrases.forms].append(token)
        self.groups = []
        column = lambda values, dtype=np.float32: np.array(values, dtype=dtype)[:, None]  # noqa: E731
        for (forms, width), group in by_width.items():
            sizes = np.array([len(v.tokens) for _, v, _ in group])
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            # Short words, and the only word of a one-word phrase, must match nearly exactly.
            words = [
                (
                    rows[forms, options],
                    p.token_floor if min(map(len, options)) > 4 and len(v.tokens) > 1 else max(p.token_floor, p.short_word_floor),
                    p.function_word_weight if function else 1.0,
                )
                for _, v, p in group
                for options, function in zip(v.tokens, v.function)
            ]
            unique = {word: i for i, word in enumerate(dict.fromkeys(words))}
            weights = column([weight for _, _, weight in words])
            self.groups.append(
                _Group(
                    forms=forms,
                    width=width,
                    keys=[k for k, _, _ in group],
                    phrases=[v.phrase for _, v, _ in group],
                    unique_rows=np.array([row for row, _, _ in unique]),
                    unique_floors=column([_percent_floor(floor) for _, floor, _ in unique], np.uint8),
                    unique_weights=column([weight for _, _, weight in unique]),
                    token_unique=np.array([unique[word] for word in words]),
                    sizes=sizes,
                    offsets=offsets,
                    totals=np.add.reduceat(weights, offsets, axis=0),
                    bases=column(np.repeat(np.arange(len(group)), sizes), np.int64),
                    thresholds=column([p.threshold for _, _, p in group]),
                    penalties=column([p.order_penalty for _, _, p in group]),
                    negated=np.array([v.negated for _, v, _ in group]),
                    trailing_slots=np.array([v.trailing_slots for _, v, _ in group]),
                    near_keys=frozenset(k for k, _, _ in group) if near else frozenset(),
                )
            )


def _percent_floor(floor: float) -> int:
    """The least similarity (0..100) whose share, as float32, reaches a floor (0..1); 101: none."""
    shares = np.arange(101, dtype=np.float32) / 100
    reached = np.flatnonzero(shares >= np.float32(floor))
    return int(reached[0]) if len(reached) else 101


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
            times.append((round(seg.start + (seg.end - seg.start) * token.start / span, 2), round(seg.start + (seg.end - seg.start) * token.end / span, 2)))
    return times


class _Stream:
    """The tokens of some turns laid end to end, as vocabulary ids for lemmas
    and for word forms, with the turn and position of each."""

    PAD = 1  # a zero column between turns; matches spanning two turns are dropped
    TAIL = 64  # zero columns at the end, so that windows wider than a short call still fit

    def __init__(self, turns: list[Turn], lemma_ids: dict[str, int], form_ids: dict[str, int]):
        lemma_pad, form_pad = len(lemma_ids), len(form_ids)  # ids of the all-zero similarity column
        lemmas, forms, owner, position = [], [], [], []
        for turn in turns:
            lemmas += [lemma_ids[t.lemma] for t in turn.tokens] + [lemma_pad] * self.PAD
            forms += [form_ids[t.text] for t in turn.tokens] + [form_pad] * self.PAD
            owner += [turn.index] * len(turn.tokens) + [-1] * self.PAD
            position += list(range(len(turn.tokens))) + [-1] * self.PAD
        tail = self.TAIL if turns else 0
        self.lemmas = np.array(lemmas + [lemma_pad] * tail, dtype=np.int64)
        self.forms = np.array(forms + [form_pad] * tail, dtype=np.int64)
        self.turn = np.array(owner + [-1] * tail, dtype=np.int64)
        self.position = np.array(position + [-1] * tail, dtype=np.int64)


_STEM_IDS: dict[str, int] = {}


def _stem_id(word: str) -> int:
    """A number per stem (see nlp.same_stem); -1 for words too short to have one."""
    if len(word) < STEM_PREFIX:
        return -1
    return _STEM_IDS.setdefault(word[:STEM_PREFIX], len(_STEM_IDS))


def sentences(turn: Turn) -> list[tuple[int, int, bool]]:
    """(first token, last token, ends with a question mark) of each sentence of a turn."""
    sentences, first = [], 0
    for i in range(1, len(turn.tokens) + 1):
        gap = turn.text[turn.tokens[i - 1].end : turn.tokens[i].start] if i < len(turn.tokens) else turn.text[turn.tokens[-1].end :]
        if i == len(turn.tokens) or any(c in SENTENCE_END for c in gap):
            sentences.append((first, i - 1, "?" in gap))
            first = i
    return sentences


class CallIndex:
    """A call's turns and token vocabulary, built once and searched for every script item."""

    def __init__(self, segments: list[Segment], language: str, reliable: list[bool] | None = None):
        self.language = language
        self.turns = _turns(segments, language, reliable or [True] * len(segments))
        tokens = [t for turn in self.turns for t in turn.tokens]
        self._vocab = {False: list(dict.fromkeys(t.lemma for t in tokens)), True: list(dict.fromkeys(t.text for t in tokens))}
        self._ids = {forms: {w: i for i, w in enumerate(words)} for forms, words in self._vocab.items()}
        self._negation_ids = {forms: {self._ids[forms][w] for w in NEGATIONS if w in self._ids[forms]} for forms in (False, True)}
        self._streams: dict[tuple[str, ...], _Stream] = {}
        self._stems: dict[bool, tuple[np.ndarray, np.ndarray]] = {}  # per vocabulary: dictionary words, stem ids

    def stream(self, speakers: tuple[str, ...]) -> _Stream:
        if speakers not in self._streams:
            self._streams[speakers] = _Stream([t for t in self.turns if t.speaker in speakers], self._ids[False], self._ids[True])
        return self._streams[speakers]

    def _similarity(self, tokens: tuple[Alternatives, ...], forms: bool) -> np.ndarray:
        """Similarity (0..100) of each phrase word to every vocabulary word (its best alternative), plus a zero padding column."""
        vocab = self._vocab[forms]
        matrix = np.zeros((len(tokens), len(vocab) + 1), np.uint8)
        if vocab:
            words = list(dict.fromkeys(w for options in tokens for w in options))
            row = {w: i for i, w in enumerate(words)}
            scores = process.cdist(words, vocab, scorer=fuzz.ratio, dtype=np.uint8)
            self._drop_other_words(scores, words, forms)
            order = [row[w] for options in tokens for w in options]
            starts = np.cumsum([0] + [len(options) for options in tokens[:-1]])
            matrix[:, :-1] = np.maximum.reduceat(scores[order], starts, axis=0)
        return matrix

    FUZZY_FROM = 60  # below any floor: pairs under it never count anyway

    def _drop_other_words(self, scores: np.ndarray, words: list[str], forms: bool) -> None:
        """Fuzzy similarity is for recogniser slips and spelling variants: a word of the
        call that the dictionary knows and whose lemma differs from the phrase word's
        is another word, not a slip, unless both share a stem; its similarity is zeroed
        ("понимаю" is not "подумаю", "думаю" not "подумаю", "frames" not "timeframe")."""
        if forms not in self._stems:
            vocab = self._vocab[forms]
            known = np.array([is_dictionary_word(w, self.language) for w in vocab], bool)
            self._stems[forms] = (known, np.array([_stem_id(w) for w in vocab], np.int64))
        known, said = self._stems[forms]
        phrase = np.array([_stem_id(w) for w in words], np.int64)
        other = (scores >= self.FUZZY_FROM) & (scores < 100) & known[None, :] & ((phrase[:, None] != said[None, :]) | (phrase[:, None] < 0))
        scores[other] = 0

    def search(self, phrases: PhraseSet, speakers: tuple[str, ...], params: MatchParams, turns: set[int] | None = None) -> list[Hit]:
        """Every separate occurrence at or above the threshold, best first; optionally only in `turns`."""
        hits = self.search_many(PhraseBatch([(None, phrases, params)]), speakers)[None].hits
        return hits if turns is None else [h for h in hits if h.turn in turns]

    def search_many(self, batch: PhraseBatch, speakers: tuple[str, ...]) -> dict[object, Found]:
        """Search every item of a batch in one side's speech; keyed like the batch's items."""
        stream = self.stream(speakers)
        results = {key: Found([], 0.0, False) for key in batch.keys}
        if not len(stream.lemmas):
            return results
        candidates: dict[object, list[tuple[float, int, int, str]]] = {key: [] for key in batch.keys}
        similarity = {forms: self._similarity(tuple(tokens), forms) for forms, tokens in batch.tokens.items() if tokens}
        for group in batch.groups:
            if group.width <= len(stream.lemmas):
                self._score_group(stream, similarity[group.forms], group, candidates, results)
        for key, found in candidates.items():
            taken: list[tuple[float, int, int, str]] = []
            for cand in sorted(found, key=lambda c: (-c[0], c[1])):
                if all(cand[2] < other[1] or cand[1] > other[2] for other in taken):
                    taken.append(cand)
            results[key].hits = [self._hit(stream, *cand) for cand in taken]
        return results

    def _score_group(self, stream: _Stream, similarity: np.ndarray, group: _Group, candidates: dict, results: dict) -> None:
        ids = stream.forms if group.forms else stream.lemmas
        sim = similarity[group.unique_rows][:, ids]  # 0..100, uint8 until the weighting
        credit = np.where(sim >= group.unique_floors, sim, 0)  # per distinct word
        width, starts = group.width, len(ids) - group.width + 1
        best_word = credit[:, :starts].copy()  # best credit of each distinct word within each window
        for k in range(1, width):
            np.maximum(best_word, credit[:, k : k + starts], out=best_word)
        weighted = best_word.astype(np.float32) / 100 * group.unique_weights
        scores = np.add.reduceat(weighted[group.token_unique], group.offsets, axis=0) / group.totals  # per phrase token, summed per variant
        rows, cols = np.nonzero(scores >= group.thresholds)
        if len(rows):
            self._take_candidates(stream, credit, best_word, scores, group, rows, cols, candidates)
        if group.near_keys:
            below = np.where(scores < group.thresholds, scores, 0.0)
            near_cols = below.argmax(axis=1)
            rows = np.flatnonzero(below[np.arange(len(near_cols)), near_cols] > 0)
            if len(rows):
                _, first, last, _ = self._windows(credit, best_word, group, rows, near_cols[rows])
                for row, a, b in zip(rows, first, last):
                    key, score = group.keys[row], float(below[row, near_cols[row]])
                    if score > results[key].near_score and stream.turn[a] == stream.turn[b]:
                        turn = self.turns[int(stream.turn[a])]
                        positions = range(int(stream.position[a]), int(stream.position[b]) + 1)
                        results[key].near_score = score
                        results[key].near_unreliable = not all(turn.reliable[p] for p in positions)
                        results[key].near_at = (turn.index, turn.times[positions[0]][0], turn.times[positions[-1]][1])

    @staticmethod
    def _windows(credit, best_word, group: _Group, rows: np.ndarray, cols: np.ndarray):
        """For windows (variant row, start): whether the found words keep the phrase's order, and their first and last position."""
        sizes = group.sizes[rows]
        owner = np.repeat(np.arange(len(rows)), sizes)  # window of each phrase word
        token = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes) + np.repeat(group.offsets[rows], sizes)
        start = cols[owner]
        windows = sliding_window_view(credit, group.width, axis=1)[group.token_unique[token], start]
        found = best_word[group.token_unique[token], start] > 0
        position = windows.argmax(axis=1) + start
        # One running max over all windows: each window's positions are shifted above the previous window's.
        span = credit.shape[1] + 2
        placed = np.where(found, position + owner * span + 1, owner * span)
        ordered = ~found | (placed >= np.maximum.accumulate(placed))
        bounds = np.cumsum(sizes) - sizes
        in_order = np.logical_and.reduceat(ordered, bounds)
        first = np.minimum.reduceat(np.where(found, position, credit.shape[1]), bounds)
        last = np.maximum.reduceat(np.where(found, position, -1), bounds)
        return in_order, first, last, found

    def _take_candidates(self, stream, credit, best_word, scores, group: _Group, rows, cols, candidates: dict) -> None:
        in_order, first, last, _ = self._windows(credit, best_word, group, rows, cols)
        values = np.where(in_order, scores[rows, cols], scores[rows, cols] * group.penalties[rows, 0])
        keep = (values >= group.thresholds[rows, 0]) & (stream.turn[first] == stream.turn[last])  # never across turns
        rows, cols, values, first, last = rows[keep], cols[keep], values[keep], first[keep], last[keep]
        if not len(rows):
            return
        # Windows a token apart usually hold the same words: keep the best of each run.
        run = np.cumsum(np.concatenate([[True], (np.diff(rows) != 0) | (np.diff(cols) > 1)]))
        order = np.lexsort((-values, run))
        best_of_run = order[np.concatenate([[True], np.diff(run[order]) != 0])]
        is_negation = self._negations(stream, group.forms)
        for i in best_of_run:
            row, a, b = rows[i], int(first[i]), int(last[i])
            negated = is_negation[a : b + 1].any() or (a > 0 and is_negation[a - 1] and not self._punctuation_before(stream, a))
            if negated and not group.negated[row]:
                continue  # "это не дорого" is no price objection; "Да не, я подумаю" is one
            b = self._through_open_slots(stream, b, int(group.trailing_slots[row]))
            candidates[group.keys[row]].append((round(float(values[i]), 3), a, b, group.phrases[row]))

    def _through_open_slots(self, stream: _Stream, last: int, slots: int) -> int:
        """The last token of a hit whose phrase ends in open slots: up to two words a slot more, within
        the turn and before any punctuation ("меня зовут" + "Анна Сергеевна", not the next sentence)."""
        for _ in range(2 * slots):
            following = last + 1
            if stream.turn[following] != stream.turn[last] or self._punctuation_before(stream, following):
                break
            last = following
        return last

    def _punctuation_before(self, stream: _Stream, i: int) -> bool:
        """Whether punctuation parts stream token i from the token before it (a negation
        set off by a comma, "Да не, я подумаю", does not negate what follows)."""
        position = int(stream.position[i])
        return position <= 0 or parted_from_previous(self.turns[int(stream.turn[i])], position)

    def _negations(self, stream: _Stream, forms: bool) -> np.ndarray:
        ids = stream.forms if forms else stream.lemmas
        negation_ids = list(self._negation_ids[forms])
        return np.isin(ids, negation_ids) if negation_ids else np.zeros(len(ids), bool)

    def _hit(self, stream: _Stream, score: float, first: int, last: int, phrase: str) -> Hit:
        turn_index = int(stream.turn[first])
        turn = self.turns[turn_index]
        a, b = int(stream.position[first]), int(stream.position[last])
        text = turn.text[turn.tokens[a].start : turn.tokens[b].end]
        lo, hi = max(a - 6, 0), min(b + 6, len(turn.tokens) - 1)
        context = turn.text[turn.tokens[lo].start : turn.tokens[hi].end]
        return Hit(score, phrase, turn_index, turn.times[a][0], turn.times[b][1], text, context, (a, b))
