"""One handler turns every error into the common body
`{"status", "code", "message", "errors": [{"code", "field", "message"}]}`."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ordersync.domain.errors import ErrorCode, FieldError, OrdersyncError, ServiceUnavailable

log = structlog.get_logger(__name__)


def error_body(
    status: int, code: str, message: str, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    return {
        "status": status,
        "code": code,
        "message": message,
        "errors": [{"code": e.code, "field": e.field, "message": e.message} for e in errors or []],
    }


def error_response(
    status: int, code: str, message: str, errors: list[FieldError] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, errors), status_code=status)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "header", "path")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = list(exc.errors())
    if any(d.get("type") == "json_invalid" for d in details):
        return error_response(
            422,
            ErrorCode.MALFORMED_JSON,
            "The body is not valid JSON.",
            [FieldError(ErrorCode.MALFORMED_JSON, "body", str(details[0].get("msg", "")))],
        )
    errors = [
        FieldError(
            ErrorCode.INVALID_REQUEST,
            _field(tuple(d.get("loc", ()))),
            str(d.get("msg", "invalid")),
        )
        for d in details
    ]
    return error_response(422, ErrorCode.INVALID_REQUEST, "The request is not valid.", errors)


def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrdersyncError)
    response = error_response(exc.status, exc.code, exc.message, exc.errors)
    if isinstance(exc, ServiceUnavailable):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


_HTTP_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it could not decode (not UTF-8, say): a malformed body.
        return error_response(
            422, ErrorCode.MALFORMED_JSON, f"The body is not valid JSON: {exc.detail}."
        )
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
    return error_response(exc.status_code, code, str(exc.detail))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OrdersyncError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Anything else is a bug: the CatchUnexpected middleware answers 500 and keeps the
    # connection (an Exception handler here would let the server drop it).
