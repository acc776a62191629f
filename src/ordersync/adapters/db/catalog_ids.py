"""External id -> internal id, per table, for a data-bundle load."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

Row = dict[str, Any]

CHUNK = 5_000


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class IdCache:
    """External id -> internal id per table: what the database holds plus what this load
    inserted. A lookup selects only the ids not known yet, in chunks."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._known: dict[str, dict[str, int]] = defaultdict(dict)

    def lookup(self, table: Table, external_ids: Iterable[str]) -> dict[str, int]:
        known = self._known[table.name]
        missing = sorted(set(external_ids) - known.keys())
        for chunk in chunks(missing):
            stmt = select(table.c.external_id, table.c.id).where(table.c.external_id.in_(chunk))
            known.update((external_id, id_) for external_id, id_ in self._conn.execute(stmt))
        return known

    def remember(self, table: Table, ids: Iterable[tuple[str, int]]) -> None:
        self._known[table.name].update(ids)

    def get(self, table: Table, external_id: str) -> int:
        return self._known[table.name][external_id]


def upsert(conn: Connection, ids: IdCache, table: Table, rows: list[Row]) -> list[int]:
    """Insert the rows whose external id is new, update the others; their ids, in row order."""
    existing = ids.lookup(table, (row["external_id"] for row in rows))
    old = [
        {**row, "_id": existing[row["external_id"]]}
        for row in rows
        if row["external_id"] in existing
    ]
    new = [row for row in rows if row["external_id"] not in existing]
    if old:
        conn.execute(update(table).where(table.c.id == bindparam("_id")), old)
    if new:
        stmt = insert(table).returning(table.c.external_id, table.c.id)
        ids.remember(table, ((external_id, id_) for external_id, id_ in conn.execute(stmt, new)))
    return [ids.get(table, row["external_id"]) for row in rows]


def replace_links(
    conn: Connection, table: Table, parent: str, parent_ids: list[int], links: list[Row]
) -> None:
    for chunk in chunks(parent_ids):
        conn.execute(delete(table).where(table.c[parent].in_(chunk)))
    if links:
        conn.execute(insert(table), links)
