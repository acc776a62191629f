"""One unit of work per use case: a session, its repositories, one commit."""

from __future__ import annotations

from types import TracebackType

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ordersync.adapters.db.access_repository import AccessRepository
from ordersync.adapters.db.catalog_repository import CatalogRepository
from ordersync.adapters.db.engine import RETRY_AFTER_KEY
from ordersync.adapters.db.errors import is_unavailable
from ordersync.adapters.db.import_repository import ImportRepository
from ordersync.adapters.db.lease_repository import LeaseRepository
from ordersync.adapters.db.order_repository import OrderRepository
from ordersync.domain.errors import DuplicateValue, ErrorCode, ServiceUnavailable, StaleWrite

log = structlog.get_logger(__name__)


class UnitOfWork:
    session: Session
    orders: OrderRepository
    catalog: CatalogRepository
    access: AccessRepository
    leases: LeaseRepository
    imports: ImportRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        self.orders = OrderRepository(self.session)
        self.catalog = CatalogRepository(self.session)
        self.access = AccessRepository(self.session)
        self.leases = LeaseRepository(self.session)
        self.imports = ImportRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends the transaction (rolling back anything not committed) without expiring
        # the loaded objects, so a read use case can return them.
        try:
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

    def commit(self) -> None:
        """Commit, saying in the domain's words when another writer got there first."""
        try:
            self.session.commit()
        except StaleDataError as exc:
            raise StaleWrite(str(exc)) from exc
        except IntegrityError as exc:
            raise DuplicateValue(str(exc.orig)) from exc

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as exc:
            raise StaleWrite(str(exc)) from exc
