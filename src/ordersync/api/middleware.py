"""ASGI middleware: request limits, and a request id bound into every log line.

Plain ASGI (not BaseHTTPMiddleware), so an HTTPException raised while the body is read
reaches FastAPI's handler as it is.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordersync.api.errors import error_body
from ordersync.domain.errors import ErrorCode

log = structlog.get_logger("ordersync.http")


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(status, code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """413 for a body over the limit, whether or not the client sent Content-Length (nothing
    past the limit is read into memory); 422 for a NUL character in the path or query, which
    no identifier holds and PostgreSQL text cannot store."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if b"\x00" in unquote_to_bytes(raw_path) + unquote_to_bytes(
            scope.get("query_string", b"")
        ):
            await _send_error(
                send, 422, ErrorCode.INVALID_REQUEST, "NUL characters are not allowed in the URL."
            )
            return
        limit = self.overrides.get(scope.get("path", ""), self.max_bytes)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(
                send, 413, ErrorCode.PAYLOAD_TOO_LARGE, f"The body exceeds {limit} bytes."
            )
            return
        seen = 0

        async def limited_receive() -> Message:
            # FastAPI re-raises an HTTPException met while reading the body, so the 413
            # reaches the common error handler.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"The body exceeds {limit} bytes.")
            return message

        await self.app(scope, limited_receive, send)


class RequestLog:
    """Takes X-Request-ID from the client or makes one, echoes it, binds it into the log
    context, and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message_headers: list[Any] = list(message.get("headers", []))
                message_headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = message_headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()
