"""ASGI middleware: body-size limit and a request id bound into every log line."""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordersync.api.errors import error_body
from ordersync.domain.errors import ErrorCode


class BodySizeLimit:
    """413 in the common error body for a body over the limit, whether or not the client
    sent Content-Length; nothing past the limit is read into memory."""

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
        limit = self.overrides.get(scope.get("path", ""), self.max_bytes)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
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

    async def _reject(self, send: Send, limit: int) -> None:
        body = json.dumps(
            error_body(413, ErrorCode.PAYLOAD_TOO_LARGE, f"The body exceeds {limit} bytes.")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RequestId:
    """Takes X-Request-ID from the client or makes one; echoes it and logs with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message_headers: list[Any] = list(message.get("headers", []))
                message_headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = message_headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.clear_contextvars()
