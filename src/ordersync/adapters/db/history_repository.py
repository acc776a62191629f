"""Order history rows: written many at a time (one statement per write), read a page at a
time, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.orm import Session

from ordersync.adapters.db.tables import order_history
from ordersync.domain.history import Actor, Change, Entity, HistoryEntry, Source

h = order_history.c


class HistoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entries: Sequence[HistoryEntry]) -> None:
        """One multi-row INSERT for every entry of the write."""
        if not entries:
            return
        self.session.execute(
            insert(order_history),
            [
                {
                    "order_id": e.order_id,
                    "at": e.at,
                    "actor_user_external_id": e.actor.user_external_id,
                    "actor_client_type": e.actor.client_type,
                    "source": e.source.value,
                    "job_id": e.job_id,
                    "line_number": e.line_number,
                    "request_id": e.actor.request_id,
                    "version_before": e.version_before,
                    "version_after": e.version_after,
                    "changes": list(e.changes),  # each Change a tuple: orjson writes it in C
                }
                for e in entries
            ],
        )

    def page(
        self, order_id: int, source: Source | None, offset: int, limit: int
    ) -> tuple[list[HistoryEntry], int]:
        conditions = [h.order_id == order_id]
        if source is not None:
            conditions.append(h.source == source.value)
        rows = self.session.execute(
            select(order_history)
            .where(*conditions)
            .order_by(h.id.desc())
            .offset(offset)
            .limit(limit)
        )
        total = self.session.scalar(select(func.count()).where(*conditions)) or 0
        return [_entry(r) for r in rows], int(total)


def _entry(r: Row[Any]) -> HistoryEntry:
    m = r._mapping
    return HistoryEntry(
        order_id=m["order_id"],
        at=m["at"],
        actor=Actor(m["actor_user_external_id"], m["actor_client_type"], m["request_id"]),
        source=Source(m["source"]),
        version_before=m["version_before"],
        version_after=m["version_after"],
        changes=tuple(map(_change, m["changes"])),
        job_id=m["job_id"],
        line_number=m["line_number"],
    )


_KEYS = ("entity", "id", "field", "before", "after")


def _change(stored: list[Any] | dict[str, Any]) -> Change:
    """A change as stored: `[entity, id, field, before, after]`, or, in entries written
    before stop 21, an object with those keys."""
    entity, ident, field, before, after = (
        [stored[key] for key in _KEYS] if isinstance(stored, dict) else stored
    )
    return (Entity(entity), ident, field, before, after)
