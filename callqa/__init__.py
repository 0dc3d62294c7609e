"""callqa: call-quality and sales-script compliance for sales departments."""

__version__ = "0.1.0"

# Public names load on first use, so that `import callqa.asr` (a GPU worker, a
# benchmark) does not pull in spaCy, DuckDB and the rest.
_EXPORTS = {
    "Settings": "callqa.config",
    "load_settings": "callqa.config",
    "CallQAError": "callqa.errors",
    "analyze_audio": "callqa.pipeline",
    "transcribe_call": "callqa.pipeline",
    "AnalysisOptions": "callqa.analysis",
    "CallAnalysis": "callqa.analysis",
    "analyze_transcript": "callqa.analysis",
    "Script": "callqa.scripts",
    "load_script": "callqa.scripts",
    "Store": "callqa.store",
    "Transcript": "callqa.types",
    "load_transcript": "callqa.types",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'callqa' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
