"""A quantity bounded by the local rules (min, step, max) and then by the available quantity
the pricing system quoted keeps the warnings of both bounds, as STANDARD mode reports local
stock: the quoted stock must not hide the earlier adjustments, nor they it."""

from __future__ import annotations

from ordersync.domain.warnings import WarningCode
from ordersync.rules.line_updates import (
    LineType,
    LineUpdate,
    apply_line_updates,
    line_update_pricing_needs,
)
from ordersync.rules.synchronise import apply_plan, plan_synchronisation, sync_pricing_needs
from tests.unit.factories import add_line, catalog, offer_price, order
from tests.unit.pricing.test_real_time_rules import quotes_for, rtp_context

STEP = WarningCode.QUANTITY_ADJUSTED_STEP
MAX = WarningCode.QUANTITY_ADJUSTED_MAX
STOCK = WarningCode.QUANTITY_ADJUSTED_STOCK


def test_update_lines_reports_the_local_bounds_and_the_quoted_stock() -> None:
    op = offer_price(quantity_step=10, max_order_quantity=100)
    o = order()
    ctx = rtp_context(op)
    updates = [LineUpdate(op.external_id, 150)]
    needs = line_update_pricing_needs(o, updates, LineType.OFFER_PRICE, catalog(op), ctx)

    warnings = apply_line_updates(
        o,
        updates,
        LineType.OFFER_PRICE,
        catalog(op),
        ctx,
        quotes_for(needs, available_quantity=55),
    )

    assert [w.code for w in warnings] == [MAX, STOCK]
    assert o.lines[0].quantity == 50


def test_update_lines_reports_a_local_bound_when_the_quoted_stock_changes_nothing() -> None:
    op = offer_price(quantity_step=10)
    o = order()
    ctx = rtp_context(op)
    updates = [LineUpdate(op.external_id, 15)]
    needs = line_update_pricing_needs(o, updates, LineType.OFFER_PRICE, catalog(op), ctx)

    warnings = apply_line_updates(
        o,
        updates,
        LineType.OFFER_PRICE,
        catalog(op),
        ctx,
        quotes_for(needs, available_quantity=55),
    )

    assert [w.code for w in warnings] == [STEP]
    assert o.lines[0].quantity == 20


def test_synchronise_reports_the_local_bound_and_the_quoted_stock() -> None:
    op = offer_price(quantity_step=10, max_order_quantity=80)
    o = order()
    add_line(o, op, 100)  # stored before the maximum came down to 80
    ctx = rtp_context(op)
    by_id = {op.id: op}
    needs = sync_pricing_needs(o, catalog(op), by_id, ctx)

    plan = plan_synchronisation(
        o, catalog(op), by_id, {}, ctx, quotes_for(needs, available_quantity=55)
    )

    assert [w.code for w in plan.warnings if w.code is not WarningCode.PRICE_CHANGED] == [
        MAX,
        STOCK,
    ]
    assert apply_plan(o, plan, ctx)
    assert o.lines[0].quantity == 50
