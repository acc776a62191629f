"""An order's rows as the database holds them after a flush, without reading them back.

The database gives a value back in its column's form, which is not always the form it was
given: PostgreSQL's NUMERIC(18, 4) gives 1.5 back as 1.5000, JSON comes back through its
text (a tuple as a list), times in UTC, enumerations as their members. The order cache
(order_cache.py) keeps what a read would give, so a flush that writes a value also
converts it here, as the database would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from functools import cache
from typing import Any

import orjson
from sqlalchemy import JSON, String, Table
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.engine import Dialect

from ordersync.adapters.db.engine import json_dumps
from ordersync.adapters.db.tables import commercial_orders, logistic_orders, order_lines
from ordersync.adapters.db.types import ExactDecimal, UtcDateTime
from ordersync.domain.history import Entity, Snapshot
from ordersync.domain.orders import CommercialOrder

Convert = Callable[[Any], Any]
_TABLES = {
    Entity.ORDER: commercial_orders,
    Entity.LOGISTIC_ORDER: logistic_orders,
    Entity.LINE: order_lines,
}


def after_flush(
    dialect: Dialect,
    order: CommercialOrder,
    stored: Snapshot,
    written: dict[int, Sequence[str]],
) -> Snapshot:
    """The order's rows as the database holds them once a flush wrote `written` (the
    columns each written object's row got, by the object's id(); every column of a new
    row): the rows as they were (`stored`, as the database held them), with each written
    value converted as the database converts it. A value not written keeps the stored form,
    even where the object now holds an equal one of another form (1.5 where the column
    holds 1.5000)."""
    forms = stored_forms(dialect.name)
    plans: dict[int, list[tuple[str, Convert | None]]] = {}
    rows: Snapshot = {}

    def add(entity: Entity, obj: Any) -> None:
        key = (entity, obj.id)
        before = stored.get(key)
        columns = written.get(id(obj))
        if columns is None:
            if before is not None:
                rows[key] = before
                return
            columns = tuple(_TABLES[entity].c.keys())  # new yet not written: cannot be
        plan = plans.get(id(columns))
        if plan is None:
            table_forms = forms[entity]
            plan = plans[id(columns)] = [(c, table_forms.get(c)) for c in columns]
        values = before.copy() if before is not None else {}
        own = obj.__dict__
        for column, form in plan:
            value = own.get(column)
            values[column] = value if form is None or value is None else form(value)
        rows[key] = values

    add(Entity.ORDER, order)
    for lo in order.logistic_orders:
        add(Entity.LOGISTIC_ORDER, lo)
        for line in lo.lines:
            add(Entity.LINE, line)
    return rows


@cache
def stored_forms(dialect_name: str) -> dict[Entity, dict[str, Convert]]:
    """Per table, the columns whose values the database gives back in another form than it
    was given, and how to convert a value to that form."""
    return {entity: _table_forms(table, dialect_name) for entity, table in _TABLES.items()}


def _table_forms(table: Table, dialect_name: str) -> dict[str, Convert]:
    forms = {}
    for column in table.c:
        form = _form(column.type, dialect_name)
        if form is not None:
            forms[column.key] = form
    return forms


def _form(kind: Any, dialect_name: str) -> Convert | None:
    if isinstance(kind, ExactDecimal):
        if dialect_name != "postgresql":
            return Decimal  # SQLite keeps the decimal's text
        exponent = Decimal(1).scaleb(-kind.scale)

        def scaled(value: Any) -> Decimal:  # PostgreSQL's NUMERIC(p, s): s digits
            number: Decimal = value if type(value) is Decimal else Decimal(value)
            return number.quantize(exponent, ROUND_HALF_UP)

        return scaled
    if isinstance(kind, UtcDateTime):
        return _utc
    if isinstance(kind, JSON):
        return _through_json
    if isinstance(kind, SqlEnum) and kind.enum_class is not None:
        return kind.enum_class
    if isinstance(kind, String):
        return _plain_text
    return None


def _utc(value: datetime) -> datetime:
    """As UtcDateTime gives it back: in UTC, a time without a zone taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _through_json(value: Any) -> Any:
    return orjson.loads(json_dumps(value))


def _plain_text(value: Any) -> Any:
    if type(value) is str:
        return value
    return value.value if isinstance(value, Enum) else str(value)
