"""Dependencies: the unit-of-work factory, the caller, If-Match."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.responses import Response

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller, ClientType
from ordersync.domain.cpq import CpqGateways
from ordersync.domain.errors import BadRequest, ErrorCode, FieldError, Unauthorized
from ordersync.domain.history import Actor, Source
from ordersync.domain.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageRequest,
    SortKey,
    parse_sort,
)
from ordersync.domain.pricing import PricingGateways
from ordersync.services.access import require
from ordersync.settings import Settings


def request_actor(request: Request) -> Actor:
    """Who the request acts as, for the history of what it writes."""
    caller: Caller | None = getattr(request.state, "caller", None)
    return Actor(
        caller.user_external_id if caller else None,
        caller.client_type.value if caller else None,
        getattr(request.state, "request_id", None),
    )


def get_uow_factory(request: Request) -> Callable[[], UnitOfWork]:
    """Units of work of this request: its actor (for history), the process's catalog cache,
    the catalog version the caller was remembered under (if it was), and the process's
    order cache."""
    session_factory = request.app.state.session_factory
    actor = request_actor(request)
    cache = request.app.state.catalog_cache
    cached_under = getattr(request.state, "cached_under", None)
    orders = request.app.state.order_cache
    return lambda: UnitOfWork(session_factory, actor, cache, cached_under, orders)


UowFactoryDep = Annotated[Callable[[], UnitOfWork], Depends(get_uow_factory)]


def get_pricing(request: Request) -> PricingGateways:
    pricing: PricingGateways = request.app.state.pricing
    return pricing


def get_cpq(request: Request) -> CpqGateways:
    cpq: CpqGateways = request.app.state.cpq
    return cpq


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


PricingDep = Annotated[PricingGateways, Depends(get_pricing)]
CpqDep = Annotated[CpqGateways, Depends(get_cpq)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _documented_access_headers(
    dj_client: Annotated[
        str | None, Header(alias="dj-client", description="ACCOUNT, OPERATOR or SUPPLIER")
    ] = None,
    dj_api_key: Annotated[str | None, Header(alias="dj-api-key")] = None,
    dj_store: Annotated[
        str | None,
        Header(alias="dj-store", description="Store external id; the default store when absent"),
    ] = None,
    dj_store_view: Annotated[str | None, Header(alias="dj-store-view")] = None,
    customer_account_id: Annotated[
        str | None,
        Header(
            alias="customer-account-id",
            description="Account external id, for users of several accounts",
        ),
    ] = None,
) -> None:
    """Only documents the access headers in OpenAPI: the Authenticate middleware reads them
    (before any body) and leaves the caller in the request state."""


def _documented_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=r"^[!-~]{1,255}$",
            description="1 to 255 visible ASCII characters (else 400 IDEMPOTENCY_KEY_INVALID). "
            "The first request with a key runs and its answer (status, body, ETag, Location) is "
            "kept 24 h for the caller; a repeat of the same request (method, path, query, "
            "If-Match, body) gets that answer again, with `Idempotent-Replayed: true`, and "
            "changes nothing. The same key with another request: 422 IDEMPOTENCY_KEY_REUSED; "
            "while the first still runs: 409 IDEMPOTENCY_KEY_IN_USE. A 5xx is not kept.",
        ),
    ] = None,
) -> None:
    """Only documents the header in OpenAPI: the Idempotency middleware reads it (and the
    body) before the route runs."""


IdempotencyKey = Annotated[None, Depends(_documented_idempotency_key)]


def _caller(client_type: ClientType) -> Callable[..., Caller]:
    def dependency(
        request: Request, _headers: Annotated[None, Depends(_documented_access_headers)]
    ) -> Caller:
        # The Authenticate middleware resolved the caller before the body was read.
        caller: Caller | None = getattr(request.state, "caller", None)
        if caller is None:
            raise Unauthorized(
                ErrorCode.AUTHENTICATION_REQUIRED,
                "The dj-client and dj-api-key headers are required.",
            )
        return require(caller, client_type)

    return dependency


AccountCaller = Annotated[Caller, Depends(_caller(ClientType.ACCOUNT))]
OperatorCaller = Annotated[Caller, Depends(_caller(ClientType.OPERATOR))]

# RFC 9110 entity tags: `"opaque"` or `W/"opaque"`, comma-separated. Ours are `"<version>"`.
_ENTITY_TAG = re.compile(r'\s*(?:W/)?"([\x21\x23-\x7e\x80-\U0010ffff]*)"\s*(?:,|$)')
_VERSION = re.compile(r"[0-9]{1,10}")


def parse_if_match(value: str) -> frozenset[int] | None:
    """The versions an If-Match header names; None for `*` (any). A weak tag counts as its
    version (a proxy may have weakened our strong ETag). Tags that are not versions of ours
    name nothing, so the write fails with 412; a header that is not a list of entity tags is
    a 400."""
    if value.strip() == "*":
        return None
    tags: list[str] = []
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None or match.end() == position:
            raise BadRequest(
                ErrorCode.INVALID_REQUEST,
                f'If-Match {value[:64]!r} is not a list of entity tags such as "3".',
                [FieldError(ErrorCode.INVALID_REQUEST, "If-Match", 'Expected "<version>".')],
            )
        tags.append(match.group(1))
        position = match.end()
    if not tags:
        raise BadRequest(ErrorCode.INVALID_REQUEST, "If-Match is empty.")
    return frozenset(int(tag) for tag in tags if _VERSION.fullmatch(tag))


def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description=(
                'The order version as its ETag ("3"); a write on another version answers 412'
            ),
        ),
    ] = None,
) -> frozenset[int] | None:
    return None if value is None else parse_if_match(value)


IfMatch = Annotated[frozenset[int] | None, Depends(if_match)]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def paging(fields: tuple[str, ...], default: tuple[SortKey, ...]) -> Callable[..., PageRequest]:
    """The `page`, `size` and `sort` query parameters of a list, as one PageRequest; `fields`
    are the sortable ones (the route's description lists them)."""

    def dependency(
        page: Annotated[int, Query(ge=0, le=1_000_000, description="From 0")] = 0,
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        sort: Annotated[list[str] | None, SORT_QUERY] = None,
    ) -> PageRequest:
        return PageRequest(page, size, parse_sort(sort or (), fields, default))

    return dependency


def page_only(
    page: Annotated[int, Query(ge=0, le=1_000_000, description="From 0")] = 0,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> PageRequest:
    """`page` and `size` of a list that has one order only (history: newest first)."""
    return PageRequest(page, size)


PageOnly = Annotated[PageRequest, Depends(page_only)]
HistorySource = Annotated[
    Source | None,
    Query(
        description="Only entries of this source: API, SYNC, IMPORT, CPQ, BUNDLE, OPERATOR_PATCH"
    ),
]


SORT_QUERY = Query(
    description="field:direction (asc or desc), repeated or comma-separated; an entry naming "
    "an unknown field or direction is ignored",
    examples=["createdAt:desc"],
)
