"""`/admin`: the operator page (SPEC §7). Server-rendered, no script: sign in with an OPERATOR
key, upload import files and follow their jobs, download reports and exports, look an order
up with its lines, statuses and history. Every route calls the services the API calls."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from ordersync.adapters.csv.writer import csv_rows
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.admin.history_view import order_history_view
from ordersync.api.admin.pages import (
    SIGN_IN_REASONS,
    AdminRoute,
    CsrfRefused,
    FormInvalid,
    SignInRequired,
    render,
)
from ordersync.api.admin.session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    SIGN_IN_COOKIE,
    SIGN_IN_MAX_AGE_S,
    clear_cookie,
    csrf_token,
    decode_key,
    encode_key,
    new_nonce,
    same_token,
    session_binding,
    set_cookie,
    sign_in_binding,
)
from ordersync.api.schemas.shop import OrderOut
from ordersync.domain.access import Caller, ClientType
from ordersync.domain.errors import ErrorCode, Forbidden, NotFound, Unauthorized
from ordersync.domain.imports import JobStatus
from ordersync.domain.listing import LogisticOrderFilter
from ordersync.domain.statuses import LogisticOrderStatus
from ordersync.rules.logistic_orders import parse_status
from ordersync.services import imports, operator_orders
from ordersync.services.access import AccessHeaders, require, resolve_caller
from ordersync.services.recent_imports import recent_import_jobs

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)

RECENT_JOBS = 20
REFRESH_S = 2  # how often a running job's page reloads itself
CSV = "text/csv; charset=utf-8"
_LOGISTIC_SUFFIX = re.compile(r"-\d+$")


# --- the session ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminSession:
    caller: Caller
    csrf: str  # the token this session's forms carry


def _uow_factory(request: Request) -> Callable[[], UnitOfWork]:
    factory: Callable[[], UnitOfWork] = request.app.state.uow_factory
    return factory


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.admin_secret
    return secret


def _operator(request: Request, api_key: str) -> Caller:
    """The caller of an OPERATOR key, resolved as the API resolves dj-api-key."""
    access = AccessHeaders(ClientType.OPERATOR.value, api_key)
    return require(resolve_caller(_uow_factory(request)(), access), ClientType.OPERATOR)


def signed_in(request: Request) -> AdminSession:
    """The session's caller, or back to the sign-in form (the cookie forgotten when its key
    is no longer an OPERATOR key). Runs before any body is read."""
    api_key = decode_key(request.cookies.get(SESSION_COOKIE))
    if api_key is None:
        raise SignInRequired()
    try:
        caller = _operator(request, api_key)
    except (Unauthorized, Forbidden):
        raise SignInRequired("refused", forget_cookie=True) from None
    return AdminSession(caller, csrf_token(_secret(request), session_binding(api_key)))


OperatorSession = Annotated[AdminSession, Depends(signed_in)]


def _check_token(form: FormData, expected: str | None) -> None:
    if not same_token(expected, form.get(CSRF_FIELD)):
        raise CsrfRefused()


def _token_for(request: Request, binding: str | None) -> str | None:
    return None if binding is None else csrf_token(_secret(request), binding)


# --- sign in, sign out ------------------------------------------------------------------


def _sign_in_page(request: Request, nonce: str, status: int = 200, error: str = "") -> Response:
    reason = SIGN_IN_REASONS.get(request.query_params.get("reason", ""), "")
    page = render(
        "sign_in.html",
        status,
        session=None,
        csrf=csrf_token(_secret(request), sign_in_binding(nonce)),
        notice=reason,
        error=error,
    )
    set_cookie(page, SIGN_IN_COOKIE, nonce, SIGN_IN_MAX_AGE_S)
    return page


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request, request.cookies.get(SIGN_IN_COOKIE) or new_nonce())


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    async with request.form(max_files=0, max_fields=4) as form:
        _check_token(form, _token_for(request, sign_in_binding(nonce) if nonce else None))
        given = form.get("api_key")
    assert nonce is not None
    api_key = given.strip() if isinstance(given, str) else ""
    if not api_key:
        return _sign_in_page(request, nonce, 422, "Enter your OPERATOR API key.")
    try:
        await anyio.to_thread.run_sync(_operator, request, api_key)
    except (Unauthorized, Forbidden):
        return _sign_in_page(
            request, nonce, 401, "This key is not an OPERATOR API key of this deployment."
        )
    response = RedirectResponse("/admin", status_code=303)
    set_cookie(response, SESSION_COOKIE, encode_key(api_key), SESSION_MAX_AGE_S)
    clear_cookie(response, SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    # Signing out needs the token but not a valid key: a revoked key can still sign out.
    api_key = decode_key(request.cookies.get(SESSION_COOKIE))
    async with request.form(max_files=0, max_fields=4) as form:
        _check_token(form, _token_for(request, api_key and session_binding(api_key)))
    response = RedirectResponse("/admin/sign-in?reason=signed-out", status_code=303)
    clear_cookie(response, SESSION_COOKIE)
    return response


# --- imports ------------------------------------------------------------------------------


@router.get("")
def dashboard(request: Request, session: OperatorSession) -> Response:
    jobs = recent_import_jobs(_uow_factory(request)(), RECENT_JOBS)
    return render(
        "dashboard.html",
        session=session,
        jobs=jobs,
        statuses=[s.value for s in LogisticOrderStatus],
        max_upload_mb=request.app.state.settings.import_max_bytes // 1_048_576,
    )


@router.post("/imports")
async def upload_import(request: Request, session: OperatorSession) -> Response:
    """Like POST /v1/operator/import-jobs: the caller is resolved from the cookie before the
    file is read, the file is streamed into the job's staged rows."""
    settings = request.app.state.settings
    async with request.form(max_files=1, max_fields=4) as form:
        _check_token(form, session.csrf)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise FormInvalid("Choose a CSV file to upload.")
        job = await anyio.to_thread.run_sync(
            lambda: imports.submit_import(
                _uow_factory(request),
                request.app.state.dispatcher.enqueue_import,
                session.caller,
                upload.file,
                file_name=upload.filename,
                dry_run=form.get("dry_run") == "on",
                partitions=settings.import_partitions,
            )
        )
    return RedirectResponse(f"/admin/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str, session: OperatorSession) -> Response:
    job = imports.get_job(_uow_factory(request)(), job_id)
    finished = 100 if job.status.finished else 0
    percent = job.processed * 100 // job.total if job.total else finished
    return render(
        "job.html",
        session=session,
        job=job,
        percent=percent,
        refresh_s=None if job.status.finished else REFRESH_S,
        partial=job.status is JobStatus.PARTIALLY_SUCCEEDED,
    )


def _csv_download(name: str, header: list[str], rows: Iterator[Sequence[str | None]]) -> Response:
    return StreamingResponse(
        csv_rows(header, rows),
        media_type=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/jobs/{job_id}/report.csv")
def job_report(request: Request, job_id: str, session: OperatorSession) -> Response:
    header, rows = imports.job_report(_uow_factory(request), job_id)
    return _csv_download(f"import-{job_id}-report.csv", header, rows)


# --- export -------------------------------------------------------------------------------


def _day(value: str, label: str, *, end: bool) -> datetime | None:
    """A date field as a UTC bound: the start of the day, or its end (inclusive)."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise FormInvalid(f"{label} must be a date (YYYY-MM-DD), not {value!r}.") from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@router.get("/export.csv")
def export_orders(
    request: Request,
    session: OperatorSession,
    account: str = "",
    supplier: str = "",
    status: Annotated[list[str] | None, Query()] = None,
    created_from: str = "",
    created_to: str = "",
) -> Response:
    where = LogisticOrderFilter(
        tuple(parse_status(s) for s in status or () if s.strip()),
        supplier.strip() or None,
        account.strip() or None,
        _day(created_from, "Created from", end=False),
        _day(created_to, "Created to", end=True),
    )
    header, rows = imports.export_orders(_uow_factory(request), where)
    return _csv_download("internal-orders.csv", header, rows)


# --- orders -------------------------------------------------------------------------------


@router.get("/orders")
def find_order(request: Request, session: OperatorSession, reference: str = "") -> Response:
    """The order a reference names; a logistic order's reference finds its commercial one."""
    reference = reference.strip()
    if not reference:
        raise FormInvalid("Enter an order reference.")
    uow_factory = _uow_factory(request)
    try:
        order = operator_orders.get_any_order(uow_factory(), reference)
    except NotFound:
        commercial = _LOGISTIC_SUFFIX.sub("", reference)
        if commercial == reference:
            raise
        try:
            order = operator_orders.get_any_order(uow_factory(), commercial)
        except NotFound:
            raise NotFound(
                ErrorCode.ORDER_NOT_FOUND, f"No commercial or logistic order {reference}."
            ) from None
    return RedirectResponse(f"/admin/orders/{quote(order.reference, safe='')}", 303)


@router.get("/orders/{reference}")
def order_page(
    request: Request,
    reference: str,
    session: OperatorSession,
    history_page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    uow_factory = _uow_factory(request)
    order = operator_orders.get_any_order(uow_factory(), reference)
    return render(
        "order.html",
        session=session,
        order=OrderOut.of(order).model_dump(),
        history=order_history_view(uow_factory, order.reference, history_page),
    )
