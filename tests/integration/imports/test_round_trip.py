"""Export -> edit -> import -> export: the export's filters, its layout (the import's
columns), a round trip that changes exactly what was edited, an unchanged export that
imports as no change, and the spreadsheet escape both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient

from ordersync.domain.imports import Column
from tests.bundle import KEY_2
from tests.integration.imports.helpers import (
    EXPORT,
    SEED_COLUMNS,
    csv_bytes,
    draft_order,
    export,
    line_row,
    lines_of,
    run_import,
)
from tests.integration.operator_helpers import (
    any_order,
    logistic_refs,
    move,
    ops,
    order_with,
    owner,
)

C = Column
NEW_ADDRESS = {
    C.ADDRESS_FULL_NAME.value: "Receiving Dock 4",
    C.ADDRESS_STREET_NAME.value: "12 quai de Seine",
    C.ADDRESS_CITY.value: "Rouen",
    C.ADDRESS_ZIP_CODE.value: "76000",
    C.ADDRESS_COUNTRY.value: "FR",
    C.ADDRESS_STATE.value: "Normandie",
}


def three_orders(client: TestClient) -> tuple[str, str, str]:
    """ACC-1: one order with SUP-A and SUP-B lines, one with SUP-A lines; ACC-2: one."""
    first = order_with(client, ["OP-TIER", "OP-0001", "OP-0002"])
    second = order_with(client, ["OP-0003", "OP-0005"])
    third = order_with(client, ["OP-TIER"], key=KEY_2)
    return first, second, third


def versions(client: TestClient, *references: str) -> list[int]:
    return [any_order(client, reference)["version"] for reference in references]


def test_the_export_has_the_imports_columns_one_row_per_line(client: TestClient) -> None:
    first, _, _ = three_orders(client)
    header, rows = export(client)
    assert header[: len(SEED_COLUMNS)] == SEED_COLUMNS
    assert set(header[len(SEED_COLUMNS) :]) >= {"CF-PO", "CF-CC", "CF-NOTE", "CF-URGENT"}
    assert len(rows) == 6
    lo = logistic_refs(client, first)["SUP-A"]
    line = lines_of(client, lo)["OP-TIER"]
    row = next(r for r in rows if r[C.LINE_ID] == str(line["id"]))
    assert {
        k: row[k] for k in (C.ORDER_REFERENCE, C.ACCOUNT_EXTERNAL_ID, C.SUPPLIER_EXTERNAL_ID)
    } == {
        C.ORDER_REFERENCE: lo,
        C.ACCOUNT_EXTERNAL_ID: "ACC-1",
        C.SUPPLIER_EXTERNAL_ID: "SUP-A",
    }
    assert (row[C.QUANTITY], row[C.NET_UNIT_PRICE], row[C.TAX_AMOUNT]) == ("2", "1.2", "0.48")
    assert (row[C.OFFER_PRICE_EXTERNAL_ID], row[C.VARIANT_EXTERNAL_ID]) == ("OP-TIER", "V-TIER")
    assert (row[C.STATUS], row[C.CUSTOMER_EXTERNAL_ID], row[C.MARK_FOR_DELETION]) == (
        "DRAFT_ORDER",
        "U-1",
        "",
    )
    assert (row[C.ADDRESS_CITY], row[C.ADDRESS_STATE]) == ("Paris", "")


def test_the_export_filters_by_account_supplier_status_and_creation_time(
    client: TestClient,
) -> None:
    first, second, third = three_orders(client)
    move(client, logistic_refs(client, second)["SUP-A"], "ORDER_CREATED")

    def exported(**params: object) -> set[str]:
        return {row[C.ORDER_REFERENCE] for row in export(client, **params)[1]}

    first_a, first_b = logistic_refs(client, first)["SUP-A"], logistic_refs(client, first)["SUP-B"]
    second_a = logistic_refs(client, second)["SUP-A"]
    third_a = logistic_refs(client, third)["SUP-A"]
    assert exported() == {first_a, first_b, second_a, third_a}
    assert exported(account="ACC-2") == {third_a}
    assert exported(supplier="SUP-B") == {first_b}
    assert exported(account="ACC-1", supplier="SUP-A") == {first_a, second_a}
    assert exported(status="ORDER_CREATED") == {second_a}
    assert exported(status=["ORDER_CREATED", "DRAFT_ORDER"], supplier="SUP-A") == {
        first_a,
        second_a,
        third_a,
    }
    now = datetime.now(UTC)
    assert exported(createdFrom=(now - timedelta(hours=1)).isoformat()) == exported()
    assert exported(createdFrom=(now + timedelta(hours=1)).isoformat()) == set()
    assert exported(createdTo=(now - timedelta(hours=1)).isoformat()) == set()
    assert exported(account="ACC-404") == set()
    response = client.get(EXPORT, params={"status": "NOT_A_STATUS"}, headers=ops())
    assert response.status_code == 422


def test_export_edit_import_export_shows_exactly_the_edits(client: TestClient) -> None:
    first, second, third = three_orders(client)
    header, rows = export(client, account="ACC-1")
    assert len(rows) == 5
    before = versions(client, first, second, third)
    edited = [dict(row) for row in rows]
    target = logistic_refs(client, second)["SUP-A"]
    changed_lines = {}
    for row in edited:
        if row[C.OFFER_PRICE_EXTERNAL_ID] in ("OP-TIER", "OP-0005"):
            row[C.QUANTITY] = "7"
            changed_lines[row[C.LINE_ID]] = row
        if row[C.ORDER_REFERENCE] == target:  # every row of that logistic order
            row.update(NEW_ADDRESS)

    run = run_import(client, csv_bytes(edited, header))
    assert run.job["status"] == "SUCCEEDED", run.report
    assert run.outcomes == [("SUCCESS", "")] * 5

    header_after, after = export(client, account="ACC-1")
    assert header_after == header
    expected = []
    for row in edited:
        row = dict(row)
        if row[C.LINE_ID] in changed_lines:  # the tax follows the quantity
            net, rate = Decimal(row[C.NET_UNIT_PRICE]), Decimal("0.2")
            row[C.TAX_AMOUNT] = format((7 * net * rate).normalize(), "f")
        expected.append(row)
    assert after == expected
    # ACC-2's order was not in the file; the others moved once each.
    assert versions(client, first, second, third) == [before[0] + 1, before[1] + 1, before[2]]


def test_an_unchanged_export_imports_as_no_change(client: TestClient) -> None:
    first, second, third = three_orders(client)
    move(client, logistic_refs(client, first)["SUP-B"], "SHIPPED")
    move(client, logistic_refs(client, third)["SUP-A"], "CANCELED")
    assert (
        client.put(
            f"/v2/shop/commercial-orders/{second}/lines",
            json={
                "updateOrderCommercialLines": [
                    {
                        "id": "OP-0003",
                        "quantity": 3,
                        "customFields": [
                            {"customFieldId": "CF-NOTE", "customFieldValue": "fragile, top"},
                            {"customFieldId": "CF-QTY", "customFieldValue": 0.1},
                            {"customFieldId": "CF-URGENT", "customFieldValue": True},
                        ],
                    }
                ]
            },
            headers={"dj-client": "ACCOUNT", "dj-api-key": "key-user-1"},
        ).status_code
        == 200
    )
    before = [any_order(client, r) for r in (first, second, third)]
    header, rows = export(client)

    run = run_import(client, csv_bytes(rows, header))

    assert run.job["status"] == "SUCCEEDED"
    assert run.outcomes == [("SUCCESS", "")] * len(rows)
    assert [any_order(client, r) for r in (first, second, third)] == before
    assert export(client) == (header, rows)


def test_formula_like_cells_are_escaped_on_the_way_out_and_round_trip(client: TestClient) -> None:
    lo, ids = draft_order(client, ("OP-TIER", "OP-0001", "OP-0003", "OP-0005"))
    names = {"OP-TIER": "=SUM(A1)", "OP-0001": "+33 1 23", "OP-0003": "-minus", "OP-0005": "@home"}
    rows = [line_row(lo, ids[offer], VARIANT_NAME="'" + name) for offer, name in names.items()]
    assert run_import(client, rows).outcomes == [("SUCCESS", "")] * 4
    assert {offer: line["variantName"] for offer, line in lines_of(client, lo).items()} == names

    response = client.get(EXPORT, headers=ops())
    assert "'=SUM(A1)" in response.text and "'@home" in response.text
    header, exported = export(client)
    assert {r[C.OFFER_PRICE_EXTERNAL_ID]: r[C.VARIANT_NAME] for r in exported} == {
        offer: "'" + name for offer, name in names.items()
    }
    version = any_order(client, owner(lo))["version"]

    run = run_import(client, csv_bytes(exported, header))
    assert run.outcomes == [("SUCCESS", "")] * 4
    # The report neutralises the cells it repeats as well.
    assert {r[C.VARIANT_NAME] for r in run.report} == {"'" + name for name in names.values()}
    assert {offer: line["variantName"] for offer, line in lines_of(client, lo).items()} == names
    assert any_order(client, owner(lo))["version"] == version
