"""Tokens and lemmas (spaCy tokenizer; lemmas from pymorphy3 for Russian and
spaCy's lookup tables for English), cached per word.

Matching works on lemmas so that "какую сумму вы планируете" finds
"какая сумма планировать". Resources load lazily, once per process.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NEGATIONS", "SUPPORTED_LANGUAGES", "Token", "is_function_word", "lemmatize", "plain_words"]

SUPPORTED_LANGUAGES = ("ru", "en")
# Words that negate the phrase they stand in or before ("это не дорого"); a bare
# "нет" or "no" is an answer, not a negation of what follows ("Нет. Это дорого.").
NEGATIONS = frozenset({"не", "ни", "not", "never"})
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_lock = threading.Lock()


def plain_words(text: str) -> str:
    """The words of a text, lower case, ё as е, one space apart: for comparing what was said, not how it was written."""
    return " ".join(re.findall(r"\w+", text.lower().replace("ё", "е")))


@dataclass(frozen=True)
class Token:
    text: str  # the word as said, lower case, ё as е
    lemma: str
    start: int  # character offsets in the original text
    end: int


@lru_cache(maxsize=None)
def _tokenizer(language: str):
    import spacy

    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    return spacy.blank(language).tokenizer


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def _english_lemmas():
    from spacy.lookups import load_lookups

    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


@lru_cache(maxsize=None)
def _stop_words(language: str) -> frozenset[str]:
    from spacy.util import get_lang_class

    return frozenset(w.replace("ё", "е") for w in get_lang_class(language).Defaults.stop_words)


def is_function_word(word: str, language: str) -> bool:
    """Pronouns, prepositions, particles... (spaCy's stop-word list): they carry little of a phrase's meaning."""
    return word in _stop_words(language)


@lru_cache(maxsize=200_000)
def _lemma(word: str, language: str) -> str:
    if language == "ru":
        # The most probable parse, so that one form always gets one lemma (spaCy's
        # pymorphy3 lookup mode leaves ambiguous forms such as "времени" unlemmatised).
        return _morph().parse(word)[0].normal_form.replace("ё", "е")
    return _english_lemmas().get(word, word).lower()


@lru_cache(maxsize=65536)
def lemmatize(text: str, language: str) -> tuple[Token, ...]:
    """Word tokens of `text` with lemmas; punctuation dropped."""
    tokenizer = _tokenizer(language)
    with _lock:  # spaCy's tokenizer is not documented as thread-safe
        doc = tokenizer(text)
    tokens = []
    for tok in doc:
        if not _WORD.fullmatch(tok.text):
            continue
        surface = tok.text.lower().replace("ё", "е")
        tokens.append(Token(surface, _lemma(surface, language), tok.idx, tok.idx + len(tok.text)))
    return tuple(tokens)
