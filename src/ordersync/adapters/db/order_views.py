"""Reading an order as stored, for its answer: one statement, no ORM, no transaction.

The order, its logistic orders and its lines come back joined in one query (a consistent
snapshot by itself), read on a connection in autocommit (no BEGIN, no ROLLBACK), and the
catalog version rides along as one more column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ordersync.adapters.db.order_repository import MAX_ID, catalog_versions
from ordersync.adapters.db.tables import commercial_orders, logistic_orders, order_lines
from ordersync.domain.orders import LogisticOrderRecord, OrderIdType, OrderRecord

co, lo, ln = commercial_orders.c, logistic_orders.c, order_lines.c
_COLUMNS = (
    *(c.label(f"o_{c.name}") for c in commercial_orders.c),
    *(c.label(f"l_{c.name}") for c in logistic_orders.c),
    *(c.label(f"i_{c.name}") for c in order_lines.c),
)


_ORDER_KEYS = tuple((f"o_{c.name}", c.name) for c in commercial_orders.c)
_LO_KEYS = tuple((f"l_{c.name}", c.name) for c in logistic_orders.c)
_LINE_KEYS = tuple((f"i_{c.name}", c.name) for c in order_lines.c)


def _split(row: Mapping[Any, Any], keys: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {name: row[label] for label, name in keys}


def order_record(
    session: Session,
    order_id: str,
    id_type: OrderIdType,
    account_id: int | None,
    store_id: int | None,
) -> tuple[OrderRecord | None, tuple[int, int]]:
    """The order (scoped to the account and store when given) and the catalog versions."""
    condition: ColumnElement[bool]
    if id_type is OrderIdType.DJUST_ID:
        if not (order_id.isascii() and order_id.isdigit()) or int(order_id) > MAX_ID:
            condition = co.id.is_(None)  # names no order
        else:
            condition = co.id == int(order_id)
    elif id_type is OrderIdType.EXTERNAL_ID:
        condition = co.external_id == order_id
    else:
        condition = co.reference == order_id
    query = (
        select(*_COLUMNS, *(v.label(f"v_{i}") for i, v in enumerate(catalog_versions())))
        .select_from(commercial_orders)
        .outerjoin(logistic_orders, lo.commercial_order_id == co.id)
        .outerjoin(order_lines, ln.logistic_order_id == lo.id)
        .where(condition)
        .order_by(lo.id, ln.id)
    )
    if account_id is not None:
        query = query.where(co.account_id == account_id)
    if store_id is not None:
        query = query.where(co.store_id == store_id)
    connection = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    rows = [r._mapping for r in connection.execute(query)]
    if not rows:
        version, access_version = connection.execute(select(*catalog_versions())).one()
        return None, (int(version or 0), int(access_version or 0))
    order = OrderRecord(_split(rows[0], _ORDER_KEYS), [])
    by_id: dict[int, LogisticOrderRecord] = {}
    for row in rows:
        lo_id = row["l_id"]
        if lo_id is None:
            continue
        record = by_id.get(lo_id)
        if record is None:
            record = by_id[lo_id] = LogisticOrderRecord(_split(row, _LO_KEYS))
            order.logistic_orders.append(record)
        if row["i_id"] is not None:
            record.lines.append(_split(row, _LINE_KEYS))
    return order, (int(rows[0]["v_0"] or 0), int(rows[0]["v_1"] or 0))
