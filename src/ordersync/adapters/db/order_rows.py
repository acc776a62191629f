"""The order aggregate's rows: read straight into the plain domain classes, and their
changes written back as a constant number of statements, whatever the number of lines.

SQLAlchemy Core, no ORM unit of work (docs/decisions.md, "The order aggregate without the
ORM"): a synchronise of a 1,000-line order spent more time in the ORM's loading, attribute
events and flush than in its rules and its SQL together. What the ORM did for the aggregate
is done here, in the open: a snapshot of each entity's values when it was read; at flush,
its columns compared with them; one UPDATE per table for the changed rows, one DELETE per
table for the removed ones, one INSERT … RETURNING per table for the new ones; and the
optimistic lock, an UPDATE of the order `WHERE version = <read version>` that must match."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, ne
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from ordersync.adapters.db.bulk import one_of, update_by_id
from ordersync.adapters.db.stored_form import after_flush
from ordersync.adapters.db.tables import commercial_orders, logistic_orders, order_lines
from ordersync.domain.errors import StaleWrite
from ordersync.domain.history import Changed, Entity, Key, Snapshot, snapshot
from ordersync.domain.orders import CommercialOrder, LogisticOrder, OrderLine

ORDER_COLUMNS = tuple(commercial_orders.c.keys())
LOGISTIC_ORDER_COLUMNS = tuple(logistic_orders.c.keys())
LINE_COLUMNS = tuple(order_lines.c.keys())
# Columns a flush may change (the ids and the links to the parent are set once, at insert).
ORDER_WRITTEN = tuple(c for c in ORDER_COLUMNS if c not in {"id", "version"})
LO_WRITTEN = tuple(c for c in LOGISTIC_ORDER_COLUMNS if c not in {"id", "commercial_order_id"})
LINE_WRITTEN = tuple(c for c in LINE_COLUMNS if c not in {"id", "logistic_order_id"})
_MISSING = object()


class _Columns:
    """Columns a flush compares, and one C call reading their values from a dictionary."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.read = itemgetter(*self.names)


_ORDER_WRITTEN = _Columns(ORDER_WRITTEN)
_LO_WRITTEN = _Columns(LO_WRITTEN)
_LINE_WRITTEN = _Columns(LINE_WRITTEN)
T = TypeVar("T")


def _build(cls: type[T], columns: Sequence[str], values: Sequence[Any]) -> T:
    """A domain object straight from its row: no `__init__` (it sets a new object's
    defaults), one dictionary update."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(columns, values, strict=True))
    return obj


def from_values(cls: type[T], values: dict[str, Any]) -> T:
    """A domain object from its column values by name (a copy of them: a dictionary update,
    a quarter of the time `_build` takes to pair a row's values with their names)."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


def order_from_row(row: Sequence[Any]) -> CommercialOrder:
    """An order from its row (the columns of `commercial_orders`, in order), its logistic
    orders not yet attached."""
    order = _build(CommercialOrder, ORDER_COLUMNS, row)
    order.logistic_orders = []
    return order


# Up to this many lines, an order's logistic orders and lines are read joined, in one
# statement; past it, in two, so that a logistic order's columns (its address as JSON, its
# times, its status) are not sent and decoded again with each of its lines: reading a
# 1,000-line order took 17.5 ms joined, 11.5 ms apart (stop 18), while a second round trip
# costs a small order 0.2 to 0.7 ms (benchmarks/order_read.py).
JOINED_UP_TO = 50


def attach_logistic_orders(session: Session, orders: Sequence[CommercialOrder]) -> None:
    """The logistic orders and lines of `orders`: one statement (logistic orders joined
    with their lines, by id), or two for orders of more than JOINED_UP_TO lines in all (as
    their `line_count` says; a stale count only picks the other way of reading)."""
    if not orders:
        return
    if sum(o.line_count or 0 for o in orders) > JOINED_UP_TO:
        _attach_apart(session, orders)
        return
    lo, ol = logistic_orders.c, order_lines.c
    query = (
        select(logistic_orders, order_lines)
        .outerjoin(order_lines, ol.logistic_order_id == lo.id)
        .where(lo.commercial_order_id.in_([o.id for o in orders]))
        .order_by(lo.id, ol.id)
    )
    by_id = {o.id: o for o in orders}
    split = len(LOGISTIC_ORDER_COLUMNS)
    current: LogisticOrder | None = None
    for row in session.execute(query):
        if current is None or current.id != row[0]:
            current = _add_logistic_order(by_id, row[:split])
        if row[split] is not None:
            current.lines.append(_build(OrderLine, LINE_COLUMNS, row[split:]))


def _add_logistic_order(by_id: dict[Any, CommercialOrder], values: Sequence[Any]) -> LogisticOrder:
    """A logistic order from its row (the columns of `logistic_orders`, in order), its lines
    not yet read, added to its order."""
    logistic_order = _build(LogisticOrder, LOGISTIC_ORDER_COLUMNS, values)
    logistic_order.lines = []
    by_id[values[1]].logistic_orders.append(logistic_order)  # commercial_order_id
    return logistic_order


def _attach_apart(session: Session, orders: Sequence[CommercialOrder]) -> None:
    """The logistic orders, then the lines of those logistic orders: two statements. The
    second names the logistic orders the first read, so that an unlocked read, whose two
    statements may see two states of the order, never meets a line of a logistic order it
    did not read (the version its writer moved says the read is stale)."""
    lo, ol = logistic_orders.c, order_lines.c
    by_id = {o.id: o for o in orders}
    read: dict[int, LogisticOrder] = {}
    for row in session.execute(
        select(logistic_orders).where(lo.commercial_order_id.in_(list(by_id))).order_by(lo.id)
    ):
        read[row[0]] = _add_logistic_order(by_id, row)
    if not read:
        return
    lines = (
        select(order_lines)
        .where(one_of(session.get_bind().dialect, ol.logistic_order_id, list(read)))
        .order_by(ol.logistic_order_id, ol.id)
    )
    for row in session.execute(lines):
        read[row[1]].lines.append(_build(OrderLine, LINE_COLUMNS, row))


@dataclass
class Tracked:
    """An order of a unit of work that may be written: its values as the database holds
    them (empty for a new order), and as they were when the unit of work took it (its
    history's before)."""

    order: CommercialOrder
    stored: Snapshot
    before: Snapshot
    version_before: int
    # Whether the process's order cache is to keep its rows: `stored` then holds them in the
    # database's form (stored_form.after_flush), not merely values equal to them.
    kept: bool = False
    # The columns each stored entity's flushes wrote since `before` (its history can have
    # changed there only).
    changed: Changed = field(default_factory=dict)


@dataclass
class _Writes:
    """Everything one flush writes, table by table."""

    versions: list[tuple[CommercialOrder, int, dict[str, Any]]]
    new_orders: list[CommercialOrder]
    new_logistic_orders: list[tuple[CommercialOrder, LogisticOrder]]
    new_lines: list[tuple[LogisticOrder, OrderLine]]
    logistic_order_updates: list[tuple[LogisticOrder, tuple[str, ...]]]
    line_updates: list[tuple[OrderLine, tuple[str, ...]]]
    removed_logistic_orders: list[int]
    removed_lines: list[int]

    def count(self) -> int:
        """How many rows the children's statements write (the order's own row aside)."""
        return (
            len(self.new_logistic_orders)
            + len(self.new_lines)
            + len(self.logistic_order_updates)
            + len(self.line_updates)
            + len(self.removed_logistic_orders)
            + len(self.removed_lines)
        )


def _changed(obj: Any, stored: dict[str, Any] | None, columns: _Columns) -> tuple[str, ...]:
    """The columns whose value differs from the stored one (an unchanged entity costs one
    dictionary comparison; a changed one, its values read and compared in C)."""
    values = obj.__dict__
    if stored is None or values == stored:
        return ()
    try:
        return tuple(compress(columns.names, map(ne, columns.read(values), columns.read(stored))))
    except KeyError:  # a column not set on one side: missing differs from any value
        return tuple(
            c for c in columns.names if values.get(c, _MISSING) != stored.get(c, _MISSING)
        )


def _note(changed: Changed, key: Key, columns: tuple[str, ...]) -> None:
    noted = changed.get(key)
    changed[key] = columns if noted is None else (*noted, *columns)


def _plan(tracked: Iterable[Tracked]) -> _Writes:
    writes = _Writes([], [], [], [], [], [], [], [])
    for t in tracked:
        order, stored = t.order, t.stored
        if order.id is None:
            writes.new_orders.append(order)
            _add_new(writes, order, order.logistic_orders)
            continue
        before = writes.count()
        _compare_children(writes, order, stored, t.changed)
        columns = _changed(order, stored.get((Entity.ORDER, order.id)), _ORDER_WRITTEN)
        if columns:
            _note(t.changed, (Entity.ORDER, order.id), columns)
        if columns or writes.count() != before:
            version = stored[(Entity.ORDER, order.id)]["version"]
            writes.versions.append((order, version, {c: order.__dict__[c] for c in columns}))
    return writes


def _add_new(writes: _Writes, order: CommercialOrder, added: Iterable[LogisticOrder]) -> None:
    for lo in added:
        writes.new_logistic_orders.append((order, lo))
        writes.new_lines += [(lo, line) for line in lo.lines]


def _compare_children(
    writes: _Writes, order: CommercialOrder, stored: Snapshot, noted: Changed
) -> None:
    """The inserts, updates and deletes of a stored order's logistic orders and lines (the
    columns each update writes noted in `noted`)."""
    present: set[tuple[Entity, Any]] = set()

    def compare(entity: Entity, obj: Any, columns: _Columns, updates: list[Any]) -> None:
        key = (entity, obj.id)
        present.add(key)
        changed = _changed(obj, stored.get(key), columns)
        if changed:
            updates.append((obj, changed))
            _note(noted, key, changed)

    for lo in order.logistic_orders:
        if lo.id is None:
            _add_new(writes, order, [lo])
            continue
        compare(Entity.LOGISTIC_ORDER, lo, _LO_WRITTEN, writes.logistic_order_updates)
        for line in lo.lines:
            if line.id is None:
                writes.new_lines.append((lo, line))
            else:
                compare(Entity.LINE, line, _LINE_WRITTEN, writes.line_updates)
    for entity, ident in stored:
        # Stored entities all have ids (a snapshot names an unsaved one by a text key).
        if entity is Entity.ORDER or (entity, ident) in present or not isinstance(ident, int):
            continue
        if entity is Entity.LINE:
            writes.removed_lines.append(ident)
        else:
            writes.removed_logistic_orders.append(ident)


# From this many changed lines, a flush that may (`overlap`) sends their UPDATE in the
# background and builds the orders' stored form meanwhile: PostgreSQL took 8.5 ms to write a
# thousand repriced lines, the stored form and the history's diff about as long in Python
# (stop 22). Under it, the hand-over to a thread costs more than it saves.
OVERLAP_FROM_LINES = 100


def flush(
    session: Session, tracked: Sequence[Tracked], *, overlap: bool = False
) -> Future[None] | None:
    """Write what changed in the tracked orders since they were read (or last flushed), and
    take their new state as the stored one. Every order that changed, through any of its
    entities, moves to the next version; if another writer moved it first (its version is
    no longer the one read), StaleWrite and nothing is written. The new stored state of an
    order the order cache keeps is its rows in the database's form (stored_form), built
    from what each statement wrote (`written`: the columns each written object's row got,
    by the object's id(); every column of a new row).

    `overlap`: the lines' UPDATE, when it is the flush's last statement and writes many
    lines, may still be running when this returns (PostgreSQL), and its Future is
    returned; the caller must wait for it before using the session again."""
    writes = _plan(tracked)
    written: dict[int, Sequence[str]] = {}
    c = commercial_orders.c
    for order, version, values in writes.versions:
        result = session.execute(
            update(commercial_orders)
            .where(c.id == order.id, c.version == version)
            .values(values | {"version": version + 1})
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleWrite(f"Order {order.id} is no longer at version {version}.")
        order.version = version + 1
        written[id(order)] = [*values, "version"]
    _delete(session, order_lines, writes.removed_lines)
    _delete(session, logistic_orders, writes.removed_logistic_orders)
    _update(session, logistic_orders, writes.logistic_order_updates, written)
    last = not (writes.new_orders or writes.new_logistic_orders or writes.new_lines)
    pending = _update(
        session,
        order_lines,
        writes.line_updates,
        written,
        in_background=overlap and last and len(writes.line_updates) >= OVERLAP_FROM_LINES,
    )
    _insert(session, commercial_orders, [(None, o) for o in writes.new_orders], None, written)
    _insert(session, logistic_orders, writes.new_logistic_orders, "commercial_order_id", written)
    _insert(session, order_lines, writes.new_lines, "logistic_order_id", written)
    dialect = session.get_bind().dialect
    try:
        for t in tracked:
            if t.kept:
                t.stored = after_flush(dialect, t.order, t.stored, written)
            else:
                t.stored = snapshot(t.order)
    except BaseException:
        if pending is not None:
            wait([pending])  # the session is not to be used (rolled back) before it is done
        raise
    return pending


def _delete(session: Session, table: Table, ids: list[int]) -> None:
    if ids:
        session.execute(delete(table).where(table.c.id.in_(ids)))


def _update(
    session: Session,
    table: Table,
    changed: Sequence[tuple[Any, tuple[str, ...]]],
    written: dict[int, Sequence[str]],
    *,
    in_background: bool = False,
) -> Future[None] | None:
    """One statement for every changed row of the table: each row's values for every column
    any of them changed (a value written again unchanged costs less than a statement). The
    lines (numbers, text, JSON) in one `UPDATE … FROM unnest` on PostgreSQL (`in_background`:
    update_by_id's); the logistic orders, few and with typed columns (status, dates), as an
    executemany."""
    if not changed:
        return None
    columns = sorted({column for _, columns in changed for column in columns})
    read = itemgetter(*columns)  # one C call per row (a value, for a single column)
    if len(columns) == 1:
        rows = [(obj.id, read(obj.__dict__)) for obj, _ in changed]
    else:
        rows = [(obj.id, *read(obj.__dict__)) for obj, _ in changed]
    written.update((id(obj), columns) for obj, _ in changed)
    if table is order_lines:
        return update_by_id(session, table, columns, rows, in_background=in_background)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in columns}),
        [dict(zip(("_id", *columns), row, strict=True)) for row in rows],
        execution_options={"synchronize_session": False},
    )
    return None


def _insert(
    session: Session,
    table: Table,
    new: Sequence[tuple[Any, Any]],
    parent_key: str | None,
    written: dict[int, Sequence[str]],
) -> None:
    """New rows, in one INSERT … RETURNING id, each given its parent's id (the parents are
    inserted first) and its own."""
    if not new:
        return
    columns = [col.key for col in table.c if col.key not in ("id", parent_key)]
    params = []
    for parent, obj in new:
        values = {name: obj.__dict__.get(name) for name in columns}
        if parent_key is not None:
            values[parent_key] = parent.id
            obj.__dict__[parent_key] = parent.id
        params.append(values)
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.execute(statement, params).scalars().all()
    every = tuple(table.c.keys())
    for (_, obj), new_id in zip(new, ids, strict=True):
        obj.id = new_id
        written[id(obj)] = every
