"""Back-office use cases on orders: any account, any store."""

from __future__ import annotations

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.errors import ErrorCode, NotFound
from ordersync.domain.orders import CommercialOrder


def get_any_order(uow: UnitOfWork, reference: str) -> CommercialOrder:
    """Any commercial order by reference, with its logistic orders and lines."""
    with uow:
        order = uow.orders.get(reference)
        if order is None:
            raise NotFound(ErrorCode.ORDER_NOT_FOUND, f"No commercial order {reference}.")
        return order
