import pytest

from callqa.analysis.matching import CallIndex, MatchParams, PhraseSet, expand_placeholders
from callqa.analysis.stop_words import is_set_off
from callqa.types import Segment, Word

MANAGER = ("manager", "unknown")
STEP = MatchParams(0.75)
STOP = MatchParams(0.92, order_penalty=0.0, extra_words=0)


def _index(*texts, language="ru"):
    """One turn per text, manager and client alternating, 5 s apart."""
    return CallIndex([Segment(("manager", "client")[i % 2], float(i * 5), float(i * 5 + 4), t) for i, t in enumerate(texts)], language)


def _find(phrase, *texts, params=STEP, forms=False, language="ru", placeholders=None):
    return _index(*texts, language=language).search(PhraseSet([phrase], language, placeholders, forms), MANAGER, params)


def _said(phrase, *texts, **kwargs):
    """The one hit of a phrase: the words as said, and its score."""
    [hit] = _find(phrase, *texts, **kwargs)
    assert hit.phrase == phrase
    return hit.text, hit.score


@pytest.mark.parametrize(
    "said, evidence, score",
    [
        ("Какую сумму вы планируете потратить на ремонт?", "Какую сумму вы планируете потратить", 1.0),  # the wording itself
        ("а какая сумма, которую вы планировали потратить", "какая сумма, которую вы планировали потратить", 1.0),  # other inflections
        ("Сколько вы планируете потратить, какую сумму?", "вы планируете потратить, какую сумму", 0.9),  # another word order: the penalty
        ("Какую, э-э, сумму вы, ну, планируете потратить?", "сумму вы, ну, планируете потратить", 0.875),  # fillers in between
    ],
)
def test_step_phrase_survives_inflection_order_and_fillers(said, evidence, score):
    assert _said("какую сумму вы планируете потратить", said) == (evidence, score)


def test_asr_slips_in_words_still_match():
    # a slip counts for its similarity, so it costs a little of the score, never the match
    assert _said("это дорого", "Ну это дурго как-то.") == ("это дурго", 0.82)  # "дорого" misheard
    assert _said("добрый день компания стройдом", "Добрый день, компания страдом.") == ("Добрый день, компания страдом", 0.95)  # brand misspelt
    # brand split in two: "строй" carries the brand ("дом" is left out of the evidence)
    assert _said("добрый день компания стройдом", "Добрый день, компания строй дом.") == ("Добрый день, компания строй", 0.942)


def test_other_dictionary_words_are_not_slips():
    # fuzzy similarity bridges slips, not two real words: a look-alike or a prefixed form
    assert _find("я подумаю", "Я понимаю.") == []
    assert _find("я подумаю", "Я думаю, да.") == []
    assert _find("any timeframe", "What kind of frames have you got?", language="en") == []
    assert _said("квадратов сколько", "Квадратиков сколько?") == ("Квадратиков сколько", 0.92)  # one stem: a diminutive


def test_unrelated_or_partial_speech_does_not_match():
    assert _find("какую сумму вы планируете потратить", "Когда вам удобно принять замерщика?") == []
    assert _find("какую сумму вы планируете потратить", "Какую плитку вы выбрали?") == []


def test_negated_phrase_is_not_a_match():
    assert _find("это дорого", "Нет, это не дорого, нормально.") == []
    assert _find("that is too expensive", "Well that is not too expensive.", language="en") == []
    assert _said("не знаю", "Я не знаю.", params=STOP, forms=True) == ("не знаю", 1.0)  # a phrase that is itself negative
    assert _said("я подумаю", "Да не, я подумаю.") == ("я подумаю", 1.0)  # set off by a comma, "не" answers, it does not negate


def test_placeholders_with_values_and_open_slots():
    assert expand_placeholders("компания {company}", {"company": ["стройдом", "строй дом"]}) == [("компания стройдом", 0), ("компания строй дом", 0)]
    # one-word values share a variant as alternatives
    assert expand_placeholders("это {manager}", {"manager": ["Анна Иванова", "Анна", "Аня"]}) == [("это (Анна|Аня)", 0), ("это Анна Иванова", 0)]
    places = {"company": ["стройдом"], "name": []}
    [hit] = _find("меня зовут {name} компания {company}", "Меня зовут Анна Сергеевна, компания СтройДом.", placeholders=places)
    assert hit.score == 1.0 and hit.text.startswith("Меня зовут")


def test_stop_words_match_whole_words_only():
    assert _find("типа", "Прототипами займемся позже, архетипа нет.", params=STOP, forms=True) == []
    assert len(_find("типа", "Ну, типа, сделаем, типа того.", params=STOP, forms=True)) == 2
    assert _find("как бы", "Какая бы ни была квартира, сделаем.", params=STOP, forms=True) == []
    assert [h.text for h in _find("как бы", "Мы как бы делаем ремонт.", params=STOP, forms=True)] == ["как бы"]
    assert _find("не знаю", "Я знаю, не волнуйтесь.", params=STOP, forms=True) == []  # no gaps, no reordering


def test_filler_check_tells_filler_from_word():
    index = _index("Ну, типа, сделаем.", "Да.", "Какого типа у вас пол?")
    hits = index.search(PhraseSet(["типа"], "ru", forms=True), ("manager", "unknown"), STOP)
    assert [is_set_off(index, h) for h in sorted(hits, key=lambda h: h.start)] == [True, False]
    index = _index("так ну короче кухня от ста тысяч", "Да.", "Так будет короче.")  # no punctuation from the recogniser
    hits = index.search(PhraseSet(["короче"], "ru", forms=True), ("manager", "unknown"), STOP)
    assert [is_set_off(index, h) for h in sorted(hits, key=lambda h: h.start)] == [True, False]


def test_phrase_split_across_utterances_of_one_turn_is_found():
    index = CallIndex(
        [
            Segment("manager", 0.0, 1.2, "Добрый день,"),
            Segment("manager", 1.8, 3.0, "компания, строй дом."),
            Segment("client", 3.5, 4.0, "Да."),
        ],
        "ru",
    )
    assert len(index.turns) == 2
    [hit] = index.search(PhraseSet(["добрый день компания стройдом"], "ru"), MANAGER, STEP)
    assert hit.start == 0.0 and hit.text.startswith("Добрый день, компания, строй")


def test_windows_never_join_two_turns():
    index = CallIndex(
        [
            Segment("manager", 0.0, 1.0, "Какую сумму"),
            Segment("client", 1.0, 2.0, "Угу."),
            Segment("manager", 2.0, 3.0, "вы планируете потратить?"),
        ],
        "ru",
    )
    assert index.search(PhraseSet(["какую сумму вы планируете потратить"], "ru"), MANAGER, MatchParams(0.9)) == []


def test_hit_keeps_time_words_and_context():
    words = [Word(0.0, 0.4, "Ну,", 0.9), Word(2.0, 2.3, "я", 0.9), Word(2.3, 2.5, "не", 0.9), Word(2.5, 2.9, "знаю,", 0.9), Word(3.0, 3.4, "честно.", 0.9)]
    index = CallIndex([Segment("manager", 0.0, 3.4, "Ну, я не знаю, честно.", words=words)], "ru")
    [hit] = index.search(PhraseSet(["не знаю"], "ru", forms=True), MANAGER, STOP)
    assert (hit.start, hit.end, hit.text, hit.context) == (2.3, 2.9, "не знаю", "Ну, я не знаю, честно")


def test_search_can_be_limited_to_some_turns():
    index = _index("Понимаю вас.", "Да.", "Понимаю вас.")
    phrases = PhraseSet(["понимаю вас"], "ru")
    assert [h.turn for h in index.search(phrases, MANAGER, STEP, turns={2})] == [2]


def test_alternatives_stand_for_one_word():
    phrase = "на какой (бюджет|сумму|деньги) вы (рассчитываете|ориентируетесь)"
    assert _said(phrase, "А на какую сумму вы ориентируетесь?") == ("на какую сумму вы ориентируетесь", 1.0)
    assert _said(phrase, "На какие деньги вы рассчитываете?") == ("На какие деньги вы рассчитываете", 1.0)
    assert _find(phrase, "На какой срок вы рассчитываете?") == []


def test_short_words_must_match_nearly_exactly():
    assert _find("какой (метраж|площадь)", "От десяти тысяч за метр, а там как пойдет.") == []  # "как" is not "какой"
    assert _said("какой (метраж|площадь)", "А метраж какой?") == ("метраж какой", 0.9)  # in another order


def test_a_bare_no_before_a_phrase_does_not_negate_it():
    assert _said("это дорого", "Ой, нет. Это дорого.") == ("Это дорого", 1.0)  # "нет" answers, it does not negate


def test_a_one_word_phrase_must_match_nearly_exactly():
    assert _find("дороговато", "А у вас подороже выходит.") == []
    assert _said("дороговато", "Ну, дороговато как-то.") == ("дороговато", 1.0)


def test_my_name_is_matches_in_english_without_a_known_name():
    """ "name" is on spaCy's English stop list; the phrase must still count as words, with an open slot for the name."""
    [hit] = _find("my name is {manager}", "Hi, my name is Tom Brown, calling from Bright Windows.", language="en", placeholders={})
    assert hit.text.startswith("my name is")


def test_the_evidence_of_a_phrase_ending_in_an_open_slot_holds_the_name():
    places = {"name": []}
    [hit] = _find("меня зовут {name}", "Добрый день, меня зовут Анна Сергеевна, слушаю вас.", placeholders=places)
    assert hit.text == "меня зовут Анна Сергеевна"
    [hit] = _find("меня зовут {name}", "Меня зовут Олег. Чем помочь?", placeholders=places)
    assert hit.text == "Меня зовут Олег"  # up to the sentence's end
    [hit] = _find("my name is {manager}", "my name is tom brown from bright windows", language="en", placeholders={})
    assert hit.text == "my name is tom brown"  # two words a slot, without punctuation to stop at
