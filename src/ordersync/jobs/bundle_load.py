"""Loading a large data bundle in a child process.

Parsing and validating tens of megabytes of JSON is CPU work that would hold the serving
process's GIL (every other request waits) and leave its memory high afterwards. A child
process reads the file the request streamed to disk a chunk of variants or offers at a time
(services/bundle_stream.py), writes through its own connection, and exits, returning its
memory to the system. Small bundles load on a request thread.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ordersync.settings import Settings


def load_in_this_process(settings_values: dict[str, Any], path: str) -> dict[str, int]:
    """Runs in the child: load the bundle at `path` a chunk at a time (the same code as
    `ordersync load`)."""
    from ordersync.bootstrap import unit_of_work_factory
    from ordersync.services.bundle_stream import load_bundle_file

    settings = Settings.model_validate(settings_values)
    uow_factory, engine = unit_of_work_factory(settings)
    try:
        return load_bundle_file(uow_factory(), Path(path), chunk_items=settings.bundle_chunk_items)
    finally:
        engine.dispose()


async def load_in_child(settings: Settings, path: Path) -> dict[str, int]:
    """Load the bundle at `path` in a fresh child process and wait for it without holding a
    thread. Errors (OrdersyncError included) come back as raised in the child."""
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
    )
    try:
        future = pool.submit(load_in_this_process, settings.model_dump(), str(path))
        return await asyncio.wrap_future(future)
    finally:
        pool.shutdown(wait=False)
