"""adapters/db/bulk.py, whose statements send one array per column on PostgreSQL: text
longer than its column never matches a stored value it starts with, and is never written
cut short."""

from __future__ import annotations

from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ordersync.adapters.db.bulk import one_of, update_by_id
from ordersync.adapters.db.tables import logistic_orders, order_lines
from tests.integration.operator_helpers import order_with

FULL_LENGTH = "R" * 40  # logistic_orders.reference is String(40)


def test_an_id_longer_than_its_column_matches_nothing_even_where_its_start_would(
    app: FastAPI, client: TestClient
) -> None:
    reference = order_with(client, ["OP-0001"])
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


def test_a_value_longer_than_its_column_is_refused_or_kept_whole_never_cut_short(
    app: FastAPI, client: TestClient
) -> None:
    order_with(client, ["OP-0001"])
    engine = app.state.engine
    ln = order_lines.c
    with engine.connect() as conn:
        line_id, before = conn.execute(select(ln.id, ln.variant_name)).one()
    too_long = "N" * 600  # variant_name is String(512)
    with Session(engine) as session:
        try:
            update_by_id(session, order_lines, ["variant_name"], [(line_id, too_long)])
            session.commit()
        except DBAPIError:  # PostgreSQL: value too long for type character varying(512)
            session.rollback()
    with engine.connect() as conn:
        stored = conn.scalar(select(ln.variant_name).where(ln.id == line_id))
    assert stored in (before, too_long)  # SQLite does not enforce lengths


def test_values_of_every_kind_are_written_as_given(app: FastAPI, client: TestClient) -> None:
    """On PostgreSQL each column goes as one array in its text form: quotes, backslashes,
    braces, commas, a "NULL" that is text, None, numbers and JSON all arrive as they were."""
    order_with(client, ["OP-0001"])
    engine = app.state.engine
    ln = order_lines.c
    with engine.connect() as conn:
        line_id = conn.scalar(select(ln.id))
    awkward = 'a "quoted", {braced} \\ back\\slash\nNULL é 😀'
    values = {
        "variant_name": "NULL",
        "variant_description": awkward,
        "classification_external_id": None,
        "quantity": 7,
        "tax_amount": Decimal("1.2345"),
        "custom_fields": {"note": awkward, "n": 1, "none": None},
    }
    with Session(engine) as session:
        update_by_id(session, order_lines, list(values), [(line_id, *values.values())])
        session.commit()
    with engine.connect() as conn:
        stored = conn.execute(select(*(ln[name] for name in values)).where(ln.id == line_id)).one()
    assert dict(zip(values, stored, strict=True)) == values
