import pytest
from samples import SCRIPTS

from callqa.errors import ScriptError
from callqa.scripts import (
    SPARSE_WORDINGS,
    STEP_TYPES_DIR,
    Objection,
    Step,
    find_script,
    load_script,
    objection_phrases,
    recognise_objection,
    recognise_type,
    step_phrases,
    step_types,
)


@pytest.mark.parametrize("name", ["stroydom-inbound.yaml", "brightwindows-outbound-en.yaml"])
def test_bundled_scripts_are_valid(name):
    script = load_script(SCRIPTS / name)
    assert script.steps and script.stop_words and script.objections


def test_catalogues_are_included_and_the_script_adds_its_own(ru_script):
    ids = {w.id for w in ru_script.stop_words}
    assert {"ne_znayu", "kak_by", "ne_nashe"} <= ids
    assert {o.id for o in ru_script.objections} == {"price", "think", "competitor_cheaper", "send_email", "no_time"}


def test_script_entry_wins_over_catalogue_entry_with_same_id(tmp_path):
    (tmp_path / "cat.yaml").write_text('stop_words:\n  - {id: ne_znayu, phrase: "не знаю", severity: major}\n', encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        "id: s\nversion: 1\nlanguage: ru\nname: S\ninclude: [cat.yaml]\n"
        "steps:\n  - {id: a, name: A, phrases: [привет]}\n"
        'stop_words:\n  - {id: ne_znayu, phrase: "не знаю", severity: critical}\n',
        encoding="utf-8",
    )
    script = load_script(tmp_path / "s.yaml")
    assert [(w.id, w.severity) for w in script.stop_words] == [("ne_znayu", "critical")]


THREE_MISTAKES = """\
id: stroydom-test
version: 1
language: ru
name: Тест
steps:
  - id: greeting
    name: Приветствие
    speaker: boss
    phrases: ["добрый день"]
  - id: budget
    name: Бюджет
    phrases: []
  - id: greeting
    name: Повтор
    phrases: ["здравствуйте"]
"""


def test_every_problem_is_listed_with_file_item_and_field(tmp_path):
    path = tmp_path / "stroydom.yaml"
    path.write_text(THREE_MISTAKES, encoding="utf-8")
    with pytest.raises(ScriptError) as err:
        load_script(path)
    assert err.value.problems == [
        "stroydom.yaml, steps[0].speaker: Input should be 'manager' or 'client'",
        "stroydom.yaml, steps[1].phrases: must not be empty",
        "stroydom.yaml, steps[2].id: duplicate id 'greeting'",
    ]


def test_misspelt_field_and_missing_include_are_reported(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("id: s\nversion: 1\nlanguage: de\nname: S\ninclude: [nope.yaml]\nsteps:\n  - {id: a, name: A, phrase: [x]}\n", encoding="utf-8")
    with pytest.raises(ScriptError) as err:
        load_script(path)
    text = "\n".join(err.value.problems)
    assert "s.yaml, language: must be one of ru, en" in text
    assert "s.yaml, steps[0].phrase: unknown field" in text
    assert "s.yaml, steps[0].phrases: is required" in text
    assert "s.yaml, include[0]: file nope.yaml not found" in text


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("id: s\nname: Презентация: под ключ\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"s.yaml, line 2, column \d+: not valid YAML"):
        load_script(path)


def test_scripts_are_found_by_id(settings):
    assert find_script("brightwindows-outbound", settings.scripts_dir).language == "en"
    with pytest.raises(ScriptError, match="no script with id 'nope'"):
        find_script("nope", settings.scripts_dir)


def test_phrase_syntax_problems_are_listed(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "id: s\nversion: 1\nlanguage: ru\nname: S\nplaceholders: {company: [стройдом]}\n"
        "steps:\n  - {id: a, name: A, phrases: ['компания {compnay}', 'какой (бюджет|сумма', 'меня зовут {manager}', 'бюджет|сумма']}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScriptError) as err:
        load_script(path)
    assert err.value.problems == [
        "s.yaml, steps[0].phrases[0]: unknown placeholder {compnay} (add it under placeholders:)",
        "s.yaml, steps[0].phrases[1]: alternatives are written as (word|word|word), with balanced parentheses",
        "s.yaml, steps[0].phrases[3]: alternatives are written as (word|word|word), with balanced parentheses",
    ]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_shipped_step_types_are_valid_and_alike_in_both_languages(language):
    types = step_types(language)
    assert list(types) == list(step_types("ru"))  # the same types, in the same order, in every language
    assert {"greeting", "introduction", "client_name", "need", "budget", "timeline", "decision_maker", "next_step", "farewell"} <= types.keys()
    for t in types.values():
        assert t.recognise.ids and t.recognise.name_words and len(t.phrases) >= 20, t.id


def _step(**fields):
    return Step.model_validate({"name": "Пункт", "phrases": ["одна формулировка"]} | fields)


@pytest.mark.parametrize(
    "step, expected, why",
    [
        (_step(id="budget", name="Уточнение бюджета"), "budget", "its name: бюджет; its id: budget"),
        (_step(id="q4", name="Уточнение бюджета на ремонт"), "budget", "its name: бюджет"),  # the name alone
        (_step(id="visit_booking", name="Запись на дату визита"), "next_step", "its name: визит, запись; its id: booking, visit"),
        (_step(id="q4", name="Бюджет", type="timeline"), "timeline", "named by the script"),
        (_step(id="budget", name="Бюджет", type="none"), None, "opted out (type: none)"),
        (_step(id="mileage", name="Уточнение пробега автомобиля"), None, "no type fits its id or name"),
    ],
)
def test_a_step_is_recognised_as_a_type_from_its_name_and_id(step, expected, why):
    match = recognise_type(step, "ru")
    assert (match.type.id if match.type else None, match.why) == (expected, why)


def test_a_sparse_step_takes_its_types_wordings_and_a_described_one_does_not():
    sparse = _step(id="budget", phrases=["какой у вас бюджет"])
    assert step_phrases(sparse, "ru")[0] == "какой у вас бюджет" and len(step_phrases(sparse, "ru")) > 20
    described = _step(id="budget", phrases=[f"формулировка номер {n}" for n in range(SPARSE_WORDINGS + 1)])
    assert step_phrases(described, "ru") == described.phrases


def test_an_unknown_step_type_is_a_problem_with_its_place(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("id: s\nversion: 1\nlanguage: ru\nname: S\nsteps:\n  - {id: a, name: A, type: budgett, phrases: [привет]}\n", encoding="utf-8")
    with pytest.raises(ScriptError) as err:
        load_script(path)
    assert "s.yaml, steps[0].type: unknown step type 'budgett' (known: greeting," in str(err.value)


def _objection(**fields):
    return Objection.model_validate(
        {"name": "Возражение", "client_phrases": ["одна фраза"], "handling": [{"id": "acknowledge", "phrases": ["понимаю"]}]} | fields
    )


@pytest.mark.parametrize(
    "objection, language, expected",
    [
        (_objection(id="too_expensive", name="It's too expensive"), "en", "price"),
        (_objection(id="talk_to_spouse", name="I need to talk to my spouse"), "en", "think"),
        (_objection(id="other_quotes", name="I already have quotes from other installers"), "en", "competitor_cheaper"),
        (_objection(id="roof_not_suitable", name="My roof probably isn't suitable"), "en", None),
        (_objection(id="dorogo", name="Дороговато"), "ru", "price"),
        (_objection(id="price", name="Дорого"), "ru", "price"),
    ],
)
def test_a_scripts_objection_is_recognised_as_a_catalogue_one(objection, language, expected):
    catalogue, why = recognise_objection(objection, language)
    assert (catalogue.id if catalogue else None) == expected, why


def test_an_objection_of_few_phrases_takes_its_catalogue_ones_and_its_answers():
    own = _objection(
        id="too_expensive",
        name="It's too expensive",
        client_phrases=["that's too expensive"],
        handling=[{"id": "acknowledge", "phrases": ["i understand"]}, {"id": "warranty", "phrases": ["ten year warranty"]}],
    )
    client, handling = objection_phrases(own, "en")
    assert client[0] == "that's too expensive" and "(i|we) can't afford (that|it)" in client
    assert handling["acknowledge"][0] == "i understand" and len(handling["acknowledge"]) > 1
    assert handling["warranty"] == ["ten year warranty"]  # a part the catalogue has not: its own phrases only
    described = own.model_copy(update={"client_phrases": ["a", "b", "c", "d"]})
    assert objection_phrases(described, "en")[0] == ["a", "b", "c", "d"]  # four phrasings: the author has described it


def test_a_catalogue_with_a_phrase_of_several_words_in_one_alternative_is_refused(tmp_path, monkeypatch):
    import callqa.scripts as scripts

    (tmp_path / "ru-steps.yaml").write_text(
        "step_types:\n  - {id: greeting, name: Приветствие, phrases: ['(добрый день|здравствуйте) {company}']}\n", encoding="utf-8"
    )
    monkeypatch.setattr(scripts, "STEP_TYPES_DIR", tmp_path)
    scripts.step_types.cache_clear()
    try:
        with pytest.raises(ScriptError) as raised:
            scripts.step_types("ru")
    finally:
        scripts.step_types.cache_clear()  # the shipped catalogue again for the tests after
    assert "ru-steps.yaml, step_types[0].phrases[0]: each alternative in (word|word) is one word" in raised.value.problems[0]


_SCRIPT_HEAD = "id: s\nversion: 1\nlanguage: ru\nname: S\nsteps:\n  - {id: a, name: A, phrases: [добрый день]}\n"


def _problems(path):
    with pytest.raises(ScriptError) as raised:
        load_script(path)
    return raised.value.problems


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    (tmp_path / "bomb.yaml").write_text(_SCRIPT_HEAD + bomb, encoding="utf-8")
    assert _problems(tmp_path / "bomb.yaml") == ["bomb.yaml: anchors and aliases (&name, *name, <<) are not allowed in scripts: write the values out"]


def test_a_script_that_is_too_large_or_a_folder_is_a_listed_problem(tmp_path):
    (tmp_path / "big.yaml").write_text(_SCRIPT_HEAD + "# " + "x" * (1024 * 1024) + "\n", encoding="utf-8")
    assert "larger than 1024 KB" in _problems(tmp_path / "big.yaml")[0]
    (tmp_path / "folder.yaml").mkdir()
    assert "is a folder, not a script file" in _problems(tmp_path / "folder.yaml")[0]


def test_includes_stay_in_the_scripts_folder_or_the_shipped_catalogues(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("stop_words: [{id: x, phrase: икс}]\n", encoding="utf-8")
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "evil.yaml").write_text(_SCRIPT_HEAD + "include: [../outside.yaml, /etc/passwd]\n", encoding="utf-8")
    problems = _problems(folder / "evil.yaml")
    assert len(problems) == 2 and all("is outside the script's folder and the shipped catalogues" in p for p in problems)
    (folder / "linked.yaml").symlink_to(outside)  # a link out of the folder is outside too
    (folder / "via_link.yaml").write_text(_SCRIPT_HEAD + "include: [linked.yaml]\n", encoding="utf-8")
    assert "outside the script's folder" in _problems(folder / "via_link.yaml")[0]
    # the catalogues shipped with callqa stay reachable from anywhere, as the blind benchmark's scripts reach them
    catalogue = STEP_TYPES_DIR / "ru-stop-words.yaml"
    (folder / "ok.yaml").write_text(_SCRIPT_HEAD + f"include: [{catalogue}]\n", encoding="utf-8")
    assert any(w.id == "ne_znayu" for w in load_script(folder / "ok.yaml").stop_words)


def test_an_include_written_as_one_string_is_one_problem(tmp_path):
    (tmp_path / "s.yaml").write_text(_SCRIPT_HEAD + "include: catalogues/ru-objections.yaml\n", encoding="utf-8")
    assert _problems(tmp_path / "s.yaml") == ["s.yaml, include: Input should be a valid list"]
