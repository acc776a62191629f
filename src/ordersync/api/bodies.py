"""Receiving a large request body without holding it whole in memory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Request


@asynccontextmanager
async def received_body(request: Request, in_memory_up_to: int) -> AsyncIterator[bytes | Path]:
    """The body as bytes when it is at most `in_memory_up_to` bytes; otherwise streamed to a
    temporary file whose path is yielded and which is removed on exit. The body-size limit
    itself is enforced by the RequestChecks middleware as the chunks arrive."""
    chunks: list[bytes] = []
    size = 0
    spill: tempfile._TemporaryFileWrapper[bytes] | None = None
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if spill is None and size > in_memory_up_to:
                spill = tempfile.NamedTemporaryFile(prefix="ordersync-body-", delete=False)  # noqa: SIM115
                spill.writelines(chunks)
                chunks.clear()
            if spill is not None:
                spill.write(chunk)
            else:
                chunks.append(chunk)
        if spill is None:
            yield b"".join(chunks)
            return
        spill.close()
        yield Path(spill.name)
    finally:
        if spill is not None:
            spill.close()
            os.unlink(spill.name)
