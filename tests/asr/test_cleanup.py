"""Decoder clean-up: loops cut, text over non-speech dropped, real pauses respected."""

from callqa.asr.cleanup import clean_segments, collapse_repeats
from callqa.types import AsrSegment, Word


def _segment(text: str, gap: float = 0.1, no_speech_prob: float = 0.01, avg_logprob: float = -0.3) -> AsrSegment:
    words, t = [], 0.0
    for token in text.split():
        words.append(Word(t, t + 0.3, token, 0.9))
        t += 0.3 + gap
    return AsrSegment(0.0, t, text, avg_logprob, no_speech_prob, tuple(words))


def _kept(text: str, pauses=None) -> str:
    tokens = text.split()
    return " ".join(tokens[i] for i in collapse_repeats(tokens, pauses))


def test_a_word_loop_is_cut_to_one_copy():
    assert _kept("что, что, что, что, что, что я не понял") == "что, я не понял"


def test_a_phrase_loop_is_cut_to_one_copy():
    assert _kept("я подумаю я подумаю я подумаю я подумаю хорошо") == "я подумаю хорошо"


def test_ordinary_repetition_is_speech():
    assert _kept("да да да") == "да да да"
    assert _kept("нет нет я подумаю") == "нет нет я подумаю"


def test_copies_apart_by_real_pauses_are_separate_turns():
    assert _kept("Да. Да. Да. Да.", [0.0, 4.0, 6.5, 3.0]) == "Да. Да. Да. Да."
    assert _kept("Да. Да. Да. Да.", [0.0, 0.1, 0.2, 0.1]) == "Да."


def test_a_looped_segment_is_marked_and_its_words_follow():
    [seg] = clean_segments([_segment("ну что что что что что что что")])
    assert seg.looped and seg.text == "ну что" and [w.text for w in seg.words] == ["ну", "что"]
    assert seg.end == seg.words[-1].end
    [plain] = clean_segments([_segment("добрый день меня зовут Анна")])
    assert not plain.looped and plain.text == "добрый день меня зовут Анна"


def test_subtitle_credits_and_sound_descriptions_over_non_speech_are_dropped():
    segments = [_segment("Продолжение следует..."), _segment("Субтитры сделал DimaTorzok"), _segment("[музыка]"), _segment("♪")]
    assert clean_segments(segments) == []


def test_sound_descriptions_are_cut_out_of_speech():
    [seg] = clean_segments([_segment("(гудки) Алло, здравствуйте")])
    assert seg.text == "Алло, здравствуйте" and [w.text for w in seg.words] == ["Алло,", "здравствуйте"]


def test_a_window_the_decoder_calls_no_speech_is_dropped():
    assert clean_segments([_segment("спасибо", no_speech_prob=0.9, avg_logprob=-1.4)]) == []
    assert len(clean_segments([_segment("спасибо", no_speech_prob=0.9, avg_logprob=-0.2)])) == 1  # sure of the words: kept
