"""Phrase search over transcript segments, on lemmas, with rapidfuzz.

A script phrase is an example wording, not an exact string: it is lemmatised
and compared with every window of nearby length in a segment's lemmas, so
inflections, a word more or less and small ASR slips still match. Windows are
whole tokens, so "типа" never fires inside another word.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from callqa.nlp import Token, lemmatize
from callqa.transcript import Segment

__all__ = ["Hit", "PhraseSet", "Turn", "index_turns"]


@dataclass(frozen=True)
class Hit:
    score: float  # 0..1
    phrase: str  # the script phrase that matched
    turn: int  # index into the indexed turns
    start: float  # seconds, of the first matched word
    text: str  # the matched words as said


@dataclass
class Turn:
    """Consecutive utterances of one speaker, with tokens and every token window, built once per call.

    Phrases are searched in turns rather than utterances because the decoder
    splits speech at pauses, often inside a phrase ("Добрый день," | "компания СтройДом").
    """

    index: int
    speaker: str
    text: str
    tokens: tuple[Token, ...]
    times: list[float]  # start time of each token
    windows: dict[int, list[str]]  # window size -> lemma strings, one per start token

    def span_text(self, first: int, count: int) -> str:
        last = self.tokens[first + count - 1]
        return self.text[self.tokens[first].start : last.start + len(last.text)]


MAX_WINDOW = 16


def _token_times(seg: Segment, tokens: tuple[Token, ...]) -> list[float]:
    """Start time of each token: from word timestamps when there are any, else interpolated."""
    times = []
    for token in tokens:
        time = None
        position = 0
        for word in seg.words:
            found = seg.text.find(word.text, position)
            if found < 0:
                continue
            if found + len(word.text) > token.start:
                time = word.start
                break
            position = found + len(word.text)
        if time is None:
            time = seg.start + (seg.end - seg.start) * token.start / max(len(seg.text), 1)
        times.append(round(time, 2))
    return times


def index_turns(segments: list[Segment], language: str) -> list[Turn]:
    """Group time-ordered segments into speaker turns and index their lemma windows."""
    groups: list[list[Segment]] = []
    for seg in segments:
        if groups and groups[-1][-1].speaker == seg.speaker:
            groups[-1].append(seg)
        else:
            groups.append([seg])
    turns = []
    for i, group in enumerate(groups):
        text, tokens, times = "", [], []
        for seg in group:
            offset = len(text) + (1 if text else 0)
            text = f"{text} {seg.text}" if text else seg.text
            seg_tokens = lemmatize(seg.text, language)
            tokens += [Token(t.text, t.lemma, t.start + offset) for t in seg_tokens]
            times += _token_times(seg, seg_tokens)
        lemmas = [t.lemma for t in tokens]
        windows = {
            size: [" ".join(lemmas[j : j + size]) for j in range(len(lemmas) - size + 1)]
            for size in range(1, min(len(lemmas), MAX_WINDOW) + 1)
        }
        turns.append(Turn(i, group[0].speaker, text, tuple(tokens), times, windows))
    return turns


@lru_cache(maxsize=4096)
def _phrase_lemmas(phrase: str, language: str) -> str:
    return " ".join(t.lemma for t in lemmatize(phrase, language))


class PhraseSet:
    """The example wordings of one script item, ready to search."""

    def __init__(self, phrases: list[str], language: str):
        self.phrases = []
        for phrase in phrases:
            lemmas = _phrase_lemmas(phrase, language)
            self.phrases.append((phrase, lemmas))
            words = lemmas.split()
            if len(words) == 2:  # "стройдом здравствуйте" is the same greeting
                self.phrases.append((phrase, f"{words[1]} {words[0]}"))

    @staticmethod
    def _sizes(phrase_lemmas: str) -> range:
        n = phrase_lemmas.count(" ") + 1
        if n == 1:
            return range(1, 2)  # single words match single words only
        return range(max(1, n - 1), min(MAX_WINDOW, n + 1 + n // 3) + 1)

    def _turn_hits(self, turn: Turn, threshold: float) -> list[tuple[Hit, range]]:
        """Matches in one turn, each with the token range it covers."""
        hits = []
        for phrase, lemmas in self.phrases:
            for size in self._sizes(lemmas):
                choices = turn.windows.get(size)
                if not choices:
                    continue
                # Word order may vary only in phrases of 3+ words: sorted, "нет времени" ~ "времени займет".
                scorers = (fuzz.ratio, fuzz.token_sort_ratio) if lemmas.count(" ") >= 2 else (fuzz.ratio,)
                scores: dict[int, float] = {}
                for scorer in scorers:
                    for _choice, score, first in process.extract(lemmas, choices, scorer=scorer, score_cutoff=threshold * 100, limit=None):
                        scores[first] = max(score, scores.get(first, 0.0))
                for first, score in scores.items():
                    hit = Hit(round(score / 100, 3), phrase, turn.index, turn.times[first], turn.span_text(first, size))
                    hits.append((hit, range(first, first + size)))
        return hits

    def best(self, turns: list[Turn], threshold: float) -> Hit | None:
        """The strongest match anywhere in `turns`, earliest on a tie."""
        best: Hit | None = None
        for turn in turns:
            for hit, _tokens in self._turn_hits(turn, threshold):
                if best is None or hit.score > best.score or (hit.score == best.score and hit.start < best.start):
                    best = hit
        return best

    def all(self, turns: list[Turn], threshold: float) -> list[Hit]:
        """Every separate occurrence: overlapping windows in a turn count once."""
        found = []
        for turn in turns:
            taken: list[tuple[Hit, range]] = []
            for hit, tokens in sorted(self._turn_hits(turn, threshold), key=lambda h: -h[0].score):
                if not any(set(tokens) & set(other) for _, other in taken):
                    taken.append((hit, tokens))
            found.extend(sorted((hit for hit, _ in taken), key=lambda h: h.start))
        return found
