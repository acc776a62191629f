"""What the order lists filter on, and the logistic-order row the back office sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordersync.domain.statuses import LogisticOrderStatus


@dataclass(frozen=True)
class OrderFilter:
    account_ids: tuple[int, ...]
    store_id: int | None = None
    is_validated: bool | None = None
    source_types: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogisticOrderFilter:
    statuses: tuple[LogisticOrderStatus, ...] = ()
    supplier_external_id: str | None = None
    account_external_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class LogisticOrderRow:
    """A logistic order as the back-office list shows it: no lines, its owner's keys."""

    id: int
    reference: str
    external_id: str | None
    commercial_order_reference: str
    account_id: int
    account_external_id: str
    supplier_id: int
    supplier_external_id: str
    status: LogisticOrderStatus
    shipping_address: dict[str, Any] | None
    currency: str
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    line_count: int
    created_at: datetime
    updated_at: datetime


def utc_bound(value: datetime) -> datetime:
    """A date filter in UTC. An offset can push 0001-01-01 or 9999-12-31 past what a datetime
    holds (OverflowError, a 500); such a bound lies beyond every stored time, so clamp it."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)
