"""Analysis of one transcript against one script: steps, stop-words,
objections, scores and flags. Pure: no audio, no database.

Every verdict carries its evidence (score, phrase, words as said, time), and
a required step that was not found in speech the recogniser was unsure of is
"uncertain", for a person to review, instead of counting against the manager.
"""

from __future__ import annotations

from callqa.analysis.compiled import SIDES, compile_script
from callqa.analysis.matching import CallIndex
from callqa.analysis.metrics import conversation_metrics
from callqa.analysis.nlp import short_names
from callqa.analysis.objections import find_objections
from callqa.analysis.options import AnalysisOptions
from callqa.analysis.reliability import segment_is_reliable, side_reliability
from callqa.analysis.results import CallAnalysis
from callqa.analysis.scores import flags, scores
from callqa.analysis.steps import find_steps
from callqa.analysis.stop_words import find_stop_words
from callqa.scripts import MANAGER_PLACEHOLDER, Script
from callqa.types import Transcript

__all__ = ["analyze_transcript"]


def analyze_transcript(
    transcript: Transcript,
    script: Script,
    call_id: str = "call",
    options: AnalysisOptions | None = None,
    manager: str | None = None,
) -> CallAnalysis:
    """Check a transcript against a script. `manager`: the manager's name from
    the call's metadata, for the {manager} placeholder (full or first name)."""
    opts = options or AnalysisOptions()
    names = (manager or "").split()
    # "Анна Иванова", "Анна" or "Аня"
    values = {MANAGER_PLACEHOLDER: tuple(dict.fromkeys([" ".join(names), names[0], *short_names(names[0])]))} if names else {}
    reliable = [segment_is_reliable(s, opts) for s in transcript.segments]
    index = CallIndex(transcript.segments, script.language, reliable)
    reliability = {side: side_reliability(transcript, reliable, speakers, opts) for side, speakers in SIDES.items()}
    compiled = compile_script(script, opts, values)
    steps = find_steps(script, compiled, index, reliability, opts)
    stop_words = find_stop_words(script, compiled, index)
    objections = find_objections(script, compiled, index, opts)
    call_scores = scores(script, steps, stop_words, objections, opts)
    call_flags = flags(transcript, steps, stop_words, objections, call_scores, opts)
    return CallAnalysis(
        call_id,
        transcript.duration,
        transcript,
        steps,
        stop_words,
        objections,
        call_scores,
        call_flags,
        conversation_metrics(transcript),
        reliability,
        script.id,
        script.version,
        opts,
    )
