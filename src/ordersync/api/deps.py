"""Dependencies: the unit-of-work factory, the caller, If-Match."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.responses import Response

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller, ClientType
from ordersync.domain.errors import ErrorCode, PreconditionFailed
from ordersync.domain.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageRequest,
    SortKey,
    parse_sort,
)
from ordersync.services.access import AccessHeaders, require, resolve_caller


def get_uow_factory(request: Request) -> Callable[[], UnitOfWork]:
    session_factory = request.app.state.session_factory
    return lambda: UnitOfWork(session_factory)


UowFactoryDep = Annotated[Callable[[], UnitOfWork], Depends(get_uow_factory)]


def access_headers(
    dj_client: Annotated[
        str | None, Header(alias="dj-client", description=("ACCOUNT, OPERATOR or SUPPLIER"))
    ] = None,
    dj_api_key: Annotated[str | None, Header(alias="dj-api-key")] = None,
    dj_store: Annotated[
        str | None,
        Header(alias="dj-store", description=("Store external id; the default store when absent")),
    ] = None,
    dj_store_view: Annotated[str | None, Header(alias="dj-store-view")] = None,
    customer_account_id: Annotated[
        str | None,
        Header(
            alias="customer-account-id",
            description=("Account external id, for users of several accounts"),
        ),
    ] = None,
) -> AccessHeaders:
    return AccessHeaders(dj_client, dj_api_key, dj_store, dj_store_view, customer_account_id)


def _caller(client_type: ClientType) -> Callable[..., Caller]:
    def dependency(
        uow_factory: UowFactoryDep,
        headers: Annotated[AccessHeaders, Depends(access_headers)],
    ) -> Caller:
        return require(resolve_caller(uow_factory(), headers), client_type)

    return dependency


AccountCaller = Annotated[Caller, Depends(_caller(ClientType.ACCOUNT))]
OperatorCaller = Annotated[Caller, Depends(_caller(ClientType.OPERATOR))]


def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description=("The order version (its ETag); a write on another version answers 412"),
        ),
    ] = None,
) -> int | None:
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise PreconditionFailed(
            ErrorCode.VERSION_MISMATCH, f"If-Match {value!r} is not a version of this order."
        )
    return int(raw)


IfMatch = Annotated[int | None, Depends(if_match)]


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


SORT_QUERY = Query(
    description="field:direction (asc or desc), repeated or comma-separated; an entry naming "
    "an unknown field or direction is ignored",
    examples=["createdAt:desc"],
)
