"""The reference real-time pricing system (SPEC §5.1): `POST /prices`, answered from the
catalog ordersync itself has loaded, read from the same database.

Prices are deterministic: the offer price's tier for the quantity (the largest `minQuantity`
at or below it, else the first tier), less the account's best group discount (default GOLD
5 %, set at run time by `POST /_control {"discounts": {...}}`), rounded half up to 4
decimals; `taxAmount` is the tax of one unit, the net unit price times the offer price's
tax rate. Availability is the offer's stock: unlimited (null) or above zero is available.
An offer price the catalog does not know is unavailable, quantity 0, prices "0".

It is another system, so it reads the tables with its own two statements rather than
through ordersync's repositories and rules: where the two disagree, tests notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine, select

from ordersync.adapters.db.bulk import one_of
from ordersync.adapters.db.engine import make_engine
from ordersync.adapters.db.tables import accounts, offer_prices, offers
from ordersync.simulators.faults import (
    Call,
    LineFaults,
    PricingFaultSettings,
    SimulatorState,
    WireModel,
    answer_call,
    control_router,
    validated,
)

ROUTE = "POST /prices"
PRICE_EXPONENT = Decimal("0.0001")
HUNDRED = Decimal(100)
LINE_FAULTS = LineFaults(
    price_field="netUnitPrice",
    unknown_line={
        "available": True,
        "availableQuantity": None,
        "netUnitPrice": "1.0000",
        "grossUnitPrice": "1.2000",
        "taxAmount": "0.2000",
    },
)


class PriceLineIn(WireModel):
    line_id: str
    variant_external_id: str
    offer_price_external_id: str
    supplier_external_id: str
    quantity: int
    metadata: dict[str, Any] | None = None


class PriceRequestIn(WireModel):
    order_reference: str
    account_external_id: str
    store_external_id: str
    currency: str
    metadata: dict[str, Any] | None = None
    lines: list[PriceLineIn]


@dataclass(frozen=True)
class OfferPriceRow:
    tiers: Sequence[Mapping[str, Any]]  # as stored: minQuantity, netUnitPrice, grossUnitPrice
    tax_rate: Decimal
    stock: int | None  # None: unlimited


@dataclass(frozen=True)
class CatalogView:
    """What one request needs from the database."""

    offer_prices: Mapping[str, OfferPriceRow]  # by external id
    account_groups: frozenset[str]  # empty for an unknown account


def read_catalog(engine: Engine, offer_price_ids: Iterable[str], account_id: str) -> CatalogView:
    """Every requested offer price with its offer's stock in one statement, and the
    account's groups in another, in one short read."""
    ids = sorted(set(offer_price_ids))
    prices = (
        select(
            offer_prices.c.external_id,
            offer_prices.c.tiers,
            offer_prices.c.tax_rate,
            offers.c.available_quantity,
        )
        .join(offers, offers.c.id == offer_prices.c.offer_id)
        .where(one_of(engine.dialect, offer_prices.c.external_id, ids))
    )
    groups = select(accounts.c.groups).where(accounts.c.external_id == account_id)
    with engine.connect() as conn:
        rows = conn.execute(prices).all() if ids else []
        account_groups = conn.scalar(groups)
    return CatalogView(
        {
            row.external_id: OfferPriceRow(row.tiers, row.tax_rate, row.available_quantity)
            for row in rows
        },
        frozenset(account_groups or ()),
    )


def discount_percent(groups: frozenset[str], discounts: Mapping[str, Decimal]) -> Decimal:
    """The best discount among the account's groups (discounts do not add up)."""
    return max((discounts[g] for g in groups if g in discounts), default=Decimal(0))


def tier_prices(tiers: Sequence[Mapping[str, Any]], quantity: int) -> tuple[Decimal, Decimal]:
    """Net and gross unit price of the tier with the largest minimum at or below the
    quantity, else of the first tier."""
    ordered = sorted(tiers, key=lambda t: int(t["minQuantity"]))
    chosen = ordered[0]
    for tier in ordered:
        if int(tier["minQuantity"]) <= quantity:
            chosen = tier
    return Decimal(str(chosen["netUnitPrice"])), Decimal(str(chosen["grossUnitPrice"]))


def _price(amount: Decimal) -> str:
    return str(amount.quantize(PRICE_EXPONENT, rounding=ROUND_HALF_UP))


def quote_line(
    line: PriceLineIn, offer: OfferPriceRow | None, discount: Decimal
) -> dict[str, Any]:
    if offer is None or not offer.tiers:
        return {
            "lineId": line.line_id,
            "available": False,
            "availableQuantity": 0,
            "netUnitPrice": "0",
            "grossUnitPrice": "0",
            "taxAmount": "0",
        }
    net, gross = tier_prices(offer.tiers, line.quantity)
    kept = (HUNDRED - discount) / HUNDRED
    net_unit = (net * kept).quantize(PRICE_EXPONENT, rounding=ROUND_HALF_UP)
    return {
        "lineId": line.line_id,
        "available": offer.stock is None or offer.stock > 0,
        "availableQuantity": offer.stock,
        "netUnitPrice": _price(net_unit),
        "grossUnitPrice": _price(gross * kept),
        "taxAmount": _price(net_unit * offer.tax_rate / HUNDRED),
    }


def quote(
    request: PriceRequestIn, catalog: CatalogView, discounts: Mapping[str, Decimal]
) -> dict[str, Any]:
    """The answer: one entry per requested line, in the order asked."""
    discount = discount_percent(catalog.account_groups, discounts)
    return {
        "lines": [
            quote_line(line, catalog.offer_prices.get(line.offer_price_external_id), discount)
            for line in request.lines
        ]
    }


def create_pricing_simulator(database_url: str) -> FastAPI:
    """The pricing simulator's app, reading the catalog in the database at `database_url`."""
    engine = make_engine(database_url)
    state = SimulatorState(PricingFaultSettings(), routes=[ROUTE])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="ordersync real-time pricing simulator",
        description="SPEC §5.1, with faults switched at run time through /_control.",
        lifespan=lifespan,
    )
    app.state.simulator = state
    app.include_router(control_router(state, PricingFaultSettings))

    async def handle(call: Call[PricingFaultSettings]) -> dict[str, Any] | Response:
        request = validated(PriceRequestIn, call.body)
        if isinstance(request, Response):
            return request
        # The database driver blocks: read on a worker thread so the loop keeps serving.
        catalog = await run_in_threadpool(
            read_catalog,
            engine,
            [line.offer_price_external_id for line in request.lines],
            request.account_external_id,
        )
        return quote(request, catalog, call.faults.discounts)

    @app.post("/prices", tags=["pricing"])
    async def prices(request: Request) -> Response:
        return await answer_call(state, ROUTE, request, handle, LINE_FAULTS)

    return app
