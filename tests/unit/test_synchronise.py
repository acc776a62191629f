"""Synchronise (ORDER-223): plan against current data, then apply only when nothing blocks."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ordersync.domain.catalog import (
    BuyerContext,
    CustomField,
    CustomFieldEntity,
    CustomFieldType,
    OfferPrice,
    OperationStatus,
    Status,
)
from ordersync.domain.orders import CommercialOrder, SourceType
from ordersync.domain.warnings import WarningCode
from ordersync.rules.line_updates import Catalog
from ordersync.rules.synchronise import (
    PriceSource,
    PricingUnavailable,
    Quote,
    SyncPlan,
    apply_plan,
    plan_synchronisation,
)
from tests.unit.factories import (
    NOW,
    add_line,
    catalog,
    context,
    custom_field,
    offer_price,
    operation,
    operation_line,
    order,
    order_state,
    tier,
)

LATER = NOW.replace(hour=13)
FIELDS = {
    "CF-NOTE": custom_field("CF-NOTE", entity=CustomFieldEntity.ORDER_LINE),
    "CF-PO": custom_field("CF-PO", entity=CustomFieldEntity.ORDER),
    "CF-COLOUR": custom_field(
        "CF-COLOUR",
        entity=CustomFieldEntity.ORDER_LINE,
        type=CustomFieldType.LIST,
        allowed_values=("RED", "BLUE"),
    ),
}


def plan(
    o: CommercialOrder,
    *current: OfferPrice,
    ctx: BuyerContext | None = None,
    cat: Catalog | None = None,
    custom_fields: dict[str, CustomField] | None = None,
    price_source: PriceSource | None = None,
) -> SyncPlan:
    """Plan with `current` as today's offer prices, all visible."""
    extra = {} if price_source is None else {"price_source": price_source}
    return plan_synchronisation(
        o,
        cat or catalog(),
        {op.id: op for op in current},
        FIELDS if custom_fields is None else custom_fields,
        ctx or context(*current),
        **extra,
    )


def codes(p: SyncPlan) -> list[tuple[str, WarningCode, bool]]:
    return [(w.id, w.code, w.blocked) for w in p.warnings]


def two_line_order() -> tuple[CommercialOrder, OfferPrice, OfferPrice]:
    a = offer_price(supplier_id=1, supplier_external_id="SUP-A", net="10.00")
    b = offer_price(supplier_id=2, supplier_external_id="SUP-B", net="4.00", available_quantity=50)
    o = order(custom_fields={"CF-PO": "PO-1"})
    add_line(o, a, 3, custom_fields={"CF-NOTE": "fragile"})
    add_line(o, b, 10, custom_fields={"CF-COLOUR": "RED"})
    return o, a, b


def test_an_order_in_line_with_current_data_has_no_warnings_and_no_changes() -> None:
    o, a, b = two_line_order()
    before = order_state(o)

    p = plan(o, a, b)

    assert p.warnings == []
    assert p.changes == []
    assert not p.blocked
    assert apply_plan(o, p, context(a, b, now=LATER)) is False
    assert order_state(o) == before


def test_a_price_change_is_a_non_blocking_warning_and_is_applied() -> None:
    o, a, b = two_line_order()
    cheaper = a._replace(tiers=(tier(1, "9.00", "10.80"),))

    p = plan(o, cheaper, b)

    assert codes(p) == [(a.external_id, WarningCode.PRICE_CHANGED, False)]
    assert apply_plan(o, p, context(cheaper, b, now=LATER)) is True
    line = o.lines[0]
    assert (line.net_unit_price, line.gross_unit_price) == (Decimal("9.00"), Decimal("10.80"))
    assert (line.total_net, line.tax_amount, line.total_gross) == (
        Decimal("27.00"),
        Decimal("5.40"),
        Decimal("32.40"),
    )
    assert (o.total_net, o.total_tax, o.total_gross) == (
        Decimal("67.00"),
        Decimal("13.40"),
        Decimal("80.40"),
    )
    assert o.updated_at == LATER


def test_a_tax_rate_change_is_reported_as_a_price_change() -> None:
    o, a, b = two_line_order()

    p = plan(o, a._replace(tax_rate=Decimal("5.5")), b)

    assert codes(p) == [(a.external_id, WarningCode.PRICE_CHANGED, False)]


def test_lowered_stock_lowers_the_quantity_with_a_non_blocking_warning() -> None:
    o, a, b = two_line_order()
    short = b._replace(available_quantity=6)

    p = plan(o, a, short)

    assert codes(p) == [(b.external_id, WarningCode.QUANTITY_ADJUSTED_STOCK, False)]
    assert apply_plan(o, p, context(a, short)) is True
    assert [ln.quantity for ln in o.lines] == [3, 6]
    assert (o.lines[1].total_net, o.product_count) == (Decimal("24.00"), 9)
    assert o.total_net == Decimal("54.00")


def test_a_new_minimum_raises_the_quantity_and_may_change_the_tier() -> None:
    o, a, b = two_line_order()
    bulk = a._replace(min_order_quantity=5, tiers=(tier(1, "10.00", "12.00"), tier(5, "8.00")))

    p = plan(o, bulk, b)

    assert codes(p) == [
        (a.external_id, WarningCode.QUANTITY_ADJUSTED_MIN, False),
        (a.external_id, WarningCode.PRICE_CHANGED, False),
    ]
    apply_plan(o, p, context(bulk, b))
    assert (o.lines[0].quantity, o.lines[0].total_net) == (5, Decimal("40.00"))


def test_changed_variant_details_are_applied_without_a_warning() -> None:
    o, a, b = two_line_order()
    renamed = a._replace(variant_name="Bolt M6 (zinc)")

    p = plan(o, renamed, b)

    assert p.warnings == []
    assert apply_plan(o, p, context(renamed, b)) is True
    assert o.lines[0].variant_name == "Bolt M6 (zinc)"


def blocking_case(
    name: str, o: CommercialOrder, a: OfferPrice, b: OfferPrice
) -> tuple[list[OfferPrice], BuyerContext, WarningCode, str]:
    """Break line A (or the order) for `name`: today's offer prices, context, expected code, id."""
    ok = [a, b]
    cases: dict[str, tuple[list[OfferPrice], BuyerContext, WarningCode, str]] = {
        "offer-gone": ([b], context(a, b), WarningCode.OFFER_NOT_FOUND, a.external_id),
        "offer-inactive": (
            [a._replace(offer_status=Status.INACTIVE), b],
            context(a, b),
            WarningCode.OFFER_NOT_FOUND,
            a.external_id,
        ),
        "supplier-inactive": (
            [a._replace(supplier_status=Status.INACTIVE), b],
            context(a, b),
            WarningCode.SUPPLIER_INACTIVE,
            a.external_id,
        ),
        "account-not-eligible": (
            [a._replace(eligible_account_ids=frozenset({99})), b],
            context(a, b),
            WarningCode.LINE_NOT_ELIGIBLE,
            a.external_id,
        ),
        "not-visible": (ok, context(b), WarningCode.VARIANT_NOT_VISIBLE, a.external_id),
        "out-of-stock": (
            [a._replace(available_quantity=0), b],
            context(a, b),
            WarningCode.OUT_OF_STOCK,
            a.external_id,
        ),
        "stock-below-minimum": (
            [a._replace(min_order_quantity=3, available_quantity=2), b],
            context(a, b),
            WarningCode.OUT_OF_STOCK,
            a.external_id,
        ),
    }
    if name == "line-custom-field-invalid":
        o.lines[0].custom_fields["CF-COLOUR"] = "GREEN"
        return ok, context(a, b), WarningCode.CUSTOM_FIELD_INVALID, a.external_id
    if name == "line-custom-field-undefined":
        o.lines[0].custom_fields["CF-GONE"] = "x"
        return ok, context(a, b), WarningCode.CUSTOM_FIELD_INVALID, a.external_id
    if name == "line-custom-field-of-the-order":
        o.lines[0].custom_fields["CF-PO"] = "x"
        return ok, context(a, b), WarningCode.CUSTOM_FIELD_INVALID, a.external_id
    if name == "order-custom-field-of-a-line":
        o.custom_fields["CF-NOTE"] = "x"
        return ok, context(a, b), WarningCode.CUSTOM_FIELD_INVALID, o.reference
    if name == "order-custom-field-invalid":
        o.custom_fields["CF-PO"] = 42
        return ok, context(a, b), WarningCode.CUSTOM_FIELD_INVALID, o.reference
    if name == "order-custom-field-undefined":
        o.custom_fields["CF-GONE"] = "x"
        return ok, context(a, b), WarningCode.CUSTOM_FIELD_INVALID, o.reference
    return cases[name]


BLOCKING = [
    "offer-gone",
    "offer-inactive",
    "supplier-inactive",
    "account-not-eligible",
    "not-visible",
    "out-of-stock",
    "stock-below-minimum",
    "line-custom-field-invalid",
    "line-custom-field-undefined",
    "line-custom-field-of-the-order",
    "order-custom-field-undefined",
    "order-custom-field-of-a-line",
    "order-custom-field-invalid",
]


@pytest.mark.parametrize("name", BLOCKING)
def test_a_blocking_warning_leaves_the_order_exactly_unchanged(name: str) -> None:
    o, a, b = two_line_order()
    current, ctx, code, warning_id = blocking_case(name, o, a, b)
    # Line B has non-blocking changes (new price, lower stock) that must not be applied either.
    current = [
        op._replace(tiers=(tier(1, "3.50"),), available_quantity=8) if op.id == b.id else op
        for op in current
    ]
    ctx = replace(ctx, now=LATER)
    before = order_state(o)

    p = plan(o, *current, ctx=ctx)

    assert p.blocked
    assert (warning_id, code, True) in codes(p)
    assert (b.external_id, WarningCode.PRICE_CHANGED, False) in codes(p)
    assert (b.external_id, WarningCode.QUANTITY_ADJUSTED_STOCK, False) in codes(p)
    assert apply_plan(o, p, ctx) is False
    assert order_state(o) == before


def test_blocking_warnings_are_reported_for_every_broken_line() -> None:
    o, a, b = two_line_order()

    p = plan(o, b._replace(supplier_status=Status.INACTIVE), ctx=context(a, b))

    assert codes(p) == [
        (a.external_id, WarningCode.OFFER_NOT_FOUND, True),
        (b.external_id, WarningCode.SUPPLIER_INACTIVE, True),
    ]


def test_a_closed_operation_blocks_the_lines_of_its_variants() -> None:
    a, b = offer_price(), offer_price()
    o = order(source_type=SourceType.OPERATION, source_id="OPE-1")
    add_line(o, a, 1)
    add_line(o, b, 1)
    closed = operation(status=OperationStatus.INACTIVE, lines=(operation_line(a),))
    before = order_state(o)

    p = plan(o, a, b, cat=catalog(operation=closed))

    assert codes(p) == [(a.external_id, WarningCode.OPERATION_NOT_AVAILABLE, True)]
    assert apply_plan(o, p, context(a, b)) is False
    assert order_state(o) == before


def test_an_operation_maximum_lowers_the_line_of_its_variant() -> None:
    a = offer_price()
    o = order(source_type=SourceType.OPERATION, source_id="OPE-1")
    add_line(o, a, 9)

    p = plan(o, a, cat=catalog(operation=operation(lines=(operation_line(a, None, 4),))))

    assert codes(p) == [(a.external_id, WarningCode.QUANTITY_ADJUSTED_MAX, False)]
    apply_plan(o, p, context(a))
    assert o.lines[0].quantity == 4


def test_prices_can_come_from_another_price_source() -> None:
    o, a, b = two_line_order()

    def rtp(key: str, offer: OfferPrice, quantity: int) -> Quote:
        return Quote(Decimal("1.00"), Decimal("1.20"), Decimal("20"))

    p = plan(o, a, b, price_source=rtp)

    assert [w.code for w in p.warnings] == [WarningCode.PRICE_CHANGED] * 2
    apply_plan(o, p, context(a, b))
    assert o.total_net == Decimal("13.00")


def test_a_price_source_that_cannot_price_blocks_the_line_and_changes_nothing() -> None:
    offer = offer_price()
    current = order()
    add_line(current, offer, 10)
    before = order_state(current)

    def unavailable(key: str, offer: OfferPrice, quantity: int) -> Quote:
        raise PricingUnavailable("pricing system down")

    plan = plan_synchronisation(
        current, catalog(offer), {offer.id: offer}, {}, context(offer), unavailable
    )

    assert [(w.code, w.blocked) for w in plan.warnings] == [
        (WarningCode.PRICING_UNAVAILABLE, True)
    ]
    assert apply_plan(current, plan, context(offer)) is False
    assert order_state(current) == before
