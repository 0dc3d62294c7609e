"""Wordings for a script's steps, proposed from stored calls: what managers said
where a step was not found, that comes close to the step's wordings.

Nothing is added to a script: each proposal comes with the number of stored
calls whose verdict it would change, for the author to judge.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

from callqa.analysis import AnalysisOptions, analyze_transcript
from callqa.analysis.nlp import lemmatize
from callqa.scripts import PLACEHOLDER, Script, step_phrases
from callqa.store import Store
from callqa.text import plain_words
from callqa.types import Transcript

__all__ = ["Suggestion", "suggest_wordings"]

NEAR = 60  # similarity (0..100, of lemmas) from which a sentence is a near miss of a step's wording
MAX_WORDS = 14  # a wording is a sentence, not a speech
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Suggestion:
    step_id: str
    wording: str  # the words as said, lower case, without punctuation
    calls: list[str]  # call ids whose verdict on the step it changes to found
    near: int  # how close it came to the step's closest wording (0..100)


def _lemmas(text: str, language: str) -> str:
    return " ".join(t.lemma for t in lemmatize(text, language))


def _sentences(transcript: Transcript, speaker: str) -> list[str]:
    said = [s.text for s in transcript.segments if s.speaker in (speaker, "unknown")]
    return [plain_words(piece) for text in said for piece in _SENTENCE.split(text) if 2 <= len(piece.split()) <= MAX_WORDS]


def suggest_wordings(store: Store, script: Script, step_id: str | None = None, options: AnalysisOptions | None = None, limit: int = 5) -> list[Suggestion]:
    """Up to `limit` wordings per step (or for one step), best first, from the stored calls scored with `script.id`."""
    calls = [(c.call_id, c.manager_name, c.transcript()) for c in store.stored_calls(script.id)]
    verdicts = {call_id: {s.id: s.found for s in analyze_transcript(t, script, call_id, options, manager).steps} for call_id, manager, t in calls}
    suggestions = []
    for step in script.steps:
        if step_id not in (None, step.id):
            continue
        wordings = [_lemmas(PLACEHOLDER.sub(" ", w), script.language) for w in step_phrases(step, script.language)]
        near: dict[str, int] = defaultdict(int)
        said: dict[str, list[str]] = {}  # per call where the step was not found: the lemmas of each sentence
        for call_id, _, transcript in calls:
            if verdicts[call_id][step.id]:
                continue
            sentences = _sentences(transcript, step.speaker)
            said[call_id] = [_lemmas(sentence, script.language) for sentence in sentences]
            for sentence, lemmas in zip(sentences, said[call_id]):
                score = int(max(fuzz.token_sort_ratio(lemmas, w) for w in wordings))
                if score >= NEAR:
                    near[sentence] = max(near[sentence], score)
        ranked = []
        for wording, score in sorted(near.items(), key=lambda item: -item[1])[: 4 * limit]:
            trial = script.model_copy(
                update={"steps": [s.model_copy(update={"phrases": [*s.phrases, wording]}) if s.id == step.id else s for s in script.steps]}
            )
            # Only calls that say something like the wording are analysed again: thousands of stored calls stay cheap.
            wording_lemmas = _lemmas(wording, script.language)
            likely = {call_id for call_id, sentences in said.items() if any(fuzz.token_set_ratio(wording_lemmas, s) >= NEAR for s in sentences)}
            changed = [
                call_id
                for call_id, manager, transcript in calls
                if call_id in likely and next(s for s in analyze_transcript(transcript, trial, call_id, options, manager).steps if s.id == step.id).found
            ]
            if changed:
                ranked.append(Suggestion(step.id, wording, changed, score))
        suggestions += sorted(ranked, key=lambda s: (-len(s.calls), -s.near))[:limit]
    return suggestions
