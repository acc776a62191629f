"""Idempotency keys (SPEC §7) as the HTTP edge uses them: take a key for a request, keep it
while the request runs, then store the answer (or let the key go)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.idempotency import HeldKey, KeyClaim, StoredAnswer
from ordersync.services.order_context import utcnow

UowFactory = Callable[[], UnitOfWork]


class IdempotencyKeys:
    """Each call is one short transaction of its own, never the request's: a key is visible
    to every process as soon as it is taken, and its answer as soon as it is stored."""

    def __init__(self, uow_factory: UowFactory, ttl_s: float, lock_s: float) -> None:
        self.uow_factory = uow_factory
        self.ttl = timedelta(seconds=ttl_s)
        self.lock = timedelta(seconds=lock_s)

    def claim(self, user_id: int, key: str, request_hash: str) -> KeyClaim | HeldKey:
        """The key, taken for this request (and a few expired keys purged in the same
        transaction); or, when another request holds it, what holds it."""
        claim = KeyClaim(user_id, key, request_hash, uuid.uuid4().hex)
        now = utcnow()
        with self.uow_factory() as uow:
            held = uow.idempotency.claim(claim, now, now + self.lock, now + self.ttl)
            if held is None:
                uow.idempotency.purge_expired(now)
            uow.commit()
        return claim if held is None else held

    def renew(self, claim: KeyClaim) -> bool:
        """Push the key's lock forward; False when this request holds it no more (its lock
        ran out and a repeat took it over)."""
        with self.uow_factory() as uow:
            held = uow.idempotency.renew(claim, utcnow() + self.lock)
            uow.commit()
        return held

    def complete(self, claim: KeyClaim, answer: StoredAnswer) -> bool:
        """Store the answer; repeats get it from now on. False when the key was taken over."""
        with self.uow_factory() as uow:
            stored = uow.idempotency.complete(claim, answer)
            uow.commit()
        return stored

    def release(self, claim: KeyClaim) -> None:
        """Let the key go (a 5xx, or no answer at all): the client may retry with it."""
        with self.uow_factory() as uow:
            uow.idempotency.release(claim)
            uow.commit()
