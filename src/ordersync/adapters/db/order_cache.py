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
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from ordersync.adapters.db.order_rows import (
    LINE_COLUMNS,
    LOGISTIC_ORDER_COLUMNS,
    ORDER_COLUMNS,
    from_values,
    order_from_row,
)
from ordersync.domain.history import Entity, Snapshot
from ordersync.domain.orders import CommercialOrder, LogisticOrder, OrderLine

Values = dict[str, Any]
_BY_PARENT = itemgetter("logistic_order_id", "id")
_BY_ID = itemgetter("id")


@dataclass(frozen=True)
class _Kept:
    order: tuple[Any, ...]  # the order's row
    logistic_orders: tuple[Values, ...]  # by id
    lines: tuple[Values, ...]  # by logistic order, then id

    @property
    def size(self) -> int:
        """What it counts against the bound: its lines, and one for the order itself (so
        that orders without lines cannot fill the process unbounded)."""
        return len(self.lines) + 1


class OrderCache:
    """Per process, shared by its threads. It holds rows as dictionaries of column values,
    never changed once kept (the values immutable, or JSON documents that the code replaces
    and never changes in place); a hit copies them into new objects."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self._lock = threading.Lock()
        self._kept: OrderedDict[int, _Kept] = OrderedDict()
        self._lines = 0

    def order(self, row: Sequence[Any]) -> tuple[CommercialOrder, Snapshot] | None:
        """The order whose row (its columns in order) was just read, with its logistic
        orders and lines, if this process keeps them for exactly that row; and its snapshot
        as read (history.snapshot's), sharing the kept dictionaries."""
        with self._lock:
            kept = self._kept.get(row[0])
            if kept is not None:
                self._kept.move_to_end(row[0])
        if kept is None or kept.order != tuple(row):
            return None
        order = order_from_row(row)
        taken: Snapshot = {(Entity.ORDER, row[0]): dict(order.__dict__)}
        lines_of: dict[int, list[Values]] = {values["id"]: [] for values in kept.logistic_orders}
        for values in kept.lines:
            lines_of[values["logistic_order_id"]].append(values)
        for lo_values in kept.logistic_orders:
            logistic_order = from_values(LogisticOrder, lo_values)
            logistic_order.lines = []
            order.logistic_orders.append(logistic_order)
            taken[(Entity.LOGISTIC_ORDER, lo_values["id"])] = lo_values
            for values in lines_of[lo_values["id"]]:
                logistic_order.lines.append(from_values(OrderLine, values))
                taken[(Entity.LINE, values["id"])] = values
        return order, taken

    def keep(self, stored: Snapshot) -> None:
        """Keep an order's rows, as the database holds them: the snapshot taken when it was
        read, or `after_flush`'s. The snapshot's dictionaries are kept as they are (a
        line's holds its columns only), an order's and its logistic orders' without their
        lists of children."""
        order: Values = {}
        los: list[Values] = []
        lines: list[Values] = []
        for (entity, _), values in stored.items():
            if entity is Entity.LINE:
                lines.append(values if len(values) == len(LINE_COLUMNS) else _only(values))
            elif entity is Entity.LOGISTIC_ORDER:
                los.append(_only(values, LOGISTIC_ORDER_COLUMNS))
            else:
                order = values
        los.sort(key=_BY_ID)
        lines.sort(key=_BY_PARENT)
        kept = _Kept(tuple(map(order.get, ORDER_COLUMNS)), tuple(los), tuple(lines))
        order_id = kept.order[0]
        with self._lock:
            self._drop(order_id)
            if kept.size > self.max_lines:
                return
            self._kept[order_id] = kept
            self._lines += kept.size
            while self._lines > self.max_lines:
                self._drop(next(iter(self._kept)))

    def _drop(self, order_id: int) -> None:
        old = self._kept.pop(order_id, None)
        if old is not None:
            self._lines -= old.size


def _only(values: Values, columns: Sequence[str] = LINE_COLUMNS) -> Values:
    return {column: values.get(column) for column in columns}
