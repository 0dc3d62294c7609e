"""`callqa serve` registers the nightly deployment with its cron on a real Prefect server."""

import asyncio
import os
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


async def _deployments():
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployments()


def test_serve_registers_a_nightly_cron_deployment(calls_dir, tmp_path):
    from prefect.settings import PREFECT_API_URL

    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}
    cmd = [sys.executable, "-m", "callqa", "serve", str(calls_dir), "--db", str(tmp_path / "db.duckdb"), "--cron", "30 1 * * *", "--name", "test-nightly"]
    serving = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        found = []
        while time.monotonic() < deadline and not found and serving.poll() is None:
            time.sleep(2)
            found = [d for d in asyncio.run(_deployments()) if d.name == "test-nightly"]
        assert found, serving.stdout.read() if serving.poll() is not None else "deployment did not appear"
        [deployment] = found
        assert [s.schedule.cron for s in deployment.schedules] == ["30 1 * * *"]
        assert deployment.parameters["recordings_dir"] == str(calls_dir.resolve())
    finally:
        serving.terminate()
        serving.wait(timeout=30)
