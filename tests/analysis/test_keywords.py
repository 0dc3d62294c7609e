"""Key-word evidence on a script written the way QA leads write them: one to three wordings a step."""

import pytest

from callqa.analysis import analyze_transcript
from callqa.analysis.keywords import INCIDENTAL, key_evidence, step_keys
from callqa.analysis.matching import CallIndex
from callqa.scripts import load_script
from callqa.types import transcript_from_dict

SCRIPT = """
id: service
version: 1
language: ru
name: Запись в автосервис
steps:
  - {id: hello, name: Приветствие и название техцентра, phrases: ["добрый день техцентр мотор"]}
  - {id: mileage, name: Уточнение пробега автомобиля, phrases: ["какой сейчас пробег"]}
  - {id: phone, name: Уточнение номера телефона, phrases: ["подтвердите ваш номер телефона"]}
  - {id: booking, name: Запись на дату визита, type: none, phrases: ["давайте запишу вас на завтра"]}
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "service.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    return load_script(path)


def _steps(script, *manager_lines):
    segments = [{"speaker": "manager", "start": i * 5.0, "end": i * 5.0 + 4, "text": text} for i, text in enumerate(manager_lines)]
    return {s.id: s for s in analyze_transcript(transcript_from_dict({"segments": segments}), script).steps}


def _statuses(script, *manager_lines):
    return {i: (s.status, s.phrase) for i, s in _steps(script, *manager_lines).items()}


def _reasons(script, *manager_lines):
    return {i: s.uncertain_because for i, s in _steps(script, *manager_lines).items()}


def test_key_words_are_the_words_of_one_step_only(script):
    keys = step_keys(script)
    assert keys["mileage"] == {"пробег": 1.0, "автомобиль": 1.0}  # "уточнение" names two steps; "какой", "сейчас" are function words
    assert keys["phone"].keys() == {"номер", "телефон", "подтвердить"}
    assert "запись" in keys["booking"] and "записать" in keys["booking"]


def test_a_step_is_found_by_its_key_word_in_a_question_or_two_in_a_sentence(script):
    statuses = _statuses(script, "А пробег сейчас сколько примерно?", "Номер, с которого звоните, для связи актуальный?")
    assert statuses["mileage"] == ("found", "key words: пробег")
    assert statuses["phone"] == ("found", "key words: номер")  # one key word, in a question


def test_a_key_word_said_in_passing_is_uncertain_not_missing(script):
    statuses = _statuses(script, "По пробегу потом посмотрим.", "Ну всё, до свидания.")
    assert statuses["mileage"] == ("uncertain", "key words: пробег")  # the topic came up, the question was not asked: a person should look
    assert _reasons(script, "По пробегу потом посмотрим.")["mileage"] == "partial_evidence"
    assert statuses["phone"] == ("missing", None)  # nothing of it at all


def test_a_negated_key_word_is_no_evidence(script):
    index = CallIndex(transcript_from_dict({"segments": [{"speaker": "manager", "start": 0, "end": 3, "text": "Нам не пробег важен?"}]}).segments, "ru")
    assert key_evidence(index, step_keys(script), ("manager",), "ru") == {}
    index = CallIndex(transcript_from_dict({"segments": [{"speaker": "manager", "start": 0, "end": 3, "text": "Нам пробег важен?"}]}).segments, "ru")
    assert key_evidence(index, step_keys(script), ("manager",), "ru")["mileage"].words == ("пробег",)


def test_many_wordings_weigh_their_incidental_words_half(tmp_path):
    wordings = ", ".join(f'"бюджет вариант {n} слово{n}"' for n in range(9))
    path = tmp_path / "big.yaml"
    path.write_text(
        f"id: big\nversion: 1\nlanguage: ru\nname: B\nsteps:\n  - {{id: money, name: Оплата, phrases: [{wordings}]}}\n"
        "  - {id: other, name: Другое, phrases: [привет]}\n",
        encoding="utf-8",
    )
    keys = step_keys(load_script(path))["money"]
    assert keys["бюджет"] == 1.0 and keys["оплата"] == 1.0  # in every wording / in the name
    assert keys["слово0"] == INCIDENTAL  # in one of nine


def test_a_long_key_word_is_said_by_another_word_of_its_stem(script):
    # "подтвердить" (key) said as "подтверждение", "запись" as "записываю": another aspect or the noun of the same word
    statuses = _statuses(script, "Для подтверждения продиктуйте, пожалуйста, номер.", "Записываю вас тогда на пятницу.")
    assert statuses["phone"] == ("found", "key words: подтвердить, номер")
    assert statuses["booking"][0] == "uncertain" and statuses["booking"][1] in ("key words: запись", "key words: записать")


def test_a_short_stem_joins_no_other_word(script):
    # "пробег" is six letters, but "пробка" shares only four: another word
    index = CallIndex(transcript_from_dict({"segments": [{"speaker": "manager", "start": 0, "end": 3, "text": "А пробки там большие?"}]}).segments, "ru")
    assert "mileage" not in key_evidence(index, step_keys(script), ("manager",), "ru")


def test_a_step_not_found_in_a_call_that_follows_the_script_elsewhere_is_uncertain(script):
    # three of the other three steps found: the fourth is more likely said in other words than skipped
    followed = _statuses(script, "Добрый день, техцентр Мотор.", "Какой сейчас пробег?", "Давайте запишу вас на завтра.")
    assert followed["phone"] == ("uncertain", None)
    assert _reasons(script, "Добрый день, техцентр Мотор.", "Какой сейчас пробег?", "Давайте запишу вас на завтра.")["phone"] == "call_follows_script"
    # one of three found: nothing speaks for it, so it is missing
    assert _statuses(script, "Добрый день, техцентр Мотор.", "Ну всё, до свидания.")["phone"] == ("missing", None)


def test_a_wording_half_said_inside_another_steps_evidence_is_no_doubt(tmp_path):
    path = tmp_path / "garage.yaml"
    path.write_text(
        """
id: garage
version: 1
language: ru
name: Автосервис
steps:
  - {id: mileage, name: Уточнение пробега, type: none, phrases: ["какой сейчас пробег автомобиля"]}
  - {id: visit, name: Договориться о визите, type: none, phrases: ["когда удобно привезти автомобиль"]}
  - {id: phone, name: Уточнение номера телефона, type: none, phrases: ["подтвердите ваш номер телефона"]}
  - {id: bye, name: Прощание, type: none, phrases: ["всего доброго до свидания"]}
""",
        encoding="utf-8",
    )
    garage = load_script(path)
    # "когда ... автомобиля" half says the visit's wording, but inside the sentence that was the mileage question
    inside = _steps(garage, "Какой сейчас пробег автомобиля, когда его смотрели?")
    assert inside["mileage"].status == "found" and inside["visit"].status == "missing"
    # the same half wording in a turn of its own is doubt: a person should look
    said = [("manager", "Какой сейчас пробег?"), ("client", "Девяносто тысяч."), ("manager", "А автомобиль когда смотрели?")]
    segments = [{"speaker": who, "start": i * 5.0, "end": i * 5.0 + 4, "text": text} for i, (who, text) in enumerate(said)]
    apart = {s.id: s for s in analyze_transcript(transcript_from_dict({"segments": segments}), garage).steps}
    assert apart["visit"].status == "uncertain" and apart["visit"].uncertain_because == "partial_evidence"
