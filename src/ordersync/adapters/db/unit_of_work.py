"""One unit of work per use case: a session, its repositories, one commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import ParamSpec
from weakref import WeakMethod

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ordersync.adapters.db.access_repository import AccessRepository
from ordersync.adapters.db.catalog_cache import CatalogCache
from ordersync.adapters.db.catalog_repository import CatalogRepository
from ordersync.adapters.db.engine import HISTORY_KEY, RETRY_AFTER_KEY
from ordersync.adapters.db.errors import is_unavailable
from ordersync.adapters.db.history_repository import HistoryRepository
from ordersync.adapters.db.idempotency_repository import IdempotencyRepository
from ordersync.adapters.db.import_repository import ImportRepository
from ordersync.adapters.db.lease_repository import LeaseRepository
from ordersync.adapters.db.order_cache import OrderCache
from ordersync.adapters.db.order_repository import OrderRepository
from ordersync.domain.errors import (
    CatalogChanged,
    DuplicateValue,
    ErrorCode,
    ServiceUnavailable,
)
from ordersync.domain.history import Actor, HistoryEntry, Source, diff

log = structlog.get_logger(__name__)
P = ParamSpec("P")


def _weak(method: Callable[P, None]) -> Callable[P, None]:
    """A callback calling `method` while its object lives, holding it weakly."""
    ref = WeakMethod(method)

    def call(*args: P.args, **kwargs: P.kwargs) -> None:
        target = ref()
        if target is not None:
            target(*args, **kwargs)

    return call


class UnitOfWork:
    session: Session
    orders: OrderRepository
    catalog: CatalogRepository
    access: AccessRepository
    leases: LeaseRepository
    imports: ImportRepository
    idempotency: IdempotencyRepository
    history: HistoryRepository

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        actor: Actor | None = None,
        cache: CatalogCache | None = None,
        cached_under: int | None = None,
        orders: OrderCache | None = None,
    ) -> None:
        """`cache`: the process's catalog cache (None: read everything from the database).
        `cached_under`: the catalog version the request's caller was read from the cache
        under, if it was. `orders`: the process's order cache (None: none)."""
        self.session_factory = session_factory
        self.actor = actor or Actor(None, None)
        self.cache = cache
        self.cached_under = cached_under
        self.order_cache = orders

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        # The version each tier of cached values used here was read under (the caller, if
        # it came from the cache, under its access version).
        self._used_under: dict[str, int | None] = (
            {} if self.cached_under is None else {"access": self.cached_under}
        )
        self._observed = False
        self._bumped: tuple[int, int] | None = None
        # Whether writes record order history (the setting, carried by the session factory).
        self.history_enabled = bool(self.session.info.get(HISTORY_KEY, True))
        # The repositories call back through weak references: a strong one would make a
        # cycle (unit of work -> repository -> bound method -> unit of work) that only the
        # garbage collector frees, and with it everything the unit of work read (a big
        # order's lines and their snapshots) would outlive the request until a full
        # collection, which then takes tens of milliseconds.
        observe = _weak(self.observe_catalog_version)
        cache_hit = _weak(self._cache_hit)
        self.orders = OrderRepository(self.session, observe, self.order_cache)
        self.catalog = CatalogRepository(self.session, self.cache, cache_hit)
        self.access = AccessRepository(self.session, self.cache, cache_hit)
        self.leases = LeaseRepository(self.session)
        self.imports = ImportRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.history = HistoryRepository(self.session)
        return self

    def _cache_hit(self, tier: str) -> None:
        if self.cache is not None and tier not in self._used_under:
            self._used_under[tier] = self.cache.under(tier)

    def observe_catalog_version(self, version: int, access_version: int) -> None:
        """The catalog versions a query of this unit of work read. If cached values were
        used under other versions, they may be stale: their tier is dropped and
        CatalogChanged makes the request run again on fresh values."""
        self._observed = True
        if self.cache is None:
            return
        now = {"offers": version, "access": access_version}
        stale = any(now[tier] != under for tier, under in self._used_under.items())
        self.cache.observe(version, access_version)
        if stale:
            raise CatalogChanged(f"catalog versions {self._used_under} -> {now}")

    def catalog_bumped(self, version: int, access_version: int) -> None:
        """This unit of work loads a bundle: the catalog is at these versions once it
        commits (its own change, not a stale read). From now on it reads the catalog from
        its own transaction, never the cache, which follows when it commits."""
        self._observed = True
        self._used_under = {}
        self._bumped = (version, access_version)
        self.catalog.cache = None
        self.access.cache = None

    def _check_catalog(self) -> None:
        """Cached values were used and no query carried the version: read it now."""
        if self._observed or self.cache is None:
            return
        # Also while the cache does not know the versions yet: what it keeps from this unit
        # of work must be filed under the right ones.
        if self._used_under or self.cache.access_version is None:
            self.orders.observe_now()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends the transaction (rolling back anything not committed) without expiring
        # the loaded objects, so a read use case can return them.
        try:
            if exc_type is None:
                self._check_catalog()
            if exc_type is not None:
                self.session.rollback()
        except Exception as rollback_failure:
            # The connection can die under the rollback too: still a 503, not a 500.
            self._raise_if_unavailable(rollback_failure)
            raise
        finally:
            self.session.close()
        if exc is not None:
            self._raise_if_unavailable(exc)

    def _raise_if_unavailable(self, exc: BaseException) -> None:
        """A failure meaning the database cannot serve now (pool exhausted, server down or
        unreachable, SQLite file locked) becomes the domain's DATABASE_UNAVAILABLE."""
        if not is_unavailable(exc):
            return
        cause = getattr(exc, "orig", None) or exc
        log.warning(
            "database_unavailable",
            error=type(cause).__name__,
            detail=str(cause).split("\n", 1)[0],
        )
        error = ServiceUnavailable(
            ErrorCode.DATABASE_UNAVAILABLE, "The database cannot serve requests now; retry later."
        )
        error.retry_after = self.session.info.get(RETRY_AFTER_KEY, error.retry_after)
        raise error from exc

    def commit(self, source: Source | None = None) -> None:
        """Commit, with one history entry per order this unit of work wrote (SPEC §7): the
        write's `source`, the actor, the versions and the field changes, in the same
        transaction. Says in the domain's words when another writer got there first.

        The history's changes are worked out while PostgreSQL still writes a big order's
        lines (the flush's `overlap`), then written once it is done."""
        try:
            self._check_catalog()
            try:
                self.orders.flush(overlap=True)  # versions bumped, new entities given ids
                entries = self._history_entries(source) if self.history_enabled else []
            finally:
                self.orders.settle()
            self.history.add(entries)
            self.session.commit()
            self.orders.committed()
            if self._bumped is not None and self.cache is not None:
                self.cache.observe(*self._bumped)
        except IntegrityError as exc:
            raise DuplicateValue(str(exc.orig)) from exc

    def _history_entries(self, source: Source | None) -> list[HistoryEntry]:
        now = datetime.now(UTC)
        entries = []
        for t in self.orders.tracked:
            assert t.order.id is not None
            changes = diff(t.before, t.stored, t.changed)
            if not changes:
                continue
            if source is None:
                raise AssertionError("a write to an order must say its source for its history")
            entries.append(
                HistoryEntry(
                    t.order.id,
                    now,
                    self.actor,
                    source,
                    t.version_before,
                    t.order.version,
                    tuple(changes),
                )
            )
        return entries

    def flush(self) -> None:
        """Write the orders' changes now (new ones get their ids), before the commit."""
        self.orders.flush()
