"""SPEC §4's table of what may change in each logistic-order status, row by row and column by
column, through the import: a row that passes where the table says yes, a row refused with
FIELD_NOT_EDITABLE_IN_STATUS (STATUS_FINAL for the status of a final one) where it says no,
and nothing of a refused row applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.imports.helpers import (
    cells,
    draft_order,
    line_row,
    lo_of,
    run_import,
    version,
)
from tests.integration.operator_helpers import LIFECYCLE, move, owner

# SPEC §4, written out here rather than read from the code it checks.
LINES, VALUES, ADDRESS, STATUS = "lines created/deleted", "values", "shipping address", "status"
TABLE: dict[str, set[str]] = {
    "DRAFT_ORDER": {LINES, VALUES, ADDRESS, STATUS},
    "DRAFT_ORDER_ON_HOLD": {LINES, VALUES, ADDRESS, STATUS},
    "ORDER_CREATED": {LINES, VALUES, ADDRESS, STATUS},
    "WAITING_CUSTOMER_APPROVAL": {VALUES, ADDRESS, STATUS},
    "WAITING_SUPPLIER_APPROVAL": {VALUES, ADDRESS, STATUS},
    "ACCEPTED_BY_SUPPLIER": {ADDRESS, STATUS},
    "WAITING_SHIPMENT": {ADDRESS, STATUS},
    "PARTIALLY_SHIPPED": {STATUS},
    "SHIPPED": {STATUS},
    "COMPLETED": set(),
    "CANCELED": set(),
    "DECLINED_BY_CUSTOMER": set(),
    "DECLINED_BY_SUPPLIER": set(),
}
FINAL = {"COMPLETED", "CANCELED", "DECLINED_BY_CUSTOMER", "DECLINED_BY_SUPPLIER"}


def later_status(status: str) -> str:
    """A status the table's status column lets `status` move to (or, for a final one, any
    other)."""
    if status in FINAL:
        return "CANCELED" if status == "COMPLETED" else "COMPLETED"
    return LIFECYCLE[LIFECYCLE.index(status) + 1]


# Each change: the table's column it falls under, the row (given the logistic order and its
# line ids by offer price), and what the logistic order shows once it is applied.
Row = Callable[[str, dict[str, int], str], dict[str, str]]
Check = Callable[[dict[str, Any], str], bool]


def _lines(lo: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["offerPriceExternalId"]: line for line in lo["lines"]}


CHANGES: dict[str, tuple[str, Row, Check]] = {
    "create a line": (
        LINES,
        lambda lo, ids, s: cells(
            ORDER_REFERENCE=lo,
            LINE_EXTERNAL_ID=f"NEW-{lo}",
            OFFER_PRICE_EXTERNAL_ID="OP-0003",
            QUANTITY="3",
        ),
        lambda after, s: _lines(after)["OP-0003"]["quantity"] == 3,
    ),
    "delete a line": (
        LINES,
        lambda lo, ids, s: line_row(lo, ids["OP-0001"], MARK_FOR_DELETION="true"),
        lambda after, s: set(_lines(after)) == {"OP-TIER"},
    ),
    "quantity": (
        VALUES,
        lambda lo, ids, s: line_row(lo, ids["OP-TIER"], QUANTITY="9"),
        lambda after, s: (
            _lines(after)["OP-TIER"]["quantity"] == 9 and after["totalNet"] == "13.80"
        ),
    ),
    "net unit price": (
        VALUES,
        lambda lo, ids, s: line_row(lo, ids["OP-TIER"], NET_UNIT_PRICE="1.10"),
        lambda after, s: _lines(after)["OP-TIER"]["totalNet"] == "2.20",
    ),
    "gross unit price": (
        VALUES,
        lambda lo, ids, s: line_row(lo, ids["OP-TIER"], GROSS_UNIT_PRICE="1.75"),
        lambda after, s: _lines(after)["OP-TIER"]["grossUnitPrice"] == "1.75",
    ),
    "tax amount": (
        VALUES,
        lambda lo, ids, s: line_row(lo, ids["OP-TIER"], TAX_AMOUNT="0.99"),
        lambda after, s: _lines(after)["OP-TIER"]["taxAmount"] == "0.99",
    ),
    "names": (
        VALUES,
        lambda lo, ids, s: line_row(
            lo, ids["OP-TIER"], VARIANT_NAME="Tier, renamed", VARIANT_DESCRIPTION="Now described"
        ),
        lambda after, s: _lines(after)["OP-TIER"]["variantName"] == "Tier, renamed",
    ),
    "shipping address": (
        ADDRESS,
        lambda lo, ids, s: line_row(
            lo,
            ids["OP-TIER"],
            ADDRESS_FULL_NAME="Receiving Dock 4",
            ADDRESS_STREET_NAME="12 quai de Seine",
            ADDRESS_CITY="Rouen",
            ADDRESS_ZIP_CODE="76000",
            ADDRESS_COUNTRY="FR",
        ),
        lambda after, s: after["shippingAddress"]["city"] == "Rouen",
    ),
    "status": (
        STATUS,
        lambda lo, ids, s: line_row(lo, ids["OP-TIER"], STATUS=later_status(s)),
        lambda after, s: after["status"] == later_status(s),
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("status", list(TABLE))
def test_what_a_row_may_change_follows_the_status_table(
    client: TestClient, status: str, change: str
) -> None:
    column, make_row, applied = CHANGES[change]
    lo, ids = draft_order(client)  # OP-TIER and OP-0001, 2 units each, SUP-A
    if status != "DRAFT_ORDER":
        move(client, lo, status)
    before, before_version = lo_of(client, lo), version(client, owner(lo))

    run = run_import(client, [make_row(lo, ids, status)])

    after = lo_of(client, lo)
    if column in TABLE[status]:
        assert run.outcome() == ("SUCCESS", ""), run.report
        assert applied(after, status)
        assert version(client, owner(lo)) == before_version + 1
    else:
        code = "STATUS_FINAL" if column == STATUS else "FIELD_NOT_EDITABLE_IN_STATUS"
        assert run.outcome() == ("ERROR", code)
        assert status in run.message()
        assert after == before
        assert version(client, owner(lo)) == before_version
    assert run.job["status"] == ("SUCCEEDED" if column in TABLE[status] else "FAILED")


@pytest.mark.parametrize("status", sorted(set(TABLE) - FINAL))
def test_no_status_moves_back(client: TestClient, status: str) -> None:
    lo, ids = draft_order(client)
    move(client, lo, "WAITING_SHIPMENT" if status == "DRAFT_ORDER" else status)
    current = lo_of(client, lo)["status"]
    run = run_import(client, [line_row(lo, ids["OP-TIER"], STATUS="DRAFT_ORDER")])
    assert run.outcome() == ("ERROR", "STATUS_TRANSITION_NOT_ALLOWED")
    assert lo_of(client, lo)["status"] == current


@pytest.mark.parametrize("status", sorted(set(TABLE) - FINAL))
def test_every_status_that_is_not_final_may_be_canceled(client: TestClient, status: str) -> None:
    lo, ids = draft_order(client)
    if status != "DRAFT_ORDER":
        move(client, lo, status)
    run = run_import(client, [line_row(lo, ids["OP-TIER"], STATUS="CANCELED")])
    assert run.outcome() == ("SUCCESS", "")
    assert lo_of(client, lo)["status"] == "CANCELED"


@pytest.mark.parametrize("status", sorted(TABLE))
def test_a_row_that_changes_nothing_passes_in_every_status(
    client: TestClient, status: str
) -> None:
    """Re-sending what the order holds is no change, so even a final order takes it."""
    lo, ids = draft_order(client)
    if status != "DRAFT_ORDER":
        move(client, lo, status)
    before, before_version = lo_of(client, lo), version(client, owner(lo))
    row = line_row(
        lo,
        ids["OP-TIER"],
        QUANTITY="2",
        NET_UNIT_PRICE="1.20",
        STATUS=status,
        ADDRESS_FULL_NAME="Jane Doe",
        ADDRESS_STREET_NAME="1 rue de la Paix",
        ADDRESS_CITY="Paris",
        ADDRESS_ZIP_CODE="75002",
        ADDRESS_COUNTRY="FR",
    )
    assert run_import(client, [row]).outcome() == ("SUCCESS", "")
    assert lo_of(client, lo) == before
    assert version(client, owner(lo)) == before_version
