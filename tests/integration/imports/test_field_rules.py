"""The seed's rules for the fields a row sets: external ids set once and never taken from
another order or line, status forward only, the shipping address all or none and its
defaults, required and typed custom fields, numbers and formats."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.imports import Column
from ordersync.services.data_bundle import load_bundle
from tests.bundle import KEY_2
from tests.integration.imports.helpers import (
    cells,
    draft_order,
    imported,
    line_row,
    lines_of,
    lo_of,
    run_import,
)
from tests.integration.operator_helpers import (
    ADDRESS,
    any_order,
    logistic_refs,
    move,
    order_with,
    owner,
    patch,
)

SUCCESS = ("SUCCESS", "")


def error(code: str) -> tuple[str, str]:
    return ("ERROR", code)


FULL_ADDRESS = {  # cells by Column member name
    "ADDRESS_FULL_NAME": "Receiving Dock 4",
    "ADDRESS_STREET_NAME": "12 quai de Seine",
    "ADDRESS_CITY": "Rouen",
    "ADDRESS_ZIP_CODE": "76000",
    "ADDRESS_COUNTRY": "FR",
}
ACCOUNT_ADDRESS = {  # ACC-1's first shipping address (tests/bundle.py)
    "fullName": "Jane Doe",
    "streetName": "1 rue de la Paix",
    "city": "Paris",
    "zipCode": "75002",
    "country": "FR",
}


def address_of(client: TestClient, lo: str) -> dict[str, Any] | None:
    address: dict[str, Any] | None = lo_of(client, lo)["shippingAddress"]
    return address


def without_address(app: FastAPI, lo: str) -> None:
    """An order that has no shipping address yet (orders made through the shop take the
    account's first one)."""
    with app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE logistic_orders SET shipping_address = NULL WHERE reference = :r"),
            {"r": lo},
        )
        # As every writer does (the serving process keeps orders' rows by version).
        conn.execute(
            text(
                "UPDATE commercial_orders SET version = version + 1 WHERE id = "
                "(SELECT commercial_order_id FROM logistic_orders WHERE reference = :r)"
            ),
            {"r": lo},
        )


# --- external ids, set once ---------------------------------------------------------------


def test_order_external_id_is_set_only_while_unset(client: TestClient) -> None:
    lo, ids = draft_order(client)
    row = line_row(lo, ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-1")
    assert imported(client, row) == SUCCESS
    assert lo_of(client, lo)["externalId"] == "ERP-1"

    assert imported(client, row) == SUCCESS  # the same value again: no change
    run = run_import(
        client, [line_row(lo, ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-2", QUANTITY="5")]
    )
    assert run.outcome() == error("EXTERNAL_ID_ALREADY_SET")
    assert "ERP-1" in run.message()
    assert lo_of(client, lo)["externalId"] == "ERP-1"
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2  # nothing of the row applied


def test_order_external_id_held_by_another_order_is_refused(client: TestClient) -> None:
    holder, _ = draft_order(client)
    assert patch(client, holder, {"externalId": "ERP-HELD"}).status_code == 200
    lo, ids = draft_order(client)
    row = line_row(lo, ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-HELD", QUANTITY="5")
    assert imported(client, row) == error("EXTERNAL_ID_TAKEN")
    assert lo_of(client, lo)["externalId"] is None
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2


def test_order_external_id_taken_by_an_earlier_row_of_the_same_order_is_refused(
    client: TestClient,
) -> None:
    reference = order_with(client, ["OP-TIER", "OP-0002"])  # SUP-A and SUP-B
    los = logistic_refs(client, reference)
    a, b = los["SUP-A"], los["SUP-B"]
    a_line, b_line = lines_of(client, a)["OP-TIER"]["id"], lines_of(client, b)["OP-0002"]["id"]
    run = run_import(
        client,
        [
            line_row(a, a_line, ORDER_EXTERNAL_ID="ERP-SAME"),
            line_row(b, b_line, ORDER_EXTERNAL_ID="ERP-SAME"),
        ],
    )
    assert run.outcomes == [SUCCESS, error("EXTERNAL_ID_TAKEN")]
    assert (lo_of(client, a)["externalId"], lo_of(client, b)["externalId"]) == ("ERP-SAME", None)


def test_order_external_id_asked_by_two_orders_of_one_file_goes_to_one_of_them(
    client: TestClient,
) -> None:
    """Rows of different commercial orders apply in parallel partitions: which of two rows
    asking for the same new external id wins is not the file's order (docs/decisions.md),
    but exactly one does and the other is refused."""
    a, a_ids = draft_order(client)
    b, b_ids = draft_order(client)
    run = run_import(
        client,
        [
            line_row(a, a_ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-SAME"),
            line_row(b, b_ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-SAME"),
        ],
    )
    assert sorted(run.outcomes) == [error("EXTERNAL_ID_TAKEN"), SUCCESS]
    holders = [lo_of(client, lo)["externalId"] for lo in (a, b)]
    assert holders == (["ERP-SAME", None] if run.outcome(0) == SUCCESS else [None, "ERP-SAME"])


def test_line_external_id_is_set_only_while_unset(client: TestClient) -> None:
    lo, ids = draft_order(client)
    assert imported(client, line_row(lo, ids["OP-TIER"], LINE_EXTERNAL_ID="L-1")) == SUCCESS
    row = line_row(lo, ids["OP-TIER"], LINE_EXTERNAL_ID="L-2", QUANTITY="5")
    assert imported(client, row) == error("EXTERNAL_ID_ALREADY_SET")
    line = lines_of(client, lo)["OP-TIER"]
    assert (line["externalId"], line["quantity"]) == ("L-1", 2)


def test_line_external_id_held_by_another_line_is_refused(client: TestClient) -> None:
    other, other_ids = draft_order(client)
    assert (
        imported(client, line_row(other, other_ids["OP-TIER"], LINE_EXTERNAL_ID="L-HELD"))
        == SUCCESS
    )
    lo, ids = draft_order(client)
    run = run_import(
        client,
        [
            line_row(lo, ids["OP-TIER"], LINE_EXTERNAL_ID="L-HELD"),  # another order's line
            line_row(other, other_ids["OP-0001"], LINE_EXTERNAL_ID="L-HELD"),  # same order
        ],
    )
    assert run.outcomes == [error("EXTERNAL_ID_TAKEN"), error("EXTERNAL_ID_TAKEN")]
    assert lines_of(client, lo)["OP-TIER"]["externalId"] is None
    assert lines_of(client, other)["OP-0001"]["externalId"] is None


# --- status ---------------------------------------------------------------------------------


def test_order_status_moves_forward(client: TestClient) -> None:
    lo, ids = draft_order(client)
    line = ids["OP-TIER"]
    assert imported(client, line_row(lo, line, STATUS="WAITING_CUSTOMER_APPROVAL")) == SUCCESS
    assert lo_of(client, lo)["status"] == "WAITING_CUSTOMER_APPROVAL"
    assert any_order(client, owner(lo))["isValidated"] is True  # out of draft: placed

    run = run_import(client, [line_row(lo, line, STATUS="ORDER_CREATED")])
    assert run.outcome() == error("STATUS_TRANSITION_NOT_ALLOWED")
    assert "WAITING_CUSTOMER_APPROVAL" in run.message()
    assert lo_of(client, lo)["status"] == "WAITING_CUSTOMER_APPROVAL"


def test_the_csv_spelling_order_draft_on_hold_is_accepted(client: TestClient) -> None:
    lo, ids = draft_order(client)
    assert imported(client, line_row(lo, ids["OP-TIER"], STATUS="ORDER_DRAFT_ON_HOLD")) == SUCCESS
    assert lo_of(client, lo)["status"] == "DRAFT_ORDER_ON_HOLD"
    assert any_order(client, owner(lo))["isValidated"] is False


def test_an_unknown_status_is_f_e_008(client: TestClient) -> None:
    lo, ids = draft_order(client)
    run = run_import(client, [line_row(lo, ids["OP-TIER"], STATUS="SHIPPING_SOON")])
    assert run.outcome() == error("F-E-008")
    assert "SHIPPING_SOON" in run.message()
    assert lo_of(client, lo)["status"] == "DRAFT_ORDER"


def test_a_final_status_does_not_move(client: TestClient) -> None:
    lo, ids = draft_order(client)
    move(client, lo, "CANCELED")
    assert imported(client, line_row(lo, ids["OP-TIER"], STATUS="CANCELED")) == SUCCESS
    assert imported(client, line_row(lo, ids["OP-TIER"], STATUS="COMPLETED")) == error(
        "STATUS_FINAL"
    )
    assert lo_of(client, lo)["status"] == "CANCELED"


# --- shipping address --------------------------------------------------------------------


def test_a_shipping_address_is_given_whole(client: TestClient) -> None:
    lo, ids = draft_order(client)
    assert imported(client, line_row(lo, ids["OP-TIER"], **FULL_ADDRESS)) == SUCCESS
    address = address_of(client, lo)
    assert address is not None
    assert {k: address[k] for k in ADDRESS if k != "externalId"} == {
        k: v for k, v in ADDRESS.items() if k != "externalId"
    }


@pytest.mark.parametrize(
    "missing",
    [
        "ADDRESS_FULL_NAME",
        "ADDRESS_STREET_NAME",
        "ADDRESS_CITY",
        "ADDRESS_ZIP_CODE",
        "ADDRESS_COUNTRY",
    ],
)
def test_a_partial_shipping_address_is_refused(client: TestClient, missing: str) -> None:
    lo, ids = draft_order(client)
    before = address_of(client, lo)
    partial = {k: v for k, v in FULL_ADDRESS.items() if k != missing}
    run = run_import(client, [line_row(lo, ids["OP-TIER"], QUANTITY="5", **partial)])
    assert run.outcome() == error("F-E-001")
    assert Column[missing].value in run.message()
    assert address_of(client, lo) == before
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2


def test_state_and_additional_alone_complete_the_current_address(client: TestClient) -> None:
    lo, ids = draft_order(client)
    before = address_of(client, lo)
    assert before is not None
    row = line_row(lo, ids["OP-TIER"], ADDRESS_STATE="Normandie", ADDRESS_ADDITIONAL="Gate B")
    assert imported(client, row) == SUCCESS
    assert address_of(client, lo) == {**before, "state": "Normandie", "additional": "Gate B"}


def test_state_alone_on_an_order_without_address_takes_the_accounts_first_address(
    client: TestClient, app: FastAPI
) -> None:
    lo, ids = draft_order(client)
    without_address(app, lo)
    assert imported(client, line_row(lo, ids["OP-TIER"], ADDRESS_STATE="Ile-de-France")) == SUCCESS
    address = address_of(client, lo)
    assert address is not None
    assert {k: address[k] for k in ACCOUNT_ADDRESS} == ACCOUNT_ADDRESS
    assert address["state"] == "Ile-de-France"


def test_state_alone_with_no_address_to_complete_is_refused(client: TestClient) -> None:
    lo, ids = draft_order(client, ("OP-TIER",), key=KEY_2)  # ACC-2 has no shipping address
    assert address_of(client, lo) is None
    run = run_import(
        client, [line_row(lo, ids["OP-TIER"], ADDRESS_STATE="Bretagne", QUANTITY="4")]
    )
    assert run.outcome() == error("F-E-001")
    assert address_of(client, lo) is None
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2


def test_an_address_as_it_is_is_no_change(client: TestClient) -> None:
    lo, ids = draft_order(client)
    same = dict(
        ADDRESS_FULL_NAME="Jane Doe",
        ADDRESS_STREET_NAME="1 rue de la Paix",
        ADDRESS_CITY="Paris",
        ADDRESS_ZIP_CODE="75002",
        ADDRESS_COUNTRY="FR",
    )
    before = any_order(client, owner(lo))
    assert imported(client, line_row(lo, ids["OP-TIER"], **same)) == SUCCESS
    after = any_order(client, owner(lo))
    assert after["version"] == before["version"]
    assert after["logisticOrders"] == before["logisticOrders"]


# --- custom fields --------------------------------------------------------------------------


def test_custom_field_columns_go_to_the_order_or_the_line_by_their_entity(
    client: TestClient,
) -> None:
    lo, ids = draft_order(client)
    row = line_row(
        lo,
        ids["OP-TIER"],
        CF_PO="PO-77",
        CF_CC="CC-B",
        CF_NOTE="fragile",
        CF_URGENT="yes",
        CF_QTY="2.5",
    )
    assert imported(client, row) == SUCCESS
    order = any_order(client, owner(lo))
    assert order["customFields"] == {"CF-PO": "PO-77", "CF-CC": "CC-B"}
    line = lines_of(client, lo)["OP-TIER"]
    assert line["customFields"] == {"CF-NOTE": "fragile", "CF-URGENT": True, "CF-QTY": 2.5}
    assert lines_of(client, lo)["OP-0001"]["customFields"] == {}


@pytest.mark.parametrize(
    "column,value",
    [("CF_CC", "CC-Z"), ("CF_URGENT", "maybe"), ("CF_QTY", "two"), ("CF_DATE", "2026-13-01")],
)
def test_a_custom_field_value_that_does_not_fit_is_refused(
    client: TestClient, column: str, value: str
) -> None:
    lo, ids = draft_order(client)
    run = run_import(client, [line_row(lo, ids["OP-TIER"], QUANTITY="5", **{column: value})])
    assert run.outcome() == error("CUSTOM_FIELD_INVALID")
    assert column.replace("_", "-") in run.message()
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2


@pytest.fixture
def required_line_field(app: FastAPI) -> Iterator[str]:
    """A required ORDER_LINE custom field, made optional again afterwards (the catalog is
    shared by the whole session)."""
    definition = {"externalId": "CF-LOT", "entity": "ORDER_LINE", "type": "STRING"}
    load_bundle(
        UnitOfWork(app.state.session_factory), {"customFields": [definition | {"required": True}]}
    )
    try:
        yield "CF-LOT"
    finally:
        load_bundle(UnitOfWork(app.state.session_factory), {"customFields": [definition]})


def test_a_new_line_carries_the_required_custom_fields(
    client: TestClient, required_line_field: str
) -> None:
    lo, ids = draft_order(client)
    new = {"ORDER_REFERENCE": lo, "OFFER_PRICE_EXTERNAL_ID": "OP-0003", "QUANTITY": "1"}
    run = run_import(
        client,
        [
            cells(**new, LINE_EXTERNAL_ID="N-1"),
            cells(**new, LINE_EXTERNAL_ID="N-2", CF_LOT="LOT-9"),
            line_row(lo, ids["OP-TIER"], QUANTITY="4"),  # an update needs none
        ],
    )
    assert run.outcomes == [error("F-E-001"), SUCCESS, SUCCESS]
    assert required_line_field in run.message(0)
    lines = lines_of(client, lo)
    assert lines["OP-0003"]["customFields"] == {"CF-LOT": "LOT-9"}
    assert lines["OP-TIER"]["quantity"] == 4


# --- numbers and formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "values,code",
    [
        ({"QUANTITY": "three"}, "F-E-006"),
        ({"QUANTITY": "2.5"}, "F-E-006"),
        ({"NET_UNIT_PRICE": "1,50"}, "F-E-006"),
        ({"TAX_AMOUNT": "abc"}, "F-E-006"),
        ({"LINE_ID": "x12"}, "F-E-006"),
        ({"QUANTITY": "-1"}, "F-E-007"),
        ({"QUANTITY": "1000000001"}, "F-E-007"),
        ({"NET_UNIT_PRICE": "-1.00"}, "F-E-007"),
        ({"GROSS_UNIT_PRICE": "1.123456"}, "F-E-007"),
        ({"NET_UNIT_PRICE": "99999999999"}, "F-E-007"),
        ({"VARIANT_NAME": "x" * 513}, "F-E-012"),
        ({"ORDER_EXTERNAL_ID": "E" * 129}, "F-E-012"),
        ({"VARIANT_DESCRIPTION": "nul\x00"}, "F-E-012"),
        ({"LINE_EXTERNAL_ID": "tab\there"}, "F-E-012"),
    ],
)
def test_numbers_and_formats_that_do_not_read_are_refused(
    client: TestClient, values: dict[str, str], code: str
) -> None:
    lo, ids = draft_order(client)
    values = {"QUANTITY": "5"} | values if "QUANTITY" not in values else values
    row = line_row(lo, ids["OP-TIER"], **values)
    if "LINE_ID" in values:
        row["Order Line Id"] = values["LINE_ID"]
    run = run_import(client, [row])
    assert run.outcome() == error(code)
    assert run.message()
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2


def test_numbers_that_read_are_applied(client: TestClient) -> None:
    lo, ids = draft_order(client)
    row = line_row(
        lo,
        ids["OP-TIER"],
        QUANTITY="+10",
        NET_UNIT_PRICE="1.0500",
        GROSS_UNIT_PRICE=".5",
        TAX_AMOUNT="2.1",
        VARIANT_NAME="Tier item, renamed",
    )
    assert imported(client, row) == SUCCESS
    line = lines_of(client, lo)["OP-TIER"]
    assert (line["quantity"], line["netUnitPrice"], line["grossUnitPrice"]) == (10, "1.05", "0.50")
    assert (line["taxAmount"], line["totalNet"], line["variantName"]) == (
        "2.10",
        "10.50",
        "Tier item, renamed",
    )


def test_the_same_line_twice_fails_on_the_repeat(client: TestClient) -> None:
    lo, ids = draft_order(client)
    run = run_import(
        client,
        [
            line_row(lo, ids["OP-TIER"], QUANTITY="5"),
            line_row(lo, ids["OP-0001"], QUANTITY="6"),
            line_row(lo, ids["OP-TIER"], QUANTITY="7"),
        ],
    )
    assert run.outcomes == [SUCCESS, SUCCESS, error("F-E-003")]
    assert run.report[2]["Line Number"] == "4"
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 5
