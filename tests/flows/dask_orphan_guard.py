"""Dask preload for the `dask_cluster` fixture (tests/flows/conftest.py).

The scheduler and each worker's nanny load it and close themselves (a nanny takes its worker process
along) as soon as the pytest process that started them is gone: killed outright, its fixture teardown
never ran. Not a test module; loaded by path with `--preload` / `--preload-nanny`.
"""

from __future__ import annotations

import asyncio
import os


async def dask_setup(server) -> None:
    parent = os.getppid()  # the pytest process: the fixture starts `dask ...` itself, with no shell between

    async def close_when_orphaned() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(1)
        await server.close()

    server._orphan_guard = asyncio.create_task(close_when_orphaned())  # a reference keeps the task alive
