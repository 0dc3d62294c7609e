"""Shared fixtures: real scripts, real sample recordings, temporary databases."""

from __future__ import annotations

import os

import pytest
from samples import SCRIPTS

# The embedded Prefect server must not try to phone home from a closed network.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def ru_script():
    from callqa.scripts import load_script

    return load_script(SCRIPTS / "stroydom-inbound.yaml")


@pytest.fixture(scope="session")
def en_script():
    from callqa.scripts import load_script

    return load_script(SCRIPTS / "brightwindows-outbound-en.yaml")


@pytest.fixture(scope="session")
def settings():
    from callqa.config import load_settings

    return load_settings()


@pytest.fixture
def scored_db(tmp_path, ru_script):
    """A database with two calls (from written transcripts) scored with the bundled Russian script."""
    from callqa.analysis import analyze_transcript
    from callqa.store import CallRecord, Store
    from callqa.types import RecordingMetadata, transcript_from_dict

    path = tmp_path / "db.duckdb"
    calls = {
        "good": ["Добрый день, компания СтройДом, меня зовут Анна.", "Какой ремонт вы планируете? На какой бюджет вы рассчитываете?"],
        "short": ["Алло.", "Какой ремонт вы планируете?"],
    }
    with Store(path) as store:
        for call_id, lines in calls.items():
            transcript = transcript_from_dict(
                {"segments": [{"speaker": "manager", "start": i * 4.0, "end": i * 4.0 + 3, "text": text} for i, text in enumerate(lines)]}
            )
            store.save_call(
                CallRecord(call_id, f"{call_id}.mp3", RecordingMetadata(call_id, "m-1", "Анна Иванова")),
                analyze_transcript(transcript, ru_script, call_id),
                None,
            )
    return path


@pytest.fixture
def calls_dir(tmp_path):
    """A fresh folder to put recordings (and their sidecars) in."""
    folder = tmp_path / "calls"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def prefect_server():
    """A real temporary Prefect server and database for the flow runs of this session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
