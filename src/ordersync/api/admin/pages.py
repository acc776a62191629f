"""Rendering the operator page: templates with autoescaping on for everything, the headers
every page carries, and the route class that turns errors into pages instead of JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jinja2
import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from ordersync.api.admin.session import SESSION_COOKIE, clear_cookie
from ordersync.domain.errors import FieldError, OrdersyncError, ServiceUnavailable

log = structlog.get_logger("ordersync.admin")

# No script runs on these pages, none is loaded, and no other site may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages hold order data and form tokens: never kept by the browser or a proxy.
    "Cache-Control": "no-store",
}
# Why the sign-in page is shown; the query says which, never the text itself.
SIGN_IN_REASONS = {
    "required": "Sign in with an OPERATOR API key to continue.",
    "refused": "Your key is no longer accepted as an OPERATOR key: sign in again.",
    "signed-out": "You are signed out.",
}


def _shown(value: Any) -> str:
    """A stored value as a cell shows it: text as it is, structures as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ordersync.api.admin", "templates"),
        # Everything is escaped, whatever a template's name: data never becomes markup.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shown"] = _shown
    env.filters["path"] = lambda value: quote(str(value), safe="")
    return env


TEMPLATES = _environment()


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = TEMPLATES.get_template(name).render(**context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


class SignInRequired(Exception):
    """No session, or one whose key is no longer an OPERATOR key: back to the sign-in form."""

    def __init__(self, reason: str = "required", *, forget_cookie: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forget_cookie = forget_cookie


class CsrfRefused(Exception):
    """A POST without the token its page was given."""


class FormInvalid(Exception):
    """A form the page cannot act on (no file chosen, a date that is not one)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_page(
    status: int, title: str, message: str, errors: list[FieldError] | None = None
) -> HTMLResponse:
    return render(
        "error.html", status, title=title, message=message, errors=errors or [], session=None
    )


def sign_in_redirect(reason: str, *, forget_cookie: bool = False) -> Response:
    response = RedirectResponse(f"/admin/sign-in?reason={reason}", status_code=303)
    if forget_cookie:
        clear_cookie(response, SESSION_COOKIE)
    return response


class AdminRoute(APIRoute):
    """Errors on the operator page answer as pages: a missing session redirects to the
    sign-in form, a refused CSRF token is a 403 page, a domain error a page with its message
    (the API's handlers would answer JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return sign_in_redirect(exc.reason, forget_cookie=exc.forget_cookie)
            except CsrfRefused:
                return error_page(
                    403,
                    "Form expired or forged",
                    "This form was not sent by a page of this session, so nothing was done. "
                    "Go back, reload the page and send it again.",
                )
            except FormInvalid as exc:
                return error_page(422, "Form not valid", exc.message)
            except OrdersyncError as exc:
                page = error_page(exc.status, exc.code, exc.message, exc.errors)
                if isinstance(exc, ServiceUnavailable):
                    page.headers["Retry-After"] = str(exc.retry_after)
                return page
            except RequestValidationError:
                return error_page(
                    422, "Form not valid", "The request is not what this page sends."
                )
            except HTTPException as exc:
                return error_page(exc.status_code, f"Error {exc.status_code}", str(exc.detail))

        return route_handler
