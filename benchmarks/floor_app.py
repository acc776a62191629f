"""The floor of benchmarks/api.py: a bare FastAPI app doing the reads (and the one write)
ordersync's GET of an order and update of one line need at most, and nothing else.

No ordersync code: the only thing it shares with ordersync is the database (the URL comes
from FLOOR_DATABASE_URL). It is served by uvicorn as a process of its own:

    FLOOR_DATABASE_URL=postgresql+psycopg://... .venv/bin/python -m uvicorn \
        --app-dir benchmarks floor_app:create_app --factory \
        --http httptools --no-access-log --workers 1 --port 8001

Endpoints (header `dj-api-key`, and `dj-client` which must be the user's client type):

- GET /floor/orders/{reference}: four queries in one transaction: the caller by the
  SHA-256 hex of its key (users joined to user_accounts: the user's accounts), the
  commercial order by reference scoped to those accounts, its logistic orders, their lines;
  answers every column of the three as JSON (orjson; decimals as strings, datetimes ISO),
  the logistic orders nested in the order and the lines in their logistic order. 404 if the
  order is not the caller's, 401 for an unknown key or another client type.
- PUT /floor/orders/{reference}/lines with `{"id": <offer price external id>, "quantity": n}`:
  the same four reads, then one `UPDATE order_lines SET quantity = ...` of that line, and
  the commit; answers `[]` (404 if the order has no such line).

Honest on purpose: no cache of any kind (the caller is looked up on every request, as the
order is), SQLAlchemy Core on a pooled psycopg 3 engine sized as ordersync's default pool
(FLOOR_DB_POOL_SIZE, FLOOR_DB_MAX_OVERFLOW; 5 and 5), synchronous endpoints run on the
thread pool as ordersync's are, one transaction per request. The tables are reflected from
the database once per process at start-up, so "every column" is whatever the schema holds.
Unlike ordersync's engine it does not ping a connection before each checkout: the floor is
the least a request has to do.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Header, HTTPException, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, MetaData, Result, Table, create_engine, select, update

TABLES = ("users", "user_accounts", "commercial_orders", "logistic_orders", "order_lines")


class LineIn(BaseModel):
    id: str
    quantity: int


class Schema:
    """The five tables, reflected from the database."""

    def __init__(self, engine: Engine) -> None:
        metadata = MetaData()
        metadata.reflect(engine, only=TABLES)
        self.users: Table = metadata.tables["users"]
        self.user_accounts: Table = metadata.tables["user_accounts"]
        self.orders: Table = metadata.tables["commercial_orders"]
        self.logistic_orders: Table = metadata.tables["logistic_orders"]
        self.lines: Table = metadata.tables["order_lines"]


def database_url() -> str:
    url = os.environ["FLOOR_DATABASE_URL"]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(content: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(content, default=_default),
        status_code=status_code,
        media_type="application/json",
    )


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Each row as {column: value}. The keys are made plain `str`: reflected names are a
    subclass of it, which orjson refuses as a key."""
    keys = list(map(str, result.keys()))
    return [dict(zip(keys, row, strict=True)) for row in result]


def create_app() -> FastAPI:
    """uvicorn's factory: one engine and one reflected schema per worker process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            database_url(),
            pool_size=int(os.environ.get("FLOOR_DB_POOL_SIZE", "5")),
            max_overflow=int(os.environ.get("FLOOR_DB_MAX_OVERFLOW", "5")),
        )
        app.state.engine = engine
        app.state.schema = Schema(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(lifespan=lifespan)

    def read_order(
        conn: Connection, schema: Schema, reference: str, api_key: str | None, client: str | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        """The four reads: (the order's columns, its logistic orders' columns, their lines)."""
        if not api_key:
            raise HTTPException(401, "Missing API key")
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        users, user_accounts = schema.users, schema.user_accounts
        caller = conn.execute(
            select(users.c.id, users.c.client_type, user_accounts.c.account_id)
            .select_from(users.outerjoin(user_accounts, user_accounts.c.user_id == users.c.id))
            .where(users.c.api_key_hash == digest)
            .order_by(user_accounts.c.position)
        ).all()
        if not caller or caller[0].client_type != client:
            raise HTTPException(401, "Unknown API key")
        account_ids = [row.account_id for row in caller if row.account_id is not None]
        orders = schema.orders
        result = conn.execute(
            select(orders).where(
                orders.c.reference == reference, orders.c.account_id.in_(account_ids)
            )
        )
        order = _dicts(result)
        if not order:
            raise HTTPException(404, f"No commercial order {reference}")
        logistic = _dicts(
            conn.execute(
                select(schema.logistic_orders)
                .where(schema.logistic_orders.c.commercial_order_id == order[0]["id"])
                .order_by(schema.logistic_orders.c.id)
            )
        )
        lines = _dicts(
            conn.execute(
                select(schema.lines)
                .where(schema.lines.c.logistic_order_id.in_([lo["id"] for lo in logistic]))
                .order_by(schema.lines.c.id)
            )
        )
        return order[0], logistic, lines

    def nest(
        order: dict[str, Any], logistic: list[dict[str, Any]], lines: list[dict[str, Any]]
    ) -> dict[str, Any]:
        by_logistic: dict[int, list[dict[str, Any]]] = {lo["id"]: [] for lo in logistic}
        for line in lines:
            by_logistic[line["logistic_order_id"]].append(line)
        order["logistic_orders"] = [{**lo, "lines": by_logistic[lo["id"]]} for lo in logistic]
        return order

    @app.get("/floor/orders/{reference}")
    def get_order(
        reference: str,
        request: Request,
        dj_api_key: Annotated[str | None, Header()] = None,
        dj_client: Annotated[str | None, Header()] = None,
    ) -> Response:
        engine: Engine = request.app.state.engine
        with engine.begin() as conn:
            order, logistic, lines = read_order(
                conn, request.app.state.schema, reference, dj_api_key, dj_client
            )
        return _json(nest(order, logistic, lines))

    @app.put("/floor/orders/{reference}/lines")
    def update_line(
        reference: str,
        body: LineIn,
        request: Request,
        dj_api_key: Annotated[str | None, Header()] = None,
        dj_client: Annotated[str | None, Header()] = None,
    ) -> Response:
        engine: Engine = request.app.state.engine
        schema: Schema = request.app.state.schema
        with engine.begin() as conn:
            _order, logistic, _lines = read_order(conn, schema, reference, dj_api_key, dj_client)
            changed = conn.execute(
                update(schema.lines)
                .where(
                    schema.lines.c.logistic_order_id.in_([lo["id"] for lo in logistic]),
                    schema.lines.c.offer_price_external_id == body.id,
                )
                .values(quantity=body.quantity)
            ).rowcount
            if changed != 1:
                raise HTTPException(404, f"No line {body.id} in {reference}")
        return _json([])

    return app
