"""Loading and saving the order aggregate."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy import ScalarSelect, Select, exists, func, select
from sqlalchemy.orm import Session

from ordersync.adapters.db.order_cache import OrderCache
from ordersync.adapters.db.order_rows import (
    ORDER_COLUMNS,
    Tracked,
    attach_logistic_orders,
    flush,
    order_from_row,
)
from ordersync.adapters.db.tables import (
    catalog_state,
    commercial_orders,
    logistic_orders,
)
from ordersync.domain.history import Snapshot, snapshot
from ordersync.domain.orders import CommercialOrder, OrderIdType, OrderRecord

MAX_ID = 2**31 - 1
# A unit of work that takes more orders than this for writing (a bundle load) leaves the
# rest out of the process's order cache: keeping them would cost it time for no later hit.
CACHED_PER_UNIT = 4


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
        self, session: Session, observe: Observe | None = None, cache: OrderCache | None = None
    ) -> None:
        self.session = session
        self.observe: Observe = observe or (lambda _version, _access: None)
        self.cache = cache
        # Orders of this unit of work that may be written (locked, or new): flush writes
        # what changed in them, and the unit of work records their history at commit.
        self.tracked: list[Tracked] = []
        # The same, by the order object and by stored id: a bundle load adds thousands.
        self._tracked_objects: set[int] = set()
        self._tracked_ids: dict[int, CommercialOrder] = {}
        # The lines' UPDATE of a flush made with `overlap`, while it runs.
        self._pending: Future[None] | None = None

    def flush(self, *, overlap: bool = False) -> None:
        """Write the tracked orders' changes (order_rows.flush); new orders get their ids.
        `overlap`: the lines' UPDATE may still be running on return; `settle` waits for it,
        and must be called before the session is used again."""
        self.settle()
        self._pending = flush(self.session, self.tracked, overlap=overlap)
        for t in self.tracked:
            if t.order.id is not None:
                self._tracked_ids.setdefault(t.order.id, t.order)

    def settle(self) -> None:
        """Wait for the statement a flush left running, if any; raises its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def committed(self) -> None:
        """The transaction committed: what is stored now is the next write's before."""
        for t in self.tracked:
            t.before = t.stored
            t.changed = {}
            t.version_before = t.order.version
            if t.kept and self.cache is not None:
                self.cache.keep(t.stored)

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
        return self._tracking(order)  # with its logistic orders and lines, as read: no SQL

    def add(self, order: CommercialOrder) -> None:
        """A new order, inserted at the next flush."""
        if id(order) not in self._tracked_objects:
            self._tracked_objects.add(id(order))
            self.tracked.append(Tracked(order, {}, {}, 0))

    def _tracking(self, order: CommercialOrder, taken: Snapshot | None = None) -> CommercialOrder:
        """The order, from now on written at flush (`taken`: its snapshot as read, if
        known). Read twice in one unit of work, the order is the one first taken (with the
        changes made to it since)."""
        assert order.id is not None
        if id(order) in self._tracked_objects:
            return order
        first = self._tracked_ids.get(order.id)
        if first is not None:
            return first
        if taken is None:
            taken = snapshot(order)
        self._tracked_objects.add(id(order))
        self._tracked_ids[order.id] = order
        kept = self.cache is not None and len(self.tracked) < CACHED_PER_UNIT
        self.tracked.append(Tracked(order, taken, taken, order.version, kept))
        return order

    def _first_order(self, query: Select[Any], locking: bool = False) -> CommercialOrder | None:
        """The first order `query` (on `commercial_orders`) finds, with its logistic orders
        and lines: two or three statements, or one when the process's order cache keeps the
        rows of exactly the order row read (order_cache). A locking SELECT that waited for
        another writer sees that writer's version of the rows it locks, but rows joined to
        them would come from the snapshot it started with: the logistic orders and lines are
        read once the lock is held."""
        query = query.add_columns(*catalog_versions())
        if locking:
            query = query.with_for_update(of=commercial_orders)
        row = self.session.execute(query).first()
        if row is None:
            self.observe_now()
            return None
        split = len(ORDER_COLUMNS)
        self.observe(row[split], row[split + 1])
        hit = self.cache.order(row[:split]) if self.cache is not None else None
        if hit is not None:
            return self._tracking(*hit) if locking else hit[0]
        order = order_from_row(row[:split])
        attach_logistic_orders(self.session, [order])
        if not locking:
            return order
        taken = self._tracking(order)
        if self.cache is not None and self.tracked[-1].order is order and self.tracked[-1].kept:
            self.cache.keep(self.tracked[-1].stored)  # read under the lock: as committed
        return taken

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
        query = select(commercial_orders).where(
            commercial_orders.c.id.in_(
                select(logistic_orders.c.commercial_order_id).where(
                    logistic_orders.c.reference == logistic_reference
                )
            )
        )
        return self._first_order(query, locking=for_update)

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
        query = select(commercial_orders)
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
        # Locking serialises writers of one order on PostgreSQL; SQLite already holds the
        # database write lock (BEGIN IMMEDIATE).
        return self._first_order(query, locking=for_update)
