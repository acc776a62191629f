"""ASGI middleware, outermost first: request log, last-resort 500, request checks,
authentication.

Plain ASGI (not BaseHTTPMiddleware), so an HTTPException raised while the body is read
reaches FastAPI's handler as it is, and so that a request can be refused before any of its
body is read.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import unquote_to_bytes

import anyio.to_thread
import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordersync.api.callers import Callers, access_headers
from ordersync.api.errors import error_body
from ordersync.domain.access import ClientType
from ordersync.domain.errors import (
    BadRequest,
    ErrorCode,
    FieldError,
    OrdersyncError,
    Unprocessable,
)
from ordersync.domain.text import bytes_problem
from ordersync.services.access import require

log = structlog.get_logger("ordersync.http")

# The headers this API reads. Each may appear once: with two `dj-api-key`, which one
# authenticates would be a guess.
READ_HEADERS = (
    b"dj-client",
    b"dj-api-key",
    b"dj-store",
    b"dj-store-view",
    b"customer-account-id",
    b"if-match",
    b"idempotency-key",
    b"x-request-id",
)
# Which client type each area of the API serves; the caller is resolved (and refused)
# before the route reads any body.
CLIENT_TYPE_BY_PREFIX = (
    ("/v1/shop/", ClientType.ACCOUNT),
    ("/v2/shop/", ClientType.ACCOUNT),
    ("/v1/operator/", ClientType.OPERATOR),
)
_REQUEST_ID = re.compile(rb"[!-~]{1,64}")


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    errors: list[FieldError] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = orjson.dumps(error_body(status, code, message, errors))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_domain_error(send: Send, exc: OrdersyncError) -> None:
    retry_after = getattr(exc, "retry_after", None) if exc.status == 503 else None
    extra = [(b"retry-after", str(retry_after).encode())] if retry_after else []
    await send_error(send, exc.status, exc.code, exc.message, exc.errors, extra)


class RequestLog:
    """Takes X-Request-ID from the client (visible ASCII, at most 64 characters) or makes
    one, echoes it, binds it into the log context, and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        request_id = given.decode() if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status: int | None = None  # stays None when no answer is sent (the client hung up)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
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


class CatchUnexpected:
    """A bug answers 500 in the common error body and keeps the connection: an exception
    that left the app would make the server drop the keep-alive connection. A client that
    hangs up mid-body is no bug, and nobody is left to answer it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.info("client_disconnected", path=scope.get("path"))
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if started:
                raise  # half an answer is out: only closing the connection can say so
            await send_error(send, 500, ErrorCode.INTERNAL_ERROR, "Unexpected server error.")


def header_problems(headers: list[tuple[bytes, bytes]]) -> OrdersyncError | None:
    """400 for a header this API reads given twice; 422 for one that is not UTF-8 text."""
    seen: set[bytes] = set()
    for name, value in headers:
        if name not in READ_HEADERS:
            continue
        if name in seen:
            return BadRequest(
                ErrorCode.DUPLICATE_HEADER,
                f"The {name.decode()} header is given more than once.",
                [FieldError(ErrorCode.DUPLICATE_HEADER, name.decode(), "Send it once.")],
            )
        seen.add(name)
        problem = bytes_problem(value)
        if problem:
            return _text_error(name.decode(), f"The {name.decode()} header {problem}.")
    return None


def url_problem(scope: Scope) -> OrdersyncError | None:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode()
    for part, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
        problem = bytes_problem(unquote_to_bytes(raw.replace(b"+", b" ")))
        if problem:
            return _text_error(part, f"The URL {part} {problem}.")
    return None


def _text_error(field: str, message: str) -> OrdersyncError:
    return Unprocessable(
        ErrorCode.INVALID_REQUEST, message, [FieldError(ErrorCode.TEXT_INVALID, field, message)]
    )


class RequestChecks:
    """Refuses, before routing: a URL or a read header that is not valid UTF-8 text (422), a
    read header given twice (400), and a body over the limit (413) whether or not the client
    sent Content-Length (nothing past the limit is read into memory)."""

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
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        refusal = url_problem(scope) or header_problems(headers)
        if refusal is not None:
            await send_domain_error(send, refusal)
            return
        limit = self.overrides.get(scope.get("path", ""), self.max_bytes)
        declared = dict(headers).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_error(
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


def client_type_for(path: str) -> ClientType | None:
    return next((ct for prefix, ct in CLIENT_TYPE_BY_PREFIX if path.startswith(prefix)), None)


class Authenticate:
    """Resolves the caller from the dj-* headers before anything reads the body: a missing
    or unknown key (401) or the wrong client type for the area (403) costs the server no
    body at all. The caller is left in the request state for the routes, with the catalog
    version it was remembered under when it came from the cache (then no query was made
    and no thread taken)."""

    def __init__(self, app: ASGIApp, callers: Callers) -> None:
        self.app = app
        self.callers = callers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client_type = client_type_for(scope.get("path", "")) if scope["type"] == "http" else None
        if client_type is None:
            await self.app(scope, receive, send)
            return
        access = access_headers(dict(scope.get("headers") or []))
        try:
            cached = self.callers.cached(access)
            if cached is None:
                caller = await anyio.to_thread.run_sync(self.callers.resolve, access)
                cached_under = None
            else:
                caller, cached_under = cached
            require(caller, client_type)
        except OrdersyncError as exc:
            await send_domain_error(send, exc)
            return
        state = scope.setdefault("state", {})
        state["caller"] = caller
        state["cached_under"] = cached_under
        await self.app(scope, receive, send)
