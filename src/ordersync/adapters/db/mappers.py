"""Imperative mapping of the order aggregate: the domain classes stay plain Python."""

from __future__ import annotations

from sqlalchemy.orm import registry, relationship

from ordersync.adapters.db.tables import commercial_orders, logistic_orders, metadata, order_lines
from ordersync.domain.orders import CommercialOrder, LogisticOrder, OrderLine

mapper_registry = registry(metadata=metadata)
_started = False


def start_mappers() -> None:
    """Map the order aggregate once per process; the version column is the optimistic lock."""
    global _started
    if _started:
        return
    _started = True
    mapper_registry.map_imperatively(OrderLine, order_lines)
    mapper_registry.map_imperatively(
        LogisticOrder,
        logistic_orders,
        properties={
            "lines": relationship(
                OrderLine, order_by=order_lines.c.id, cascade="all, delete-orphan"
            ),
        },
    )
    mapper_registry.map_imperatively(
        CommercialOrder,
        commercial_orders,
        version_id_col=commercial_orders.c.version,
        properties={
            "logistic_orders": relationship(
                LogisticOrder, order_by=logistic_orders.c.id, cascade="all, delete-orphan"
            ),
        },
    )
