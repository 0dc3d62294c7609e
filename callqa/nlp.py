"""Text normalisation and lemmatisation (spaCy; Russian through pymorphy3).

Matching works on lemmas so that "какую сумму вы планируете" finds
"какая сумма планировать". Pipelines load lazily, once per process.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["SUPPORTED_LANGUAGES", "Token", "lemmatize"]

SUPPORTED_LANGUAGES = ("ru", "en")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_lock = threading.Lock()


@dataclass(frozen=True)
class Token:
    text: str
    lemma: str
    start: int  # character offset in the original text


@lru_cache(maxsize=None)
def _pipeline(language: str):
    import spacy

    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    nlp = spacy.blank(language)
    # ru: pymorphy3 dictionaries ship on PyPI; en: lookup tables from spacy-lookups-data.
    nlp.add_pipe("lemmatizer", config={"mode": "pymorphy3" if language == "ru" else "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=65536)
def _lemmatize_cached(text: str, language: str) -> tuple[Token, ...]:
    with _lock:  # spaCy pipelines are not documented as thread-safe
        doc = _pipeline(language)(text)
    tokens = []
    for tok in doc:
        if not _WORD.fullmatch(tok.text):
            continue
        surface = tok.text.lower().replace("ё", "е")
        lemma = (tok.lemma_ or surface).lower().replace("ё", "е")
        if language == "ru" and lemma == surface:
            # Without a tagger spaCy leaves ambiguous forms ("времени") as they are;
            # pymorphy3's most probable parse keeps the lemma stable across inflections.
            lemma = _morph().parse(surface)[0].normal_form.replace("ё", "е")
        tokens.append(Token(surface, lemma, tok.idx))
    return tuple(tokens)


def lemmatize(text: str, language: str) -> tuple[Token, ...]:
    """Word tokens of `text` with lemmas; punctuation dropped."""
    return _lemmatize_cached(text, language)
