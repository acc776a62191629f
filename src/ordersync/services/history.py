"""Reading an order's history (SPEC §7), newest first."""

from __future__ import annotations

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.errors import ErrorCode, NotFound
from ordersync.domain.history import HistoryEntry, Source
from ordersync.domain.paging import Page, PageRequest


def order_history(
    uow: UnitOfWork,
    reference: str,
    request: PageRequest,
    source: Source | None = None,
    *,
    caller: Caller | None = None,
) -> Page[HistoryEntry]:
    """One page of the order's history entries. With a `caller` (the shop), only an order
    of the caller's account and store: anybody else's is a 404."""
    with uow:
        order_id = uow.orders.id_of(
            reference,
            account_id=caller.account_id if caller else None,
            store_id=caller.store_id if caller else None,
        )
        if order_id is None:
            raise NotFound(ErrorCode.ORDER_NOT_FOUND, f"No commercial order {reference}.")
        items, total = uow.history.page(order_id, source, request.offset, request.size)
    return Page(items, request.page, request.size, total)
