"""Bounding a requested quantity: minimum, step, maximum, stock, in that order."""

from __future__ import annotations

import pytest

from ordersync.domain.warnings import WarningCode
from ordersync.rules.quantities import QuantityLimits, bound_quantity
from tests.unit.factories import offer_price, operation_line

MIN = WarningCode.QUANTITY_ADJUSTED_MIN
STEP = WarningCode.QUANTITY_ADJUSTED_STEP
MAX = WarningCode.QUANTITY_ADJUSTED_MAX
STOCK = WarningCode.QUANTITY_ADJUSTED_STOCK


def codes(requested: int, limits: QuantityLimits) -> tuple[int, list[WarningCode]]:
    bounded = bound_quantity(requested, limits)
    return bounded.quantity, [code for code, _ in bounded.adjustments]


@pytest.mark.parametrize(
    ("requested", "limits", "expected_quantity", "expected_codes"),
    [
        # within every limit: unchanged, no warning
        (5, QuantityLimits(), 5, []),
        (10, QuantityLimits(minimum=2, maximum=20, step=5, stock=100), 10, []),
        # each adjustment on its own
        (2, QuantityLimits(minimum=5), 5, [MIN]),
        (7, QuantityLimits(step=5), 10, [STEP]),
        (30, QuantityLimits(maximum=25), 25, [MAX]),
        (50, QuantityLimits(stock=35), 35, [STOCK]),
        # minimum first, then rounded up to the step
        (3, QuantityLimits(minimum=4, step=5), 5, [MIN, STEP]),
        # rounding up may cross the maximum: lowered to the largest step multiple within it
        (25, QuantityLimits(maximum=25, step=10), 20, [STEP, MAX]),
        (30, QuantityLimits(maximum=25, step=10), 20, [MAX]),
        # the stock is a step multiple too, and applies after the maximum
        (50, QuantityLimits(step=10, stock=35), 30, [STOCK]),
        (50, QuantityLimits(maximum=40, step=10, stock=25), 20, [MAX, STOCK]),
        # all four, in order (here ending below the minimum: not orderable)
        (1, QuantityLimits(minimum=5, maximum=7, step=4, stock=3), 0, [MIN, STEP, MAX, STOCK]),
    ],
)
def test_bound_quantity_applies_min_then_step_then_max_then_stock(
    requested: int,
    limits: QuantityLimits,
    expected_quantity: int,
    expected_codes: list[WarningCode],
) -> None:
    assert codes(requested, limits) == (expected_quantity, expected_codes)


def test_quantity_below_minimum_is_raised_with_a_min_warning() -> None:
    bounded = bound_quantity(2, QuantityLimits(minimum=5))

    assert bounded.quantity == 5
    assert bounded.orderable
    ((code, detail),) = bounded.adjustments
    assert code is MIN
    assert "5" in detail


def test_quantity_between_steps_is_rounded_up_never_down() -> None:
    assert codes(11, QuantityLimits(step=10)) == (20, [STEP])


def test_quantity_above_maximum_is_lowered_with_a_max_warning() -> None:
    assert codes(95, QuantityLimits(maximum=12, step=5)) == (10, [MAX])


def test_quantity_above_stock_is_lowered_with_a_stock_warning() -> None:
    assert codes(8, QuantityLimits(stock=3)) == (3, [STOCK])


@pytest.mark.parametrize("requested", [1, 1_000, 1_000_000])
def test_unlimited_stock_never_lowers_the_quantity(requested: int) -> None:
    assert codes(requested, QuantityLimits(stock=None)) == (requested, [])


@pytest.mark.parametrize(
    ("requested", "limits"),
    [
        # stock below the minimum
        (1, QuantityLimits(minimum=10, stock=5)),
        # stock below one step
        (3, QuantityLimits(step=10, stock=7)),
        # the largest step multiple within the maximum is below the minimum
        (1, QuantityLimits(minimum=5, maximum=7, step=4)),
        # maximum below one step
        (1, QuantityLimits(maximum=3, step=4)),
        # nothing requested
        (0, QuantityLimits()),
        # out of stock
        (1, QuantityLimits(stock=0)),
    ],
)
def test_a_result_below_the_minimum_or_zero_is_not_orderable(
    requested: int, limits: QuantityLimits
) -> None:
    bounded = bound_quantity(requested, limits)

    assert not bounded.orderable
    assert bounded.quantity == 0


def test_a_not_orderable_result_still_reports_the_adjustments_tried() -> None:
    assert codes(1, QuantityLimits(minimum=10, stock=5)) == (0, [MIN, STOCK])


def test_limits_of_an_offer_price_alone() -> None:
    op = offer_price(
        min_order_quantity=2, max_order_quantity=50, quantity_step=5, available_quantity=100
    )

    assert QuantityLimits.of(op) == QuantityLimits(2, 50, 5, 100)


def test_limits_treat_a_zero_step_as_one() -> None:
    assert QuantityLimits.of(offer_price(quantity_step=0)).step == 1


@pytest.mark.parametrize(
    ("offer_min", "offer_max", "op_min", "op_max", "expected_min", "expected_max"),
    [
        (2, 50, 10, 30, 10, 30),  # the operation is narrower
        (10, 30, 2, 50, 10, 30),  # the offer is narrower
        (2, 30, 10, 50, 10, 30),  # min from the operation, max from the offer
        (None, None, 3, 9, 3, 9),  # only the operation has limits
        (4, 8, None, None, 4, 8),  # only the offer has limits
        (None, None, None, None, None, None),
    ],
)
def test_an_operation_line_narrows_the_limits_min_is_the_larger_max_the_smaller(
    offer_min: int | None,
    offer_max: int | None,
    op_min: int | None,
    op_max: int | None,
    expected_min: int | None,
    expected_max: int | None,
) -> None:
    op = offer_price(
        min_order_quantity=offer_min,
        max_order_quantity=offer_max,
        quantity_step=2,
        available_quantity=40,
    )

    limits = QuantityLimits.of(op, operation_line(op, op_min, op_max))

    assert limits == QuantityLimits(expected_min, expected_max, 2, 40)
