"""Loading and saving the order aggregate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ScalarSelect, Select, exists, func, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ordersync.adapters.db.bulk import update_by_id
from ordersync.adapters.db.tables import (
    catalog_state,
    commercial_orders,
    logistic_orders,
    order_lines,
)
from ordersync.domain.history import Snapshot, snapshot
from ordersync.domain.orders import (
    CommercialOrder,
    LogisticOrder,
    OrderIdType,
    OrderLine,
    OrderRecord,
)

MAX_ID = 2**31 - 1
# From this many changed lines a commit writes them in one statement (PostgreSQL): below it,
# the ORM's pipelined UPDATEs cost no more.
BULK_LINES = 20
# Columns a bulk write leaves to the ORM (its unit of work orders them against the
# INSERTs and DELETEs of the same flush, which the unique constraints need).
_ORM_ONLY = frozenset({"id", "logistic_order_id", "offer_price_id", "external_id"})
_LINE_COLUMNS = frozenset(order_lines.c.keys())


def _with_lines(query: Select[Any], locking: bool) -> Select[Any]:
    """The order with its logistic orders and lines, whatever their number: in one statement
    (joined) to read, in two to lock. A locking SELECT that waited for another writer sees
    that writer's version of the rows it locks, but its joined rows come from the snapshot
    it started with: the logistic orders and lines are read (joined) once the lock is held."""
    if locking:
        return query.options(
            selectinload(CommercialOrder.logistic_orders).joinedload(LogisticOrder.lines)  # type: ignore[arg-type]
        )
    return query.options(
        joinedload(CommercialOrder.logistic_orders).joinedload(LogisticOrder.lines)  # type: ignore[arg-type]
    )


def catalog_versions() -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """The catalog's (version, access version) as two more columns of a query made anyway:
    checking the cached catalog costs no round trip of its own."""
    c = catalog_state.c
    return (
        select(func.coalesce(func.max(c.version), 0)).where(c.id == 1).scalar_subquery(),
        select(func.coalesce(func.max(c.access_version), 0)).where(c.id == 1).scalar_subquery(),
    )


Observe = Callable[[int, int], None]


class OrderRepository:
    def __init__(
        self, session: Session, observe: Observe | None = None, track: bool = True
    ) -> None:
        self.session = session
        self.observe: Observe = observe or (lambda _version, _access: None)
        self.track = track  # False: history is off, nothing to snapshot
        # Orders loaded to be written (or added), with how they were: the unit of work
        # records their history at commit.
        self.tracked: list[tuple[CommercialOrder, Snapshot, int]] = []

    def write_changed_lines(self) -> None:
        """Before a commit: on PostgreSQL, when many lines changed (a synchronise that
        reprices a big order), write them in one `UPDATE … FROM unnest` instead of the ORM's
        statement per line, then tell the ORM those values are stored. Left to the ORM: few
        lines, SQLite, a flush that also deletes lines, and changes of the identifying
        columns (their order against inserts and deletes matters)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        if any(isinstance(o, OrderLine) for o in self.session.deleted):
            return
        changed: list[tuple[OrderLine, frozenset[str]]] = []
        for obj in self.session.dirty:
            if isinstance(obj, OrderLine):
                keys = frozenset(inspect(obj).committed_state) & _LINE_COLUMNS
                if keys & _ORM_ONLY:
                    return
                if keys:
                    changed.append((obj, keys))
        if len(changed) < BULK_LINES:
            return
        columns = sorted(frozenset().union(*(keys for _, keys in changed)))
        try:
            rows = [(line.id, *(line.__dict__[c] for c in columns)) for line, _ in changed]
        except KeyError:
            return  # a value not loaded (expired by an earlier flush): the ORM reads it
        update_by_id(self.session, order_lines, columns, rows)
        for line, keys in changed:
            for key in keys:
                set_committed_value(line, key, line.__dict__[key])

    def relock(self, order: CommercialOrder, seen_version: int) -> CommercialOrder | None:
        """The order read (unlocked) before a call to an outside system, locked and taken
        into this unit of work if its version is still `seen_version`: one statement, its
        lines not read again (every writer of an order moves its version, so an unmoved
        version means unchanged rows). None if it moved or is gone: read it again."""
        c = commercial_orders.c
        query = select(c.version, *catalog_versions()).where(c.id == order.id)
        row = self.session.execute(query.with_for_update(of=commercial_orders)).first()
        if row is None:
            self.observe_now()
            return None
        version, catalog_version, access_version = row
        self.observe(catalog_version, access_version)
        if version != seen_version or order.version != seen_version:
            return None
        self.session.add(order)  # with its logistic orders and lines, as loaded: no SQL
        return self._tracking(order)

    def add(self, order: CommercialOrder) -> None:
        self.session.add(order)
        if self.track:
            self.tracked.append((order, {}, 0))

    def _tracking(self, order: CommercialOrder | None) -> CommercialOrder | None:
        if self.track and order is not None and all(o is not order for o, _, _ in self.tracked):
            self.tracked.append((order, snapshot(order), order.version))
        return order

    def _first_order(self, query: Select[Any], locking: bool = False) -> CommercialOrder | None:
        query = _with_lines(query.add_columns(*catalog_versions()), locking)
        row = self.session.execute(query).unique().first()
        if row is None:
            self.observe_now()
            return None
        order, version, access_version = row
        self.observe(version, access_version)
        return order  # type: ignore[no-any-return]

    def observe_now(self) -> None:
        """Read the catalog versions on their own (when no order query carried them)."""
        version, access_version = self.session.execute(select(*catalog_versions())).one()
        self.observe(int(version or 0), int(access_version or 0))

    def record(
        self,
        order_id: str,
        *,
        id_type: OrderIdType = OrderIdType.REFERENCE,
        account_id: int | None = None,
        store_id: int | None = None,
    ) -> OrderRecord | None:
        """The order as stored, for reading only: one statement, no ORM, no transaction."""
        # Imported here: order_views builds on this module's catalog_version.
        from ordersync.adapters.db.order_views import order_record

        record, versions = order_record(self.session, order_id, id_type, account_id, store_id)
        self.observe(*versions)
        return record

    def reference_taken(self, reference: str) -> bool:
        taken, version, access_version = self.session.execute(
            select(exists().where(commercial_orders.c.reference == reference), *catalog_versions())
        ).one()
        self.observe(version, access_version)
        return bool(taken)

    def existing_external_ids(self, external_ids: list[str]) -> set[str]:
        if not external_ids:
            return set()
        c = commercial_orders.c
        return set(
            self.session.scalars(select(c.external_id).where(c.external_id.in_(external_ids)))
        )

    def owning(
        self, logistic_reference: str, *, for_update: bool = False
    ) -> CommercialOrder | None:
        """The commercial order holding a logistic order, with all its lines."""
        query = select(CommercialOrder).where(
            commercial_orders.c.id.in_(
                select(logistic_orders.c.commercial_order_id).where(
                    logistic_orders.c.reference == logistic_reference
                )
            )
        )
        if not for_update:
            return self._first_order(query)
        query = query.with_for_update(of=commercial_orders)
        return self._tracking(self._first_order(query, locking=True))

    def id_of(
        self, reference: str, *, account_id: int | None = None, store_id: int | None = None
    ) -> int | None:
        """The id of the order with that reference (in that account and store, if given)."""
        c = commercial_orders.c
        query = select(c.id, *catalog_versions()).where(c.reference == reference)
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        if store_id is not None:
            query = query.where(c.store_id == store_id)
        row = self.session.execute(query).first()
        if row is None:
            self.observe_now()
            return None
        self.observe(row[1], row[2])
        return int(row[0])

    def logistic_external_id_taken(self, external_id: str) -> bool:
        return bool(
            self.session.scalar(
                select(exists().where(logistic_orders.c.external_id == external_id))
            )
        )

    def get(
        self,
        order_id: str,
        *,
        id_type: OrderIdType = OrderIdType.REFERENCE,
        account_id: int | None = None,
        store_id: int | None = None,
        for_update: bool = False,
    ) -> CommercialOrder | None:
        """One order with its logistic orders and lines, scoped to the account and store when
        given (another account's order is simply not found)."""
        c = commercial_orders.c
        query = select(CommercialOrder)
        if id_type is OrderIdType.DJUST_ID:
            # Ids are 32-bit integers: anything else names no order (and must not reach the
            # driver as an out-of-range parameter).
            if not (order_id.isascii() and order_id.isdigit()) or int(order_id) > MAX_ID:
                return None
            query = query.where(c.id == int(order_id))
        elif id_type is OrderIdType.EXTERNAL_ID:
            query = query.where(c.external_id == order_id)
        else:
            query = query.where(c.reference == order_id)
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        if store_id is not None:
            query = query.where(c.store_id == store_id)
        if not for_update:
            return self._first_order(query)
        # Serialises writers of one order on PostgreSQL; SQLite already holds the database
        # write lock (BEGIN IMMEDIATE).
        query = query.with_for_update(of=commercial_orders)
        return self._tracking(self._first_order(query, locking=True))
