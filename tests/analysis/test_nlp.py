from callqa.analysis.nlp import is_dictionary_word, lemmatize, same_stem, short_names


def test_russian_words_are_lemmatised_offline():
    tokens = lemmatize("Какую сумму вы планируете потратить?", "ru")
    assert [t.lemma for t in tokens] == ["какой", "сумма", "вы", "планировать", "потратить"]


def test_punctuation_is_dropped_and_yo_is_e():
    tokens = lemmatize("Ещё раз, всё!", "ru")
    assert [t.text for t in tokens] == ["еще", "раз", "все"]


def test_token_offsets_point_into_the_original_text():
    text = "Добрый день, компания СтройДом"
    for token in lemmatize(text, "ru"):
        assert text[token.start : token.start + len(token.text)].lower() == token.text


def test_english_lemmas():
    assert [t.lemma for t in lemmatize("booking visits", "en")] == ["book", "visit"]


def test_hyphenated_particles():
    # the emphatic "-то" of speech adds nothing; "что-то" is another word than "что"
    assert [t.lemma for t in lemmatize("А заезжать-то когда?", "ru")] == ["а", "заезжать", "когда"]
    assert [(t.text, t.lemma) for t in lemmatize("Что-то ещё?", "ru")] == [("что-то", "что-то"), ("еще", "еще")]
    assert [t.lemma for t in lemmatize("сумма какая-нибудь", "ru")] == ["сумма", "какой-нибудь"]


def test_concessive_question_word_is_not_a_question():
    assert next(t.lemma for t in lemmatize("какая бы площадь ни была", "ru")) == "любой"
    assert next(t.lemma for t in lemmatize("какая площадь была", "ru")) == "какой"


def test_colloquial_spellings_and_short_names():
    assert [t.lemma for t in lemmatize("Дом скока метров?", "ru")] == ["дом", "сколько", "метр"]
    assert short_names("Анна") == ("Аня",) and short_names("Олег") == ()


def test_fuzzy_word_rules():
    assert same_stem("квадратик", "квадрат") and not same_stem("подумать", "думать") and not same_stem("как", "какой")
    assert is_dictionary_word("понимать", "ru") and not is_dictionary_word("дурго", "ru")
    assert is_dictionary_word("frame", "en")
