"""Key-word evidence for steps: the words that carry one step of a script and
no other ("пробег", "бюджет", "обращаться"), said in one sentence of the step's
speaker.

A script written the way QA leads write them gives one to three wordings per
step; managers say the same thing in a hundred ways. The words specific to a
step, taken from its wordings and its name and weighed against the script's
other steps, still show that he did it ("А пробег сейчас сколько примерно?"
for "какой сейчас пробег"). A word weighs fully when the step's name holds it or
a third of its wordings do, half when only a few of many wordings do (a script
with fifty wordings a step has many incidental words). Two full weights in one
sentence, or one in a question, find the step; less is partial evidence, for a
person to judge. A long key word is also said by another word of its stem: the
other aspect of a verb or its noun ("сдавать" for "сдать", "оформление" for
"оформить", "рассчитываете" for "рассчитать").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from callqa.analysis.matching import CallIndex, sentences
from callqa.analysis.nlp import NEGATIONS, is_function_word, lemmatize
from callqa.scripts import PLACEHOLDER, Script

__all__ = ["INCIDENTAL", "KeyEvidence", "StepKeys", "key_evidence", "step_keys"]

_ALTERNATIVES = re.compile(r"\(([^()]*)\)")
_QUESTION_WORDS = {
    "ru": frozenset({"как", "какой", "сколько", "когда", "где", "кто", "что", "чем", "куда", "откуда", "почему", "зачем", "каков", "чей", "ли", "разве"}),
    "en": frozenset(
        {"what", "how", "when", "which", "who", "where", "why", "whose", "whom", "do", "does", "did", "are", "is", "can", "could", "would", "will", "shall"}
    ),
}
_MIN_LENGTH = 3  # shorter lemmas ("да", "ну") carry nothing on their own
# A key word of this many letters or more is also said by a word of six or more that starts with its first
# five letters (a verb's other aspect, its noun); shorter stems join unrelated words ("пред-", "пере-").
_STEM_LENGTH = 6
_STEM_PREFIX = 5


StepKeys = dict[str, float]  # a step's key lemmas and their weights
INCIDENTAL = 0.5  # the weight of a word only a few of a step's many wordings hold


@dataclass(frozen=True)
class KeyEvidence:
    words: tuple[str, ...]  # the step's key lemmas said, in the order said
    weight: float  # their weights, summed
    question: bool  # the sentence asks something
    turn: int
    start: float
    end: float
    text: str  # the sentence

    @property
    def phrase(self) -> str:
        """What stands for the script phrase in a verdict found or doubted by key words."""
        return f"key words: {', '.join(self.words)}"


def _wording_lemmas(text: str, script: Script) -> set[str]:
    values = {name: " ".join(options) for name, options in script.placeholders.items()}
    text = PLACEHOLDER.sub(lambda m: values.get(m[1], " "), text)
    text = _ALTERNATIVES.sub(lambda m: " ".join(m[1].split("|")), text)
    return {
        t.lemma
        for t in lemmatize(text, script.language)
        if len(t.lemma) >= _MIN_LENGTH
        and not t.lemma.isdigit()
        and not is_function_word(t.lemma, script.language)
        and not is_function_word(t.text, script.language)
    }


def step_keys(script: Script) -> dict[str, StepKeys]:
    """Per step: the content lemmas of its own wordings and name that no other step of the script uses, weighed."""
    named = {step.id: _wording_lemmas(step.name, script) for step in script.steps}
    worded = {step.id: Counter(lemma for text in step.phrases for lemma in _wording_lemmas(text, script)) for step in script.steps}
    steps_using = Counter(lemma for step in script.steps for lemma in named[step.id] | set(worded[step.id]))
    keys = {}
    for step in script.steps:
        central = -(-len(step.phrases) // 3)  # a third of the wordings, rounded up
        weights = {lemma: 1.0 if lemma in named[step.id] or count >= central else INCIDENTAL for lemma, count in worded[step.id].items()}
        weights |= dict.fromkeys(named[step.id], 1.0)
        keys[step.id] = {lemma: weight for lemma, weight in weights.items() if steps_using[lemma] == 1}
    return keys


class _StemLookup:
    """The key word a said lemma stands for: itself, or a long key word of its stem."""

    def __init__(self, step_words: StepKeys):
        self._keys = step_words
        self._by_stem = {key[:_STEM_PREFIX]: key for key in step_words if len(key) >= _STEM_LENGTH}

    def get(self, lemma: str) -> str | None:
        if lemma in self._keys:
            return lemma
        return self._by_stem.get(lemma[:_STEM_PREFIX]) if len(lemma) >= _STEM_LENGTH else None


def key_evidence(index: CallIndex, keys: dict[str, StepKeys], speakers: tuple[str, ...], language: str) -> dict[str, KeyEvidence]:
    """The best sentence of `speakers` for each step that has any of its key words said (not negated)."""
    question_words = _QUESTION_WORDS.get(language, frozenset())
    stems = {step_id: _StemLookup(step_words) for step_id, step_words in keys.items()}
    best: dict[str, KeyEvidence] = {}
    for turn in index.turns:
        if turn.speaker not in speakers or not turn.tokens:
            continue
        for first, last, question_mark in sentences(turn):
            tokens = turn.tokens[first : last + 1]
            said = [t.lemma for i, t in enumerate(tokens) if not (i and tokens[i - 1].text in NEGATIONS)]
            question = question_mark or any(t.lemma in question_words for t in tokens[:4])
            for step_id, step_words in keys.items():
                found = tuple(dict.fromkeys(key for key in map(stems[step_id].get, said) if key))
                if not found:
                    continue
                weight = sum(step_words[lemma] for lemma in found)
                evidence = KeyEvidence(
                    found, weight, question, turn.index, turn.times[first][0], turn.times[last][1], turn.text[tokens[0].start : tokens[-1].end]
                )
                current = best.get(step_id)
                if current is None or (weight, question) > (current.weight, current.question):
                    best[step_id] = evidence
    return best
