"""List queries over orders and logistic orders: filters, sort, one page, one count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from ordersync.adapters.db.order_rows import order_from_row
from ordersync.adapters.db.tables import (
    accounts,
    commercial_orders,
    logistic_orders,
    order_lines,
    suppliers,
)
from ordersync.domain.listing import (
    LogisticOrderFilter,
    LogisticOrderRow,
    OrderFilter,
    utc_bound,
)
from ordersync.domain.orders import CommercialOrder
from ordersync.domain.paging import PageRequest
from ordersync.domain.statuses import LogisticOrderStatus

co = commercial_orders.c
lo = logistic_orders.c

ORDER_SORTS: Mapping[str, ColumnElement[Any]] = {
    "createdAt": co.created_at,
    "updatedAt": co.updated_at,
    "validatedAt": co.validated_at,
    "reference": func.lower(co.reference),
    "sourceType": co.source_type,
    "sourceId": co.source_id,
}
LOGISTIC_ORDER_SORTS: Mapping[str, ColumnElement[Any]] = {
    "createdAt": lo.created_at,
    "updatedAt": lo.updated_at,
    "reference": func.lower(lo.reference),
    "status": lo.status,
}


def _direction(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    """Nulls last in both directions. Said only of nullable columns: `DESC NULLS LAST` on a
    column that has no null would stop PostgreSQL from reading the index backwards."""
    clause = column.desc() if descending else column.asc()
    return clause.nulls_last() if getattr(column, "nullable", False) else clause


def _ordered(
    query: Select[Any],
    request: PageRequest,
    sorts: Mapping[str, ColumnElement[Any]],
    row_id: ColumnElement[Any],
) -> Select[Any]:
    """The requested order, then reference (unless already sorted on) and id, so that equal
    keys never make pages overlap."""
    clauses = [_direction(sorts[key.field], key.descending) for key in request.sort]
    if "reference" not in {key.field for key in request.sort}:
        clauses.append(sorts["reference"].asc())
    return query.order_by(*clauses, row_id).offset(request.offset).limit(request.size)


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def order_page(
    session: Session, where: OrderFilter, request: PageRequest
) -> tuple[list[CommercialOrder], int]:
    """Headers of one page of orders (lines are not loaded) and the total count."""
    conditions: list[ColumnElement[bool]] = [co.account_id.in_(where.account_ids)]
    if where.store_id is not None:
        conditions.append(co.store_id == where.store_id)
    if where.is_validated is not None:
        conditions.append(co.is_validated.is_(where.is_validated))
    if where.source_types:
        conditions.append(co.source_type.in_(where.source_types))
    if where.source_ids:
        conditions.append(co.source_id.in_(where.source_ids))
    query = _ordered(
        select(commercial_orders).where(*conditions),
        request,
        ORDER_SORTS,
        co.id,
    )
    orders = [order_from_row(row) for row in session.execute(query)]
    return orders, _count(session, select(co.id).where(*conditions))


def logistic_order_page(
    session: Session, where: LogisticOrderFilter, request: PageRequest
) -> tuple[list[LogisticOrderRow], int]:
    line_count = (
        select(func.count())
        .where(order_lines.c.logistic_order_id == lo.id)
        .correlate(logistic_orders)
        .scalar_subquery()
    )
    query = (
        select(
            logistic_orders,
            co.reference.label("co_reference"),
            co.account_id,
            co.currency,
            accounts.c.external_id.label("account_external_id"),
            line_count.label("line_count"),
        )
        .join(commercial_orders, co.id == lo.commercial_order_id)
        .join(accounts, accounts.c.id == co.account_id)
    )
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(lo.status.in_(where.statuses))
    if where.supplier_external_id is not None:
        conditions.append(
            lo.supplier_id.in_(
                select(suppliers.c.id).where(suppliers.c.external_id == where.supplier_external_id)
            )
        )
    if where.account_external_id is not None:
        conditions.append(accounts.c.external_id == where.account_external_id)
    if where.created_from is not None:
        conditions.append(lo.created_at >= utc_bound(where.created_from))
    if where.created_to is not None:
        conditions.append(lo.created_at <= utc_bound(where.created_to))
    query = query.where(*conditions)
    rows = session.execute(_ordered(query, request, LOGISTIC_ORDER_SORTS, lo.id))
    items = [
        LogisticOrderRow(
            id=m["id"],
            reference=m["reference"],
            external_id=m["external_id"],
            commercial_order_reference=m["co_reference"],
            account_id=m["account_id"],
            account_external_id=m["account_external_id"],
            supplier_id=m["supplier_id"],
            supplier_external_id=m["supplier_external_id"],
            status=LogisticOrderStatus(m["status"]),
            shipping_address=m["shipping_address"],
            currency=m["currency"],
            total_net=m["total_net"],
            total_tax=m["total_tax"],
            total_gross=m["total_gross"],
            line_count=m["line_count"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )
        for m in (r._mapping for r in rows)
    ]
    count_query = (
        select(lo.id)
        .join(commercial_orders, co.id == lo.commercial_order_id)
        .join(accounts, accounts.c.id == co.account_id)
        .where(*conditions)
    )
    return items, _count(session, count_query)
