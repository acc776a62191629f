"""Real-time pricing in the rules: what a write asks the pricing system, and how the quotes
it gets back (or their absence) become prices, stock bounds and warnings. No I/O: the quotes
are values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersync.domain.catalog import BuyerContext, OfferPrice, Status
from ordersync.domain.orders import CommercialOrder
from ordersync.domain.pricing import LineQuote, PricingUnavailable
from ordersync.domain.warnings import WarningCode
from ordersync.rules.line_updates import (
    LineType,
    LineUpdate,
    apply_line_updates,
    line_update_pricing_needs,
)
from ordersync.rules.pricing import PricingNeed, Quote, RealTimeQuotes
from ordersync.rules.synchronise import apply_plan, plan_synchronisation, sync_pricing_needs
from tests.unit.factories import add_line, catalog, context, offer_price, order, order_state


def rtp_context(*visible: OfferPrice) -> BuyerContext:
    return context(*visible, stock_from_pricing=True)


def quotes_for(
    needs: list[PricingNeed],
    net: str = "8.00",
    gross: str = "9.00",
    tax: str = "1.60",
    available: bool = True,
    available_quantity: int | None = None,
) -> RealTimeQuotes:
    """The pricing system's answer to exactly these needs."""
    return RealTimeQuotes(
        {
            n.key: LineQuote(
                n.key, available, available_quantity, Decimal(net), Decimal(gross), Decimal(tax)
            )
            for n in needs
        },
        {n.key: n.quantity for n in needs},
    )


def two_line_order() -> tuple[CommercialOrder, OfferPrice, OfferPrice]:
    a, b = offer_price(), offer_price(supplier_id=2, supplier_external_id="SUP-B")
    o = order()
    add_line(o, a, 10)
    add_line(o, b, 5)
    return o, a, b


# --- synchronise ------------------------------------------------------------------------------


def test_synchronise_asks_for_every_line_at_its_bounded_quantity() -> None:
    a = offer_price(min_order_quantity=20)
    o = order()
    add_line(o, a, 10)

    needs = sync_pricing_needs(o, catalog(a), {a.id: a}, rtp_context(a))

    assert [(n.key, n.quantity) for n in needs] == [(f"new:{a.external_id}", 20)]


def test_synchronise_prices_lines_from_the_quotes_with_the_unit_tax_times_the_quantity() -> None:
    o, a, b = two_line_order()
    ctx = rtp_context(a, b)
    needs = sync_pricing_needs(o, catalog(a, b), {a.id: a, b.id: b}, ctx)

    plan = plan_synchronisation(o, catalog(a, b), {a.id: a, b.id: b}, {}, ctx, quotes_for(needs))

    assert [w.code for w in plan.warnings] == [WarningCode.PRICE_CHANGED] * 2
    assert apply_plan(o, plan, ctx)
    first = o.lines[0]
    assert (first.net_unit_price, first.gross_unit_price) == (Decimal("8.00"), Decimal("9.00"))
    assert first.tax_amount == Decimal("16.00")  # 1.60 per unit x 10
    assert first.tax_rate == Decimal("20.0000")
    assert o.total_net == Decimal("120.00")


def test_an_unavailable_line_blocks_the_synchronisation() -> None:
    o, a, b = two_line_order()
    ctx = rtp_context(a, b)
    by_id = {a.id: a, b.id: b}
    needs = sync_pricing_needs(o, catalog(a, b), by_id, ctx)
    before = order_state(o)

    plan = plan_synchronisation(
        o, catalog(a, b), by_id, {}, ctx, quotes_for(needs, available=False)
    )

    assert {(w.code, w.blocked) for w in plan.warnings} == {(WarningCode.OUT_OF_STOCK, True)}
    assert apply_plan(o, plan, ctx) is False
    assert order_state(o) == before


def test_the_quoted_available_quantity_bounds_the_line_like_stock() -> None:
    a = offer_price(quantity_step=5)
    o = order()
    add_line(o, a, 30)
    ctx = rtp_context(a)
    needs = sync_pricing_needs(o, catalog(a), {a.id: a}, ctx)

    plan = plan_synchronisation(
        o, catalog(a), {a.id: a}, {}, ctx, quotes_for(needs, available_quantity=12)
    )

    assert WarningCode.QUANTITY_ADJUSTED_STOCK in [w.code for w in plan.warnings]
    assert not plan.blocked
    apply_plan(o, plan, ctx)
    assert o.lines[0].quantity == 10  # the largest step multiple within 12


def test_local_stock_is_not_checked_when_the_pricing_system_answers_for_it() -> None:
    a = offer_price(available_quantity=0)
    o = order()
    add_line(o, a, 4)
    ctx = rtp_context(a)

    needs = sync_pricing_needs(o, catalog(a), {a.id: a}, ctx)
    plan = plan_synchronisation(o, catalog(a), {a.id: a}, {}, ctx, quotes_for(needs))

    assert len(needs) == 1
    assert not plan.blocked


def test_a_pricing_failure_blocks_every_line_and_changes_nothing() -> None:
    o, a, b = two_line_order()
    ctx = rtp_context(a, b)
    before = order_state(o)

    plan = plan_synchronisation(
        o,
        catalog(a, b),
        {a.id: a, b.id: b},
        {},
        ctx,
        RealTimeQuotes(failure="Pricing system unavailable: HTTP 503."),
    )

    assert [(w.code, w.blocked) for w in plan.warnings] == [
        (WarningCode.PRICING_UNAVAILABLE, True)
    ] * 2
    assert apply_plan(o, plan, ctx) is False
    assert order_state(o) == before


def test_a_line_quoted_at_another_quantity_is_not_priced() -> None:
    a = offer_price()
    o = order()
    add_line(o, a, 10)
    ctx = rtp_context(a)
    needs = sync_pricing_needs(o, catalog(a), {a.id: a}, ctx)
    stale = quotes_for(needs)
    o.lines[0].quantity = 11  # the order moved after the question was asked

    plan = plan_synchronisation(o, catalog(a), {a.id: a}, {}, ctx, stale)

    assert [w.code for w in plan.warnings] == [WarningCode.PRICING_UNAVAILABLE]


# --- update lines -----------------------------------------------------------------------------


def test_update_lines_asks_only_for_the_lines_it_keeps_or_adds() -> None:
    a, b, gone = offer_price(), offer_price(), offer_price(supplier_status=Status.INACTIVE)
    o = order()
    add_line(o, b, 3)
    updates = [
        LineUpdate(a.external_id, 7),
        LineUpdate(b.external_id, 0),
        LineUpdate(gone.external_id, 1),
    ]

    needs = line_update_pricing_needs(
        o, updates, LineType.OFFER_PRICE, catalog(a, b, gone), rtp_context(a, b, gone)
    )

    assert [(n.key, n.quantity) for n in needs] == [(f"new:{a.external_id}", 7)]


def test_update_lines_skips_an_unavailable_line_without_blocking() -> None:
    a, b = offer_price(), offer_price()
    o = order()
    updates = [LineUpdate(a.external_id, 2), LineUpdate(b.external_id, 3)]
    ctx = rtp_context(a, b)
    needs = line_update_pricing_needs(o, updates, LineType.OFFER_PRICE, catalog(a, b), ctx)
    answered = dict(quotes_for(needs).quotes)
    answered[f"new:{b.external_id}"] = LineQuote(
        f"new:{b.external_id}", False, 0, Decimal(0), Decimal(0), Decimal(0)
    )
    quotes = RealTimeQuotes(answered, {n.key: n.quantity for n in needs})

    warnings = apply_line_updates(o, updates, LineType.OFFER_PRICE, catalog(a, b), ctx, quotes)

    assert [(w.id, w.code, w.blocked) for w in warnings] == [
        (b.external_id, WarningCode.OUT_OF_STOCK, False)
    ]
    assert [ln.offer_price_external_id for ln in o.lines] == [a.external_id]
    assert o.lines[0].net_unit_price == Decimal("8.00")


def test_update_lines_without_quotes_raises_and_leaves_the_order_as_it_was() -> None:
    a = offer_price()
    o = order()
    add_line(o, a, 1)
    before = order_state(o)
    ctx = rtp_context(a)

    with pytest.raises(PricingUnavailable):
        apply_line_updates(
            o,
            [LineUpdate(a.external_id, 5)],
            LineType.OFFER_PRICE,
            catalog(a),
            ctx,
            RealTimeQuotes(failure="timeout after 2.0 s"),
        )
    assert order_state(o)[2] == before[2]  # lines untouched (the caller rolls back the rest)


def test_a_real_time_quote_derives_its_rate_from_the_unit_tax() -> None:
    quote = Quote.of(LineQuote("1", True, None, Decimal("1.20"), Decimal("1.50"), Decimal("0.24")))
    assert quote.tax_rate == Decimal("20.0000")
    assert quote.unit_tax == Decimal("0.24")
    free = Quote.of(LineQuote("2", True, None, Decimal("0"), Decimal("0"), Decimal("0")))
    assert free.tax_rate == Decimal(0)
