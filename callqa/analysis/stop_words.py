"""Stop-words said by the manager: particular word forms, and fillers only where
they stand apart as fillers do."""

from __future__ import annotations

from callqa.analysis.compiled import SIDES, CompiledScript
from callqa.analysis.matching import SENTENCE_END, SET_OFF, CallIndex, Hit, parted_from_previous
from callqa.analysis.nlp import Token
from callqa.analysis.results import StopWordHit
from callqa.scripts import Script, StopWord

__all__ = ["find_stop_words", "is_set_off", "word_after", "word_before"]

# Discourse particles a filler leans on when the recogniser wrote no punctuation ("ну короче").
_DISCOURSE = frozenset({"ну", "вот"})


def word_before(index: CallIndex, hit: Hit) -> Token | None:
    """The word said right before a hit in its turn, if no punctuation stands between them."""
    turn, first = index.turns[hit.turn], hit.tokens[0]
    if first == 0 or parted_from_previous(turn, first):
        return None
    return turn.tokens[first - 1]


def word_after(index: CallIndex, hit: Hit) -> Token | None:
    """The word said right after a hit in its turn, if no punctuation stands between them."""
    turn, last = index.turns[hit.turn], hit.tokens[1]
    if last + 1 >= len(turn.tokens) or parted_from_previous(turn, last + 1):
        return None
    return turn.tokens[last + 1]


def is_set_off(index: CallIndex, hit: Hit) -> bool:
    """Whether the matched words open a sentence, stand apart by punctuation or follow
    a discourse particle, as fillers do ("Ну, типа, сделаем", "ну короче кухня")."""
    turn = index.turns[hit.turn]
    before = turn.text[: turn.tokens[hit.tokens[0]].start].rstrip()
    after = turn.text[turn.tokens[hit.tokens[1]].end :].lstrip()
    previous = word_before(index, hit)
    return not before or before[-1] in SET_OFF | SENTENCE_END or after[:1] in SET_OFF or (previous is not None and previous.text in _DISCOURSE)


def _counts(word: StopWord, hit: Hit, index: CallIndex, compiled: CompiledScript) -> bool:
    """`word` with its rules (compiled.stop_word_rules): whether this hit is the stop-word, not the ordinary word."""
    if word.not_after:
        previous = word_before(index, hit)
        if previous is not None and previous.lemma in compiled.not_after[word.id]:
            return False  # "какого типа": the noun, not the filler
    if word.not_before:
        following = word_after(index, hit)
        if following is not None and following.lemma in compiled.not_before[word.id]:
            return False  # "как бы вам удобнее": a question, not the filler
    return not word.filler or is_set_off(index, hit)


def find_stop_words(script: Script, compiled: CompiledScript, index: CallIndex) -> list[StopWordHit]:
    found = index.search_many(compiled.stop_words, SIDES["manager"])
    hits = [
        StopWordHit(word.id, index.turns[hit.turn].speaker, hit.start, hit.text, hit.context, word.severity, hit.score)
        for word in compiled.stop_word_rules.values()
        for hit in found[word.id].hits
        if _counts(word, hit, index, compiled)
    ]
    return sorted(hits, key=lambda h: h.start)
