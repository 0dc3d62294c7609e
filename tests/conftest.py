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
