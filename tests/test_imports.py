"""The stages import one way: reading the database or analysing a transcript never loads the recogniser."""

import json
import subprocess
import sys

import pytest

HEAVY = ("callqa.asr", "faster_whisper", "ctranslate2", "pydub", "av")


@pytest.mark.parametrize("module", ["callqa.store", "callqa.analysis", "callqa.types", "callqa.reports"])
def test_reading_and_analysis_do_not_load_the_recogniser(module):
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("callqa.asr")] == []


def test_the_store_does_not_load_the_analysis_either():
    code = "import json, sys, callqa.store; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert [m for m in loaded if m.startswith(("callqa.analysis", "spacy", "rapidfuzz"))] == []


def test_the_ffmpeg_warning_is_not_printed():
    """Decoding is PyAV's; pydub would warn about a missing ffmpeg binary on import."""
    done = subprocess.run([sys.executable, "-W", "default", "-c", "import callqa.asr.audio"], capture_output=True, text=True, check=True)
    assert "ffmpeg" not in done.stderr
