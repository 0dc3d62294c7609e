"""Tokens and lemmas (spaCy tokenizer; lemmas from pymorphy3 for Russian and
spaCy's lookup tables for English), cached per word.

Matching works on lemmas so that "какую сумму вы планируете" finds
"какая сумма планировать". Resources load lazily, once per process.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache, lru_cache

from callqa.types import SUPPORTED_LANGUAGES

__all__ = ["NEGATIONS", "STEM_PREFIX", "Token", "is_dictionary_word", "is_function_word", "lemmatize", "same_stem", "short_names"]

# Words that negate the phrase they stand in or before ("это не дорого"); a bare
# "нет" or "no" is an answer, not a negation of what follows ("Нет. Это дорого.").
NEGATIONS = frozenset({"не", "ни", "not", "never"})
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_lock = threading.Lock()


@dataclass(frozen=True)
class Token:
    text: str  # the word as said, lower case, ё as е
    lemma: str
    start: int  # character offsets in the original text
    end: int


@cache
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


@cache
def _stop_words(language: str) -> frozenset[str]:
    from spacy.util import get_lang_class

    return frozenset(w.replace("ё", "е") for w in get_lang_class(language).Defaults.stop_words) - _MEANINGFUL.get(language, frozenset())


# Words on spaCy's stop lists that carry what a sales step is about ("my name is", "the amount",
# "call you back", "next week"): weighed as content words, and enough to keep a phrase that has an open slot.
_MEANINGFUL = {
    "en": frozenset(
        {
            "name",
            "call",
            "amount",
            "next",
            "first",
            "last",
            "full",
            "serious",
            "show",
            "see",
            "give",
            "take",
            "make",
            "keep",
            "move",
            "part",
            "side",
            "back",
            "top",
            "bottom",
            "front",
            "empty",
        }
    ),
}


def is_function_word(word: str, language: str) -> bool:
    """Pronouns, prepositions, particles... (spaCy's stop-word list): they carry little of a phrase's meaning."""
    return word in _stop_words(language)


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    table = _english_lemmas()
    return frozenset(str(v).lower() for v in table.values())


@lru_cache(maxsize=200_000)
def is_dictionary_word(lemma: str, language: str) -> bool:
    """Whether a lemma is a word the language's dictionary knows (pymorphy3's for
    Russian, spaCy's lemma table for English), as opposed to a recogniser slip
    or a misspelling ("дурго", "страдом")."""
    if language == "ru":
        return _morph().word_is_known(lemma)
    return lemma in _english_words() or lemma in _english_lemmas()


STEM_PREFIX = 4  # letters two different dictionary words must share to count as one word fuzzily


def same_stem(a: str, b: str) -> bool:
    """Whether two words start alike ("квадратик"/"квадрат", "отдавать"/"отдать"),
    unlike a prefixed form ("подумать"/"думать", "уехать"/"приехать") or a
    look-alike ("понимать"/"подумать", "некуда"/"некогда", "timeframe"/"frame")."""
    return len(a) >= STEM_PREFIX and len(b) >= STEM_PREFIX and a[:STEM_PREFIX] == b[:STEM_PREFIX]


@lru_cache(maxsize=200_000)
def _lemma(word: str, language: str) -> str:
    if language == "ru":
        # The most probable parse, so that one form always gets one lemma (spaCy's
        # pymorphy3 lookup mode leaves ambiguous forms such as "времени" unlemmatised).
        return _morph().parse(word)[0].normal_form.replace("ё", "е")
    return _english_lemmas().get(word, word).lower()


# Russian words joined by a hyphen to a particle. "что-то", "какой-нибудь", "кое-что" are
# indefinite pronouns, other words than "что" or "какой": one token. The emphatic "-то"
# and "-ка" of speech ("заезжать-то когда?", "давай-ка") add nothing: the word alone.
_INTERROGATIVES = frozenset({"что", "кто", "где", "как", "какой", "когда", "куда", "откуда", "сколько", "чей", "почему", "зачем", "каков"})
_INDEFINITE = frozenset({"то", "нибудь", "либо"})
_EMPHATIC = frozenset({"то", "ка"})
# Colloquial spellings that the dictionary reads as other words ("скока" as a form of "скок").
_COLLOQUIAL = {"скока": "сколько", "скоко": "сколько", "када": "когда", "тока": "только", "ваще": "вообще", "чо": "что", "ничо": "ничего"}


def _lemma_of(surface: str, language: str) -> str:
    if language == "ru" and surface in _COLLOQUIAL:
        return _COLLOQUIAL[surface]
    return _lemma(surface, language)


@lru_cache(maxsize=65536)
def lemmatize(text: str, language: str) -> tuple[Token, ...]:
    """Word tokens of `text` with lemmas; punctuation dropped."""
    tokenizer = _tokenizer(language)
    with _lock:  # spaCy's tokenizer is not documented as thread-safe
        doc = tokenizer(text)
    tokens: list[Token] = []
    skip = 0
    for i, tok in enumerate(doc):
        if skip:
            skip -= 1
            continue
        if not _WORD.fullmatch(tok.text):
            continue
        surface = tok.text.lower().replace("ё", "е")
        if language == "ru" and i + 2 < len(doc) and doc[i + 1].text == "-" and not tok.whitespace_ and not doc[i + 1].whitespace_:
            particle = doc[i + 2].text.lower()
            lemma = _lemma_of(surface, language)
            if (particle in _INDEFINITE and lemma in _INTERROGATIVES) or surface == "кое":
                end = doc[i + 2].idx + len(doc[i + 2].text)
                joined = f"{surface}-{particle}"
                tokens.append(Token(joined, f"{lemma}-{particle}" if surface != "кое" else joined, tok.idx, end))
                skip = 2
                continue
            if particle in _EMPHATIC:
                tokens.append(Token(surface, lemma, tok.idx, tok.idx + len(tok.text)))
                skip = 2
                continue
        tokens.append(Token(surface, _lemma_of(surface, language), tok.idx, tok.idx + len(tok.text)))
    if language == "ru":
        tokens = _concessive(tokens)
    return tuple(tokens)


def _concessive(tokens: list[Token]) -> list[Token]:
    """ "какая бы площадь ни была", "сколько бы ни стоило": a concession, not a question;
    the question word means "any" here and gets that lemma, so that it cannot match a
    question ("площадь какая")."""
    out = list(tokens)
    for i, tok in enumerate(tokens[:-2]):
        if tok.lemma in _INTERROGATIVES and tokens[i + 1].text == "бы" and any(t.text == "ни" for t in tokens[i + 2 : i + 6]):
            out[i] = Token(tok.text, "любой", tok.start, tok.end)
    return out


# Short forms of first names that managers introduce themselves with ("Аня" for "Анна").
SHORT_NAMES = {
    "анна": ("аня",),
    "елена": ("лена",),
    "дмитрий": ("дима",),
    "сергей": ("сережа",),
    "александр": ("саша",),
    "александра": ("саша",),
    "алексей": ("леша",),
    "андрей": ("андрюша",),
    "мария": ("маша",),
    "екатерина": ("катя",),
    "ольга": ("оля",),
    "наталья": ("наташа",),
    "наталия": ("наташа",),
    "татьяна": ("таня",),
    "ирина": ("ира",),
    "светлана": ("света",),
    "юлия": ("юля",),
    "анастасия": ("настя",),
    "дарья": ("даша",),
    "ксения": ("ксюша",),
    "виктория": ("вика",),
    "евгений": ("женя",),
    "евгения": ("женя",),
    "михаил": ("миша",),
    "николай": ("коля",),
    "владимир": ("володя",),
    "павел": ("паша",),
    "иван": ("ваня",),
    "константин": ("костя",),
    "максим": ("макс",),
    "thomas": ("tom",),
    "james": ("jim", "jamie"),
    "william": ("will", "bill"),
    "robert": ("rob", "bob"),
    "michael": ("mike",),
    "daniel": ("dan",),
    "christopher": ("chris",),
    "elizabeth": ("liz", "beth"),
    "katherine": ("kate",),
    "catherine": ("kate",),
    "jennifer": ("jen",),
    "alexander": ("alex",),
}


def short_names(first_name: str) -> tuple[str, ...]:
    """Everyday short forms of a first name ("Анна" -> "Аня"), capitalised like the name."""
    forms = SHORT_NAMES.get(first_name.lower().replace("ё", "е"), ())
    return tuple(f.capitalize() for f in forms)
