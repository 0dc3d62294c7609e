"""The analysis stage: one transcript checked against one script (steps,
stop-words, objections, scores, flags). Pure: no audio, no database."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callqa.analysis.analyze import analyze_transcript
    from callqa.analysis.options import AnalysisOptions
    from callqa.analysis.reliability import segment_is_reliable
    from callqa.analysis.results import CallAnalysis

# Loaded on first use, so that a module the analysis itself builds on (the script schema
# reads `callqa.analysis.nlp`) can import one of its modules without the whole stage.
_EXPORTS = {
    "AnalysisOptions": "callqa.analysis.options",
    "CallAnalysis": "callqa.analysis.results",
    "analyze_transcript": "callqa.analysis.analyze",
    "segment_is_reliable": "callqa.analysis.reliability",
}
__all__ = ["AnalysisOptions", "CallAnalysis", "analyze_transcript", "segment_is_reliable"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'callqa.analysis' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
