"""The seed's rules for naming orders and lines, creating and deleting lines, offers and
variants, through the real upload: each rule with a row that passes and a row that fails
(the report's error code), and what the order looks like afterwards."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
from tests.integration.operator_helpers import any_order, owner, patch

SUCCESS = ("SUCCESS", "")


def error(code: str) -> tuple[str, str]:
    return ("ERROR", code)


# --- naming the order ------------------------------------------------------------------------


def test_a_row_names_its_order_by_order_reference(client: TestClient) -> None:
    lo, ids = draft_order(client)

    assert imported(client, line_row(lo, ids["OP-TIER"], QUANTITY="7")) == SUCCESS
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 7

    run = run_import(client, [line_row("999-999-9999999-1", ids["OP-TIER"], QUANTITY="8")])
    assert run.outcome() == error("F-E-002")
    assert "999-999-9999999-1" in run.message()
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 7


def test_a_row_names_its_order_by_order_external_id(client: TestClient) -> None:
    lo, ids = draft_order(client)
    assert patch(client, lo, {"externalId": "ERP-SO-1"}).status_code == 200

    row = cells(ORDER_EXTERNAL_ID="ERP-SO-1", LINE_ID=str(ids["OP-TIER"]), QUANTITY="9")
    assert imported(client, row) == SUCCESS
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 9

    unknown = cells(ORDER_EXTERNAL_ID="ERP-SO-404", LINE_ID=str(ids["OP-TIER"]), QUANTITY="3")
    assert imported(client, unknown) == error("F-E-002")
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 9


def test_a_row_naming_no_order_is_refused(client: TestClient) -> None:
    _, ids = draft_order(client)
    run = run_import(client, [cells(LINE_ID=str(ids["OP-TIER"]), QUANTITY="3")])
    assert run.outcome() == error("F-E-001")
    assert "Order Reference" in run.message()


def test_order_reference_wins_over_order_external_id(client: TestClient) -> None:
    a, a_ids = draft_order(client)
    b, b_ids = draft_order(client)
    assert patch(client, b, {"externalId": "ERP-B"}).status_code == 200

    # The reference names the order; the external id, unknown, is then A's to take.
    row = line_row(a, a_ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-A", QUANTITY="5")
    assert imported(client, row) == SUCCESS
    assert lo_of(client, a)["externalId"] == "ERP-A"
    assert lines_of(client, a)["OP-TIER"]["quantity"] == 5

    # B's external id beside A's reference does not move the row to B.
    row = line_row(a, b_ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-B", QUANTITY="6")
    assert imported(client, row) == error("F-E-002")  # B's line is not A's
    row = line_row("999-999-9999999-1", b_ids["OP-TIER"], ORDER_EXTERNAL_ID="ERP-B", QUANTITY="6")
    assert imported(client, row) == error("F-E-002")
    assert lines_of(client, b)["OP-TIER"]["quantity"] == 2


def test_account_and_supplier_cells_must_be_the_orders(client: TestClient) -> None:
    lo, ids = draft_order(client)
    line = ids["OP-TIER"]
    mine = line_row(
        lo, line, ACCOUNT_EXTERNAL_ID="ACC-1", SUPPLIER_EXTERNAL_ID="SUP-A", QUANTITY="4"
    )
    assert imported(client, mine) == SUCCESS
    assert imported(
        client, line_row(lo, line, ACCOUNT_EXTERNAL_ID="ACC-2", QUANTITY="5")
    ) == error("ORDER_MISMATCH")
    assert imported(
        client, line_row(lo, line, SUPPLIER_EXTERNAL_ID="SUP-B", QUANTITY="5")
    ) == error("ORDER_MISMATCH")
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 4


# --- naming the line --------------------------------------------------------------------------


def test_a_row_names_its_line_by_order_line_id(client: TestClient) -> None:
    lo, ids = draft_order(client)
    other, other_ids = draft_order(client)

    assert imported(client, line_row(lo, ids["OP-0001"], QUANTITY="11")) == SUCCESS
    assert lines_of(client, lo)["OP-0001"]["quantity"] == 11

    # A line id of another order is no line of this one.
    run = run_import(client, [line_row(lo, other_ids["OP-0001"], QUANTITY="12")])
    assert run.outcome() == error("F-E-002")
    assert str(other_ids["OP-0001"]) in run.message()
    assert imported(client, line_row(lo, "2147483647", QUANTITY="12")) == error("F-E-002")
    assert lines_of(client, other)["OP-0001"]["quantity"] == 2


def test_a_row_names_its_line_by_order_line_external_id(client: TestClient) -> None:
    lo, ids = draft_order(client)
    other, _ = draft_order(client)
    # Set once through the import, by line id, then used to name the line.
    assert imported(client, line_row(lo, ids["OP-TIER"], LINE_EXTERNAL_ID="ERP-L-1")) == SUCCESS
    assert lines_of(client, lo)["OP-TIER"]["externalId"] == "ERP-L-1"

    row = cells(ORDER_REFERENCE=lo, LINE_EXTERNAL_ID="ERP-L-1", QUANTITY="13")
    assert imported(client, row) == SUCCESS
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 13

    # In another order that external id names no line: it would be a new line there, whose
    # external id another line holds.
    row = cells(
        ORDER_REFERENCE=other,
        LINE_EXTERNAL_ID="ERP-L-1",
        OFFER_PRICE_EXTERNAL_ID="OP-0003",
        QUANTITY="1",
    )
    assert imported(client, row) == error("EXTERNAL_ID_TAKEN")
    assert set(lines_of(client, other)) == {"OP-TIER", "OP-0001"}


def test_a_row_naming_no_line_is_refused(client: TestClient) -> None:
    lo, _ = draft_order(client)
    run = run_import(client, [cells(ORDER_REFERENCE=lo, QUANTITY="3")])
    assert run.outcome() == error("F-E-001")
    assert "Order Line Id" in run.message()


# --- creating lines ---------------------------------------------------------------------------


def test_a_line_is_created_from_an_offer_price(client: TestClient) -> None:
    lo, _ = draft_order(client)
    row = cells(
        ORDER_REFERENCE=lo,
        LINE_EXTERNAL_ID="NEW-1",
        OFFER_PRICE_EXTERNAL_ID="OP-0003",
        QUANTITY="4",
    )
    assert imported(client, row) == SUCCESS
    line = lines_of(client, lo)["OP-0003"]
    assert (line["externalId"], line["quantity"], line["variantExternalId"]) == (
        "NEW-1",
        4,
        "V-0003",
    )
    assert (line["netUnitPrice"], line["grossUnitPrice"], line["taxAmount"]) == (
        "1.50",
        "2.00",
        "1.20",
    )
    assert (line["variantName"], line["classificationExternalId"]) == ("Item V-0003", "CLS-1")
    order = lo_of(client, lo)
    assert order["totalNet"] == "11.40"  # 2 x 1.20 + 2 x 1.50 + 4 x 1.50


def test_a_line_is_created_from_a_variant_and_a_net_unit_price(client: TestClient) -> None:
    lo, _ = draft_order(client)
    row = cells(
        ORDER_REFERENCE=lo,
        LINE_EXTERNAL_ID="NEW-2",
        VARIANT_EXTERNAL_ID="V-0005",
        NET_UNIT_PRICE="1.25",
        QUANTITY="2",
    )
    assert imported(client, row) == SUCCESS
    line = lines_of(client, lo)["OP-0005"]  # the supplier's offer of that variant
    assert (line["externalId"], line["netUnitPrice"], line["totalNet"]) == (
        "NEW-2",
        "1.25",
        "2.50",
    )


def test_a_new_line_needs_its_external_id_an_offer_or_variant_and_price_and_a_quantity(
    client: TestClient,
) -> None:
    lo, _ = draft_order(client)
    base = {"ORDER_REFERENCE": lo}
    cases = [
        # no quantity
        cells(**base, LINE_EXTERNAL_ID="NEW-3a", OFFER_PRICE_EXTERNAL_ID="OP-0003"),
        # a variant without a net unit price
        cells(**base, LINE_EXTERNAL_ID="NEW-3b", VARIANT_EXTERNAL_ID="V-0003", QUANTITY="1"),
        # a net unit price without a variant
        cells(**base, LINE_EXTERNAL_ID="NEW-3c", NET_UNIT_PRICE="1.00", QUANTITY="1"),
        # nothing to make the line of
        cells(**base, LINE_EXTERNAL_ID="NEW-3d", QUANTITY="1"),
    ]
    run = run_import(client, cases)
    assert run.outcomes == [error("F-E-001")] * 4
    assert "Order Line Quantity" in run.message(0)
    assert "Net Unit Price" in run.message(1)
    assert "Variant External Id" in run.message(2)
    assert set(lines_of(client, lo)) == {"OP-TIER", "OP-0001"}


def test_a_new_line_names_an_offer_and_a_variant_that_exist(client: TestClient) -> None:
    lo, _ = draft_order(client)
    base = {"ORDER_REFERENCE": lo, "QUANTITY": "1"}
    run = run_import(
        client,
        [
            cells(**base, LINE_EXTERNAL_ID="NEW-4a", OFFER_PRICE_EXTERNAL_ID="OP-NOPE"),
            cells(
                **base, LINE_EXTERNAL_ID="NEW-4b", VARIANT_EXTERNAL_ID="V-NOPE", NET_UNIT_PRICE="1"
            ),
            cells(
                **base,
                LINE_EXTERNAL_ID="NEW-4c",
                OFFER_PRICE_EXTERNAL_ID="OP-0003",
                VARIANT_EXTERNAL_ID="V-NOPE",
            ),
        ],
    )
    assert run.outcomes == [error("F-E-002")] * 3
    assert set(lines_of(client, lo)) == {"OP-TIER", "OP-0001"}


def test_the_offer_must_be_of_the_variant_named_beside_it(client: TestClient) -> None:
    lo, ids = draft_order(client)
    base = {"ORDER_REFERENCE": lo, "QUANTITY": "1"}
    linked = cells(
        **base,
        LINE_EXTERNAL_ID="NEW-5",
        OFFER_PRICE_EXTERNAL_ID="OP-0003",
        VARIANT_EXTERNAL_ID="V-0003",
    )
    unlinked = cells(
        **base,
        LINE_EXTERNAL_ID="NEW-6",
        OFFER_PRICE_EXTERNAL_ID="OP-0005",
        VARIANT_EXTERNAL_ID="V-0007",
    )
    # On an existing line too: its variant is what it is.
    other_variant = line_row(lo, ids["OP-TIER"], VARIANT_EXTERNAL_ID="V-0001", QUANTITY="3")
    run = run_import(client, [linked, unlinked, other_variant])
    assert run.outcomes == [
        SUCCESS,
        error("OFFER_VARIANT_MISMATCH"),
        error("OFFER_VARIANT_MISMATCH"),
    ]
    assert "V-0007" in run.message(1)
    lines = lines_of(client, lo)
    assert set(lines) == {"OP-TIER", "OP-0001", "OP-0003"}
    assert lines["OP-TIER"]["quantity"] == 2


def test_the_offer_must_be_of_the_logistic_orders_supplier(client: TestClient) -> None:
    lo, _ = draft_order(client)  # SUP-A
    base = {"ORDER_REFERENCE": lo, "QUANTITY": "1"}
    own = cells(**base, LINE_EXTERNAL_ID="NEW-7", OFFER_PRICE_EXTERNAL_ID="OP-0007")
    foreign = cells(**base, LINE_EXTERNAL_ID="NEW-8", OFFER_PRICE_EXTERNAL_ID="OP-0002")  # SUP-B
    run = run_import(client, [own, foreign])
    assert run.outcomes == [SUCCESS, error("OFFER_SUPPLIER_MISMATCH")]
    assert "SUP-B" in run.message(1)
    assert set(lines_of(client, lo)) == {"OP-TIER", "OP-0001", "OP-0007"}


def test_an_order_holds_one_line_per_offer_price(client: TestClient) -> None:
    lo, _ = draft_order(client)
    row = cells(
        ORDER_REFERENCE=lo,
        LINE_EXTERNAL_ID="NEW-9",
        OFFER_PRICE_EXTERNAL_ID="OP-0001",
        QUANTITY="1",
    )
    assert imported(client, row) == error("F-E-003")
    assert lines_of(client, lo)["OP-0001"]["quantity"] == 2


# --- deleting lines ---------------------------------------------------------------------------


def test_mark_order_line_for_deletion_deletes_the_line(client: TestClient) -> None:
    lo, ids = draft_order(client)
    keep = line_row(lo, ids["OP-TIER"], MARK_FOR_DELETION="false", QUANTITY="3")
    delete = line_row(lo, ids["OP-0001"], MARK_FOR_DELETION="true")
    run = run_import(client, [keep, delete])
    assert run.outcomes == [SUCCESS, SUCCESS]
    lines = lines_of(client, lo)
    assert set(lines) == {"OP-TIER"}
    assert lines["OP-TIER"]["quantity"] == 3
    order = lo_of(client, lo)
    assert (order["totalNet"], order["totalTax"]) == ("3.60", "0.72")


def test_deleting_a_line_that_is_not_there_or_with_an_unknown_flag_is_refused(
    client: TestClient,
) -> None:
    lo, ids = draft_order(client)
    run = run_import(
        client,
        [
            cells(ORDER_REFERENCE=lo, LINE_EXTERNAL_ID="NO-SUCH-LINE", MARK_FOR_DELETION="yes"),
            line_row(lo, ids["OP-TIER"], MARK_FOR_DELETION="maybe"),
        ],
    )
    assert run.outcomes == [error("F-E-002"), error("F-E-008")]
    assert set(lines_of(client, lo)) == {"OP-TIER", "OP-0001"}


def test_a_zero_quantity_deletes_only_beside_the_deletion_mark(client: TestClient) -> None:
    lo, ids = draft_order(client)
    run = run_import(
        client,
        [
            line_row(lo, ids["OP-TIER"], QUANTITY="0"),
            line_row(lo, ids["OP-0001"], QUANTITY="0", MARK_FOR_DELETION="1"),
        ],
    )
    assert run.outcomes == [error("F-E-007"), SUCCESS]
    assert "Mark Order Line For Deletion" in run.message(0)
    assert set(lines_of(client, lo)) == {"OP-TIER"}


# --- the customer ----------------------------------------------------------------------------


def test_the_customer_is_a_user_of_the_orders_account(client: TestClient) -> None:
    lo, ids = draft_order(client)
    line = ids["OP-TIER"]
    first_customer = any_order(client, owner(lo))["customerUserId"]
    assert imported(client, line_row(lo, line, CUSTOMER_EXTERNAL_ID="U-MULTI")) == SUCCESS
    customer = any_order(client, owner(lo))["customerUserId"]
    assert customer != first_customer

    assert imported(client, line_row(lo, line, CUSTOMER_EXTERNAL_ID="U-2")) == error("F-E-002")
    assert imported(client, line_row(lo, line, CUSTOMER_EXTERNAL_ID="U-OPS")) == error("F-E-002")
    assert imported(client, line_row(lo, line, CUSTOMER_EXTERNAL_ID="U-NOPE")) == error("F-E-002")
    assert any_order(client, owner(lo))["customerUserId"] == customer


def test_an_order_of_another_account_is_found_by_its_reference(client: TestClient) -> None:
    lo, ids = draft_order(client, ("OP-TIER",), key=KEY_2)
    assert imported(client, line_row(lo, ids["OP-TIER"], QUANTITY="6")) == SUCCESS
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 6
