import pytest

from callqa.matching import PhraseSet, index_turns
from callqa.transcript import Segment


def _turns(*texts):
    """One turn per text, manager and client alternating."""
    return index_turns([Segment(("manager", "client")[i % 2], float(i * 5), float(i * 5 + 4), t) for i, t in enumerate(texts)], "ru")


@pytest.mark.parametrize("said", [
    "Какую сумму вы планируете потратить на ремонт?",  # the wording itself
    "а какая сумма, которую вы планировали потратить",  # other inflections
    "Сколько вы планируете потратить, какую сумму?",  # another word order
])
def test_step_phrase_survives_inflection_and_order(said):
    hit = PhraseSet(["какую сумму вы планируете потратить"], "ru").best(_turns(said), 0.78)
    assert hit is not None and hit.score >= 0.78


def test_unrelated_speech_does_not_match():
    assert PhraseSet(["какую сумму вы планируете потратить"], "ru").best(_turns("Когда вам удобно принять замерщика?"), 0.78) is None


def test_single_word_stop_word_never_fires_inside_another_word():
    stop = PhraseSet(["типа"], "ru")
    assert stop.all(_turns("Прототипами займемся позже, архетипа нет."), 0.92) == []
    assert len(stop.all(_turns("Ну, типа, сделаем, типа того."), 0.92)) == 2


def test_kak_by_does_not_match_kakaya_by():
    stop = PhraseSet(["как бы"], "ru")
    assert stop.all(_turns("Какая бы ни была квартира, сделаем."), 0.92) == []
    assert [h.text for h in stop.all(_turns("Мы как бы делаем ремонт."), 0.92)] == ["как бы"]


def test_hit_keeps_time_and_the_words_as_said():
    hit = PhraseSet(["не знаю"], "ru").best(_turns("Привет.", "Ну я не знаю, честно."), 0.92)
    assert hit.turn == 1 and 5.0 <= hit.start < 9.0
    assert hit.text == "не знаю"


def test_phrase_split_across_utterances_of_one_turn_is_found():
    turns = index_turns([
        Segment("manager", 0.0, 1.2, "Добрый день,"),
        Segment("manager", 1.8, 3.0, "компания, строй дом."),
        Segment("client", 3.5, 4.0, "Да."),
    ], "ru")
    assert len(turns) == 2
    hit = PhraseSet(["добрый день компания стройдом"], "ru").best(turns[:1], 0.78)
    assert hit is not None and hit.start == 0.0 and hit.text == "Добрый день, компания, строй дом"


def test_word_timestamps_give_the_time_of_the_matched_words():
    from callqa.asr import Word

    words = [Word(0.0, 0.4, "Ну,", 0.9), Word(2.0, 2.3, "я", 0.9), Word(2.3, 2.5, "не", 0.9), Word(2.5, 2.9, "знаю.", 0.9)]
    hit = PhraseSet(["не знаю"], "ru").best(index_turns([Segment("manager", 0.0, 2.9, "Ну, я не знаю.", words=words)], "ru"), 0.92)
    assert hit.start == 2.3
