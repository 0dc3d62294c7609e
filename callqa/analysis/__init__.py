"""The analysis stage: one transcript checked against one script (steps,
stop-words, objections, scores, flags). Pure: no audio, no database."""

from callqa.analysis.analyze import analyze_transcript
from callqa.analysis.options import AnalysisOptions
from callqa.analysis.reliability import segment_is_reliable
from callqa.analysis.results import CallAnalysis

__all__ = ["AnalysisOptions", "CallAnalysis", "analyze_transcript", "segment_is_reliable"]
