"""`bulk.one_of`, the id-list condition of the batch lookups (one array parameter on
PostgreSQL): text longer than its column never matches a stored value it starts with."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ordersync.adapters.db.bulk import one_of
from ordersync.adapters.db.tables import logistic_orders
from tests.api import create_order, put_lines

FULL_LENGTH = "R" * 40  # logistic_orders.reference is String(40)


def test_an_id_longer_than_its_column_matches_nothing_even_where_its_start_would(
    app: FastAPI, client: TestClient
) -> None:
    reference = create_order(client)
    assert put_lines(client, reference, [{"id": "OP-0001", "quantity": 1}]).status_code == 200
    engine = app.state.engine
    lo = logistic_orders.c
    with engine.begin() as conn:
        conn.execute(
            update(logistic_orders)
            .where(lo.reference == f"{reference}-1")
            .values(reference=FULL_LENGTH)
        )

    def found(values: list[str]) -> list[str]:
        query = select(lo.reference).where(one_of(engine.dialect, lo.reference, values))
        with engine.connect() as conn:
            return list(conn.scalars(query))

    assert found([FULL_LENGTH]) == [FULL_LENGTH]
    assert found([FULL_LENGTH + "-2", FULL_LENGTH + "X" * 200]) == []
    assert found([]) == []
