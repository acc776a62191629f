"""Orders' rows as this process last read or wrote them, so that the next write of the same
order reads only the order's own row.

Every writer of an order moves its version in the transaction that writes it (the order
aggregate's flush, the CSV import's chunks), and a write reads the order's row anyway, under
its lock. When that row is exactly the one kept here (same version, same values), the order's
logistic orders and lines are the kept ones: the statement that reads them (2 to 3 ms for a
small order, 11 to 17 ms for 1,000 lines) is skipped. Another process's write, or a write
of this one that rolled back, leaves a row that no longer matches: the order is read again.

What is kept is what the database would give back, not the objects a request worked on: the
rows as read, with each value a flush wrote since converted as the database converts it
(money to its column's scale, JSON through its text, times to UTC, enumerations to their
members). A hit builds new objects from those rows, so no two requests share one.
Bounded by the lines it holds, least recently used first out; orders are kept only by units
of work that write a few orders (a shop or operator write), not by bulk loads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from ordersync.adapters.db.order_rows import (
    LINE_COLUMNS,
    LOGISTIC_ORDER_COLUMNS,
    ORDER_COLUMNS,
    attach_rows,
    order_from_row,
)
from ordersync.adapters.db.tables import commercial_orders, logistic_orders, order_lines
from ordersync.adapters.db.types import ExactDecimal, UtcDateTime
from ordersync.domain.history import Entity, Snapshot
from ordersync.domain.orders import CommercialOrder

Row = tuple[Any, ...]
Convert = Callable[[Any], Any]
_TABLES = {
    Entity.ORDER: (commercial_orders, ORDER_COLUMNS),
    Entity.LOGISTIC_ORDER: (logistic_orders, LOGISTIC_ORDER_COLUMNS),
    Entity.LINE: (order_lines, LINE_COLUMNS),
}


@dataclass(frozen=True)
class _Kept:
    order: Row
    logistic_orders: tuple[Row, ...]  # by id
    lines: tuple[Row, ...]  # by logistic order, then id


class OrderCache:
    """Per process, shared by its threads; holds rows (tuples of immutable values, and
    JSON documents that the code replaces and never changes in place)."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self._lock = threading.Lock()
        self._kept: OrderedDict[int, _Kept] = OrderedDict()
        self._lines = 0

    def order(self, row: Sequence[Any]) -> CommercialOrder | None:
        """The order whose row (its columns in order) was just read, with its logistic
        orders and lines, if this process keeps them for exactly that row."""
        with self._lock:
            kept = self._kept.get(row[0])
            if kept is not None:
                self._kept.move_to_end(row[0])
        if kept is None or kept.order != tuple(row):
            return None
        order = order_from_row(row)
        attach_rows({order.id: order}, kept.logistic_orders, kept.lines)
        return order

    def keep(self, stored: Snapshot) -> None:
        """Keep an order's rows (as the database holds them: an order's snapshot as read,
        or `after_flush`'s)."""
        rows: dict[Entity, list[Row]] = {entity: [] for entity in _TABLES}
        for (entity, _), values in stored.items():
            rows[entity].append(tuple(map(values.get, _TABLES[entity][1])))
        if len(rows[Entity.ORDER]) != 1:
            return
        order = rows[Entity.ORDER][0]
        lines = rows[Entity.LINE]
        rows[Entity.LOGISTIC_ORDER].sort(key=_first)
        lines.sort(key=_parent_then_id)
        kept = _Kept(order, tuple(rows[Entity.LOGISTIC_ORDER]), tuple(lines))
        with self._lock:
            self._drop(order[0])
            if len(lines) > self.max_lines:
                return
            self._kept[order[0]] = kept
            self._lines += len(lines)
            while self._lines > self.max_lines:
                self._drop(next(iter(self._kept)))

    def _drop(self, order_id: int) -> None:
        old = self._kept.pop(order_id, None)
        if old is not None:
            self._lines -= len(old.lines)


def _first(row: Row) -> Any:
    return row[0]


def _parent_then_id(row: Row) -> tuple[Any, Any]:
    return row[1], row[0]  # logistic_order_id, id


def after_flush(
    dialect: Dialect,
    order: CommercialOrder,
    stored: Snapshot,
    written: dict[int, Sequence[str]],
) -> Snapshot:
    """The order's rows as the database holds them once a flush wrote `written` (the
    columns each written object's row got, by the object's id()): the rows as they were
    (`stored`, as the database held them), with each written value converted as the
    database converts it. A value not written keeps the stored form, even where the object
    now holds an equal one of another form (a price of 1.5 where the column holds 1.5000)."""
    forms = stored_forms(dialect.name)
    rows: Snapshot = {}

    def add(entity: Entity, obj: Any) -> None:
        key = (entity, obj.id)
        before = stored.get(key)
        columns = written.get(id(obj))
        if columns is None and before is not None:
            rows[key] = before
            return
        values = dict(before) if before is not None else {}
        if before is None:
            columns = _TABLES[entity][1]
        own, convert = obj.__dict__, forms[entity]
        for column in columns or ():
            value = own.get(column)
            form = convert.get(column)
            values[column] = value if value is None or form is None else form(value)
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
    return {entity: _table_forms(table, dialect_name) for entity, (table, _) in _TABLES.items()}


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
        return lambda value: Decimal(value).quantize(exponent, ROUND_HALF_UP)
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
