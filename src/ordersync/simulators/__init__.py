"""Reference simulators of the two outside systems ordersync calls (SPEC §5), shipped so that
demos and tests need no outside system: `ordersync simulate pricing` (real-time pricing,
`POST /prices`, priced from the catalog in ordersync's own database) and `ordersync simulate
cpq` (`POST /transactions`, `PUT /transactions/{id}`, transactions in memory).

Both answer the same control API, never affected by a fault:
- `POST /_control` with any subset of `latencyMs`, `status`, `failEvery`, `malformed`,
  `missingLine`, `unknownLine`, `negativePrice`, `hang` (and, for pricing, `discounts`:
  account group -> percent) merges them into the current faults; `GET` shows them,
  `DELETE` resets them all (discounts included).
- `GET /_stats`: calls of the business endpoints, in all and by route, and the last request
  (body and idempotency key); `DELETE /_stats` resets them.
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

# A call left hanging by the `hang` fault must not hold a stopping simulator for a minute.
GRACEFUL_SHUTDOWN_S = 1


def serve(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve a simulator's app on host:port until stopped (Ctrl-C or SIGTERM)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
