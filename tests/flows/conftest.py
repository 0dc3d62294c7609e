"""A real two-worker dask.distributed cluster, started with the standard `dask` commands, for
flows whose tasks run through `prefect_dask.DaskTaskRunner(address=...)`.

The workers get this environment plus the repo root and tests/ on PYTHONPATH: a task's function
travels by value, but what it uses from other modules is imported on the worker. Everything is
killed afterwards by process group; should pytest itself be killed, the scheduler and workers close
themselves (dask_orphan_guard.py, loaded as a Dask preload).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"
DASK = Path(sys.executable).parent / "dask"
ORPHAN_GUARD = Path(__file__).with_name("dask_orphan_guard.py")
N_WORKERS = 2
START_TIMEOUT = 60  # seconds, for the scheduler to listen and for both workers to register
IDLE_TIMEOUT = "30 minutes"  # safety net only: the fixture kills everything itself
DEATH_TIMEOUT = "60s"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_env() -> dict[str, str]:
    from prefect.settings import get_current_settings

    env = dict(os.environ)
    env.update(get_current_settings().to_environment_variables(exclude_unset=True))
    assert env.get("PREFECT_API_URL"), "dask_cluster needs the prefect_server fixture's API URL"
    paths = [str(REPO_ROOT), str(TESTS_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _kill(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process group (a worker's nanny and its worker process), then SIGKILL what is left."""
    for proc in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for proc in processes:  # the group may outlive its leader (the nanny's worker process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _logs(log_dir: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in sorted(log_dir.glob("*.log")))


@pytest.fixture(scope="module")
def dask_cluster(prefect_server, tmp_path_factory):
    """Address ("tcp://127.0.0.1:PORT") of a running scheduler with two single-threaded worker processes."""
    from distributed import Client

    work_dir = tmp_path_factory.mktemp("dask-cluster")
    env = _cluster_env()
    address = f"tcp://127.0.0.1:{_free_port()}"
    processes: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        with open(work_dir / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                [str(DASK), *args],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, killed as one
            )
        processes.append(proc)
        return proc

    try:
        scheduler = start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            address.rsplit(":", 1)[1],
            "--no-dashboard",
            "--idle-timeout",
            IDLE_TIMEOUT,
            "--preload",
            str(ORPHAN_GUARD),
        )
        for i in range(N_WORKERS):
            start(
                f"worker-{i}",
                "worker",
                address,
                "--name",
                f"worker-{i}",
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--death-timeout",
                DEATH_TIMEOUT,
                "--local-directory",
                str(work_dir / f"worker-{i}"),
                "--preload-nanny",
                str(ORPHAN_GUARD),
            )
        try:
            # Client retries the connection until the scheduler listens (or `timeout` passes).
            with Client(address, timeout=START_TIMEOUT, set_as_default=False) as client:
                client.wait_for_workers(N_WORKERS, timeout=START_TIMEOUT)
        except Exception as exc:
            raise RuntimeError(f"dask cluster at {address} did not come up (scheduler exit code {scheduler.poll()}):\n{_logs(work_dir)}") from exc
        yield address
    finally:
        _kill(processes)
