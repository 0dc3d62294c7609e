"""callqa: call-quality and sales-script compliance for sales departments."""

__version__ = "0.1.0"

from callqa.config import Settings, load_settings
from callqa.errors import CallQAError
from callqa.pipeline import analyze_audio, transcribe_call
from callqa.scoring import AnalysisOptions, CallAnalysis, analyze_transcript
from callqa.scripts import Script, load_script
from callqa.store import Store
from callqa.transcript import Transcript, load_transcript

__all__ = [
    "AnalysisOptions", "CallAnalysis", "CallQAError", "Script", "Settings", "Store", "Transcript",
    "analyze_audio", "analyze_transcript", "load_script", "load_settings", "load_transcript", "transcribe_call",
    "__version__",
]
