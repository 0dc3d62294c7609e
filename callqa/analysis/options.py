"""Every threshold of the analysis, in one hashable value recorded with each result."""

from __future__ import annotations

from dataclasses import dataclass, field

from callqa.types import Severity

__all__ = ["AnalysisOptions", "StopWordPenalties"]


@dataclass(frozen=True)
class StopWordPenalties:
    """Points taken off the overall score per stop-word said, by severity."""

    minor: float = 0.01
    major: float = 0.03
    critical: float = 0.1

    def of(self, severity: Severity) -> float:
        return float(getattr(self, severity))


@dataclass(frozen=True)
class AnalysisOptions:
    """Every threshold of the analysis; recorded with each result it produced.

    Frozen and made of plain values only, so that it is hashable: compiled scripts are cached on the whole object."""

    step_threshold: float = 0.8  # share of a step phrase's words found (fuzzily) in one stretch of speech
    objection_threshold: float = 0.75
    handling_threshold: float = 0.7
    stop_word_threshold: float = 0.92  # stop-words: word forms, in order, no gaps; a false alarm costs points
    token_floor: float = 0.7  # a word counts as found from this similarity (0..1, rapidfuzz ratio) up...
    short_word_floor: float = 0.85  # ...or from this one for words of up to 4 letters, which differ by little, and one-word phrases
    extra_words: int = 2  # words that may sit inside a phrase (fillers, a name); half the phrase's length if more
    order_penalty: float = 0.9  # factor for a phrase said in another word order
    function_word_weight: float = 0.5  # weight of "на", "какой", "вы"... against 1 for content words
    handling_window_turns: int = 2  # manager turns after an objection searched for its handling...
    handling_window_seconds: float = 60.0  # ...that start within this many seconds of it
    handled_min_share: float = 0.5  # share of handling parts that makes an objection "handled"
    answer_content_words: int = 7  # ...or an answer in the manager's own words: content words from "но", "можно", "давайте" on
    objection_weight: float = 0.3  # weight of objection handling in the overall score
    stop_word_penalty: StopWordPenalties = field(default_factory=StopWordPenalties)
    low_score_flag: float = 0.6  # overall below this flags the call for review
    # When the recogniser is unsure (per segment), a missing step is "uncertain":
    min_avg_logprob: float = -1.0
    max_no_speech_prob: float = 0.6
    max_compression_ratio: float = 2.4  # looped text ("что, что, что...") compresses well
    min_reliable_share: float = 0.6  # of a side's speech, below which all its missing steps are uncertain
    min_side_speech_seconds: float = 2.0  # less speech than this on a side: nothing can be judged
    near_miss: float = 0.5  # a sub-threshold match this good in unreliable speech makes a step uncertain
    partial_match: float = 0.3  # on a sparse step, a wording matched this far makes a missing step uncertain...
    partial_match_with_type: float = 0.5  # ...or this far, for a sparse step matched with its type's many wordings too
    followed_share: float = 0.7  # a call with this share of its other steps found: a step not found there is uncertain
    key_words_to_find: float = 2.0  # weight of a step's own key words in one sentence that finds it (1 in a question); less: uncertain
