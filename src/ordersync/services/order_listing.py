"""The front-office order list: the caller's accounts only, never anybody else's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ordersync.adapters.db.order_queries import order_page
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.errors import ErrorCode, Forbidden
from ordersync.domain.listing import OrderFilter
from ordersync.domain.orders import CommercialOrder
from ordersync.domain.paging import Page, PageRequest, SortKey

ORDER_SORT_FIELDS = (
    "createdAt",
    "updatedAt",
    "validatedAt",
    "reference",
    "sourceType",
    "sourceId",
)
DEFAULT_ORDER_SORT = (SortKey("createdAt", descending=True), SortKey("reference"))


@dataclass(frozen=True)
class OrderListQuery:
    customer_account_ids: Sequence[str] = ()  # external ids; empty: the effective account
    is_validated: bool | None = None
    source_types: Sequence[str] = ()
    source_ids: Sequence[str] = ()


def list_orders(
    uow: UnitOfWork, caller: Caller, query: OrderListQuery, request: PageRequest
) -> Page[CommercialOrder]:
    """Order headers of the effective account, or of the listed accounts, each of which must
    be one of the user's (403 otherwise); scoped to the effective store."""
    assert caller.account_id is not None
    with uow:
        account_ids: tuple[int, ...] = (caller.account_id,)
        if query.customer_account_ids:
            refs = [uow.access.account(ext) for ext in dict.fromkeys(query.customer_account_ids)]
            refused = [
                ext
                for ext, ref in zip(dict.fromkeys(query.customer_account_ids), refs, strict=True)
                if ref is None or ref.id not in caller.account_ids
            ]
            if refused:
                raise Forbidden(
                    ErrorCode.ACCOUNT_FORBIDDEN,
                    f"The user may not see orders of {', '.join(refused)}.",
                )
            account_ids = tuple(ref.id for ref in refs if ref is not None)
        items, total = order_page(
            uow.session,
            OrderFilter(
                account_ids,
                caller.store_id,
                query.is_validated,
                tuple(query.source_types),
                tuple(query.source_ids),
            ),
            request,
        )
        return Page(items, request.page, request.size, total)
