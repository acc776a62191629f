"""`ordersync serve`: uvicorn with bounds on what one client can make the server hold.

uvicorn's httptools protocol keeps reading a request line and headers for as long as they
come, as slowly as they come: one client could make a process buffer a 100 MB header, and
two thousand idle ones hold two thousand connections. `BoundedHttpProtocol` bounds, per
request, the bytes and the number of header fields (431) and the time to receive the headers
and then the body (408).

It leans on internals of uvicorn's `HttpToolsProtocol` (the parser callbacks, `cycle`,
`pipeline`, `flow`, `server_state`), written against uvicorn 0.54.0 with httptools 0.9;
pyproject.toml pins uvicorn to 0.54.x. Read that class again before moving the pin.
"""

from __future__ import annotations

import asyncio
import json
import os
from http import HTTPStatus
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from ordersync.adapters.db.engine import normalise_url
from ordersync.api.errors import error_body
from ordersync.domain.errors import ErrorCode
from ordersync.settings import Settings, get_settings

log = structlog.get_logger("ordersync.http")

# After refusing a request we stop writing but keep reading, and dropping, for this long:
# closing a socket with unread request bytes makes the kernel answer with a reset, which can
# destroy the answer before the client has read it (a client still sending its big header
# would see "connection reset" instead of the 431).
LINGER_S = 2.0


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request whose head is too large (431) or whose
    head or body is too slow to arrive (408), with the common JSON error body, then closing."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Settings are read once per process; every worker reads the same environment.
        self._limits = get_settings()
        self._in_head = True  # the bytes arriving belong to a request line and headers
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    # --- connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # The first request's head must arrive in time from the connection's opening, so a
        # client that connects and says nothing is not held either.
        self._arm(self._limits.header_timeout_s, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: what the client still sends is dropped
        # While a head is arriving, feed the parser no more than the bytes it may still have,
        # so nothing past the limit is ever accumulated by httptools or uvicorn. A body is
        # fed whole (the app bounds it); a pipelined head that starts inside the same read
        # is counted from the next read on, so a head holds at most one read over the limit.
        offset = 0
        while offset < len(data) and not self._refused:
            if not self._in_head:
                super().data_received(data[offset:] if offset else data)
                return
            allowance = self._limits.max_header_bytes - self._head_bytes
            if allowance <= 0:
                self._refuse(
                    431,
                    ErrorCode.HEADERS_TOO_LARGE,
                    f"The request line and headers exceed {self._limits.max_header_bytes} bytes.",
                )
                return
            chunk = data[offset : offset + allowance]
            offset += len(chunk)
            self._head_bytes += len(chunk)
            super().data_received(chunk)

    # --- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None and not self._refused:
            # A later request on a kept-alive connection: its head has time from its first byte.
            self._arm(self._limits.header_timeout_s, "headers")

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        if len(self.headers) > self._limits.max_headers:
            self._refuse(
                431,
                ErrorCode.HEADERS_TOO_LARGE,
                f"The request has more than {self._limits.max_headers} header fields.",
            )
            return  # the app never sees the request
        self._in_head = False
        self._arm(self._limits.body_timeout_s, "body")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        # After a refusal the parser may still be inside the read that caused it.
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    # --- deadlines and refusals ------------------------------------------------------------

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._deadline_passed, seconds, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self, seconds: float, part: str) -> None:
        self._deadline = None
        if self.flow.read_paused:
            # We stopped reading (a pipelined request waits its turn, or the app has not yet
            # taken the body it was sent): the wait is ours, not the client's.
            self._arm(seconds, part)
            return
        self._refuse(
            408,
            ErrorCode.REQUEST_TIMEOUT,
            f"The request {part} did not arrive within {seconds:g} s.",
        )

    def _refuse(self, status: int, code: ErrorCode, message: str) -> None:
        self._refused = True
        self._disarm()
        log.info("request_refused", status=status, code=code, client=self.client)
        if self.transport.is_closing():
            return
        if not self._may_answer() or not self.transport.can_write_eof():
            self.transport.close()
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The app is waiting for this request's body: tell it the client is gone, so it
            # writes nothing after our answer.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(self._answer(status, code, message))
        self.transport.write_eof()
        self.flow.resume_reading()
        self._deadline = self.loop.call_later(LINGER_S, self.transport.close)

    def _may_answer(self) -> bool:
        """Whether our answer would be the next response the client reads."""
        if self.pipeline:
            return False  # requests wait in line before the one refused
        if self._in_head:
            # self.cycle is the previous request on this connection, if any.
            return self.cycle is None or self.cycle.response_complete
        return not self.cycle.response_started

    def _answer(self, status: int, code: ErrorCode, message: str) -> bytes:
        body = json.dumps(error_body(status, code, message)).encode()
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head.append(
            b"content-type: application/json\r\n"
            b"content-length: %d\r\n"
            b"connection: close\r\n\r\n" % len(body)
        )
        return b"".join(head) + body


def app_from_environment() -> FastAPI:
    """The app as each server process builds it: settings from the environment, logging
    configured, then `create_app` (uvicorn's factory, in every worker)."""
    from ordersync.api.app import create_app
    from ordersync.log_config import configure_logging

    settings = get_settings()
    configure_logging(settings.log_json, settings.log_level)
    return create_app(settings)


def default_workers(settings: Settings) -> int:
    """`settings.workers` if set; else one per CPU on PostgreSQL and one on SQLite, whose
    single writer would only make more processes queue on its lock."""
    if settings.workers is not None:
        return settings.workers
    if make_url(normalise_url(settings.database_url)).get_backend_name() == "postgresql":
        return os.cpu_count() or 1
    return 1


def serve(settings: Settings, *, host: str, port: int, workers: int | None = None) -> None:
    """Serve the HTTP API on host:port until stopped, with `workers` processes (default:
    `default_workers`). Each process builds its own app from the environment's settings;
    `settings` gives the server's own limits, so pass the environment's (`get_settings()`)."""
    uvicorn.run(
        "ordersync.api.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers or default_workers(settings),
        http="ordersync.api.server:BoundedHttpProtocol",
        ws="none",  # the API has no WebSocket route; no upgrade path to bound as well
        limit_concurrency=settings.limit_concurrency,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        log_level=settings.log_level.lower(),
        access_log=False,  # RequestLog writes one structured line per request
    )
