"""One unit of work per use case: a session, its repositories, one commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from ordersync.adapters.db.access_repository import AccessRepository
from ordersync.adapters.db.catalog_repository import CatalogRepository
from ordersync.adapters.db.order_repository import OrderRepository


class UnitOfWork:
    session: Session
    orders: OrderRepository
    catalog: CatalogRepository
    access: AccessRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        self.orders = OrderRepository(self.session)
        self.catalog = CatalogRepository(self.session)
        self.access = AccessRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends the transaction (rolling back anything not committed) without expiring
        # the loaded objects, so a read use case can return them.
        if exc_type is not None:
            self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()
