"""Leases: a row per order that one holder at a time may own until it expires (the CPQ push
keeps one push in flight per order with it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ordersync.adapters.db.tables import cpq_push_leases


class LeaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self, order_id: int, holder: str, now: datetime, expires_at: datetime) -> bool:
        """Take the order's lease if nobody holds it or the holder's lease has expired: one
        INSERT … ON CONFLICT DO UPDATE … WHERE expired, atomic on both databases."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(cpq_push_leases).values(
            order_id=order_id, holder=holder, expires_at=expires_at
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[cpq_push_leases.c.order_id],
            set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
            where=cpq_push_leases.c.expires_at < now,
        ).returning(cpq_push_leases.c.holder)
        return self.session.execute(upsert).scalar() == holder

    def release(self, order_id: int, holder: str) -> None:
        self.session.execute(
            delete(cpq_push_leases).where(
                cpq_push_leases.c.order_id == order_id, cpq_push_leases.c.holder == holder
            )
        )
