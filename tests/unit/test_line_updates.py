"""Update lines (ORDER-150) on an order held in memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from ordersync.domain.catalog import (
    BuyerContext,
    OfferPrice,
    OperationStatus,
    OperationType,
    Status,
)
from ordersync.domain.errors import ErrorCode, Unprocessable
from ordersync.domain.orders import CommercialOrder, OrderLine, SourceType
from ordersync.domain.warnings import OrderWarning, WarningCode
from ordersync.rules.line_updates import (
    Catalog,
    LineType,
    LineUpdate,
    UpdateAction,
    apply_line_updates,
)
from tests.unit.factories import (
    ADDRESS,
    NOW,
    REFERENCE,
    account,
    add_line,
    catalog,
    context,
    offer_price,
    operation,
    operation_line,
    order,
    order_state,
    tier,
)

ADD = UpdateAction.ADD_QUANTITY
REMOVE = UpdateAction.REMOVE_QUANTITY
REPLACE = UpdateAction.REPLACE_QUANTITY


def update(
    o: CommercialOrder,
    updates: Sequence[LineUpdate],
    *offer_prices: OfferPrice,
    line_type: LineType = LineType.OFFER_PRICE,
    cat: Catalog | None = None,
    ctx: BuyerContext | None = None,
) -> list[OrderWarning]:
    """Apply updates with every given offer price in the catalog and visible."""
    return apply_line_updates(
        o,
        updates,
        line_type,
        cat or catalog(*offer_prices),
        ctx or context(*offer_prices),
    )


def quantities(o: CommercialOrder) -> dict[str, int]:
    return {ln.offer_price_external_id: ln.quantity for ln in o.lines}


def codes(warnings: Sequence[OrderWarning]) -> list[tuple[str, WarningCode]]:
    return [(w.id, w.code) for w in warnings]


# --- adding, changing, removing -------------------------------------------------------------


def test_adding_a_line_creates_a_logistic_order_for_its_supplier() -> None:
    op = offer_price(supplier_id=3, supplier_external_id="SUP-C")
    o = order()

    warnings = update(o, [LineUpdate(op.external_id, 4)], op)

    assert warnings == []
    (lo,) = o.logistic_orders
    assert lo.reference == f"{REFERENCE}-1"
    assert lo.supplier_id == 3
    assert lo.supplier_external_id == "SUP-C"
    assert lo.shipping_address == ADDRESS
    assert [(ln.offer_price_external_id, ln.quantity) for ln in lo.lines] == [(op.external_id, 4)]


def test_a_new_line_copies_the_variant_details_of_its_offer() -> None:
    op = offer_price(
        variant_name="Bolt M6", variant_description="Steel", classification_external_id="CLS-9"
    )
    o = order()

    update(o, [LineUpdate(op.external_id, 1)], op)

    (line,) = o.lines
    assert (line.variant_id, line.variant_external_id) == (op.variant_id, op.variant_external_id)
    assert (line.offer_price_id, line.variant_name, line.variant_description) == (
        op.id,
        "Bolt M6",
        "Steel",
    )
    assert line.classification_external_id == "CLS-9"


def test_lines_of_two_suppliers_go_to_two_logistic_orders() -> None:
    a = offer_price(supplier_id=1, supplier_external_id="SUP-A")
    a2 = offer_price(supplier_id=1, supplier_external_id="SUP-A")
    b = offer_price(supplier_id=2, supplier_external_id="SUP-B")
    o = order()

    update(
        o,
        [
            LineUpdate(a.external_id, 1),
            LineUpdate(b.external_id, 1),
            LineUpdate(a2.external_id, 1),
        ],
        a,
        a2,
        b,
    )

    assert [(lo.reference, lo.supplier_id, len(lo.lines)) for lo in o.logistic_orders] == [
        (f"{REFERENCE}-1", 1, 2),
        (f"{REFERENCE}-2", 2, 1),
    ]


def test_an_account_with_no_address_gets_a_logistic_order_with_no_shipping_address() -> None:
    op = offer_price()
    o = order()

    update(
        o,
        [LineUpdate(op.external_id, 1)],
        op,
        ctx=context(op, account=account(shipping_addresses=())),
    )

    assert o.logistic_orders[0].shipping_address is None


@pytest.mark.parametrize(
    ("action", "quantity", "expected"),
    [(REPLACE, 7, 7), (ADD, 3, 8), (REMOVE, 2, 3), (REPLACE, 5, 5)],
)
def test_an_update_action_sets_adds_to_or_removes_from_the_quantity(
    action: UpdateAction, quantity: int, expected: int
) -> None:
    op = offer_price()
    o = order()
    add_line(o, op, 5)

    warnings = update(o, [LineUpdate(op.external_id, quantity, action)], op)

    assert warnings == []
    assert quantities(o) == {op.external_id: expected}
    assert o.product_count == expected


@pytest.mark.parametrize("action", [ADD, REPLACE])
def test_add_or_replace_of_a_line_not_yet_on_the_order_adds_it(action: UpdateAction) -> None:
    op = offer_price()
    o = order()

    update(o, [LineUpdate(op.external_id, 3, action)], op)

    assert quantities(o) == {op.external_id: 3}


@pytest.mark.parametrize(("action", "quantity"), [(REMOVE, 5), (REMOVE, 9), (REPLACE, 0)])
def test_a_resulting_zero_removes_the_line_and_drops_its_empty_logistic_order(
    action: UpdateAction, quantity: int
) -> None:
    a = offer_price(supplier_id=1, supplier_external_id="SUP-A")
    b = offer_price(supplier_id=2, supplier_external_id="SUP-B")
    o = order()
    add_line(o, a, 5)
    add_line(o, b, 2)

    warnings = update(o, [LineUpdate(a.external_id, quantity, action)], a, b)

    assert warnings == []
    assert quantities(o) == {b.external_id: 2}
    assert [lo.supplier_id for lo in o.logistic_orders] == [2]
    assert (o.line_count, o.product_count, o.total_net) == (1, 2, Decimal("20.00"))


def test_removing_a_line_that_is_not_on_the_order_is_skipped_with_a_warning() -> None:
    a, b = offer_price(), offer_price()
    o = order()

    warnings = update(
        o, [LineUpdate(a.external_id, 1, REMOVE), LineUpdate(b.external_id, 1)], a, b
    )

    assert codes(warnings) == [(a.external_id, WarningCode.LINE_NOT_ON_ORDER)]
    assert quantities(o) == {b.external_id: 1}


def test_a_line_is_removed_even_when_its_offer_is_no_longer_eligible() -> None:
    gone = offer_price(supplier_status=Status.INACTIVE)
    o = order()
    add_line(o, gone, 2)

    update(o, [LineUpdate(gone.external_id, 0)], gone)

    assert o.lines == []
    assert o.logistic_orders == []


# --- quantity bounding ----------------------------------------------------------------------


def test_an_adjusted_quantity_is_applied_with_non_blocking_warnings() -> None:
    op = offer_price(
        min_order_quantity=5, quantity_step=5, max_order_quantity=20, available_quantity=12
    )
    small, large = offer_price(min_order_quantity=4), offer_price(quantity_step=6)
    o = order()

    warnings = update(
        o,
        [
            LineUpdate(op.external_id, 17),
            LineUpdate(small.external_id, 1),
            LineUpdate(large.external_id, 7),
        ],
        op,
        small,
        large,
    )

    assert codes(warnings) == [
        (op.external_id, WarningCode.QUANTITY_ADJUSTED_STEP),
        (op.external_id, WarningCode.QUANTITY_ADJUSTED_STOCK),
        (small.external_id, WarningCode.QUANTITY_ADJUSTED_MIN),
        (large.external_id, WarningCode.QUANTITY_ADJUSTED_STEP),
    ]
    assert not any(w.blocked for w in warnings)
    assert quantities(o) == {op.external_id: 10, small.external_id: 4, large.external_id: 12}


def test_a_quantity_above_the_maximum_is_lowered() -> None:
    op = offer_price(max_order_quantity=10)
    o = order()

    warnings = update(o, [LineUpdate(op.external_id, 15)], op)

    assert codes(warnings) == [(op.external_id, WarningCode.QUANTITY_ADJUSTED_MAX)]
    assert quantities(o) == {op.external_id: 10}


def test_adding_to_a_line_is_bounded_on_the_resulting_quantity() -> None:
    op = offer_price(available_quantity=10)
    o = order()
    add_line(o, op, 8)

    warnings = update(o, [LineUpdate(op.external_id, 5, ADD)], op)

    assert codes(warnings) == [(op.external_id, WarningCode.QUANTITY_ADJUSTED_STOCK)]
    assert quantities(o) == {op.external_id: 10}


def test_a_quantity_that_cannot_be_served_is_skipped_as_out_of_stock() -> None:
    short = offer_price(min_order_quantity=10, available_quantity=5)
    fine = offer_price()
    o = order()

    warnings = update(
        o, [LineUpdate(short.external_id, 1), LineUpdate(fine.external_id, 1)], short, fine
    )

    assert codes(warnings) == [(short.external_id, WarningCode.OUT_OF_STOCK)]
    assert quantities(o) == {fine.external_id: 1}


def test_replacing_with_an_unservable_quantity_leaves_the_existing_line_as_it_was() -> None:
    op = offer_price(max_order_quantity=3, quantity_step=4)
    other = offer_price()
    o = order()
    line = add_line(o, op, 4)  # was fine before the maximum changed
    before = (line.quantity, line.total_net)

    warnings = update(
        o, [LineUpdate(op.external_id, 2), LineUpdate(other.external_id, 1)], op, other
    )

    assert codes(warnings) == [(op.external_id, WarningCode.OUT_OF_STOCK)]
    assert (line.quantity, line.total_net) == before


# --- eligibility ----------------------------------------------------------------------------


INELIGIBLE = [
    ("missing", WarningCode.OFFER_NOT_FOUND),
    ("offer_inactive", WarningCode.OFFER_NOT_FOUND),
    ("supplier_inactive", WarningCode.SUPPLIER_INACTIVE),
    ("expired", WarningCode.LINE_NOT_ELIGIBLE),
    ("not_yet_valid", WarningCode.LINE_NOT_ELIGIBLE),
    ("other_account", WarningCode.LINE_NOT_ELIGIBLE),
    ("other_currency", WarningCode.LINE_NOT_ELIGIBLE),
    ("not_visible", WarningCode.VARIANT_NOT_VISIBLE),
    ("no_stock", WarningCode.OUT_OF_STOCK),
]


def ineligible(cause: str) -> tuple[OfferPrice, bool, bool]:
    """An offer price refused for `cause`; whether it is in the catalog and visible."""
    overrides: dict[str, dict[str, Any]] = {
        "missing": {},
        "offer_inactive": {"offer_status": Status.INACTIVE},
        "supplier_inactive": {"supplier_status": Status.INACTIVE},
        "expired": {"valid_to": NOW - timedelta(days=1)},
        "not_yet_valid": {"valid_from": NOW + timedelta(days=1)},
        "other_account": {"eligible_account_ids": frozenset({99})},
        "other_currency": {"currency": "USD"},
        "not_visible": {},
        "no_stock": {"available_quantity": 0},
    }
    return offer_price(**overrides[cause]), cause != "missing", cause != "not_visible"


@pytest.mark.parametrize(("cause", "code"), INELIGIBLE)
def test_an_ineligible_line_is_skipped_with_a_warning_and_the_rest_applied(
    cause: str, code: WarningCode
) -> None:
    bad, in_catalog, visible = ineligible(cause)
    good = offer_price()
    o = order()

    warnings = update(
        o,
        [LineUpdate(bad.external_id, 2), LineUpdate(good.external_id, 3)],
        cat=catalog(good, *([bad] if in_catalog else [])),
        ctx=context(good, *([bad] if visible else [])),
    )

    assert codes(warnings) == [(bad.external_id, code)]
    assert warnings[0].blocked is False
    assert quantities(o) == {good.external_id: 3}


@pytest.mark.parametrize(("cause", "code"), INELIGIBLE)
def test_when_no_line_is_eligible_the_request_is_refused_and_the_order_unchanged(
    cause: str, code: WarningCode
) -> None:
    bad, in_catalog, visible = ineligible(cause)
    kept = offer_price()
    o = order()
    add_line(o, kept, 2)
    before = order_state(o)

    with pytest.raises(Unprocessable) as raised:
        update(
            o,
            [LineUpdate(bad.external_id, 2)],
            cat=catalog(kept, *([bad] if in_catalog else [])),
            ctx=context(kept, *([bad] if visible else [])),
        )

    assert raised.value.code is ErrorCode.NO_ELIGIBLE_LINE
    assert raised.value.status == 422
    assert [(e.code, e.field) for e in raised.value.errors] == [(code, bad.external_id)]
    assert order_state(o) == before


def test_no_eligible_line_among_several_leaves_lines_and_totals_unchanged() -> None:
    kept = offer_price(available_quantity=10)
    gone = offer_price(supplier_status=Status.INACTIVE)
    o = order()
    add_line(o, kept, 4)
    before = order_state(o)
    kept_now_empty = kept._replace(available_quantity=0)

    with pytest.raises(Unprocessable) as raised:
        update(
            o,
            [LineUpdate(kept.external_id, 6), LineUpdate(gone.external_id, 1)],
            kept_now_empty,
            gone,
        )

    assert raised.value.code is ErrorCode.NO_ELIGIBLE_LINE
    assert order_state(o) == before
    assert (o.total_net, o.line_count, o.product_count) == (Decimal("40.00"), 1, 4)


# --- request limits -------------------------------------------------------------------------


def test_the_same_id_twice_in_one_request_is_refused() -> None:
    op = offer_price()
    o = order()

    with pytest.raises(Unprocessable) as raised:
        update(o, [LineUpdate(op.external_id, 1), LineUpdate(op.external_id, 2, ADD)], op)

    assert raised.value.code is ErrorCode.DUPLICATE_LINE_ID
    assert [e.field for e in raised.value.errors] == ["updateOrderCommercialLines[1].id"]
    assert o.lines == []


def test_500_line_updates_are_accepted() -> None:
    offers = [offer_price() for _ in range(500)]
    o = order()

    update(o, [LineUpdate(op.external_id, 1) for op in offers], *offers)

    assert o.line_count == 500


def test_501_line_updates_are_refused() -> None:
    o = order()

    with pytest.raises(Unprocessable) as raised:
        update(o, [LineUpdate(f"OP-X{i}", 1) for i in range(501)])

    assert raised.value.code is ErrorCode.TOO_MANY_LINE_UPDATES


def order_with_lines(count: int) -> CommercialOrder:
    o = order()
    lo = o.add_logistic_order(1, "SUP-A", None, NOW)
    for i in range(count):
        lo.lines.append(
            OrderLine(
                variant_id=i,
                variant_external_id=f"V-FULL-{i}",
                offer_price_id=i,
                offer_price_external_id=f"OP-FULL-{i}",
                quantity=1,
            )
        )
    return o


def test_an_order_may_hold_1000_lines() -> None:
    o = order_with_lines(999)
    op = offer_price()

    update(o, [LineUpdate(op.external_id, 1)], op)

    assert o.line_count == 1000


def test_a_line_past_1000_on_an_order_is_refused() -> None:
    o = order_with_lines(1000)
    op = offer_price()

    with pytest.raises(Unprocessable) as raised:
        update(o, [LineUpdate(op.external_id, 1)], op)

    assert raised.value.code is ErrorCode.TOO_MANY_LINES


# --- VARIANT lines --------------------------------------------------------------------------


def variant_offers(*specs: tuple[str, tuple[tuple[int, str], ...]]) -> list[OfferPrice]:
    """Offer prices of one variant V-SHARED, one per (supplier external id, tiers)."""
    return [
        offer_price(
            variant_id=1,
            variant_external_id="V-SHARED",
            supplier_id=i + 1,
            supplier_external_id=supplier,
            tiers=tuple(tier(m, net) for m, net in tiers),
        )
        for i, (supplier, tiers) in enumerate(specs)
    ]


def test_a_variant_line_picks_the_cheapest_offer_at_the_quantity() -> None:
    flat, volume = variant_offers(
        ("SUP-A", ((1, "8.00"),)), ("SUP-B", ((1, "10.00"), (10, "7.00")))
    )

    for quantity, expected in [(1, flat), (10, volume)]:
        o = order()
        update(o, [LineUpdate("V-SHARED", quantity)], flat, volume, line_type=LineType.VARIANT)
        assert quantities(o) == {expected.external_id: quantity}


def test_a_variant_line_ties_are_broken_by_supplier_external_id() -> None:
    from_b, from_a = variant_offers(("SUP-B", ((1, "8.00"),)), ("SUP-A", ((1, "8.00"),)))
    o = order()

    update(o, [LineUpdate("V-SHARED", 2)], from_b, from_a, line_type=LineType.VARIANT)

    (lo,) = o.logistic_orders
    assert lo.supplier_external_id == "SUP-A"
    assert quantities(o) == {from_a.external_id: 2}


def test_a_variant_line_ignores_offers_that_are_not_eligible() -> None:
    cheap, dear = variant_offers(("SUP-A", ((1, "1.00"),)), ("SUP-B", ((1, "9.00"),)))
    cheap = cheap._replace(supplier_status=Status.INACTIVE)
    o = order()

    update(o, [LineUpdate("V-SHARED", 1)], cheap, dear, line_type=LineType.VARIANT)

    assert quantities(o) == {dear.external_id: 1}


def test_a_variant_line_compares_offers_at_their_bounded_quantity() -> None:
    # Asked for 3: A serves 3 at 8.00; B's minimum of 10 puts it in its 7.00 tier.
    a, b = variant_offers(("SUP-A", ((1, "8.00"),)), ("SUP-B", ((1, "9.00"), (10, "7.00"))))
    b = b._replace(min_order_quantity=10)
    o = order()

    warnings = update(o, [LineUpdate("V-SHARED", 3)], a, b, line_type=LineType.VARIANT)

    assert quantities(o) == {b.external_id: 10}
    assert codes(warnings) == [(b.external_id, WarningCode.QUANTITY_ADJUSTED_MIN)]


def test_a_variant_line_targets_the_line_already_holding_that_variant() -> None:
    dear, cheap = variant_offers(("SUP-A", ((1, "9.00"),)), ("SUP-B", ((1, "5.00"),)))
    o = order()
    add_line(o, dear, 2)

    update(o, [LineUpdate("V-SHARED", 3, ADD)], dear, cheap, line_type=LineType.VARIANT)

    assert quantities(o) == {dear.external_id: 5}


def test_a_variant_with_no_offer_is_skipped_with_a_warning_naming_the_variant() -> None:
    op = offer_price()
    o = order()

    warnings = update(
        o,
        [LineUpdate("V-NONE", 1), LineUpdate(op.variant_external_id, 1)],
        op,
        line_type=LineType.VARIANT,
    )

    assert codes(warnings) == [("V-NONE", WarningCode.OFFER_NOT_FOUND)]
    assert quantities(o) == {op.external_id: 1}


def test_a_variant_whose_only_offer_is_refused_is_skipped_with_that_cause() -> None:
    (inactive,) = variant_offers(("SUP-A", ((1, "8.00"),)))
    inactive = inactive._replace(supplier_status=Status.INACTIVE)
    o = order()

    with pytest.raises(Unprocessable) as raised:
        update(o, [LineUpdate("V-SHARED", 1)], inactive, line_type=LineType.VARIANT)

    assert [(e.code, e.field) for e in raised.value.errors] == [
        (WarningCode.SUPPLIER_INACTIVE, "V-SHARED")
    ]


# --- operation orders -----------------------------------------------------------------------


def operation_order() -> CommercialOrder:
    return order(source_type=SourceType.OPERATION, source_id="OPE-1")


def test_an_operation_min_and_max_apply_to_the_operation_variants_only() -> None:
    in_op, in_op_2, outside = offer_price(), offer_price(), offer_price()
    ope = operation(lines=(operation_line(in_op, 5, None), operation_line(in_op_2, None, 3)))
    o = operation_order()

    warnings = update(
        o,
        [
            LineUpdate(in_op.external_id, 2),
            LineUpdate(in_op_2.external_id, 8),
            LineUpdate(outside.external_id, 2),
        ],
        cat=catalog(in_op, in_op_2, outside, operation=ope),
        ctx=context(in_op, in_op_2, outside),
    )

    assert codes(warnings) == [
        (in_op.external_id, WarningCode.QUANTITY_ADJUSTED_MIN),
        (in_op_2.external_id, WarningCode.QUANTITY_ADJUSTED_MAX),
    ]
    assert quantities(o) == {in_op.external_id: 5, in_op_2.external_id: 3, outside.external_id: 2}


def test_an_order_not_from_an_operation_ignores_the_operation_limits() -> None:
    op = offer_price()
    ope = operation(lines=(operation_line(op, 5, None),))
    o = order()

    warnings = update(
        o, [LineUpdate(op.external_id, 2)], cat=catalog(op, operation=ope), ctx=context(op)
    )

    assert warnings == []
    assert quantities(o) == {op.external_id: 2}


@pytest.mark.parametrize(
    "closed",
    [
        {"status": OperationStatus.INACTIVE},
        {"status": OperationStatus.DRAFT},
        {"end_date": NOW - timedelta(days=1)},
        {"start_date": NOW + timedelta(days=1)},
    ],
    ids=["inactive", "draft", "ended", "not-started"],
)
def test_a_closed_operation_skips_its_variants_and_keeps_the_others(
    closed: dict[str, object],
) -> None:
    in_op, outside = offer_price(), offer_price()
    ope = operation(lines=(operation_line(in_op, None, None),), **closed)
    o = operation_order()

    warnings = update(
        o,
        [LineUpdate(in_op.external_id, 1), LineUpdate(outside.external_id, 1)],
        cat=catalog(in_op, outside, operation=ope),
        ctx=context(in_op, outside),
    )

    assert codes(warnings) == [(in_op.external_id, WarningCode.OPERATION_NOT_AVAILABLE)]
    assert quantities(o) == {outside.external_id: 1}


def test_a_private_operation_skips_its_variants_for_an_account_it_does_not_list() -> None:
    in_op, outside = offer_price(), offer_price()
    ope = operation(
        type=OperationType.PRIVATE, account_ids=frozenset({99}), lines=(operation_line(in_op),)
    )
    o = operation_order()

    warnings = update(
        o,
        [LineUpdate(in_op.external_id, 1), LineUpdate(outside.external_id, 1)],
        cat=catalog(in_op, outside, operation=ope),
        ctx=context(in_op, outside),
    )

    assert codes(warnings) == [(in_op.external_id, WarningCode.OPERATION_NOT_AVAILABLE)]


def test_a_variant_line_of_a_closed_operation_is_skipped_as_operation_not_available() -> None:
    in_op, outside = offer_price(), offer_price()
    ope = operation(status=OperationStatus.INACTIVE, lines=(operation_line(in_op),))
    o = operation_order()

    warnings = update(
        o,
        [LineUpdate(in_op.variant_external_id, 1), LineUpdate(outside.variant_external_id, 1)],
        line_type=LineType.VARIANT,
        cat=catalog(in_op, outside, operation=ope),
        ctx=context(in_op, outside),
    )

    assert codes(warnings) == [(in_op.variant_external_id, WarningCode.OPERATION_NOT_AVAILABLE)]
    assert quantities(o) == {outside.external_id: 1}


# --- totals ---------------------------------------------------------------------------------


def test_totals_are_computed_on_lines_logistic_orders_and_the_order() -> None:
    # 0.25 net at 10 % tax is 0.025: half up to 0.03 (banker's rounding would give 0.02).
    a = offer_price(supplier_id=1, tiers=(tier(1, "0.25", "0.28"),), tax_rate=Decimal("10"))
    a2 = offer_price(supplier_id=1, tiers=(tier(1, "1.115", "1.338"),), tax_rate=Decimal("20"))
    b = offer_price(
        supplier_id=2,
        supplier_external_id="SUP-B",
        tiers=(tier(1, "10.00", "12.00"), tier(5, "9.00", "10.80")),
    )
    o = order()

    update(
        o,
        [
            LineUpdate(a.external_id, 1),
            LineUpdate(a2.external_id, 3),
            LineUpdate(b.external_id, 5),
        ],
        a,
        a2,
        b,
    )

    by_op = {ln.offer_price_external_id: ln for ln in o.lines}
    line_a, line_a2, line_b = by_op[a.external_id], by_op[a2.external_id], by_op[b.external_id]
    assert (line_a.net_unit_price, line_a.gross_unit_price) == (Decimal("0.25"), Decimal("0.28"))
    assert (line_a.total_net, line_a.tax_amount, line_a.total_gross) == (
        Decimal("0.25"),
        Decimal("0.03"),
        Decimal("0.28"),
    )
    # 3 x 1.115 = 3.345 -> 3.35; 20 % of 3.35 = 0.67
    assert (line_a2.total_net, line_a2.tax_amount, line_a2.total_gross) == (
        Decimal("3.35"),
        Decimal("0.67"),
        Decimal("4.02"),
    )
    # 5 units reach the 9.00 tier
    assert (line_b.net_unit_price, line_b.total_net, line_b.tax_amount, line_b.total_gross) == (
        Decimal("9.00"),
        Decimal("45.00"),
        Decimal("9.00"),
        Decimal("54.00"),
    )
    lo_a, lo_b = o.logistic_orders
    assert (lo_a.total_net, lo_a.total_tax, lo_a.total_gross) == (
        Decimal("3.60"),
        Decimal("0.70"),
        Decimal("4.30"),
    )
    assert (lo_b.total_net, lo_b.total_tax, lo_b.total_gross) == (
        Decimal("45.00"),
        Decimal("9.00"),
        Decimal("54.00"),
    )
    assert (o.total_net, o.total_tax, o.total_gross) == (
        Decimal("48.60"),
        Decimal("9.70"),
        Decimal("58.30"),
    )
    assert (o.line_count, o.product_count) == (3, 9)


def test_changing_a_quantity_reprices_the_line_at_its_new_tier() -> None:
    op = offer_price(tiers=(tier(1, "10.00"), tier(10, "8.00")))
    o = order()
    add_line(o, op, 2)

    update(o, [LineUpdate(op.external_id, 8, ADD)], op)

    (line,) = o.lines
    assert (line.quantity, line.net_unit_price, line.total_net) == (
        10,
        Decimal("8.00"),
        Decimal("80.00"),
    )
    assert o.total_net == Decimal("80.00")


# --- custom fields --------------------------------------------------------------------------


def test_line_custom_fields_are_merged_and_a_null_value_removes_the_key() -> None:
    op = offer_price()
    o = order()
    add_line(o, op, 1, custom_fields={"CF-A": "x", "CF-B": "y"})

    update(o, [LineUpdate(op.external_id, 1, custom_fields={"CF-B": None, "CF-C": 3})], op)

    assert o.lines[0].custom_fields == {"CF-A": "x", "CF-C": 3}


def test_an_update_without_custom_fields_keeps_the_lines_values() -> None:
    op = offer_price()
    o = order()
    add_line(o, op, 1, custom_fields={"CF-A": "x"})

    update(o, [LineUpdate(op.external_id, 2)], op)

    assert o.lines[0].custom_fields == {"CF-A": "x"}


def test_a_new_line_gets_the_requested_custom_fields_without_nulls() -> None:
    op = offer_price()
    o = order()

    update(o, [LineUpdate(op.external_id, 1, custom_fields={"CF-A": "x", "CF-B": None})], op)

    assert o.lines[0].custom_fields == {"CF-A": "x"}
