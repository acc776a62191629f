"""The route class every router uses: JSON bodies are decoded by the project's strict
decoder (ordersync.domain.text.parse_json) before FastAPI validates them."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from fastapi import Request, Response
from fastapi.routing import APIRoute

from ordersync.api.callers import access_headers
from ordersync.domain.errors import (
    CatalogChanged,
    ErrorCode,
    FieldError,
    ServiceUnavailable,
    Unprocessable,
)
from ordersync.domain.text import InvalidJson, InvalidText, parse_json


def is_json(content_type: str | None) -> bool:
    """The content types FastAPI reads as JSON."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def decode_json_body(body: bytes) -> Any:
    """The body as JSON values, or the 422 that says what is wrong with it."""
    try:
        return parse_json(body)
    except InvalidJson as exc:
        raise Unprocessable(
            ErrorCode.MALFORMED_JSON,
            "The body is not valid JSON.",
            [FieldError(ErrorCode.MALFORMED_JSON, "body", str(exc))],
        ) from None
    except InvalidText as exc:
        problem = exc.problem
        code = ErrorCode.NUMBER_NOT_FINITE if problem.not_finite else ErrorCode.TEXT_INVALID
        message = f"{problem.where} {problem.problem}."
        raise Unprocessable(
            ErrorCode.INVALID_REQUEST, message, [FieldError(code, problem.where, message)]
        ) from None


CATALOG_RETRIES = 2  # bundle loads racing one request; the last run is not caught


async def _resolve_caller_again(request: Request) -> None:
    if getattr(request.state, "caller", None) is None:
        return
    access = access_headers(dict(request.scope.get("headers") or []))
    request.state.caller = await anyio.to_thread.run_sync(
        request.app.state.callers.resolve, access
    )
    request.state.cached_under = None


class OrdersyncRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        # Routes that declare no body (the bundle loader streams its own) are left alone.
        declares_body = self.body_field is not None

        async def route_handler(request: Request) -> Response:
            if declares_body and is_json(request.headers.get("content-type")):
                body = await request.body()
                if body:
                    # Starlette's Request.json() returns what it finds here, so FastAPI
                    # validates these values instead of parsing the body a second time.
                    request._json = decode_json_body(body)
            for _ in range(CATALOG_RETRIES):
                try:
                    return await handler(request)
                except CatalogChanged:
                    # A bundle load moved the catalog while this request used cached values
                    # (the cache is dropped already): resolve the caller afresh, run again.
                    await _resolve_caller_again(request)
            try:
                return await handler(request)
            except CatalogChanged:
                # Bundle loads keep landing faster than this request runs: the client
                # tries again shortly (never a 500).
                busy = ServiceUnavailable(
                    ErrorCode.CATALOG_CHANGED,
                    "The catalog changed while the request ran; try again.",
                )
                busy.retry_after = 1
                raise busy from None

        return route_handler
