"""Idempotency keys in the database, so they hold across processes and machines: claim a
key (or learn what holds it), keep its lock, store its answer, release it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ordersync.adapters.db.tables import idempotency_keys as keys
from ordersync.domain.idempotency import HeldKey, KeyClaim, KeyState, StoredAnswer

# Expired rows one new key's transaction deletes at most: a bounded, index-driven DELETE
# (on expires_at) that keeps the table from growing while costing a new key next to nothing.
# Each new key removes up to this many, so expired rows cannot outpace new ones.
PURGE_BATCH = 100


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(
        self, claim: KeyClaim, now: datetime, locked_until: datetime, expires_at: datetime
    ) -> HeldKey | None:
        """Take the key for `claim` (None) or say what holds it. One INSERT … ON CONFLICT DO
        UPDATE, atomic on both databases: it takes a new key, an expired one, or one whose
        first request (the same request) stopped renewing its lock."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(keys).values(
            user_id=claim.user_id,
            key=claim.key,
            request_hash=claim.request_hash,
            state=KeyState.IN_PROGRESS.value,
            holder=claim.holder,
            created_at=now,
            expires_at=expires_at,
            locked_until=locked_until,
        )
        taken_over = (keys.c.expires_at <= now) | (
            (keys.c.state == KeyState.IN_PROGRESS.value)
            & (keys.c.locked_until <= now)
            & (keys.c.request_hash == stmt.excluded.request_hash)
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[keys.c.user_id, keys.c.key],
            set_={
                "request_hash": stmt.excluded.request_hash,
                "state": stmt.excluded.state,
                "holder": stmt.excluded.holder,
                "response_status": None,
                "response_headers": None,
                "response_body": None,
                "created_at": stmt.excluded.created_at,
                "expires_at": stmt.excluded.expires_at,
                "locked_until": stmt.excluded.locked_until,
            },
            where=taken_over,
        ).returning(keys.c.holder)
        if self.session.execute(upsert).scalar() == claim.holder:
            return None
        # Not taken: the conflicting row is locked by the upsert until this transaction
        # ends, so it is still there to read.
        row = self.session.execute(
            select(
                keys.c.request_hash,
                keys.c.state,
                keys.c.response_status,
                keys.c.response_headers,
                keys.c.response_body,
            ).where(keys.c.user_id == claim.user_id, keys.c.key == claim.key)
        ).one()
        answer = None
        if row.state == KeyState.COMPLETED.value and row.response_status is not None:
            answer = StoredAnswer(
                row.response_status,
                tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in row.response_headers),
                bytes(row.response_body or b""),
            )
        return HeldKey(row.request_hash, KeyState(row.state), answer)

    def purge_expired(self, now: datetime) -> int:
        """Delete up to PURGE_BATCH expired keys; rows another transaction is purging are
        skipped (PostgreSQL), not waited for."""
        expired = (
            select(keys.c.user_id, keys.c.key)
            .where(keys.c.expires_at <= now)
            .limit(PURGE_BATCH)
            .with_for_update(skip_locked=True)
        )
        result = self.session.execute(
            delete(keys).where(tuple_(keys.c.user_id, keys.c.key).in_(expired))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, claim: KeyClaim, locked_until: datetime) -> bool:
        """Push the lock of a key this claim still holds; False if it holds it no more."""
        result = self.session.execute(
            update(keys)
            .where(*self._held_by(claim), keys.c.state == KeyState.IN_PROGRESS.value)
            .values(locked_until=locked_until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def complete(self, claim: KeyClaim, answer: StoredAnswer) -> bool:
        result = self.session.execute(
            update(keys)
            .where(*self._held_by(claim), keys.c.state == KeyState.IN_PROGRESS.value)
            .values(
                state=KeyState.COMPLETED.value,
                response_status=answer.status,
                response_headers=[
                    [n.decode("latin-1"), v.decode("latin-1")] for n, v in answer.headers
                ],
                response_body=answer.body,
                locked_until=None,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, claim: KeyClaim) -> None:
        self.session.execute(
            delete(keys).where(*self._held_by(claim), keys.c.state == KeyState.IN_PROGRESS.value)
        )

    @staticmethod
    def _held_by(claim: KeyClaim) -> tuple[ColumnElement[bool], ...]:
        return (
            keys.c.user_id == claim.user_id,
            keys.c.key == claim.key,
            keys.c.holder == claim.holder,
        )
