"""May this buyer order this offer price now? And is this operation open to them?"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ordersync.domain.catalog import OperationStatus, OperationType, Status
from ordersync.domain.warnings import WarningCode
from ordersync.rules.eligibility import account_is_eligible, offer_price_refusal, operation_refusal
from tests.unit.factories import NOW, account, context, offer_price, operation

DAY = timedelta(days=1)


def refusal_code(currency: str = "EUR", visible: bool = True, **overrides: Any) -> Any:
    op = offer_price(**overrides)
    ctx = context(op) if visible else context()
    refusal = offer_price_refusal(op, ctx, currency)
    return None if refusal is None else refusal[0]


def test_an_active_public_visible_offer_in_stock_is_eligible() -> None:
    assert refusal_code() is None


def test_a_missing_offer_price_is_refused_as_offer_not_found() -> None:
    assert offer_price_refusal(None, context(), "EUR") == (
        WarningCode.OFFER_NOT_FOUND,
        "The offer price does not exist.",
    )


def test_an_inactive_offer_is_refused_as_offer_not_found() -> None:
    assert refusal_code(offer_status=Status.INACTIVE) is WarningCode.OFFER_NOT_FOUND


def test_an_inactive_supplier_is_refused_as_supplier_inactive() -> None:
    assert refusal_code(supplier_status=Status.INACTIVE) is WarningCode.SUPPLIER_INACTIVE


@pytest.mark.parametrize(
    "overrides",
    [
        {"valid_from": NOW + DAY},
        {"valid_to": NOW - DAY},
        {"currency": "USD"},
        {"eligible_account_ids": frozenset({99})},
        {"eligible_account_groups": frozenset({"SILVER"})},
        {"eligible_account_ids": frozenset({99}), "eligible_account_groups": frozenset({"X"})},
    ],
    ids=[
        "valid-from-future",
        "valid-to-past",
        "other-currency",
        "other-account",
        "other-group",
        "neither-listed",
    ],
)
def test_an_offer_out_of_its_dates_currency_or_accounts_is_not_eligible(
    overrides: dict[str, Any],
) -> None:
    assert refusal_code(**overrides) is WarningCode.LINE_NOT_ELIGIBLE


def test_an_offer_is_valid_on_the_boundaries_of_its_dates() -> None:
    assert refusal_code(valid_from=NOW, valid_to=NOW) is None
    assert refusal_code(valid_from=NOW - DAY, valid_to=NOW + DAY) is None


def test_a_variant_outside_the_store_views_catalog_views_is_not_visible() -> None:
    assert refusal_code(visible=False) is WarningCode.VARIANT_NOT_VISIBLE


def test_an_offer_with_no_stock_is_out_of_stock() -> None:
    assert refusal_code(available_quantity=0) is WarningCode.OUT_OF_STOCK


@pytest.mark.parametrize("stock", [None, 1, 500])
def test_an_offer_with_stock_or_unlimited_stock_is_eligible(stock: int | None) -> None:
    assert refusal_code(available_quantity=stock) is None


def test_each_refusal_comes_with_a_detail_for_the_buyer() -> None:
    op = offer_price(supplier_status=Status.INACTIVE, supplier_external_id="SUP-Z")

    code, detail = offer_price_refusal(op, context(op), "EUR") or (None, "")

    assert code is WarningCode.SUPPLIER_INACTIVE
    assert "SUP-Z" in detail


def test_an_account_listed_by_id_is_eligible() -> None:
    op = offer_price(eligible_account_ids=frozenset({7, 8}))

    assert account_is_eligible(op, context(op, account=account(id=7, groups=frozenset())))


def test_an_account_in_a_listed_group_is_eligible() -> None:
    op = offer_price(
        eligible_account_ids=frozenset({99}), eligible_account_groups=frozenset({"GOLD"})
    )

    assert account_is_eligible(op, context(op, account=account(id=7, groups=frozenset({"GOLD"}))))


def test_an_offer_with_no_account_or_group_listed_is_public() -> None:
    op = offer_price()

    assert account_is_eligible(op, context(op, account=account(id=12345, groups=frozenset())))


def test_an_account_neither_listed_nor_in_a_listed_group_is_not_eligible() -> None:
    op = offer_price(eligible_account_groups=frozenset({"GOLD"}))

    assert not account_is_eligible(op, context(op, account=account(groups=frozenset({"SILVER"}))))


@pytest.mark.parametrize("status", [OperationStatus.DRAFT, OperationStatus.INACTIVE])
def test_an_operation_that_is_not_active_is_refused(status: OperationStatus) -> None:
    assert "not active" in (operation_refusal(operation(status=status), context()) or "")


def test_an_operation_that_has_not_started_is_refused() -> None:
    refusal = operation_refusal(operation(start_date=NOW + DAY), context())

    assert "not started" in (refusal or "")


def test_an_operation_that_has_ended_is_refused() -> None:
    assert "ended" in (operation_refusal(operation(end_date=NOW - DAY), context()) or "")


def test_an_operation_with_no_dates_is_open() -> None:
    assert operation_refusal(operation(start_date=None, end_date=None), context()) is None


def test_a_public_operation_is_open_to_any_account() -> None:
    assert operation_refusal(operation(type=OperationType.PUBLIC), context()) is None


def test_a_private_operation_refuses_an_account_it_does_not_list() -> None:
    private = operation(type=OperationType.PRIVATE, account_ids=frozenset({99}))

    assert "private" in (operation_refusal(private, context(account=account(id=7))) or "")


def test_a_private_operation_is_open_to_an_account_it_lists() -> None:
    private = operation(type=OperationType.PRIVATE, account_ids=frozenset({7, 99}))

    assert operation_refusal(private, context(account=account(id=7))) is None
