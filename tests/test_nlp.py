from callqa.nlp import lemmatize


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
