"""Money is rounded half up to the currency's minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordersync.domain.money import money_str, round_money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.005", "EUR", "1.01"),
        ("1.004", "EUR", "1.00"),
        ("0.025", "EUR", "0.03"),
        ("2.675", "USD", "2.68"),
        ("-1.005", "EUR", "-1.01"),
        ("2", "EUR", "2.00"),
        ("100.5", "JPY", "101"),
        ("100.49", "JPY", "100"),
        ("100.5", "jpy", "101"),
        ("1.0005", "KWD", "1.001"),
    ],
)
def test_round_money_rounds_half_up_to_the_currency_minor_units(
    amount: str, currency: str, expected: str
) -> None:
    rounded = round_money(Decimal(amount), currency)

    assert str(rounded) == expected


def test_yen_amounts_have_no_decimals() -> None:
    assert money_str(Decimal("1234.5"), "JPY") == "1235"


def test_money_str_always_shows_the_minor_units() -> None:
    assert money_str(Decimal("10"), "EUR") == "10.00"
